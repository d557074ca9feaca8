/**
 * Mini-batch gathering: picks samples of a data set by index and writes them into one
 * device tensor that is allocated once and reused every step.
 *
 *   inputs: (N, ...sample) float Tensor, or ByteImages (value = byte * scale)
 *   labels: (N) class indices, or a one-hot (N, classes) Tensor (converted once, up front)
 *   x:      (B, ...sampleShape) device tensor, overwritten by every gather()
 *   t:      (B) Int32Array of class indices, overwritten by every gather()
 *
 * A gather asked for fewer than B samples (the tail of an evaluation pass) pads the
 * batch with copies of its last sample, so the batch shape never changes and the
 * layers never re-plan their buffers; gather() returns how many rows are real.
 */
import type { Backend } from '../backend/backend.js';
import { Tensor, fmtShape, shapeSize, type Shape } from '../tensor.js';
import { ShapeError, WasmCnnError } from '../errors.js';
import { labelIndices, type Labels } from './labels.js';
import { isByteImages, type Inputs } from './dataset.js';

/** Number of samples of a data set's inputs (the first axis). */
export function sampleCount(x: Inputs): number {
  return x.shape[0];
}

/** Shape of one sample (every axis but the first). */
export function sampleShapeOf(x: Inputs): number[] {
  return x.shape.slice(1);
}

/** Checks that `x` is a float Tensor or well-formed ByteImages with at least one axis. */
export function checkInputs(where: string, x: Inputs): void {
  if (isByteImages(x)) {
    if (!(x.data instanceof Uint8Array)) throw new WasmCnnError(`${where}: ByteImages.data must be a Uint8Array`);
    if (!Array.isArray(x.shape) || x.shape.length < 1 || x.shape.some((d) => !Number.isInteger(d) || d < 0)) {
      throw new ShapeError(`${where}: ByteImages.shape must be non-negative integers (N, ...), got ${JSON.stringify(x.shape)}`);
    }
    if (shapeSize(x.shape) !== x.data.length) {
      throw new ShapeError(`${where}: ByteImages of shape ${fmtShape(x.shape)} need ${shapeSize(x.shape)} bytes, got ${x.data.length}`);
    }
    if (typeof x.scale !== 'number' || !Number.isFinite(x.scale)) {
      throw new WasmCnnError(`${where}: ByteImages.scale must be a finite number, got ${String(x.scale)}`);
    }
    return;
  }
  if (!(x instanceof Tensor)) {
    throw new WasmCnnError(`${where}: inputs must be a Tensor or ByteImages ({ kind: 'bytes', data, shape, scale })`);
  }
  if (x.rank < 1) throw new ShapeError(`${where}: inputs must have a sample axis, got shape ${fmtShape(x.shape)}`);
}

/**
 * Refuses float inputs holding NaN or Infinity (ByteImages cannot hold them): they would
 * only surface later as a diverged loss. One pass over the data.
 */
export function checkFiniteInputs(where: string, x: Inputs): void {
  if (isByteImages(x)) return;
  const d = x.data;
  let bad = 0;
  let first = -1;
  for (let i = 0; i < d.length; i++) {
    // v - v is 0 for finite values and NaN for NaN and +-Infinity
    const v = d[i];
    if (v - v !== 0) {
      if (first < 0) first = i;
      bad++;
    }
  }
  if (bad > 0) {
    const per = x.shape[0] > 0 ? d.length / x.shape[0] : 1;
    throw new WasmCnnError(`${where} holds ${bad} NaN/Infinity value${bad > 1 ? 's' : ''} ` +
      `(first at index ${first} (sample ${Math.floor(first / per)}): ${d[first]}); inputs must be finite`);
  }
}

export interface BatchGathererOptions {
  /**
   * Shape of one sample in the output tensor. Defaults to the inputs' own sample
   * shape; any shape with the same number of values may be given (e.g. the network's
   * inputDim [1, 28, 28] for flattened (N, 784) inputs).
   */
  sampleShape?: Shape;
  /** Number of classes, to validate the labels. */
  classes?: number;
  /** Name used in error messages. */
  where?: string;
}

/**
 * Gathers mini-batches of one data set into a reusable device tensor (see the file
 * head). Allocation happens once, in the constructor; dispose() frees the tensor.
 */
