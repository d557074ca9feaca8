/**
 * The shape of a benchmark run: what `runBench` returns and what bench/results/<date>.json holds.
 * Every figure is a throughput (higher is better) derived from the median of several timed
 * trials after warm-up; min and max are the throughputs of the slowest and fastest trial.
 */
import type { BackendFeatures } from '../src/backend/backend.js';
import type { MemoryStats } from '../src/backend/memory.js';

export const GROUPS = ['peak', 'kernels', 'e2e', 'deep', 'peers'] as const;
export type Group = (typeof GROUPS)[number];

/**
 * Who ran a figure: 'wasm' (wasm-cnn Wasm backend, 1 thread), 'wasm-<n>t' (n threads, when the
 * build supports them), 'wasm-relaxed' (the relaxed-SIMD build, 1 thread), 'js' (the plain-JS
 * backend), 'tfjs-wasm' / 'tfjs-cpu' (TF.js 4.x), 'torch-<n>t' (PyTorch CPU, n threads).
 */
export type Impl = string;

export type Unit = 'GFLOP/s' | 'GB/s' | 'img/s';

/** Per-call times of one measured case, in milliseconds. */
export interface Timing {
  /** Median over the trials of (trial time / reps). */
  medianMs: number;
  /** Fastest and slowest trial, per call. */
  minMs: number;
  maxMs: number;
  /** Timed trials (after warm-up) and calls per trial. */
  trials: number;
  reps: number;
  /** Untimed warm-up calls before the trials. */
  warmup: number;
  /** Per-call time of every trial, in the order they ran. */
  samplesMs: number[];
}

export interface Figure {
  group: Group;
  /** Row key shared by every implementation of the same case, e.g. "gemm NT 512". */
  name: string;
  /** Human-readable shape, e.g. "(512,512,512)" for GEMM (M,N,K). */
  shape: string;
  impl: Impl;
  unit: Unit;
  /** Throughput at the median time. */
  value: number;
  /** Throughput of the slowest / fastest trial. */
  min: number;
  max: number;
  /** Work per call: FLOP (GFLOP/s figures), bytes moved (GB/s) or images (img/s). */
  work: number;
  timing: Timing;
  /** GEMM figures of wasm-cnn's Wasm backend: value as a percentage of the measured Wasm SIMD peak. */
  pctOfPeak?: number;
  /** Figures of the 1-thread Wasm backend (and multi-thread ones): this value divided by the same row's value of each other implementation. */
  ratios?: Record<Impl, number>;
}

/** A case that could not run (e.g. TF.js wasm training: no Conv2DBackpropFilter kernel). */
export interface Failure {
  group: Group;
  name: string;
  impl: Impl;
  /** The real error message, as thrown. */
  error: string;
}

export interface PeakResult {
  /**
   * f32x4 mul+add on 12 independent accumulators, 1 thread, timed at the start and again at
   * the end of the run (trials of both pooled). Its fastest trial (`simd.max`) is the
   * denominator of every % of peak: a limit, which interference from other processes can
   * only lower.
   */
  simd: Figure;
  /** f32x4.relaxed_madd, measured in a child `node --experimental-wasm-relaxed-simd` when available. */
  relaxedSimd?: Figure;
  /** Why the relaxed-SIMD peak is missing, or how it was obtained. */
  relaxedNote: string;
  /** Times the plain-SIMD peak was measured (1, or 2: at the start and at the end of the run). */
  rounds: number;
}

/** One part of a SimpleConvNet training step (bench/step.ts), per call, in milliseconds. */
export interface ProfileRow {
  impl: Impl;
  /** e.g. "Convolution1 forward", "Affine2 backward", "Adam update". */
  phase: string;
  /** Median trial; fastest and slowest trial. */
  ms: number;
  minMs: number;
  maxMs: number;
}

/** One case at one thread count, timed in rounds paired with the 1-thread backend (bench/scaling.ts). */
/** Wasm against a peer in paired rounds (bench/paired-torch.ts): one case at one thread count. */
export interface PairedPeerRow {
  /** The case ("deep train batch 100 (fwd+bwd+Adam)", "deep infer batch 100"). */
  name: string;
  impl: Impl;
  /** The peer's impl ("torch-1t") and version. */
  peer: Impl;
  peerVersion: string;
  threads: number;
  rounds: number;
  /** Median per-call time over the rounds: Wasm, and the peer. */
  ms: number;
  peerMs: number;
  /** Median over the rounds of (peer trial time / Wasm trial time): Wasm's speed over the peer's; and the range. */
  ratio: number;
  minRatio: number;
  maxRatio: number;
  /** Per-call time of every round's trial, in round order: Wasm, and the peer. */
  samplesMs: number[];
  peerSamplesMs: number[];
}

