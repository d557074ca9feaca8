/**
 * Tensor: a shape plus float32 storage. Host tensors own a Float32Array; device
 * tensors live in a backend's linear memory as (ptr, size) and re-derive their view
 * whenever the memory has grown, so `t.data` is always valid (but do not keep a
 * `t.data` reference across calls that may allocate).
 */
import type { LinearMemory } from './backend/memory.js';
import { WasmCnnError, describeValue } from './errors.js';

/** Sizes of the axes, outermost first, e.g. [N, C, H, W]. */
export type Shape = readonly number[];

/** A shape plus float32 values, on the host (a Float32Array) or on a backend (device memory); see tensor() and backend.tensor(). */
export class Tensor {
  readonly shape: Shape;
  readonly size: number;
  /** Byte offset in the backend memory, or -1 for a host tensor. */
  readonly ptr: number;
  /** The memory a device tensor lives in (undefined for host tensors). */
  readonly memory: LinearMemory | undefined;
  private view: Float32Array;
  private disposed = false;

  private constructor(shape: Shape, storage: Float32Array | { memory: LinearMemory; ptr: number }) {
    this.shape = Object.freeze([...shape]);
    this.size = shapeSize(shape);
    if (storage instanceof Float32Array) {
      this.ptr = -1;
      this.memory = undefined;
      this.view = storage;
    } else {
      this.ptr = storage.ptr;
      this.memory = storage.memory;
      this.view = new Float32Array(storage.memory.buffer, storage.ptr, this.size);
    }
  }

  /** A tensor over host memory (no copy of `data`). */
  static host(data: Float32Array, shape: Shape): Tensor {
    if (!(data instanceof Float32Array)) {
      throw new WasmCnnError(`Tensor.host: data must be a Float32Array (tensor() copies other arrays), got ${describeValue(data)}`);
    }
    checkShape('Tensor.host', shape);
    if (shapeSize(shape) !== data.length) {
      throw new WasmCnnError(`Tensor.host: shape ${fmtShape(shape)} holds ${shapeSize(shape)} values, but data has ${data.length}`);
    }
    return new Tensor(shape, data);
  }

  /** A tensor over a block of backend memory that the caller has allocated. */
  static device(memory: LinearMemory, ptr: number, shape: Shape): Tensor {
    return new Tensor(shape, { memory, ptr });
  }

  get isDevice(): boolean {
    return this.memory !== undefined;
  }

  /** The values, as a live Float32Array view (re-derived after memory growth). */
  get data(): Float32Array {
    if (this.disposed) throw new WasmCnnError(`tensor ${fmtShape(this.shape)} was disposed`);
    if (this.memory && this.view.buffer !== this.memory.buffer) {
      this.view = new Float32Array(this.memory.buffer, this.ptr, this.size);
    }
    return this.view;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** A copy of the values in host memory. */
  toArray(): Float32Array {
    return this.data.slice();
  }

  /** Same storage, another shape with the same number of elements. */
  reshape(shape: Shape): Tensor {
    if (shapeSize(shape) !== this.size) {
      throw new WasmCnnError(`reshape: cannot view ${fmtShape(this.shape)} (${this.size} values) as ${fmtShape(shape)}`);
    }
    return this.memory ? Tensor.device(this.memory, this.ptr, shape) : Tensor.host(this.view, shape);
  }

  /** Frees a device tensor's block (a no-op for host tensors). Views of it become invalid. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.memory) this.memory.release(this.ptr);
  }

  /** `using t = backend.tensor(...)` frees the device block at the end of the block. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** Makes a host tensor from numbers (copied into a new Float32Array). Shape defaults to [data.length]. */
export function tensor(data: ArrayLike<number>, shape?: Shape): Tensor {
  checkData('tensor', data);
  const s = shape ?? [data.length];
  checkShape('tensor', s);
  if (shapeSize(s) !== data.length) {
    throw new WasmCnnError(`tensor: shape ${fmtShape(s)} holds ${shapeSize(s)} values, but data has ${data.length}`);
  }
  return Tensor.host(Float32Array.from(data), s);
}

export function shapeSize(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function fmtShape(shape: Shape): string {
  return `(${shape.join(', ')})`;
}

export function checkShape(where: string, shape: Shape): void {
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new WasmCnnError(`${where}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
}

/** Checks that `data` is an array of numbers (a typed array or an array-like object, not a string). */
export function checkData(where: string, data: unknown): void {
  if (typeof data !== 'object' || data === null || typeof (data as ArrayLike<number>).length !== 'number' ||
    data instanceof ArrayBuffer || (typeof SharedArrayBuffer !== 'undefined' && data instanceof SharedArrayBuffer)) {
    throw new WasmCnnError(`${where}: data must be an array of numbers (a Float32Array, an Array, ...), got ${describeValue(data)}`);
  }
}

/** Checks that an argument is a Tensor; the error names the argument and what was given. */
export function checkTensorArg(where: string, name: string, t: unknown): asserts t is Tensor {
  if (!(t instanceof Tensor)) throw new WasmCnnError(`${where}: ${name} must be a Tensor, got ${describeValue(t)}`);
}
