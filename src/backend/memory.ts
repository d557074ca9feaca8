/**
 * The memory plan of a backend: one WebAssembly.Memory, carved up from TypeScript.
 * Kernels never allocate; every buffer they touch is a block handed out here.
 *
 * Blocks are long-lived (parameters, gradients, optimizer state) or per-shape
 * (activations and scratch, kept by the layers and reused every step while the batch
 * shape stays the same). Allocation happens only when a shape is first seen, so a
 * first-fit free list with coalescing is plenty. Growing the memory detaches every
 * old view; tensors keep (ptr, length) and re-derive their views (see Tensor.data).
 */
import { WasmCnnError } from '../errors.js';

/** Bytes of a WebAssembly memory page. */
export const PAGE = 65536;
const ALIGN = 64; // cache-line aligned blocks
/** The most a (32-bit) WebAssembly.Memory can address: 65536 pages, 4 GiB. */
export const MAX_BYTES = 65536 * PAGE;

export interface MemoryStats {
  /** Bytes of linear memory in total. */
  capacity: number;
  /** Bytes handed out in live blocks. */
  used: number;
  /** Highest byte ever handed out. */
  highWater: number;
  /** Number of times the memory has grown. */
  grows: number;
}

export class LinearMemory {
  readonly memory: WebAssembly.Memory;
  private readonly base: number;
  private top: number; // end of the region ever handed out
  private free: { ptr: number; size: number }[] = [];
  private live = new Map<number, number>();
  private used = 0;
  private grows = 0;

  /**
   * @param memory the memory the kernels see
   * @param heapBase first byte not used by the module's static data
   */
  constructor(memory: WebAssembly.Memory, heapBase: number) {
    this.memory = memory;
    this.base = alignUp(heapBase, ALIGN);
    this.top = this.base;
  }

  get buffer(): ArrayBuffer | SharedArrayBuffer {
    return this.memory.buffer;
  }

  stats(): MemoryStats {
    return { capacity: this.memory.buffer.byteLength, used: this.used, highWater: this.top, grows: this.grows };
  }

  /** A block of at least `bytes` bytes, 64-byte aligned. Contents are unspecified. */
  alloc(bytes: number): number {
    if (!Number.isInteger(bytes) || bytes < 0) throw new RangeError(`alloc: byte count must be a non-negative integer, got ${bytes}`);
    if (bytes > MAX_BYTES) {
      throw new WasmCnnError(`out of memory: a block of ${bytes} bytes cannot fit in a WebAssembly memory, which holds at most 4 GiB (${MAX_BYTES} bytes)`);
    }
    const size = alignUp(Math.max(bytes, 1), ALIGN);
    for (let i = 0; i < this.free.length; i++) {
      const block = this.free[i];
      if (block.size < size) continue;
      const ptr = block.ptr;
      if (block.size === size) this.free.splice(i, 1);
      else {
        block.ptr += size;
        block.size -= size;
      }
      return this.claim(ptr, size);
    }
    const ptr = this.top;
    this.ensure(ptr + size);
    this.top = ptr + size;
    return this.claim(ptr, size);
  }

  /** Returns a block to the free list, merging it with free neighbours. */
  release(ptr: number): void {
    const size = this.live.get(ptr);
    if (size === undefined) throw new Error(`release: ${ptr} is not a live block`);
    this.live.delete(ptr);
    this.used -= size;
    let i = 0;
    while (i < this.free.length && this.free[i].ptr < ptr) i++;
    this.free.splice(i, 0, { ptr, size });
    const next = this.free[i + 1];
    if (next && ptr + size === next.ptr) {
      this.free[i].size += next.size;
      this.free.splice(i + 1, 1);
    }
    const prev = this.free[i - 1];
    if (prev && prev.ptr + prev.size === ptr) {
      prev.size += this.free[i].size;
      this.free.splice(i, 1);
    }
    // give the tail back to the bump region so a later, larger block can extend it
    const last = this.free[this.free.length - 1];
    if (last && last.ptr + last.size === this.top) {
      this.top = last.ptr;
      this.free.pop();
    }
  }

  /** Grows the memory so that byte `end` is addressable. */
  ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    const pages = Math.ceil((end - have) / PAGE);
    try {
      if (end > MAX_BYTES) throw new RangeError('past the 4 GiB a WebAssembly memory can address');
      this.memory.grow(pages);
    } catch (e) {
      // the engine's RangeError, said in this library's terms (nothing has changed)
      throw new WasmCnnError(`out of memory: cannot grow the backend memory from ${have} to ${have + pages * PAGE} bytes ` +
        `(${(e as Error).message}); a WebAssembly memory holds at most 4 GiB`);
    }
    this.grows++;
  }

  private claim(ptr: number, size: number): number {
    this.live.set(ptr, size);
    this.used += size;
    return ptr;
  }
}

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}
