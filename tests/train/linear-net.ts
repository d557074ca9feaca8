// A tiny Network for Trainer tests: softmax regression, logits = x W + b, on the backend's kernels.
import type { Backend } from '../../src/backend/backend.js';
import type { Labels, Network, ParamMap } from '../../src/models/sequential.js';
import type { Tensor } from '../../src/tensor.js';
import { Random } from '../../src/random.js';

export interface LinearNetOptions {
  backend: Backend;
  inputDim: number[];
  outputSize: number;
  seed?: number;
  /** Poisons the gradient of W with NaN on this (1-based) gradient() call. */
  nanGradAt?: number;
  /** Makes loss() return NaN on this (1-based) loss() call. */
  nanLossAt?: number;
}

export class LinearNet implements Network {
  readonly backend: Backend;
  readonly params: ParamMap;
  readonly inputDim: readonly number[];
  readonly outputSize: number;
  gradientCalls = 0;
  lossCalls = 0;
  predictCalls = 0;
  private readonly D: number;
  private grads: ParamMap;
  private batch = -1;
  private logits!: Tensor;
  private probs!: Tensor;
  private dlogits!: Tensor;
  private labelsPtr = -1;

  constructor(private readonly opts: LinearNetOptions) {
    this.backend = opts.backend;
    this.inputDim = opts.inputDim;
    this.outputSize = opts.outputSize;
    this.D = opts.inputDim.reduce((a, b) => a * b, 1);
    const rng = new Random(opts.seed ?? 1);
    const W = this.backend.tensor(rng.fillNormal(new Float32Array(this.D * opts.outputSize), 0.01), [this.D, opts.outputSize]);
    const b = this.backend.zeros([opts.outputSize]);
    this.params = { W, b };
    this.grads = { W: this.backend.zeros(W.shape), b: this.backend.zeros(b.shape) };
  }

  private plan(B: number): void {
    if (B === this.batch) return;
    if (this.batch >= 0) {
      this.logits.dispose(); this.probs.dispose(); this.dlogits.dispose();
      this.backend.memory.release(this.labelsPtr);
    }
    const C = this.outputSize;
    this.logits = this.backend.empty([B, C]);
    this.probs = this.backend.empty([B, C]);
    this.dlogits = this.backend.empty([B, C]);
    this.labelsPtr = this.backend.memory.alloc(B * 4);
    this.batch = B;
  }

  private forward(x: Tensor): Tensor {
    const B = x.shape[0];
    this.plan(B);
    const k = this.backend.kernels;
    const C = this.outputSize;
    k.gemm_f32(0, 0, B, C, this.D, 1, x.ptr, this.D, this.params.W.ptr, C, 0, this.logits.ptr, C);
    k.bias_add_rows_f32(this.logits.ptr, this.params.b.ptr, B, C);
    return this.logits;
  }

  private putLabels(t: Labels): void {
    if (!(t instanceof Int32Array)) throw new Error('LinearNet: Int32Array labels only');
    new Int32Array(this.backend.memory.buffer, this.labelsPtr, t.length).set(t);
  }

  predict(x: Tensor): Tensor {
    this.predictCalls++;
    return this.forward(x);
  }

  loss(x: Tensor, t: Labels): number {
    this.lossCalls++;
    const logits = this.forward(x);
    this.putLabels(t);
    const l = this.backend.kernels.softmax_xent_fwd_f32(logits.ptr, this.labelsPtr, this.probs.ptr, x.shape[0], this.outputSize);
    return this.lossCalls === this.opts.nanLossAt ? NaN : l;
  }

  accuracy(): number {
    throw new Error('not used by the Trainer');
  }

  gradient(x: Tensor, t: Labels): ParamMap {
    this.gradientCalls++;
    const B = x.shape[0];
    const C = this.outputSize;
    const k = this.backend.kernels;
    const logits = this.forward(x);
    this.putLabels(t);
    k.softmax_xent_fwd_f32(logits.ptr, this.labelsPtr, this.probs.ptr, B, C);
    k.softmax_xent_bwd_f32(this.probs.ptr, this.labelsPtr, this.dlogits.ptr, B, C);
    k.gemm_f32(1, 0, this.D, C, B, 1, x.ptr, this.D, this.dlogits.ptr, C, 0, this.grads.W.ptr, C);
    k.bias_grad_rows_f32(this.dlogits.ptr, this.grads.b.ptr, B, C);
    if (this.gradientCalls === this.opts.nanGradAt) this.grads.W.data[3] = NaN;
    return this.grads;
  }

  numericalGradient(): ParamMap { throw new Error('not used'); }
  setParams(values: Record<string, Float32Array>): void {
    for (const [k, v] of Object.entries(values)) this.params[k].data.set(v);
  }
  saveParams(): Uint8Array { throw new Error('not used'); }
  loadParams(): void { throw new Error('not used'); }
  config(): Record<string, unknown> { return { type: 'LinearNet' }; }
}

/**
 * A synthetic, learnable classification set: class k has a bright (k+1)-th pixel
 * block plus noise. Returns float images (N, 1, H, W) and byte images of the same data.
 */
export function syntheticImages(n: number, classes: number, H: number, W: number, seed: number) {
  const rng = new Random(seed);
  const D = H * W;
  const bytes = new Uint8Array(n * D);
  const labels = new Int32Array(n);
  const block = Math.floor(D / classes);
  for (let i = 0; i < n; i++) {
    const c = rng.int(classes);
    labels[i] = c;
    for (let j = 0; j < D; j++) {
      const on = j >= c * block && j < (c + 1) * block;
      bytes[i * D + j] = Math.min(255, Math.floor(rng.next() * 60) + (on ? 150 : 0));
    }
  }
  const floats = Float32Array.from(bytes, (v) => v / 255);
  return { bytes, floats, labels, shape: [n, 1, H, W] as [number, number, number, number] };
}
