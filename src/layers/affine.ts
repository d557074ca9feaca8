/**
 * Affine (fully connected) layer. A 4-D input (N, C, H, W) is flattened to (N, C*H*W)
 * and its shape remembered, so dx comes back in the input's shape (the course's
 * original_x_shape).
 *   x: (N, D)  W: (D, M)  b: (M)  -> y: (N, M) = x W + b
 *   backward: dout (N, M) -> dx (N, D) = dout W^T; dW (D, M) = x^T dout; db (M) = column sums of dout.
 */
import type { Backend } from '../backend/backend.js';
import { ShapeError } from '../errors.js';
import { fmtShape, shapeSize, type Shape, type Tensor } from '../tensor.js';
import { LayerBase, type Layer } from './layer.js';

export interface AffineOptions {
  /** Compute the input gradient in backward (default true). */
  inputGrad?: boolean;
  name?: string;
}

export class Affine extends LayerBase<'W' | 'b'> implements Layer {
  readonly type = 'Affine' as const;
  readonly W: Tensor;
  readonly b: Tensor;
  readonly dW: Tensor;
  readonly db: Tensor;
  inputGrad: boolean;
  /** Shape of the last forward's input (the course's original_x_shape). */
  originalXShape: Shape | null = null;
  private readonly out = this.buffer();
  private readonly dxBuf = this.buffer();
  private x: Tensor | null = null;

  constructor(backend: Backend, W: Tensor, b: Tensor, options: AffineOptions = {}) {
    super(backend, options.name ?? 'Affine');
    // arguments refused part-way: free the device copies and gradients made so far
    try {
      this.W = this.adoptParam('W', W, 2);
      this.b = this.adoptParam('b', b, 1);
      if (this.b.size !== this.W.shape[1]) {
        throw new ShapeError(`${this.name}: b must have shape (${this.W.shape[1]}) for W ${fmtShape(this.W.shape)}, got ${fmtShape(this.b.shape)}`);
      }
      this.inputGrad = options.inputGrad ?? true;
      this.dW = this.gradFor('W');
      this.db = this.gradFor('b');
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  outputShape(inputShape: Shape): number[] {
    const [D, M] = this.W.shape;
    if (inputShape.length < 2) {
      throw new ShapeError(`${this.name}: input must be (N, ${D}) or (N, ...) with ${D} values per sample, got ${fmtShape(inputShape)}`);
    }
    const d = shapeSize(inputShape.slice(1));
    if (d !== D) {
      throw new ShapeError(`${this.name}: input ${fmtShape(inputShape)} has ${d} values per sample, but W ${fmtShape(this.W.shape)} expects ${D} (input shape (N, ${D}))`);
    }
    return [inputShape[0], M];
  }

  forward(input: Tensor): Tensor {
    const x = this.deviceInput(input);
    const [N] = this.outputShape(x.shape);
    const [D, M] = this.W.shape;
    const y = this.out.shaped([N, M]);
    const k = this.backend.kernels;
    // y (N, M) = x (N, D) * W (D, M) + b
    k.gemm_f32(0, 0, N, M, D, 1, x.ptr, D, this.W.ptr, M, 0, y.ptr, M);
    k.bias_add_rows_f32(y.ptr, this.b.ptr, N, M);
    this.x = x;
    this.originalXShape = x.shape;
    this.outShape = y.shape;
    return y;
  }

  backward(doutIn: Tensor): Tensor | null {
    const dout = this.deviceDout(doutIn);
    const x = this.x!;
    const N = x.shape[0];
    const [D, M] = this.W.shape;
    const k = this.backend.kernels;
    // dW (D, M) = x^T (D, N) * dout (N, M)
    if (N > 0) k.gemm_f32(1, 0, D, M, N, 1, x.ptr, D, dout.ptr, M, 0, this.dW.ptr, M);
    else k.fill_f32(this.dW.ptr, D * M, 0);
    k.bias_grad_rows_f32(dout.ptr, this.db.ptr, N, M);
    if (!this.inputGrad) return null;
    // dx (N, D) = dout (N, M) * W^T (M, D), in the input's original shape
    const dx = this.dxBuf.shaped(this.originalXShape!);
    k.gemm_f32(0, 1, N, D, M, 1, dout.ptr, M, this.W.ptr, M, 0, dx.ptr, D);
    return dx;
  }

  override dispose(): void {
    super.dispose();
    this.x = null;
  }
}
