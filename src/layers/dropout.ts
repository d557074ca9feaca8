/**
 * Dropout as in the course: in training each value is kept when a uniform draw exceeds
 * `ratio` (mask of 0/1 from the seeded PRNG, so runs repeat); in evaluation the output
 * is scaled by (1 - ratio) instead (no inverted scaling, like the course).
 *   x: any shape -> y: same shape; mask: same size (f32 0/1)
 *   backward: dx = dout * mask (train) or dout * (1 - ratio) (eval)
 */
import type { Backend } from '../backend/backend.js';
import { ShapeError } from '../errors.js';
import { Random } from '../random.js';
import type { Shape, Tensor } from '../tensor.js';
import { LayerBase, type Layer } from './layer.js';

export interface DropoutOptions {
  /** Probability of dropping a value (default 0.5). */
  ratio?: number;
  /** Seed of the mask stream (default 0). */
  seed?: number;
  name?: string;
}

export class Dropout extends LayerBase implements Layer {
  readonly type = 'Dropout' as const;
  readonly ratio: number;
  /**
   * While true, training forwards reuse the current mask (when its size fits) instead of
   * drawing a new one; numerical gradients use this to see one fixed function.
   */
  frozen = false;
  private readonly rng: Random;
  private readonly out = this.buffer();
  private readonly dxBuf = this.buffer();
  private readonly maskBuf = this.buffer();
  private maskSize = -1;
  private lastTrain = false;

  constructor(backend: Backend, options: DropoutOptions = {}) {
    super(backend, options.name ?? 'Dropout');
    this.ratio = options.ratio ?? 0.5;
    if (!(this.ratio >= 0 && this.ratio < 1)) throw new ShapeError(`${this.name}: ratio must be in [0, 1), got ${this.ratio}`);
    this.rng = new Random(options.seed ?? 0);
  }

  /** The state of the mask PRNG (a uint32); setting it continues from there (checkpoints). */
  get rngState(): number {
    return this.rng.getState();
  }

  set rngState(state: number) {
    this.rng.setState(state);
  }

  outputShape(inputShape: Shape): number[] {
    return [...inputShape];
  }

  /** The mask of the last training forward (1 = kept), owned by the layer. */
  get mask(): Tensor | null {
    return this.maskSize >= 0 ? this.maskBuf.shaped([this.maskSize]) : null;
  }

  forward(input: Tensor, train = false): Tensor {
    const x = this.deviceInput(input);
    const y = this.out.shaped(x.shape);
    const n = x.size;
    const k = this.backend.kernels;
    if (train) {
      const mask = this.maskBuf.shaped([n]);
      if (!(this.frozen && this.maskSize === n)) {
        // bookkeeping: the mask comes from the seeded PRNG (one draw per value)
        const m = mask.data;
        for (let i = 0; i < n; i++) m[i] = this.rng.next() > this.ratio ? 1 : 0;
        this.maskSize = n;
      }
      k.mul_f32(x.ptr, mask.ptr, y.ptr, n);
    } else {
      k.fill_f32(y.ptr, n, 0);
      k.axpby_f32(x.ptr, y.ptr, n, 1 - this.ratio, 0);
    }
    this.lastTrain = train;
    this.outShape = y.shape;
    return y;
  }

  backward(doutIn: Tensor): Tensor {
    const dout = this.deviceDout(doutIn);
    const dx = this.dxBuf.shaped(dout.shape);
    const n = dx.size;
    const k = this.backend.kernels;
    if (this.lastTrain) {
      k.mul_f32(dout.ptr, this.maskBuf.reserve(n), dx.ptr, n);
    } else {
      k.fill_f32(dx.ptr, n, 0);
      k.axpby_f32(dout.ptr, dx.ptr, n, 1 - this.ratio, 0);
    }
    return dx;
  }
}
