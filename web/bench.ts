/**
 * The in-page benchmark: Wasm vs JS backend on the same machine, in the same run.
 *   GEMM 256 and 512 (C = A * B, square, GFLOP/s = 2 n^3 / time)
 *   SimpleConvNet training (gradient + Adam update) and inference (predict), batch 100, images/s
 * Each figure is the median of `trials` trials; a trial repeats the operation until at
 * least `minMs` have passed (at least once), after one untimed warm-up run.
 */
import { Adam, SimpleConvNet, createBackend, type Backend, type BackendFeatures, type BackendName, type BackendOptions } from '../src/index.js';
import { BENCH_ROWS, BENCH_BATCH as BATCH, type BackendRequest, type BenchRow } from './protocol.js';

/**
 * createBackend as the page asks for it. When more than one thread or relaxed SIMD was
 * asked for and the backend cannot be created that way, a 1-thread plain-SIMD backend
 * runs instead and `fallbackNote` says why (the page shows it; nothing falls back silently).
 */
export async function openBackend(req: BackendRequest): Promise<{ backend: Backend; fallbackNote?: string }> {
  const opts: Record<string, unknown> = { threads: req.threads };
  if (req.relaxedSimd && req.backend === 'wasm') opts.relaxedSimd = 'auto';
  try {
    return { backend: await createBackend(req.backend, opts as BackendOptions) };
  } catch (e) {
    if (req.threads === 1 && !opts.relaxedSimd) throw e;
    const asked = [req.threads > 1 ? `${req.threads} threads` : '', opts.relaxedSimd ? 'relaxed SIMD' : ''].filter(Boolean).join(' and ');
    const backend = await createBackend(req.backend, { threads: 1 });
    return { backend, fallbackNote: `could not create the backend with ${asked} (${e instanceof Error ? e.message : String(e)}); running on 1 thread with plain SIMD` };
  }
}

export interface BenchOptions {
  threads: number;
  relaxedSimd: boolean;
  trials: number;
  minMs: number;
  /** Called after every measurement (rows so far, in display order). */
  onRow?: (row: BenchRow, features: Record<BackendName, BackendFeatures>) => void;
}


const yieldNow = () => new Promise<void>((r) => setTimeout(r, 0));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Median over trials of work-per-second, where `run()` does `work` units once. */
async function measure(run: () => void, work: number, trials: number, minMs: number): Promise<number> {
  run(); // warm-up (JIT, buffer planning)
  const rates: number[] = [];
  for (let t = 0; t < trials; t++) {
    let reps = 0;
    const t0 = performance.now();
    let dt = 0;
    do {
      run();
      reps++;
      dt = performance.now() - t0;
    } while (dt < minMs);
    rates.push((work * reps) / (dt / 1000));
    await yieldNow(); // let the worker answer messages between trials
  }
  return median(rates);
}

function random(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    out[i] = s / 4294967296 - 0.5;
  }
  return out;
}

async function gemm(backend: Backend, n: number, trials: number, minMs: number): Promise<number> {
  const a = backend.tensor(random(n * n, 1), [n, n]);
  const b = backend.tensor(random(n * n, 2), [n, n]);
  const c = backend.empty([n, n]);
  const k = backend.kernels;
  try {
    const rate = await measure(() => k.gemm_f32(0, 0, n, n, n, 1, a.ptr, n, b.ptr, n, 0, c.ptr, n), 2 * n * n * n, trials, minMs);
    return rate / 1e9;
  } finally {
    a.dispose(); b.dispose(); c.dispose();
  }
}

async function network(backend: Backend, trials: number, minMs: number): Promise<{ train: number; infer: number }> {
  const net = new SimpleConvNet({ backend, seed: 1 });
  const opt = new Adam({ lr: 0.001, backend });
  const x = backend.tensor(random(BATCH * 784, 3).map((v) => v + 0.5), [BATCH, 1, 28, 28]);
  const t = new Int32Array(BATCH).map((_, i) => i % 10);
  try {
    const train = await measure(() => opt.update(net.params, net.gradient(x, t)), BATCH, trials, minMs);
    const infer = await measure(() => void net.predict(x), BATCH, trials, minMs);
    return { train, infer };
  } finally {
    x.dispose();
    opt.dispose();
    net.dispose();
  }
}

/** Runs the whole table; rows fill in as measurements finish. */
export async function runBenchmark(opts: BenchOptions): Promise<BenchRow[]> {
  const rows: BenchRow[] = BENCH_ROWS.map((r) => ({ ...r, wasm: null, js: null }));
  const features = {} as Record<BackendName, BackendFeatures>;
  const set = (key: string, name: BackendName, v: number) => {
    const row = rows.find((r) => r.key === key)!;
    row[name] = v;
    opts.onRow?.({ ...row }, features);
  };
  for (const name of ['wasm', 'js'] as const) {
    const { backend } = await openBackend({ backend: name, threads: name === 'wasm' ? opts.threads : 1, relaxedSimd: opts.relaxedSimd });
    features[name] = backend.features;
    try {
      set('gemm256', name, await gemm(backend, 256, opts.trials, opts.minMs));
      set('gemm512', name, await gemm(backend, 512, opts.trials, opts.minMs));
      const r = await network(backend, Math.max(1, Math.min(opts.trials, 3)), opts.minMs * 2);
      set('train', name, r.train);
      set('infer', name, r.infer);
    } finally {
      backend.dispose();
    }
  }
  return rows;
}

