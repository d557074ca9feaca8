/**
 * Peers: TF.js 4.x (dev dependencies only) with its wasm backend (XNNPACK) and its cpu
 * backend (plain JS), running the same work as the wasm-cnn figures:
 *
 *   matMul at the same shapes and transpose flags as the GEMM figures;
 *   the same network with the same shapes: conv2d 30x5x5 valid, relu, maxPool 2x2,
 *   dense 4320->100 relu, dense 100->10, softmax cross-entropy, Adam lr 0.001;
 *   inference at batch 100 and 1000, training (optimizer.minimize) at batch 100.
 *
 * TF.js is set up as its docs say (setWasmPaths to the package's dist/, setBackend, ready),
 * data are tensors created before timing, and dataSync() inside the timed region forces
 * completion. tfjs-core's Node build does not register gradients (the @tensorflow/tfjs
 * union package imports tfjs-core/dist/register_all_gradients); we load that same module,
 * bundled with esbuild at run time, so training uses TF.js's own gradients. Stock TF.js
 * wasm has no Conv2DBackpropFilter kernel, so training this CNN fails there: the real
 * error is caught and reported.
 */
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { figure, measureAuto, errorMessage, type Budget } from './timing.js';
import { gemmFlops, gemmShapeLabel, networkGemms, squareGemms } from './kernels.js';
import { BATCH, BIG_BATCH, E2E, SAMPLE, type BenchData } from './e2e.js';
import type { Failure, Figure, ImplInfo } from './types.js';

type TF = typeof import('@tensorflow/tfjs-core');
type TFWasm = typeof import('@tensorflow/tfjs-backend-wasm');
type Tensor = import('@tensorflow/tfjs-core').Tensor;

export type TfjsBackend = 'wasm' | 'cpu';

export interface PeersRun {
  figures: Figure[];
  failures: Failure[];
  impls: ImplInfo[];
  notes: string[];
}

interface Loaded {
  tf: TF;
  tfwasm: TFWasm;
  wasmDir: string;
}

let loaded: Promise<Loaded> | undefined;

/** Loads TF.js core + backends (CommonJS Node builds, one instance) and registers tfjs-core's gradients once. */
function loadTfjs(): Promise<Loaded> {
  loaded ??= (async () => {
    const require = createRequire(import.meta.url);
    const tf = require('@tensorflow/tfjs-core') as TF;
    require('@tensorflow/tfjs-backend-cpu');
    const tfwasm = require('@tensorflow/tfjs-backend-wasm') as TFWasm;
    const wasmDir = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/';
    await registerGradients(require);
    return { tf, tfwasm, wasmDir };
  })();
  return loaded;
}

/**
 * tfjs-core/dist/register_all_gradients.js is an ES module with extensionless imports, which
 * Node cannot load as is: bundle it (esbuild, a dev dependency) into a temp file and import
 * that. Its registerGradient writes to TF.js's global registry (globalThis._tfGlobals), the
 * same one the CommonJS tfjs-core reads, so gradients become available to every backend.
 */