export interface ScalingRow {
  /** The e2e case ("train batch 100 (fwd+bwd+Adam)", "infer batch 100"). */
  name: string;
  impl: Impl;
  threads: number;
  rounds: number;
  /** Median per-call time over the rounds: 1 thread, and this thread count. */
  oneThreadMs: number;
  ms: number;
  /** Median over the rounds of (1-thread trial time / this trial's time), and the range. */
  ratio: number;
  minRatio: number;
  maxRatio: number;
}

/** The Wasm memory of a Trainer run at batch 100 on a fresh backend (bench/step.ts). */
export interface MemoryRun {
  impl: Impl;
  /** Training steps taken. */
  steps: number;
  /** Bytes of the data set as the Trainer holds it (uint8 images, outside the Wasm memory). */
  dataBytes: number;
  afterFirstStep: MemoryStats;
  atEnd: MemoryStats;
  /** Largest capacity seen after any step or evaluation. */
  maxCapacity: number;
  /** Whether capacity, high-water mark or the number of grows changed after the first step. */
  grewAfterFirstStep: boolean;
}

export interface ImplInfo {
  impl: Impl;
  /** What it is, in words ("wasm-cnn Wasm SIMD backend, 1 thread"). */
  description: string;
  /** wasm-cnn backends: `backend.features` as reported. */
  features?: BackendFeatures;
  /** TF.js backends: version, backend name, SIMD / threads as TF.js detected them, binary used. */
  tfjs?: Record<string, string | number | boolean>;
}

export interface BenchOptions {
  /** Fewer sizes, trials and steps: a smoke test (seconds, not minutes). */
  quick?: boolean;
  /** Groups to run (default: all). */
  only?: Group[];
  /** Directory for <date>.json, <date>.md and latest.md; null writes nothing. Default "bench/results". */
  outDir?: string | null;
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
  /** Skip implementations, e.g. ['tfjs-cpu'] (mainly for tests). */
  skipImpls?: Impl[];
  /**
   * Internal: measure only the relaxed-SIMD Wasm backend ('wasm-relaxed': GEMMs and end to
   * end), no peak. What a run does in a child `node --experimental-wasm-relaxed-simd` when
   * its own engine rejects relaxed SIMD.
   */
  relaxedOnly?: boolean;
}

export interface BenchResults {
  schema: 'wasm-cnn-bench/1';
  /** ISO time the run started. */
  date: string;
  quick: boolean;
  groups: Group[];
  durationMs: number;
  environment: {
    node: string;
    v8: string;
    platform: string;
    arch: string;
    cpu: string;
    /** Linux: the CPU's family and model numbers and clock from /proc/cpuinfo (tells apart hosts that share a model name). */
    cpuDetail?: string;
    cores: number;
  };
  impls: ImplInfo[];
  peak?: PeakResult;
  figures: Figure[];
  /** e2e: the parts of a training step, per wasm-cnn backend. */
  profile?: ProfileRow[];
  /** e2e: Wasm memory of training, per Wasm backend (thread count). */
  memory?: MemoryRun[];
  /** e2e: thread scaling of training and inference in paired rounds (2 or more thread counts). */
  scaling?: ScalingRow[];
  /** deep: the parts of a DeepConvNet training step, per Wasm backend. */
  deepProfile?: ProfileRow[];
  /** deep: thread scaling of DeepConvNet training and inference in paired rounds. */
  deepScaling?: ScalingRow[];
  /** deep: Wasm against PyTorch CPU in paired rounds, at each Wasm thread count. */
  deepTorchPaired?: PairedPeerRow[];
  /** peers: SimpleConvNet inference against ONNX Runtime Web in paired rounds, at each thread count. */
  ortPaired?: PairedPeerRow[];
  failures: Failure[];
  notes: string[];
  /**
   * Where the report went (absent when nothing was written). latest.md is rewritten by
   * full runs only (all groups, not --quick), so it always holds the latest full table.
   */
  files?: { json: string; markdown: string; latest?: string };
}
