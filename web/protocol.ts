/**
 * Messages between the page (main.ts) and its workers (worker.ts): one worker holds the
 * model and trains it, a second one runs the benchmark. Every message is plain data
 * (structured-clonable); images travel as RGBA bytes with their size.
 */
import type { BackendFeatures, BackendName } from '../src/index.js';

/** An RGBA picture for putImageData. */
export interface Picture {
  width: number;
  height: number;
  rgba: Uint8ClampedArray;
}

export interface TrainConfig {
  trainSize: number;
  testSize: number;
  epochs: number;
  batchSize: number;
  lr: number;
  /** L2 weight decay lambda (Trainer weightDecay; 0: none). */
  weightDecay: number;
  optimizer: string;
  backend: BackendName;
  threads: number;
  /** Ask for the relaxed-SIMD kernels where the browser has them (faster, not bit-reproducible across machines). */
  relaxedSimd: boolean;
  seed: number;
  /** Train the current weights on (true) or start from fresh weights of `seed` (false). */
  keepWeights: boolean;
}

export interface ModelInfo {
  /** "SimpleConvNet" or "Sequential". */
  type: string;
  /** name: shape, e.g. ["W1", [30, 1, 5, 5]]. */
  tensors: [string, number[]][];
  /** Number of parameter values. */
  size: number;
  /** FNV-1a (32 bit) of saveParams(), hex: changes whenever any weight changes. */
  checksum: string;
  /** Where the weights come from, e.g. "fresh weights (seed 42)" or "loaded from params.safetensors". */
  origin: string;
  /** The model config (JSON). */
  config: Record<string, unknown>;
}

export interface BackendInfo {
  name: BackendName;
  /** Threads asked for. */
  threadsRequested: number;
  /** Relaxed SIMD asked for. */
  relaxedRequested: boolean;
  features: BackendFeatures;
  /** Set when the backend as asked for could not be created and a 1-thread, plain-SIMD one runs instead: why. */
  fallbackNote?: string;
}

/** How the page asks for a backend. */
export interface BackendRequest {
  backend: BackendName;
  threads: number;
  relaxedSimd: boolean;
}

export type ToWorker =
  | ({ type: 'init'; seed: number } & BackendRequest)
  | { type: 'train'; config: TrainConfig }
  | { type: 'stop' }
  /** Continue the paused run (stopped, or loaded from a checkpoint). */
  | { type: 'resume' }
  /** Download the current or paused run's checkpoint (answered with 'saved'). */
  | { type: 'saveCheckpoint' }
  | ({ type: 'setBackend' } & BackendRequest)
  | { type: 'predict'; id: number; pixels: Float32Array }
  | { type: 'digit'; index: number }
  | { type: 'save'; format?: 'safetensors' | 'onnx' }
  | { type: 'load'; name: string; bytes: ArrayBuffer }
  | { type: 'bench'; threads: number; relaxedSimd: boolean; trials: number; minMs: number };

export interface DigitView {
  index: number;
  label: number;
  predicted: number;
  probs: number[];
  /** The digit, 28x28. */
  digit: Picture;
  /** The first convolution's output maps of the digit (null when the model has no convolution first). */
  maps: Picture | null;
  mapsShape: number[] | null;
}

export interface IterationMsg {
  type: 'iter';
  step: number;
  maxIter: number;
  epoch: number;
  iteration: number;
  iterPerEpoch: number;
  loss: number;
  /** Images per second over the last second of wall time (steps, yields and messages included). */
  imagesPerSecond: number;
}

export interface EpochMsg {
  type: 'epoch';
  epoch: number;
  epochs: number;
  trainAcc: number;
  testAcc: number;
  trainLoss: number;
  /** Images per second of this epoch's training steps (as the Trainer measures it). */
  imagesPerSecond: number;
  elapsedMs: number;
}

export interface BenchRow {
  key: string;
  what: string;
  unit: string;
  wasm: number | null;
  js: number | null;
}

/** Batch size of the benchmark's network rows. */
export const BENCH_BATCH = 100;

/** The benchmark table's rows, in display order. */
export const BENCH_ROWS: Omit<BenchRow, 'wasm' | 'js'>[] = [
  { key: 'gemm256', what: 'GEMM 256×256×256', unit: 'GFLOP/s' },
  { key: 'gemm512', what: 'GEMM 512×512×512', unit: 'GFLOP/s' },
  { key: 'train', what: `SimpleConvNet training (batch ${BENCH_BATCH}, Adam)`, unit: 'images/s' },
  { key: 'infer', what: `SimpleConvNet inference (batch ${BENCH_BATCH})`, unit: 'images/s' },
];

export type FromWorker =
  | { type: 'ready'; backend: BackendInfo; model: ModelInfo; filters: Picture | null; testCount: number }
  | { type: 'status'; text: string }
  | { type: 'backend'; backend: BackendInfo }
  | {
      type: 'trainStart'; maxIter: number; iterPerEpoch: number; epochs: number; trainSize: number; testSize: number;
      evalCount: { train: number; test: number }; initial: { trainAcc: number; testAcc: number }; backend: BackendInfo;
      /** Steps done before this start (0 for a new run; more when a paused run continues). */
      resumedAt: number;
    }
  | IterationMsg
  | EpochMsg
  | { type: 'filters'; filters: Picture | null }
  | { type: 'trainEnd'; stopped: boolean; resumable: boolean; testAcc: number | null; imagesPerSecond: number; elapsedMs: number; steps: number; model: ModelInfo }
  | { type: 'trainError'; message: string; model: ModelInfo }
  | { type: 'prediction'; id: number; probs: number[] }
  | { type: 'digit'; view: DigitView }
  | { type: 'model'; model: ModelInfo; filters: Picture | null }
  | { type: 'saved'; bytes: ArrayBuffer; name: string }
  | { type: 'loaded'; name: string; model: ModelInfo; filters: Picture | null }
  | { type: 'loadError'; name: string; message: string; model: ModelInfo }
  /** A checkpoint file was loaded: it is the paused run now (Resume continues it). */
  | { type: 'checkpointLoaded'; name: string; step: number; maxIter: number; model: ModelInfo; filters: Picture | null }
  | { type: 'benchRow'; row: BenchRow; features: Record<'wasm' | 'js', BackendFeatures> }
  | { type: 'benchDone'; rows: BenchRow[]; elapsedMs: number }
  | { type: 'error'; message: string };
