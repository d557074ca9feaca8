/**
 * Peer: ONNX Runtime Web (onnxruntime-web, a dev dependency; its Wasm SIMD build in Node)
 * running SimpleConvNet exported by modelToOnnx from the very weights the e2e cases use
 * (benchNet: seed 42, std 0.01), on the same MNIST batches: inference at batch 100 and 1000,
 * at 1 and 2 threads.
 *
 * ONNX Runtime Web sets its thread count once per process (env.wasm.numThreads, read when
 * its Wasm module starts), so each thread count runs in a child node of its own: the child
 * loads the model and the batches from temp files, times session.run (awaited; the output
 * tensor is complete when it resolves) with the same warm-up / trial / median rules as
 * bench/timing.ts, and prints its per-trial times as JSON, which become figures here.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackend } from '../src/backend/create.js';
import { modelToOnnx } from '../src/io/onnx/export.js';
import { benchNet } from './net.js';
import { BATCH, BIG_BATCH, E2E, SAMPLE, type BenchData } from './e2e.js';
import { figure, errorMessage, median, type Budget } from './timing.js';
import type { Failure, Figure, Impl, ImplInfo, Timing } from './types.js';

export const ORT_THREADS = [1, 2];

export function ortImpl(threads: number): Impl {
  return threads === 1 ? 'ort-wasm' : `ort-wasm-${threads}t`;
}

export interface OrtRun {
  figures: Figure[];
  failures: Failure[];
  impls: ImplInfo[];
  notes: string[];
}

/**
 * The child's program (CommonJS, `node -e`): argv = [ort entry, model, inputs, threads, budget
 * JSON or "serve", big batch, batch, sample]. With a budget, for each case it warms up, sizes
 * `reps` so a trial lasts budget.trialMs, then times up to budget.trials trials (at least
 * minTrials, stopping once maxMs has been spent), as measure() does, and prints them as JSON.
 * With "serve" (bench/paired-onnx.ts) it prints {"threads", "version"}, then answers each stdin
 * line "<case> <reps>" with the per-call ms of <reps> awaited calls after one untimed call; an
 * empty line ends it.
 */
export const ORT_CHILD = String.raw`
const [entry, modelPath, inputPath, threadsArg, budgetArg, bigBatch, batch, sample] = process.argv.slice(1);
const ort = require(entry);
const fs = require('fs');
ort.env.wasm.numThreads = Number(threadsArg);
const serve = budgetArg === 'serve';
(async () => {
  const session = await ort.InferenceSession.create(fs.readFileSync(modelPath));
  const buf = fs.readFileSync(inputPath);
  const x = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const B = Number(batch), BIG = Number(bigBatch), S = Number(sample);
  const batches = Array.from({ length: BIG / B }, (_, i) => new ort.Tensor('float32', x.subarray(i * B * S, (i + 1) * B * S), [B, 1, 28, 28]));
  const all = new ort.Tensor('float32', x, [BIG, 1, 28, 28]);
  let step = 0;
  const cases = { infer100: () => session.run({ input: batches[step++ % batches.length] }), infer1000: () => session.run({ input: all }) };
  const out = { threads: Number(threadsArg), version: ort.env.versions && ort.env.versions.web, timings: {} };
  if (serve) {
    process.stdout.write(JSON.stringify({ threads: out.threads, version: out.version }) + '\n');
    for await (const line of require('readline').createInterface({ input: process.stdin })) {
      if (!line.trim()) break;
      const [name, repsArg] = line.trim().split(' ');
      const fn = cases[name], reps = Number(repsArg);
      if (!fn || !(reps >= 1)) throw new Error('bad request: ' + line);
      await fn();
      const t = performance.now();
      for (let r = 0; r < reps; r++) await fn();
      process.stdout.write(String((performance.now() - t) / reps) + '\n');
    }
    process.exit(0);
  }
  const b = JSON.parse(budgetArg);
  for (const [name, fn] of Object.entries(cases)) {
    let warmup = 0, last = Infinity;
    const w0 = performance.now();
    while (warmup < b.minWarmup || (performance.now() - w0 < b.warmupMs && warmup < 1000)) {
      const t = performance.now(); await fn(); last = performance.now() - t; warmup++;
    }
    if (!Number.isFinite(last)) { const t = performance.now(); await fn(); last = performance.now() - t; warmup++; }
    const reps = Math.max(1, Math.ceil(b.trialMs / Math.max(last, 1e-4)));
    const samples = [];
    const t0 = performance.now();
    for (let i = 0; i < Math.max(1, b.trials); i++) {
      const t = performance.now();
      for (let r = 0; r < reps; r++) await fn();
      samples.push(Math.max((performance.now() - t) / reps, 1e-6));
      if (samples.length >= b.minTrials && performance.now() - t0 > b.maxMs) break;
    }
    out.timings[name] = { samplesMs: samples, reps, warmup };
  }
  process.stdout.write(JSON.stringify(out));
  process.exit(0);
})().catch((e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });
`;

