/**
 * Batch normalization as in the course: the input is viewed as (N, D) with
 * D = C*H*W for 4-D inputs (per-feature statistics, the course's reshape), and
 * normalized with the batch statistics in training, the running ones in evaluation.
 *   x: (N, D) or (N, C, H, W)  gamma, beta: (D)  -> y: same shape as x
 *   train: mean, variance (biased): (D); xhat: (N, D)
 *   running_mean = momentum * running_mean + (1 - momentum) * mean (same for var)
 *   backward: dout -> dx (shape of x); dgamma, dbeta: (D) kept on the layer.
 * Running statistics start at mean 0 and variance 1 (the course starts the variance
 * at 0, which makes an untrained network's evaluation blow up by 1/sqrt(eps)).
 */
import type { Backend } from '../backend/backend.js';
import { ShapeError, WasmCnnError } from '../errors.js';
import { fmtShape, shapeSize, type Shape, type Tensor } from '../tensor.js';
import { LayerBase, type Layer } from './layer.js';

export interface BatchNormalizationOptions {
  /** Running statistics decay (default 0.9, as the course). */
  momentum?: number;
  /** Added to the variance (default 1e-6, the course's 10e-7). */
  eps?: number;
  name?: string;
}

export class BatchNormalization extends LayerBase<'gamma' | 'beta'> implements Layer {
  readonly type = 'BatchNormalization' as const;
  readonly gamma: Tensor;
  readonly beta: Tensor;
  readonly dgamma: Tensor;
  readonly dbeta: Tensor;
  /** Running statistics (D), device tensors owned by the layer; saved with the parameters. */
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  readonly momentum: number;
  readonly eps: number;
  private readonly out = this.buffer();
  private readonly dxBuf = this.buffer();
  private readonly xhatBuf = this.buffer();
  private readonly meanBuf = this.buffer();
  private readonly varBuf = this.buffer();
  private lastTrain = false;
  private xShape: Shape | null = null;

  constructor(backend: Backend, gamma: Tensor, beta: Tensor, options: BatchNormalizationOptions = {}) {
    super(backend, options.name ?? 'BatchNormalization');
    // arguments refused part-way: free the device copies and gradients made so far
    try {
      this.gamma = this.adoptParam('gamma', gamma, 1);
      this.beta = this.adoptParam('beta', beta, 1);
      if (this.beta.size !== this.gamma.size) {
        throw new ShapeError(`${this.name}: beta ${fmtShape(this.beta.shape)} must have the shape of gamma ${fmtShape(this.gamma.shape)}`);
      }
      this.momentum = options.momentum ?? 0.9;
      this.eps = options.eps ?? 1e-6;
      if (!(this.momentum >= 0 && this.momentum <= 1)) throw new ShapeError(`${this.name}: momentum must be in [0, 1], got ${this.momentum}`);
      if (!(this.eps > 0)) throw new ShapeError(`${this.name}: eps must be positive, got ${this.eps}`);
      const D = this.gamma.size;
      this.dgamma = this.gradFor('gamma');
      this.dbeta = this.gradFor('beta');
      this.runningMean = this.ownTensor(backend.zeros([D]));
      this.runningVar = this.ownTensor(backend.empty([D]));
      backend.kernels.fill_f32(this.runningVar.ptr, D, 1);
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  outputShape(inputShape: Shape): number[] {
    const D = this.gamma.size;
    const d = inputShape.length >= 2 ? shapeSize(inputShape.slice(1)) : -1;
    if (d !== D) {
      throw new ShapeError(`${this.name}: input must have ${D} values per sample (gamma is (${D})), got ${fmtShape(inputShape)}`);
    }
    return [...inputShape];
  }

  forward(input: Tensor, train = false): Tensor {
    const x = this.deviceInput(input);
    this.outputShape(x.shape);
    const N = x.shape[0];
    const D = this.gamma.size;
    const y = this.out.shaped(x.shape);
    const k = this.backend.kernels;
    if (train) {
      const mean = this.meanBuf.reserve(D);
      const variance = this.varBuf.reserve(D);
      const xhat = this.xhatBuf.reserve(N * D);
      k.bn_fwd_train_f32(x.ptr, N, D, this.gamma.ptr, this.beta.ptr, this.eps, mean, variance, xhat, y.ptr);
      k.axpby_f32(mean, this.runningMean.ptr, D, 1 - this.momentum, this.momentum);
      k.axpby_f32(variance, this.runningVar.ptr, D, 1 - this.momentum, this.momentum);
    } else {
      k.bn_fwd_eval_f32(x.ptr, N, D, this.gamma.ptr, this.beta.ptr, this.eps, this.runningMean.ptr, this.runningVar.ptr, y.ptr);
    }
    this.lastTrain = train;
    this.xShape = x.shape;
    this.outShape = y.shape;
    return y;
  }

  backward(doutIn: Tensor): Tensor {
    const dout = this.deviceDout(doutIn);
    if (!this.lastTrain) {
      throw new WasmCnnError(`${this.name}.backward: only a training-mode forward (train = true) can be differentiated`);
    }
    const N = dout.shape[0];
    const D = this.gamma.size;
    const dx = this.dxBuf.shaped(this.xShape!);
    this.backend.kernels.bn_bwd_f32(dout.ptr, this.xhatBuf.reserve(N * D), this.varBuf.reserve(D), this.gamma.ptr,
      N, D, this.eps, this.dgamma.ptr, this.dbeta.ptr, dx.ptr);
    return dx;
  }
}
