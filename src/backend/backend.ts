/**
 * The Backend contract. A backend is a linear memory plus a kernel set (the Wasm
 * exports or their plain-JS twins, same ABI: src/backend/kernels.ts). Everything
 * above it (ops, layers, models, optimizers) is written once against this class.
 */
import type { Kernels } from './kernels.js';
import { LinearMemory, type MemoryStats } from './memory.js';
import { Tensor, checkData, checkShape, checkTensorArg, fmtShape, shapeSize, type Shape } from '../tensor.js';
import { ShapeError, WasmCnnError, describeValue } from '../errors.js';
import { convGeom, colSize, convForward } from '../ops/conv.js';
import { poolGeom } from '../ops/pool.js';

export type BackendName = 'wasm' | 'js';

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

export interface ConvOptions { stride?: number; pad?: number }
export interface PoolOptions { size: number; stride?: number; pad?: number }
export interface MatmulOptions { transA?: boolean; transB?: boolean }

export class Backend {
  constructor(
    readonly name: BackendName,
    readonly memory: LinearMemory,
    readonly kernels: Kernels,
    readonly features: BackendFeatures,
    private readonly onDispose: () => void = () => {},
  ) {}

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

  // ---- user-facing ops (allocate their outputs; layers keep their own buffers) ----

  /** x: (N, C, H, W), w: (FN, C, KH, KW), b: (FN) or null -> (N, FN, OH, OW). */
  conv2d(x: Tensor, w: Tensor, b: Tensor | null, opts: ConvOptions = {}): Tensor {
    checkTensorArg('conv2d', 'x', x);
    checkTensorArg('conv2d', 'w', w);
    if (b !== null && b !== undefined && !(b instanceof Tensor)) {
      throw new WasmCnnError(`conv2d: b must be a Tensor or null, got ${describeValue(b)}`);
    }
    checkOptions('conv2d', opts);
    const g = convGeom('conv2d', x.shape, w.shape, opts.stride ?? 1, opts.pad ?? 0);
    if (b && (b.rank !== 1 || b.size !== g.FN)) {
      throw new ShapeError(`conv2d: bias must have shape (${g.FN}) for ${g.FN} filters, got ${fmtShape(b.shape)}`);
    }
    return this.withDevice([x, w, b], ([xd, wd, bd]) => {
      const y = this.empty([g.N, g.FN, g.OH, g.OW]);
      const col = this.memory.alloc(colSize(g) * 4);
      try {
        convForward(this.kernels, g, xd!.ptr, wd!.ptr, bd ? bd.ptr : -1, y.ptr, col);
      } finally {
        this.memory.release(col);
      }
      return y;
    });
  }

  /** x: (N, C, H, W) -> (N, C, OH, OW), the maximum of each window. */
  maxPool(x: Tensor, opts: PoolOptions): Tensor {
    checkPoolArgs('maxPool', x, opts);
    const g = poolGeom('maxPool', x.shape, opts.size, opts.stride ?? opts.size, opts.pad ?? 0);
    return this.withDevice([x], ([xd]) => {
      const y = this.empty([g.N, g.C, g.OH, g.OW]);
      const argmax = this.memory.alloc(y.size * 4);
      try {
        this.kernels.maxpool_fwd_f32(xd.ptr, g.N * g.C, g.H, g.W, g.KH, g.KW, g.strideH, g.strideW, g.padH, g.padW, y.ptr, argmax);
      } finally {
        this.memory.release(argmax);
      }
      return y;
    });
  }

  /** x: (N, C, H, W) -> (N, C, OH, OW), the mean of each window (padding counts as zeros). */
  avgPool(x: Tensor, opts: PoolOptions): Tensor {
    checkPoolArgs('avgPool', x, opts);
    const g = poolGeom('avgPool', x.shape, opts.size, opts.stride ?? opts.size, opts.pad ?? 0);
    return this.withDevice([x], ([xd]) => {
      const y = this.empty([g.N, g.C, g.OH, g.OW]);
      this.kernels.avgpool_fwd_f32(xd.ptr, g.N * g.C, g.H, g.W, g.KH, g.KW, g.strideH, g.strideW, g.padH, g.padW, y.ptr);
      return y;
    });
  }

  /** op(a) * op(b) for 2-D tensors; op transposes when the option says so. */
  matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
    checkTensorArg('matmul', 'a', a);
    checkTensorArg('matmul', 'b', b);
    checkOptions('matmul', opts);
    for (const k of ['transA', 'transB'] as const) {
      if (opts[k] !== undefined && typeof opts[k] !== 'boolean') throw new WasmCnnError(`matmul: ${k} must be a boolean, got ${describeValue(opts[k])}`);
    }
    if (a.rank !== 2 || b.rank !== 2) {
      throw new ShapeError(`matmul: both operands must be 2-D, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
    }
    const transA = opts.transA ?? false;
    const transB = opts.transB ?? false;
    const [M, K] = transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
    const [KB, N] = transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
    if (K !== KB) {
      throw new ShapeError(`matmul: inner sizes differ: op(a) is (${M}, ${K}) and op(b) is (${KB}, ${N}) (a ${fmtShape(a.shape)}${transA ? ' transposed' : ''}, b ${fmtShape(b.shape)}${transB ? ' transposed' : ''})`);
    }
    return this.withDevice([a, b], ([ad, bd]) => {
      const c = this.empty([M, N]);
      this.kernels.gemm_f32(+transA, +transB, M, N, K, 1, ad.ptr, a.shape[1], bd.ptr, b.shape[1], 0, c.ptr, N);
      return c;
    });
  }

  /** Ends worker threads (if any). The backend must not be used afterwards. */
  dispose(): void {
    this.onDispose();
  }

  /** Runs `fn` with every input on this backend, freeing the temporary copies afterwards. */
  private withDevice<T extends (Tensor | null)[], R>(inputs: T, fn: (dev: T) => R): R {
    const dev = inputs.map((t) => (t ? this.toDevice(t) : null)) as T;
    try {
      return fn(dev);
    } finally {
      dev.forEach((d, i) => {
        if (d && d !== inputs[i]) d.dispose();
      });
    }
  }
}

function checkOptions(where: string, opts: unknown): void {
  if (typeof opts !== 'object' || opts === null) throw new WasmCnnError(`${where}: options must be an object, got ${describeValue(opts)}`);
}

function checkPoolArgs(where: string, x: unknown, opts: unknown): void {
  checkTensorArg(where, 'x', x);
  if (typeof opts !== 'object' || opts === null) {
    throw new WasmCnnError(`${where}: options { size, stride?, pad? } are required, got ${describeValue(opts)}`);
  }
}
