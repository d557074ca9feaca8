/**
 * Convolution layer (the course's Convolution), computed by ops/conv.ts: im2col + GEMM over
 * groups of images, or Winograd F(4x4, 3x3) / F(2x2, 3x3) where convAlgo picks it (per input shape).
 *   x: (N, C, H, W)  W: (FN, C, FH, FW)  b: (FN)  -> y: (N, FN, OH, OW)
 *   backward: dout (N, FN, OH, OW) -> dx (N, C, H, W); dW (FN, C, FH, FW), db (FN) kept on the layer.
 *   scratch: col, dcol: colSize(geometry) floats each (ops/conv.ts).
 */
import type { Backend } from '../backend/backend.js';
import { ShapeError } from '../errors.js';
import {
  convGeom, convAlgo, colSize, convForward, convBackward, convReluPoolForward, fusedAlgo, fusedColSize, type ConvGeom,
} from '../ops/conv.js';
import { checkWindowOptions } from '../geometry.js';
import { fmtShape, type Shape, type Tensor } from '../tensor.js';
import { LayerBase, type Layer } from './layer.js';
import type { Pooling } from './pooling.js';

export interface ConvolutionOptions {
  stride?: number;
  pad?: number;
  /** Compute the input gradient in backward (default true; a model's first layer does not need it). */
  inputGrad?: boolean;
  name?: string;
}

export class Convolution extends LayerBase<'W' | 'b'> implements Layer {
  readonly type = 'Convolution' as const;
  readonly W: Tensor;
  readonly b: Tensor;
  readonly dW: Tensor;
  readonly db: Tensor;
  readonly stride: number;
  readonly pad: number;
  inputGrad: boolean;
  private readonly out = this.buffer();
  private readonly dxBuf = this.buffer();
  private readonly colBuf = this.buffer();
  private readonly dcolBuf = this.buffer();
  private x: Tensor | null = null;
  private geom: ConvGeom | null = null;

  constructor(backend: Backend, W: Tensor, b: Tensor, options: ConvolutionOptions = {}) {
    super(backend, options.name ?? 'Convolution');
    // arguments refused part-way: free the device copies and gradients made so far
    try {
      this.W = this.adoptParam('W', W, 4);
      this.b = this.adoptParam('b', b, 1);
      if (this.b.size !== this.W.shape[0]) {
        throw new ShapeError(`${this.name}: b must have shape (${this.W.shape[0]}) for the ${this.W.shape[0]} filters of W ${fmtShape(this.W.shape)}, got ${fmtShape(this.b.shape)}`);
      }
      this.stride = options.stride ?? 1;
      this.pad = options.pad ?? 0;
      this.inputGrad = options.inputGrad ?? true;
      checkWindowOptions(this.name, this.stride, this.pad);
      this.dW = this.gradFor('W');
      this.db = this.gradFor('b');
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  outputShape(inputShape: Shape): number[] {
    const g = convGeom(this.name, inputShape, this.W.shape, this.stride, this.pad);
    return [g.N, g.FN, g.OH, g.OW];
  }

  forward(input: Tensor): Tensor {
    const x = this.deviceInput(input);
    const g = convGeom(this.name, x.shape, this.W.shape, this.stride, this.pad);
    const y = this.out.shaped([g.N, g.FN, g.OH, g.OW]);
    const col = this.colBuf.reserve(colSize(g));
    convForward(this.backend.kernels, g, x.ptr, this.W.ptr, this.b.ptr, y.ptr, col);
    this.x = x;
    this.geom = g;
    this.outShape = y.shape;
    return y;
  }

  /**
   * Whether forwardFused applies to inputs of this shape followed by `pool` (or none): a direct
   * (im2col + GEMM) convolution, or one whose fused form is Winograd F(4x4, 5x5) (fusedAlgo). A
   * Winograd 3x3 convolution (convAlgo) runs apart: its own forward is faster than the fused GEMM.
   */
  fusable(inputShape: Shape, pool: Pooling | null = null): boolean {
    const g = convGeom(this.name, inputShape, this.W.shape, this.stride, this.pad);
    return convAlgo(g) === 'direct' || fusedAlgo(g, pool) !== 'direct';
  }

  /**
   * Inference only, for inputs where fusable(shape, pool): relu(conv(x)) then, when `pool` is
   * given (a max Pooling), its pooling, in one kernel that never writes the full activation:
   * conv_relu_pool_fwd_f32, equal bit for bit to forward -> Relu -> Pooling run apart, or for 5x5
   * filters with a 2x2 stride-2 pool Winograd F(4x4, 5x5), equal to float rounding (fusedAlgo).
   * Keeps nothing for backward (which then asks for a forward first). The output is this layer's,
   * overwritten by the next forward.
   */
  forwardFused(input: Tensor, pool: Pooling | null): Tensor {
    const x = this.deviceInput(input);
    const g = convGeom(this.name, x.shape, this.W.shape, this.stride, this.pad);
    if (!this.fusable(x.shape, pool)) throw new ShapeError(`${this.name}: forwardFused does not apply to the input ${fmtShape(x.shape)}: it runs as ${convAlgo(g)}, apart`);
    let shape = [g.N, g.FN, g.OH, g.OW];
    if (pool) {
      if (pool.mode !== 'max') throw new ShapeError(`${this.name}: only max pooling fuses with Convolution -> Relu, got ${pool.name} (${pool.mode})`);
      shape = pool.outputShape(shape);
    }
    const y = this.out.shaped(shape);
    const algo = fusedAlgo(g, pool);
    const col = this.colBuf.reserve(fusedColSize(g, algo));
    convReluPoolForward(this.backend.kernels, g, x.ptr, this.W.ptr, this.b.ptr, pool, y.ptr, col, algo);
    this.x = null;
    this.geom = null;
    this.outShape = null;
    return y;
  }

  backward(doutIn: Tensor): Tensor | null {
    const dout = this.deviceDout(doutIn);
    const g = this.geom!;
    const x = this.x!;
    const col = this.colBuf.reserve(colSize(g));
    let dx: Tensor | null = null;
    let dcol = -1;
    if (this.inputGrad) {
      dx = this.dxBuf.shaped(x.shape);
      dcol = this.dcolBuf.reserve(colSize(g));
    }
    convBackward(this.backend.kernels, g, x.ptr, this.W.ptr, dout.ptr, this.dW.ptr, this.db.ptr, dx ? dx.ptr : -1, col, dcol);
    return dx;
  }

  override dispose(): void {
    super.dispose();
    this.x = null;
    this.geom = null;
  }
}
