/**
 * Timing: warm-up, then N timed trials of `reps` calls each (reps calibrated so a trial is
 * long enough for performance.now() to resolve it); the figure is the median trial, with
 * the fastest and slowest trial reported beside it. Slow implementations (the plain-JS
 * backend, TF.js cpu) get fewer calls through a time budget, never a different workload.
 */
import type { Figure, Group, Impl, Timing, Unit } from './types.js';

export interface Budget {
  /** Warm-up: at least this many calls, and more until warmupMs has passed. */
  minWarmup: number;
  warmupMs: number;
  /** Timed trials: up to `trials`, at least `minTrials`; stop early once `maxMs` has been spent timing. */
  trials: number;
  minTrials: number;
  maxMs: number;
  /** Target length of one trial; reps = ceil(trialMs / time of one call). */
  trialMs: number;
}

/** Budgets by speed class and mode. `slow` is for calls that take seconds (JS backend, TF.js cpu). */
export function budgets(quick: boolean): { fast: Budget; slow: Budget } {
  return quick
    ? {
      fast: { minWarmup: 1, warmupMs: 5, trials: 3, minTrials: 2, maxMs: 60, trialMs: 4 },
      slow: { minWarmup: 1, warmupMs: 0, trials: 2, minTrials: 1, maxMs: 0, trialMs: 0 },
    }
    : {
      fast: { minWarmup: 2, warmupMs: 150, trials: 11, minTrials: 5, maxMs: 2000, trialMs: 40 },
      slow: { minWarmup: 1, warmupMs: 0, trials: 5, minTrials: 3, maxMs: 3000, trialMs: 40 },
    };
}

/** Times `fn` (synchronous; it must force completion of its work before returning). */
export function measure(fn: () => void, b: Budget, lastCallMs = Infinity): Timing {
  // warm-up (also estimates the time of one call, unless the caller already knows it)
  let warmup = 0;
  let last = lastCallMs;
  const w0 = performance.now();
  while (warmup < b.minWarmup || (performance.now() - w0 < b.warmupMs && warmup < 1000)) {
    const t = performance.now();
    fn();
    last = performance.now() - t;
    warmup++;
  }
  if (!Number.isFinite(last)) {
    // no warm-up asked for and no estimate: one call sizes the trials
    const t = performance.now();
    fn();
    last = performance.now() - t;
    warmup++;
  }
  const reps = Math.max(1, Math.ceil(b.trialMs / Math.max(last, 1e-4)));
  const samples: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < Math.max(1, b.trials); i++) {
    const t = performance.now();
    for (let r = 0; r < reps; r++) fn();
    samples.push((performance.now() - t) / reps);
    if (samples.length >= b.minTrials && performance.now() - t0 > b.maxMs) break;
  }
  // a timer tick of 0 (very coarse clocks) would make a throughput infinite
  for (let i = 0; i < samples.length; i++) samples[i] = Math.max(samples[i], 1e-6);
  return {
    medianMs: median(samples),
    minMs: Math.min(...samples),
    maxMs: Math.max(...samples),
    trials: samples.length,
    reps,
    warmup,
    samplesMs: samples,
  };
}

/** Timings of the same call measured at different times, pooled into one. */
export function poolTimings(...ts: Timing[]): Timing {
  const samples = ts.flatMap((t) => t.samplesMs);
  return {
    medianMs: median(samples),
    minMs: Math.min(...samples),
    maxMs: Math.max(...samples),
    trials: samples.length,
    reps: Math.min(...ts.map((t) => t.reps)),
    warmup: ts.reduce((a, t) => a + t.warmup, 0),
    samplesMs: samples,
  };
}

/** A call slower than this (first call) is timed with the `slow` budget. */
export const SLOW_CALL_MS = 150;

/**
 * Times `fn` with the fast budget, or the slow one when a warm call takes longer than
 * SLOW_CALL_MS: seconds-long calls (TF.js cpu training and inference at batch 1000) get
 * fewer trials instead of a smaller workload.
 */
export function measureAuto(fn: () => void, b: { fast: Budget; slow: Budget }): Timing {
  let probes = 0;
  const probe = () => {
    const t = performance.now();
    fn();
    probes++;
    return performance.now() - t;
  };
  let last = probe();
  // a slow first call may be only cold (lazy compilation, first allocation of a batch's buffers): ask again
  if (last > SLOW_CALL_MS && last < 10 * SLOW_CALL_MS) last = probe();
  if (last <= SLOW_CALL_MS) {
    // the probes were cold calls (Liftoff before TurboFan, ...): a full warm-up follows
    const timing = measure(fn, b.fast);
    return { ...timing, warmup: timing.warmup + probes };
  }
  // seconds per call: the probes are the warm-up and size the trials
  const timing = measure(fn, { ...b.slow, minWarmup: Math.max(0, b.slow.minWarmup - probes), warmupMs: 0 }, last);
  return { ...timing, warmup: timing.warmup + probes };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Units: work per call and a time per call -> throughput. */
const SCALE: Record<Unit, number> = {
  'GFLOP/s': 1e-9, // FLOP / s -> GFLOP/s
  'GB/s': 1e-9, // bytes / s -> GB/s
  'img/s': 1, // images / s
};

export interface CaseSpec {
  group: Group;
  name: string;
  shape: string;
  impl: Impl;
  unit: Unit;
  work: number;
}

/** A Figure from a case and its timing. */
export function figure(spec: CaseSpec, timing: Timing): Figure {
  const rate = (ms: number) => (spec.work / (ms / 1000)) * SCALE[spec.unit];
  return {
    ...spec,
    value: rate(timing.medianMs),
    min: rate(timing.maxMs),
    max: rate(timing.minMs),
    timing,
  };
}

/** The message of anything thrown. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message || e.name;
  return String(e);
}