export class BatchGatherer {
  readonly batchSize: number;
  /** Samples in the data set. */
  readonly count: number;
  readonly sampleShape: Shape;
  /** The batch, (B, ...sampleShape) on the backend; overwritten by every gather(). */
  readonly x: Tensor;
  /** The batch's class indices, (B); overwritten by every gather(). Empty when there are no labels. */
  readonly t: Int32Array;
  private readonly inputs: Inputs;
  private readonly labels: Int32Array | Uint8Array | null;
  private readonly sampleSize: number;
  private readonly where: string;

  constructor(backend: Backend, inputs: Inputs, labels: Labels | null, batchSize: number, options: BatchGathererOptions = {}) {
    const where = options.where ?? 'BatchGatherer';
    this.where = where;
    checkInputs(where, inputs);
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new WasmCnnError(`${where}: batch size must be a positive integer, got ${batchSize}`);
    }
    const own = sampleShapeOf(inputs);
    const sampleShape = options.sampleShape ? [...options.sampleShape] : own;
    if (shapeSize(sampleShape) !== shapeSize(own)) {
      throw new ShapeError(`${where}: samples of shape ${fmtShape(own)} (${shapeSize(own)} values) cannot be used as ${fmtShape(sampleShape)} (${shapeSize(sampleShape)} values)`);
    }
    this.inputs = inputs;
    this.count = sampleCount(inputs);
    this.batchSize = batchSize;
    this.sampleShape = Object.freeze(sampleShape);
    this.sampleSize = shapeSize(sampleShape);
    this.labels = labels === null ? null : labelIndices(where, labels, { count: this.count, classes: options.classes });
    this.t = new Int32Array(labels === null ? 0 : batchSize);
    this.x = backend.empty([batchSize, ...sampleShape]);
  }

  /**
   * Fills the batch with samples indices[start], indices[start + 1], ... (up to
   * batchSize of them). When fewer remain, the rest of the batch repeats the last one.
   * Returns the number of real (non-padding) rows.
   */
  gather(indices: ArrayLike<number>, start = 0): number {
    const B = this.batchSize;
    const n = Math.min(B, indices.length - start);
    if (!Number.isInteger(start) || start < 0 || n < 1) {
      throw new WasmCnnError(`${this.where}: no samples to gather at position ${start} of ${indices.length} indices`);
    }
    const D = this.sampleSize;
    const N = this.count;
    const out = this.x.data;
    const labels = this.labels;
    const t = this.t;
    const inputs = this.inputs;
    if (isByteImages(inputs)) {
      const src = inputs.data;
      const scale = inputs.scale;
      for (let r = 0; r < n; r++) {
        const i = indices[start + r];
        if (!(i >= 0 && i < N) || (i | 0) !== i) throw new WasmCnnError(`${this.where}: sample index ${i} outside [0, ${N})`);
        const o = r * D;
        const s = i * D;
        for (let k = 0; k < D; k++) out[o + k] = src[s + k] * scale;
        if (labels) t[r] = labels[i];
      }
    } else {
      const src = inputs.data;
      for (let r = 0; r < n; r++) {
        const i = indices[start + r];
        if (!(i >= 0 && i < N) || (i | 0) !== i) throw new WasmCnnError(`${this.where}: sample index ${i} outside [0, ${N})`);
        out.set(src.subarray(i * D, i * D + D), r * D);
        if (labels) t[r] = labels[i];
      }
    }
    for (let r = n; r < B; r++) {
      out.copyWithin(r * D, (n - 1) * D, n * D);
      if (labels) t[r] = t[n - 1];
    }
    return n;
  }

  /** Fills the batch with the consecutive samples start, start + 1, ... (padded like gather()). */
  gatherRange(start: number): number {
    const n = Math.min(this.batchSize, this.count - start);
    if (!Number.isInteger(start) || start < 0 || n < 1) {
      throw new WasmCnnError(`${this.where}: no samples at position ${start} of ${this.count}`);
    }
    const idx = this.rangeScratch;
    for (let r = 0; r < n; r++) idx[r] = start + r;
    return this.gather(idx.subarray(0, n), 0);
  }

  private rangeScratchArr: Int32Array | undefined;
  private get rangeScratch(): Int32Array {
    return (this.rangeScratchArr ??= new Int32Array(this.batchSize));
  }

  /** The class index of sample i of the data set. */
  label(i: number): number {
    if (!this.labels) throw new WasmCnnError(`${this.where}: this data set has no labels`);
    return this.labels[i];
  }

  dispose(): void {
    this.x.dispose();
  }
}
