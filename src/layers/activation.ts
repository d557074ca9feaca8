/**
 * Element-wise activations; any input shape, the output has the same shape.
 *   Relu:    y = max(x, 0);       dx = y > 0 ? dout : 0
 *   Sigmoid: y = 1 / (1 + e^-x);  dx = dout * y * (1 - y)
 * Both keep their forward output y (the course keeps the mask / out).
 */
import type { Backend } from '../backend/backend.js';
import type { Shape, Tensor } from '../tensor.js';
import { LayerBase, type Layer } from './layer.js';

abstract class Activation extends LayerBase {
  /**
   * Compute in place, as the course's Relu does: forward writes y over its input and
   * backward writes dx over dout, so the layer keeps no activation-sized buffers of its
   * own. Only for inputs nobody reads afterwards: models set it when the layer before is a
   * Convolution, Affine or BatchNormalization (their backward does not need their output).
   */
  inPlace = false;
  private readonly out = this.buffer();
  private readonly dxBuf = this.buffer();
  private y: Tensor | null = null;

  protected abstract fwd(x: number, y: number, n: number): void;
  protected abstract bwd(y: number, dy: number, dx: number, n: number): void;

  outputShape(inputShape: Shape): number[] {
    return [...inputShape];
  }

  forward(input: Tensor): Tensor {
    const x = this.deviceInput(input);
    const y = this.inPlace ? x : this.out.shaped(x.shape);
    this.fwd(x.ptr, y.ptr, x.size);
    this.y = y;
    this.outShape = y.shape;
    return y;
  }

  backward(doutIn: Tensor): Tensor {
    const dout = this.deviceDout(doutIn);
    const dx = this.inPlace ? dout : this.dxBuf.shaped(dout.shape);
    this.bwd(this.y!.ptr, dout.ptr, dx.ptr, dx.size);
    return dx;
  }

  override dispose(): void {
    super.dispose();
    this.y = null;
  }
}

export class Relu extends Activation implements Layer {
  readonly type = 'Relu' as const;
  constructor(backend: Backend, options: { name?: string } = {}) {
    super(backend, options.name ?? 'Relu');
  }
  protected fwd(x: number, y: number, n: number): void {
    this.backend.kernels.relu_fwd_f32(x, y, n);
  }
  protected bwd(y: number, dy: number, dx: number, n: number): void {
    this.backend.kernels.relu_bwd_f32(y, dy, dx, n);
  }
}

export class Sigmoid extends Activation implements Layer {
  readonly type = 'Sigmoid' as const;
  constructor(backend: Backend, options: { name?: string } = {}) {
    super(backend, options.name ?? 'Sigmoid');
  }
  protected fwd(x: number, y: number, n: number): void {
    this.backend.kernels.sigmoid_fwd_f32(x, y, n);
  }
  protected bwd(y: number, dy: number, dx: number, n: number): void {
    this.backend.kernels.sigmoid_bwd_f32(y, dy, dx, n);
  }
}
