/**
 * SoftmaxWithLoss (the course's last layer): softmax, then mean cross-entropy against
 * class indices or one-hot labels.
 *   x (logits): (N, C), labels -> i32 (N) -> y (probabilities): (N, C); loss: number
 *   backward: dx (N, C) = dout * (y - onehot(t)) / N
 */
import type { Backend } from '../backend/backend.js';
import { ShapeError, WasmCnnError } from '../errors.js';
import { Tensor, fmtShape } from '../tensor.js';
import { DeviceBuffer } from './buffer.js';
import { labelIndices, type Labels } from '../data/labels.js';

export class SoftmaxWithLoss {
  readonly type = 'SoftmaxWithLoss' as const;
  name: string;
  /** The last loss computed by forward. */
  loss = NaN;
  private readonly inBuf: DeviceBuffer;
  private readonly probs: DeviceBuffer;
  private readonly labelBuf: DeviceBuffer;
  private readonly dxBuf: DeviceBuffer;
  private yT: Tensor | null = null;
  private labelPtr = -1;

  constructor(readonly backend: Backend, options: { name?: string } = {}) {
    this.name = options.name ?? 'SoftmaxWithLoss';
    this.inBuf = new DeviceBuffer(backend);
    this.probs = new DeviceBuffer(backend);
    this.labelBuf = new DeviceBuffer(backend);
    this.dxBuf = new DeviceBuffer(backend);
  }

  /** Softmax probabilities of the last forward (the course's self.y), owned by the layer. */
  get y(): Tensor | null {
    return this.yT;
  }

  /** Mean cross-entropy of softmax(x) against `t` (class indices or one-hot (N, C)). */
  forward(input: Tensor, t: Labels | ArrayLike<number>): number {
    if (!(input instanceof Tensor)) throw new WasmCnnError(`${this.name}.forward: input must be a Tensor`);
    if (input.rank !== 2) throw new ShapeError(`${this.name}: input must be 2-D (N, classes), got ${fmtShape(input.shape)}`);
    const [N, C] = input.shape;
    const indices = labelIndices(this.name, t, { count: N, classes: C });
    let x = input;
    if (x.memory !== this.backend.memory) {
      x = this.inBuf.shaped(input.shape);
      x.data.set(input.data);
    }
    this.labelPtr = this.labelBuf.reserve(N);
    this.labelBuf.i32(N).set(indices);
    const y = this.probs.shaped(x.shape);
    this.loss = this.backend.kernels.softmax_xent_fwd_f32(x.ptr, this.labelPtr, y.ptr, N, C);
    this.yT = y;
    return this.loss;
  }

  /** dx = dout * (y - onehot(t)) / N, owned by the layer. */
  backward(dout = 1): Tensor {
    const y = this.yT;
    if (!y) throw new WasmCnnError(`${this.name}.backward: call forward first`);
    const [N, C] = y.shape;
    const dx = this.dxBuf.shaped(y.shape);
    const k = this.backend.kernels;
    k.softmax_xent_bwd_f32(y.ptr, this.labelPtr, dx.ptr, N, C);
    if (dout !== 1) k.axpby_f32(dx.ptr, dx.ptr, dx.size, dout, 0);
    return dx;
  }

  dispose(): void {
    for (const b of [this.inBuf, this.probs, this.labelBuf, this.dxBuf]) b.dispose();
    this.yT = null;
  }
}
