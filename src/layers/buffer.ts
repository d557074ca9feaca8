/**
 * DeviceBuffer: a block of backend memory that a layer (or model) owns and reuses
 * every step. It grows to the largest size asked for and never shrinks, so once the
 * largest batch has been seen, training allocates no Wasm memory at all.
 */
import type { Backend } from '../backend/backend.js';
import { Tensor, shapeSize, type Shape } from '../tensor.js';

export class DeviceBuffer {
  private ptr = -1;
  /** Capacity in 4-byte values. */
  private capacity = 0;
  private view: Tensor | null = null;

  constructor(private readonly backend: Backend) {}

  /** A device tensor of `shape` over this buffer (contents unspecified). */
  shaped(shape: Shape): Tensor {
    const view = this.view;
    if (view && sameShape(view.shape, shape) && this.capacity >= view.size) return view;
    const ptr = this.reserve(shapeSize(shape));
    this.view = Tensor.device(this.backend.memory, ptr, shape);
    return this.view;
  }

  /** The byte pointer of a block holding at least `n` 4-byte values (f32 or i32). */
  reserve(n: number): number {
    if (n > this.capacity || this.ptr < 0) {
      if (this.ptr >= 0) this.backend.memory.release(this.ptr);
      this.ptr = -1;
      this.view = null;
      this.ptr = this.backend.memory.alloc(Math.max(n, 1) * 4);
      this.capacity = Math.max(n, 1);
    }
    return this.ptr;
  }

  /** An Int32Array view of the first `n` values (re-derive it after anything that may allocate). */
  i32(n: number): Int32Array {
    const ptr = this.reserve(n);
    return new Int32Array(this.backend.memory.buffer, ptr, n);
  }

  dispose(): void {
    if (this.ptr >= 0) this.backend.memory.release(this.ptr);
    this.ptr = -1;
    this.capacity = 0;
    this.view = null;
  }
}

export function sameShape(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
