/**
 * The Backend contract. A backend is a linear memory plus a kernel set (the Wasm
 * exports or their plain-JS twins, same ABI: src/backend/kernels.ts). Everything
 * above it (ops, layers, models, optimizers) is written once against this class.
 */
import type { Kernels } from './kernels.js';
import { LinearMemory, type MemoryStats } from './memory.js';
import { Tensor, checkData, checkShape, fmtShape, shapeSize, type Shape } from '../tensor.js';
import { ShapeError } from '../errors.js';

/** The kernel sets: 'wasm' (SIMD WebAssembly) and 'js' (plain JavaScript). */
export type BackendName = 'wasm' | 'js';

/** What a backend runs with: SIMD, relaxed SIMD, threads, and why not where they were asked for. */
export interface BackendFeatures {
  /** The kernels use 128-bit SIMD. */
  simd: boolean;
  /** The kernels use relaxed SIMD (f32x4.relaxed_madd); results then differ slightly between engines/CPUs. */
  relaxedSimd: boolean;
  /** Why relaxed SIMD is not in use although it was asked for ('auto'). */
  relaxedSimdNote?: string;
  /** Threads the kernels run on (results are bit-identical for every count). */
  threads: number;
  /** Why fewer threads than asked for are in use, when that happens. */
  threadsNote?: string;
}

/** The backend of each live memory, so that tensors lead back to their kernels (Backend.of). */
const owners = new WeakMap<LinearMemory, Backend>();

/** A linear memory and the kernels that work on it; made by createBackend(). */
export class Backend {
  /** @internal */
  constructor(
    readonly name: BackendName,
    /** @internal */
    readonly memory: LinearMemory,
    /** @internal */
    readonly kernels: Kernels,
    /** SIMD, relaxed SIMD and threads in use, and why not where they were asked for. */
    readonly features: BackendFeatures,
    private readonly onDispose: () => void = () => {},
  ) {
    owners.set(memory, this);
  }

  /** The backend a device tensor lives on (undefined for host tensors). */
  static of(t: Tensor): Backend | undefined {
    return t.memory ? owners.get(t.memory) : undefined;
  }

  // ---- device tensors ---------------------------------------------------------

  /** An uninitialized device tensor. */
  empty(shape: Shape): Tensor {
    checkShape('empty', shape);
    const ptr = this.memory.alloc(shapeSize(shape) * 4);
    return Tensor.device(this.memory, ptr, shape);
  }

  zeros(shape: Shape): Tensor {
    const t = this.empty(shape);
    this.kernels.fill_f32(t.ptr, t.size, 0);
    return t;
  }

  /** A device tensor holding a copy of `data`. */
  tensor(data: ArrayLike<number>, shape?: Shape): Tensor {
    checkData('tensor', data);
    const s = shape ?? [data.length];
    checkShape('tensor', s);
    if (shapeSize(s) !== data.length) {
      throw new ShapeError(`tensor: shape ${fmtShape(s)} holds ${shapeSize(s)} values, but data has ${data.length}`);
    }
    const t = this.empty(s);
    t.data.set(data);
    return t;
  }

  /** `t` itself when it already lives in this backend's memory, else a device copy. */
  toDevice(t: Tensor): Tensor {
    if (t.memory === this.memory) return t;
    return this.tensor(t.data, t.shape);
  }

  memoryStats(): MemoryStats {
    return this.memory.stats();
  }

  /** Ends worker threads (if any). The backend must not be used afterwards. */
  dispose(): void {
    this.onDispose();
  }

  /** `using backend = await createBackend(...)` ends its threads at the end of the block. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

