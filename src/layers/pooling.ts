/**
 * Pooling layer (max or average), each of the N*C planes independently (ops/pool.ts).
 *   x: (N, C, H, W) -> y: (N, C, OH, OW); max pooling keeps argmax (i32): (N, C, OH, OW)
 *   backward: dout (N, C, OH, OW) -> dx (N, C, H, W)
 * The window is size x size; stride defaults to the window size (as Backend.maxPool).
 */
import type { Backend } from '../backend/backend.js';
import { ShapeError } from '../errors.js';
import { poolGeom, type PoolGeom } from '../ops/pool.js';
import { checkWindowOptions } from '../geometry.js';
import type { Shape, Tensor } from '../tensor.js';
import { LayerBase, type Layer } from './layer.js';

export type PoolMode = 'max' | 'avg';

export interface PoolingOptions {
  /** Window size (square). */
  size: number;
  /** Default: the window size. */
  stride?: number;
  pad?: number;
  /** Default 'max'. */
  mode?: PoolMode;
  name?: string;
}

export class Pooling extends LayerBase implements Layer {
  readonly type = 'Pooling' as const;
  readonly size: number;
  readonly stride: number;
  readonly pad: number;
  readonly mode: PoolMode;
  private readonly out = this.buffer();
  private readonly argmaxBuf = this.buffer();
  private readonly dxBuf = this.buffer();
  private geom: PoolGeom | null = null;
  private xShape: Shape | null = null;

  constructor(backend: Backend, options: PoolingOptions) {
    super(backend, options?.name ?? 'Pooling');
    this.size = options.size;
    this.stride = options.stride ?? options.size;
    this.pad = options.pad ?? 0;
    this.mode = options.mode ?? 'max';
    if (this.mode !== 'max' && this.mode !== 'avg') {
      throw new ShapeError(`${this.name}: mode must be "max" or "avg", got ${JSON.stringify(this.mode)}`);
    }
    checkWindowOptions(this.name, this.stride, this.pad, this.size);
    if (this.pad >= this.size) throw new ShapeError(`${this.name}: pad ${this.pad} must be smaller than the window size ${this.size}`);
  }

  outputShape(inputShape: Shape): number[] {
    const g = poolGeom(this.name, inputShape, this.size, this.stride, this.pad);
    return [g.N, g.C, g.OH, g.OW];
  }

  forward(input: Tensor): Tensor {
    const x = this.deviceInput(input);
    const g = poolGeom(this.name, x.shape, this.size, this.stride, this.pad);
    const y = this.out.shaped([g.N, g.C, g.OH, g.OW]);
    const k = this.backend.kernels;
    if (this.mode === 'max') {
      const argmax = this.argmaxBuf.reserve(y.size);
      k.maxpool_fwd_f32(x.ptr, g.N * g.C, g.H, g.W, g.KH, g.KW, g.strideH, g.strideW, g.padH, g.padW, y.ptr, argmax);
    } else {
      k.avgpool_fwd_f32(x.ptr, g.N * g.C, g.H, g.W, g.KH, g.KW, g.strideH, g.strideW, g.padH, g.padW, y.ptr);
    }
    this.geom = g;
    this.xShape = x.shape;
    this.outShape = y.shape;
    return y;
  }

  backward(doutIn: Tensor): Tensor {
    const dout = this.deviceDout(doutIn);
    const g = this.geom!;
    const dx = this.dxBuf.shaped(this.xShape!);
    const k = this.backend.kernels;
    if (this.mode === 'max') {
      const argmax = this.argmaxBuf.reserve(dout.size);
      k.maxpool_bwd_f32(dout.ptr, argmax, g.N * g.C, g.H, g.W, g.KH, g.KW, g.strideH, g.strideW, g.padH, g.padW, dx.ptr);
    } else {
      k.avgpool_bwd_f32(dout.ptr, g.N * g.C, g.H, g.W, g.KH, g.KW, g.strideH, g.strideW, g.padH, g.padW, dx.ptr);
    }
    return dx;
  }

  override dispose(): void {
    super.dispose();
    this.geom = null;
    this.xShape = null;
  }
}