async function registerGradients(require: NodeRequire): Promise<void> {
  const tf = require('@tensorflow/tfjs-core') as TF;
  if (tf.getGradient('Conv2D')) return; // already there (e.g. @tensorflow/tfjs loaded)
  const { build } = await import('esbuild');
  const entry = require.resolve('@tensorflow/tfjs-core/dist/register_all_gradients.js');
  const out = await build({ entryPoints: [entry], bundle: true, write: false, format: 'esm', platform: 'node', logLevel: 'error' });
  const dir = mkdtempSync(join(tmpdir(), 'wasm-cnn-bench-'));
  try {
    const file = join(dir, 'tfjs-register-all-gradients.mjs');
    writeFileSync(file, out.outputFiles[0].text);
    await import(pathToFileURL(file).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (!tf.getGradient('Conv2D')) throw new Error('registering tfjs-core gradients had no effect');
}

export async function runTfjs(backends: TfjsBackend[], data: BenchData, b: { fast: Budget; slow: Budget },
  quick: boolean, log: (s: string) => void): Promise<PeersRun> {
  const run: PeersRun = { figures: [], failures: [], impls: [], notes: [] };
  let lib: Loaded;
  try {
    lib = await loadTfjs();
  } catch (e) {
    for (const be of backends) {
      run.failures.push({ group: 'peers', name: 'load TF.js', impl: `tfjs-${be}`, error: `TF.js could not be loaded (dev dependencies): ${errorMessage(e)}` });
    }
    return run;
  }
  const { tf, tfwasm, wasmDir } = lib;
  run.notes.push('TF.js gradients: tfjs-core\'s own register_all_gradients (what @tensorflow/tfjs imports; tfjs-core\'s Node build leaves it out), bundled with esbuild at run time.');
  for (const be of backends) {
    const impl = `tfjs-${be}`;
    try {
      if (be === 'wasm') tfwasm.setWasmPaths(wasmDir);
      const ok = await tf.setBackend(be);
      await tf.ready();
      if (!ok || tf.getBackend() !== be) throw new Error(`tf.setBackend('${be}') did not take effect (backend is ${tf.getBackend()})`);
    } catch (e) {
      run.failures.push({ group: 'peers', name: 'setBackend', impl, error: errorMessage(e) });
      log(`peers ${impl}: setBackend FAILED: ${errorMessage(e)}`);
      continue;
    }
    run.impls.push(await describe(tf, tfwasm, be));
    const before = tf.memory().numTensors;
    matMuls(tf, impl, b, quick, run, log);
    network(tf, impl, data, b, run, log);
    tf.disposeVariables();
    const leaked = tf.memory().numTensors - before;
    if (leaked > 0) run.notes.push(`${impl}: ${leaked} TF.js tensors were left alive after the run${run.failures.some((f) => f.impl === impl) ? ' (what a failing minimize leaves behind)' : ''}`);
  }
  return run;
}

async function describe(tf: TF, tfwasm: TFWasm, be: TfjsBackend): Promise<ImplInfo> {
  const info: Record<string, string | number | boolean> = { version: tf.version_core, backend: tf.getBackend() };
  if (be === 'wasm') {
    const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
    const mt = Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
    info.simd = simd;
    info.multithreadSupport = mt;
    info.threads = tfwasm.getThreadsCount();
    info.binary = simd ? (mt ? 'tfjs-backend-wasm-threaded-simd.wasm' : 'tfjs-backend-wasm-simd.wasm') : 'tfjs-backend-wasm.wasm';
    return {
      impl: 'tfjs-wasm', tfjs: info,
      description: `TF.js ${tf.version_core} tfjs-backend-wasm (XNNPACK), ${simd ? 'SIMD' : 'no SIMD'}, ${info.threads} thread(s)${mt ? '' : ' (no multithread support detected in this engine)'}`,
    };
  }
  return { impl: 'tfjs-cpu', tfjs: info, description: `TF.js ${tf.version_core} tfjs-backend-cpu (plain JS)` };
}

function matMuls(tf: TF, impl: string, b: { fast: Budget; slow: Budget }, quick: boolean, run: PeersRun, log: (s: string) => void): void {
  let seed = 1;
  for (const g of [...squareGemms(quick), ...networkGemms()]) {
    const aShape: [number, number] = g.transA ? [g.K, g.M] : [g.M, g.K];
    const bShape: [number, number] = g.transB ? [g.N, g.K] : [g.K, g.N];
    const a = tf.randomUniform(aShape, -1, 1, 'float32', seed++);
    const bt = tf.randomUniform(bShape, -1, 1, 'float32', seed++);
    try {
      const timing = measureAuto(() => {
        const c = tf.matMul(a, bt, g.transA, g.transB);
        c.dataSync();
        c.dispose();
      }, b);
      const f = figure({ group: 'kernels', name: g.name, shape: gemmShapeLabel(g), impl, unit: 'GFLOP/s', work: gemmFlops(g) }, timing);
      run.figures.push(f);
      log(`peers ${impl}: matMul ${g.name} ${f.value.toFixed(2)} GFLOP/s`);
    } catch (e) {
      run.failures.push({ group: 'kernels', name: g.name, impl, error: errorMessage(e) });
      log(`peers ${impl}: matMul ${g.name} FAILED: ${errorMessage(e)}`);
    } finally {
      a.dispose();
      bt.dispose();
    }
  }
}

function network(tf: TF, impl: string, data: BenchData, b: { fast: Budget; slow: Budget }, run: PeersRun, log: (s: string) => void): void {
  const nb = BIG_BATCH / BATCH;
  // one channel: NCHW and NHWC are the same bytes
  const X = tf.tensor4d(data.x, [BIG_BATCH, 28, 28, 1]);
  const xb = Array.from({ length: nb }, (_, i) => tf.tensor4d(data.x.subarray(i * BATCH * SAMPLE, (i + 1) * BATCH * SAMPLE), [BATCH, 28, 28, 1]));
  const tb = Array.from({ length: nb }, (_, i) => tf.tidy(() =>
    tf.cast(tf.oneHot(tf.tensor1d(data.t.subarray(i * BATCH, (i + 1) * BATCH), 'int32'), 10), 'float32')));
  const std = 0.01;
  const W1 = tf.tidy(() => tf.variable(tf.randomNormal([5, 5, 1, 30], 0, std, 'float32', 42), true, 'W1'));
  const b1 = tf.tidy(() => tf.variable(tf.zeros([30]), true, 'b1'));
  const W2 = tf.tidy(() => tf.variable(tf.randomNormal([4320, 100], 0, std, 'float32', 43), true, 'W2'));
  const b2 = tf.tidy(() => tf.variable(tf.zeros([100]), true, 'b2'));
  const W3 = tf.tidy(() => tf.variable(tf.randomNormal([100, 10], 0, std, 'float32', 44), true, 'W3'));
  const b3 = tf.tidy(() => tf.variable(tf.zeros([10]), true, 'b3'));
  const vars = [W1, b1, W2, b2, W3, b3];
  const predict = (x: Tensor): Tensor => {
    const n = x.shape[0];
    let h = tf.relu(tf.add(tf.conv2d(x as import('@tensorflow/tfjs-core').Tensor4D, W1 as unknown as import('@tensorflow/tfjs-core').Tensor4D, 1, 'valid'), b1));
    h = tf.maxPool(h as import('@tensorflow/tfjs-core').Tensor4D, 2, 2, 'valid');
    h = tf.reshape(h, [n, 4320]);
    h = tf.relu(tf.add(tf.matMul(h, W2), b2));
    return tf.add(tf.matMul(h, W3), b3);
  };
  const optimizer = tf.train.adam(0.001);
  let step = 0;
  const cases: { name: string; images: number; fn: () => void }[] = [
    {
      name: E2E.infer100, images: BATCH,
      fn: () => {
        const y = tf.tidy(() => predict(xb[step++ % nb]));
        y.dataSync();
        y.dispose();
      },
    },
    {
      name: E2E.infer1000, images: BIG_BATCH,
      fn: () => {
        const y = tf.tidy(() => predict(X));
        y.dataSync();
        y.dispose();
      },
    },
    {
      // last: a failing minimize may leave TF.js state behind
      name: E2E.train, images: BATCH,
      fn: () => {
        const i = step++ % nb;
        tf.tidy(() => {
          const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(tb[i], predict(xb[i])) as import('@tensorflow/tfjs-core').Scalar, true, vars);
          if (!loss) throw new Error('minimize returned no loss');
          loss.dataSync();
        });
      },
    },
  ];
  try {
    for (const c of cases) {
      try {
        const timing = measureAuto(c.fn, b);
        const f = figure({ group: 'e2e', name: c.name, shape: `(${c.images},28,28,1)`, impl, unit: 'img/s', work: c.images }, timing);
        run.figures.push(f);
        log(`peers ${impl}: ${c.name} ${f.value.toFixed(0)} img/s`);
      } catch (e) {
        run.failures.push({ group: 'e2e', name: c.name, impl, error: errorMessage(e) });
        log(`peers ${impl}: ${c.name} FAILED: ${errorMessage(e)}`);
      }
    }
  } finally {
    optimizer.dispose();
    tf.dispose([X, ...xb, ...tb]);
  }
}
