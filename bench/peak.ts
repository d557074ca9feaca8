/**
 * The limit: the Wasm SIMD peak of this machine, one thread (bench/assembly/peak.ts, built
 * into build/peak.wasm by scripts/build-wasm.mjs): 12 independent f32x4 mul+add chains,
 * no memory traffic. Every GEMM figure of the Wasm backend is shown as a percentage of it.
 *
 * The same source built with relaxed SIMD (f32x4.relaxed_madd, build/peak.relaxed.wasm) runs in-process when
 * the engine validates it, else in a child `node --experimental-wasm-relaxed-simd` (Node 20
 * keeps relaxed SIMD behind that flag); it is reported beside the plain peak.
 */
import { spawnSync } from 'node:child_process';
import peakBytes from '../build/peak.wasm';
import relaxedBytes from '../build/peak.relaxed.wasm';
import { figure, measure, median, poolTimings, errorMessage, type Budget } from './timing.js';
import type { PeakResult, Timing } from './types.js';

type PeakFn = (iters: number, m: number, c: number) => number;

/** FLOP per loop iteration of both peak kernels: 12 accumulators * 4 lanes * (mul + add). */
export const PEAK_FLOP_PER_ITER = 96;

function instantiate(bytes: Uint8Array<ArrayBuffer>, name: string): PeakFn {
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
  const fn = instance.exports[name];
  if (typeof fn !== 'function') throw new Error(`peak module does not export ${name}`);
  return fn as PeakFn;
}

/** Iterations per call: about `ms` milliseconds at ~50 GFLOP/s. */
function itersFor(ms: number): number {
  return Math.max(10_000, Math.round((ms * 1e-3 * 50e9) / PEAK_FLOP_PER_ITER));
}

export interface PeakRun {
  result: PeakResult;
  /** Times the plain-SIMD peak once more (at the end of the run) and pools the trials into result.simd. */
  again(): void;
}

export function runPeak(budget: Budget, quick: boolean, log: (s: string) => void): PeakRun {
  const iters = itersFor(quick ? 1 : 4);
  const work = iters * PEAK_FLOP_PER_ITER;
  const simdFn = instantiate(peakBytes, 'peak_f32x4');
  let checksum = 0;
  const b: Budget = quick ? budget : { ...budget, trials: 15, minTrials: 15, warmupMs: 300 };
  const time = () => measure(() => { checksum += simdFn(iters, 0.999, 0.001); }, b);
  const spec = { group: 'peak' as const, name: 'Wasm SIMD peak (f32x4 mul+add, 12 acc)', shape: `${iters} iter`, impl: 'wasm', unit: 'GFLOP/s' as const, work };
  const timings = [time()];
  if (!Number.isFinite(checksum)) throw new Error(`peak kernel returned a non-finite checksum ${checksum}`);
  const simd = figure(spec, timings[0]);
  log(`peak: Wasm SIMD f32x4 mul+add ${simd.value.toFixed(1)} GFLOP/s (fastest trial ${simd.max.toFixed(1)})`);
  const result: PeakResult = { simd, relaxedNote: '', rounds: 1 };
  const again = () => {
    timings.push(time());
    result.simd = figure(spec, poolTimings(...timings));
    result.rounds = timings.length;
    log(`peak (again): Wasm SIMD f32x4 mul+add ${figure(spec, timings[timings.length - 1]).value.toFixed(1)} GFLOP/s; pooled fastest trial ${result.simd.max.toFixed(1)}`);
  };

  const relaxedName = 'Wasm relaxed-SIMD peak (f32x4.relaxed_madd, 12 acc)';
  const relaxedSpec = { ...spec, name: relaxedName };
  if (WebAssembly.validate(relaxedBytes)) {
    const fn = instantiate(relaxedBytes, 'peak_f32x4');
    result.relaxedSimd = figure(relaxedSpec, measure(() => { checksum += fn(iters, 0.999, 0.001); }, b));
    result.relaxedNote = 'relaxed SIMD accepted by this engine; measured in-process';
    log(`peak: Wasm relaxed_madd ${result.relaxedSimd.value.toFixed(1)} GFLOP/s`);
    return { result, again };
  }
  const flag = '--experimental-wasm-relaxed-simd';
  try {
    result.relaxedSimd = figure(relaxedSpec, relaxedInChild(flag, iters, b));
    result.relaxedNote = `this engine rejects relaxed SIMD without a flag; measured in a child \`node ${flag}\` (% of peak: the plain-SIMD build's figures against the plain peak, the relaxed-SIMD build's against this one)`;
    log(`peak: Wasm relaxed_madd ${result.relaxedSimd.value.toFixed(1)} GFLOP/s (child node ${flag})`);
  } catch (e) {
    result.relaxedNote = `relaxed SIMD not available: ${errorMessage(e)}`;
  }
  return { result, again };
}

/** Runs the relaxed peak kernel in a child Node with `flag`; returns its timing (same warm-up/trial rules). */
function relaxedInChild(flag: string, iters: number, b: Budget): Timing {
  const code = `
const bytes = Buffer.from(${JSON.stringify(Buffer.from(relaxedBytes).toString('base64'))}, 'base64');
if (!WebAssembly.validate(bytes)) { console.log(JSON.stringify({ error: 'relaxed SIMD module does not validate even with the flag' })); process.exit(0); }
const fn = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports.peak_f32x4;
const b = ${JSON.stringify(b)};
let warmup = 0, last = 0, sum = 0;
const w0 = performance.now();
while (warmup < b.minWarmup || performance.now() - w0 < b.warmupMs) { const t = performance.now(); sum += fn(${iters}, 0.999, 0.001); last = performance.now() - t; warmup++; }
const reps = Math.max(1, Math.ceil(b.trialMs / Math.max(last, 1e-4)));
const samples = []; const t0 = performance.now();
for (let i = 0; i < b.trials; i++) {
  const t = performance.now(); for (let r = 0; r < reps; r++) sum += fn(${iters}, 0.999, 0.001);
  samples.push((performance.now() - t) / reps);
  if (samples.length >= b.minTrials && performance.now() - t0 > b.maxMs) break;
}
console.log(JSON.stringify({ samples, reps, warmup, sum }));
`;
  const r = spawnSync(process.execPath, [flag, '--input-type=module', '-e', code], { encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error((r.stderr || `child exited with ${r.status}`).trim().split('\n')[0]);
  const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { samples?: number[]; reps?: number; warmup?: number; error?: string };
  if (out.error) throw new Error(out.error);
  if (!out.samples?.length) throw new Error('child printed no timings');
  return {
    medianMs: median(out.samples),
    minMs: Math.min(...out.samples),
    maxMs: Math.max(...out.samples),
    trials: out.samples.length,
    reps: out.reps ?? 1,
    warmup: out.warmup ?? 0,
    samplesMs: out.samples,
  };
}