/** onnxruntime-web's entry (a dev dependency); throws a clear error where it is missing. */
export function ortEntry(): string {
  try {
    return createRequire(import.meta.url).resolve('onnxruntime-web');
  } catch (e) {
    throw new Error(`onnxruntime-web could not be found (dev dependencies): ${errorMessage(e)}`);
  }
}

/** Writes the children's files into `dir`: SimpleConvNet as ONNX (benchNet's weights) and the bench's images as float32. */
export async function writeOrtInputs(dir: string, data: BenchData): Promise<{ modelPath: string; inputPath: string }> {
  const backend = await createBackend('js');
  const net = benchNet(backend);
  const modelPath = join(dir, 'simple-conv-net.onnx');
  writeFileSync(modelPath, modelToOnnx(net));
  net.dispose();
  backend.dispose();
  const inputPath = join(dir, 'inputs.f32');
  writeFileSync(inputPath, new Uint8Array(data.x.buffer, data.x.byteOffset, data.x.byteLength));
  return { modelPath, inputPath };
}

export async function runOnnxRuntime(data: BenchData, b: { fast: Budget }, threads: number[], log: (s: string) => void): Promise<OrtRun> {
  const run: OrtRun = { figures: [], failures: [], impls: [], notes: [] };
  let entry: string;
  try {
    entry = ortEntry();
  } catch (e) {
    for (const t of threads) run.failures.push({ group: 'peers', name: 'load onnxruntime-web', impl: ortImpl(t), error: errorMessage(e) });
    return run;
  }
  const dir = mkdtempSync(join(tmpdir(), 'wasm-cnn-bench-ort-'));
  try {
    const { modelPath, inputPath } = await writeOrtInputs(dir, data);
    run.notes.push('ONNX Runtime Web: SimpleConvNet exported with modelToOnnx from the e2e weights (benchNet, seed 42); one child node per thread count (env.wasm.numThreads is fixed per process).');
    for (const t of threads) {
      const impl = ortImpl(t);
      const child = spawnSync(process.execPath, ['-e', ORT_CHILD, entry, modelPath, inputPath, String(t), JSON.stringify(b.fast), String(BIG_BATCH), String(BATCH), String(SAMPLE)],
        { encoding: 'utf8', timeout: 600_000, maxBuffer: 16 << 20 });
      let parsed: { threads: number; version?: string; timings: Record<string, { samplesMs: number[]; reps: number; warmup: number }> } | undefined;
      try {
        parsed = JSON.parse(child.stdout);
      } catch {
        // reported below with the child's own words
      }
      if (!parsed) {
        const why = child.error?.message ?? (child.stderr || `exit status ${child.status}`).trim().split('\n').slice(-1)[0];
        run.failures.push({ group: 'e2e', name: E2E.infer100, impl, error: `ONNX Runtime child (${t} thread${t > 1 ? 's' : ''}): ${why}` });
        log(`peers ${impl}: FAILED: ${why}`);
        continue;
      }
      run.impls.push({ impl, description: `ONNX Runtime Web ${parsed.version ?? ''} (onnxruntime-web, Wasm SIMD), ${t} thread${t > 1 ? 's' : ''}, in a child node` });
      for (const [key, name, images] of [['infer100', E2E.infer100, BATCH], ['infer1000', E2E.infer1000, BIG_BATCH]] as const) {
        const tm = parsed.timings[key];
        const s = tm.samplesMs;
        const timing: Timing = { medianMs: median(s), minMs: Math.min(...s), maxMs: Math.max(...s), trials: s.length, reps: tm.reps, warmup: tm.warmup, samplesMs: s };
        const f = figure({ group: 'e2e', name, shape: `(${images},1,28,28)`, impl, unit: 'img/s', work: images }, timing);
        run.figures.push(f);
        log(`peers ${impl}: ${name} ${f.value.toFixed(0)} img/s`);
      }
    }
  } catch (e) {
    run.failures.push({ group: 'e2e', name: E2E.infer100, impl: ortImpl(threads[0] ?? 1), error: errorMessage(e) });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return run;
}
