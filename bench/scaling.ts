/**
 * Thread scaling in paired trials: SimpleConvNet (or DeepConvNet) training and inference (batch 100) on the
 * Wasm backend at every thread count, all alive at once, timed in rounds. Each round times
 * one trial of every thread count back to back (the order rotating from round to round), so
 * each ratio T-thread / 1-thread compares trials well under a second apart. On a
 * shared machine whose speed drifts over seconds (other programs, the host's other guests),
 * this is a fairer ratio than two figures measured minutes apart; the report gives the
 * median of the rounds' ratios and their range.
 */
import type { Backend } from '../src/backend/backend.js';
import { Adam } from '../src/train/optimizers.js';
import { E2E, placeBatches, type BenchData } from './e2e.js';
import { benchNet } from './net.js';
import type { Sequential } from '../src/models/sequential.js';
import { median } from './timing.js';
import type { Impl, ScalingRow } from './types.js';

export interface ScalingBudget {
  /** Warm-up calls per thread count and case. */
  warmup: number;
  /** Rounds (each: one trial per thread count). */
  rounds: number;
  /** Target length of one trial. */
  trialMs: number;
}

export function scalingBudget(quick: boolean): ScalingBudget {
  return quick ? { warmup: 2, rounds: 3, trialMs: 5 } : { warmup: 5, rounds: 15, trialMs: 150 };
}

export interface Runner {
  cases: Record<string, () => void>;
  dispose: () => void;
}

/** Which network and the names of its train / infer rows (default: SimpleConvNet, the e2e rows). */
export interface ScalingNet {
  make: (backend: Backend) => Sequential;
  train: string;
  infer: string;
}

/** SimpleConvNet (benchNet) and its e2e row names. */
export const SIMPLE_NET: ScalingNet = { make: benchNet, train: E2E.train, infer: E2E.infer100 };

/** The network and Adam on `backend`, with the batches placed in its memory. */
export function runner(backend: Backend, data: BenchData, which: ScalingNet): Runner {
  const net = which.make(backend);
  const opt = new Adam({ lr: 0.001, backend });
  const { X, xb, tb } = placeBatches(backend, data);
  const nb = xb.length;
  let step = 0;
  return {
    cases: {
      [which.train]: () => {
        const i = step++ % nb;
        opt.update(net.params, net.gradient(xb[i], tb[i]));
      },
      [which.infer]: () => { net.predict(xb[step++ % nb]); },
    },
    dispose: () => {
      opt.dispose();
      X.dispose();
      net.dispose();
    },
  };
}

/** Per-call time of `reps` calls of `fn`, in ms, after one untimed call (caches and threads warm after the other backend's trial). */
export function trial(fn: () => void, reps: number): number {
  fn();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) fn();
  return (performance.now() - t0) / reps;
}

/**
 * Measures every case on every backend in paired rounds. `backends`: the Wasm backend at each
 * thread count, 1 first. Returns one row per case and thread count above 1.
 */
export function runScaling(backends: { impl: Impl; threads: number; backend: Backend }[], data: BenchData,
  budget: ScalingBudget, log: (s: string) => void, which: ScalingNet = SIMPLE_NET): ScalingRow[] {
  if (backends.length < 2 || backends[0].threads !== 1) return [];
  const runners = backends.map((b) => runner(b.backend, data, which));
  const rows: ScalingRow[] = [];
  try {
    for (const name of [which.train, which.infer]) {
      const reps: number[] = [];
      for (const r of runners) {
        const fn = r.cases[name];
        let last = Infinity;
        for (let i = 0; i < budget.warmup; i++) last = trial(fn, 1);
        reps.push(Math.max(1, Math.ceil(budget.trialMs / Math.max(last, 1e-3))));
      }
      const times: number[][] = runners.map(() => []);
      for (let round = 0; round < budget.rounds; round++) {
        for (let j = 0; j < runners.length; j++) {
          const k = (round + j) % runners.length;
          times[k].push(trial(runners[k].cases[name], reps[k]));
        }
      }
      const one = times[0];
      for (let k = 1; k < runners.length; k++) {
        const ratios = one.map((t, i) => t / times[k][i]);
        const row: ScalingRow = {
          name, impl: backends[k].impl, threads: backends[k].threads, rounds: budget.rounds,
          oneThreadMs: median(one), ms: median(times[k]),
          ratio: median(ratios), minRatio: Math.min(...ratios), maxRatio: Math.max(...ratios),
        };
        rows.push(row);
        log(`scaling: ${name}, ${row.threads} threads / 1: ${row.ratio.toFixed(2)}x (paired rounds ${row.minRatio.toFixed(2)}-${row.maxRatio.toFixed(2)})`);
      }
    }
  } finally {
    for (const r of runners) r.dispose();
  }
  return rows;
}
