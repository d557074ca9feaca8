/**
 * LayerNet: a stack of layers ending in SoftmaxWithLoss, with the course's model
 * surface (predict, loss, accuracy, gradient, numericalGradient, params, save/load).
 * SimpleConvNet and Sequential are LayerNets that differ only in how they describe
 * their layers.
 *
 * Inputs: (N, ...inputDim) tensors (or (N, prod(inputDim)) flattened), host or device.
 * Host inputs are copied into one reusable device buffer; labels go to a reusable i32
 * buffer. Outputs and gradients are tensors owned by the model/layers and overwritten by
 * the next call. After the first step with the largest batch, nothing allocates Wasm
 * memory.
 */
import type { Backend } from '../backend/backend.js';
import { ShapeError, WasmCnnError, describeValue } from '../errors.js';
import { Tensor, fmtShape, shapeSize } from '../tensor.js';
import type { Layer } from '../layers/layer.js';
import { DeviceBuffer, sameShape } from '../layers/buffer.js';
import { Dropout } from '../layers/dropout.js';
import { Relu, Sigmoid } from '../layers/activation.js';
import { SoftmaxWithLoss } from '../layers/softmax-with-loss.js';
import { labelIndices } from '../layers/labels.js';
import type { Labels, Network, ParamMap } from './network.js';
import type { BuiltStack, NamedParam } from './stack.js';
import { encodeParams, loadParamsInto, type NamedTensor } from './params-io.js';

/**
 * Default step of numericalGradient. The network computes in float32: the loss carries
 * rounding noise of roughly 1e-7 relative, which central differences divide by 2h, so
 * the course's float64 step h = 1e-4 leaves errors near 5e-4. Larger steps cut the noise
 * but cross more ReLU / max-pool kinks and grow the O(h^2) error (at h = 1e-2 a tiny
 * SimpleConvNet already shows errors near 1e-2). h = 1e-3 measured best here (errors of
 * a few 1e-5 on the test networks).
 */
export const NUMERICAL_GRADIENT_H = 1e-3;

/** Layers whose output an activation may overwrite (their backward does not read it). */
const IN_PLACE_AFTER = new Set(['Convolution', 'Affine', 'BatchNormalization']);

export abstract class LayerNet implements Network {
  readonly backend: Backend;
  readonly inputDim: readonly number[];
  readonly outputSize: number;
  /** Parameters by name (W1, b1, ...), live device tensors in a fixed order. */
  readonly params: ParamMap;
  /** Gradients by parameter name, filled by gradient(); device tensors owned by the layers. */
  readonly grads: ParamMap;
  /** Non-trainable state saved with the parameters (BatchNormalization running statistics). */
  readonly buffers: ParamMap;
  readonly layers: readonly Layer[];
  readonly lastLayer: SoftmaxWithLoss;
  /** The loss of the last loss() or gradient() call. */
  lastLoss = NaN;
  protected readonly name: string;
  private readonly stack: BuiltStack;
  private readonly inputBuf: DeviceBuffer;

  protected constructor(name: string, backend: Backend, inputDim: readonly number[], stack: BuiltStack) {
    this.name = name;
    this.backend = backend;
    this.inputDim = Object.freeze([...inputDim]);
    this.stack = stack;
    this.layers = Object.freeze([...stack.layers]);
    this.outputSize = stack.outputDim[0];
    this.params = Object.freeze(Object.fromEntries(stack.params.map((p) => [p.name, p.tensor])));
    this.grads = Object.freeze(Object.fromEntries(stack.params.map((p) => [p.name, p.grad])));
    this.buffers = Object.freeze(Object.fromEntries(stack.buffers.map((b) => [b.name, b.tensor])));
    this.lastLayer = new SoftmaxWithLoss(backend, { name: `${name}: SoftmaxWithLoss` });
    this.inputBuf = new DeviceBuffer(backend);
    // An activation right after a layer whose backward does not read its own output runs in
    // place (see Activation.inPlace): SimpleConvNet trains at batch 100 in ~14 MB less memory.
    stack.layers.forEach((l, i) => {
      const prev = stack.layers[i - 1];
      if ((l instanceof Relu || l instanceof Sigmoid) && prev && IN_PLACE_AFTER.has(prev.type)) l.inPlace = true;
    });
  }

  /** JSON-serializable description that rebuilds this architecture. */
  abstract config(): Record<string, unknown>;

  // ---- the course's surface ---------------------------------------------------

  /** Logits (N, outputSize); owned by the network and overwritten by the next call. */
  predict(x: Tensor, train = false): Tensor {
    return this.forward(this.deviceInput(x, 'predict'), train);
  }

  /** Mean cross-entropy of softmax(predict(x)) against t (class indices or one-hot). */
  loss(x: Tensor, t: Labels, train = false): number {
    const xd = this.deviceInput(x, 'loss');
    const idx = labelIndices(`${this.name}.loss`, t, xd.shape[0], this.outputSize);
    this.lastLoss = this.lastLayer.forward(this.forward(xd, train), idx);
    return this.lastLoss;
  }

  /** Fraction of samples whose argmax prediction equals the label, in batches of `batchSize`. */
  accuracy(x: Tensor, t: Labels, batchSize = 100): number {
    const where = `${this.name}.accuracy`;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new WasmCnnError(`${where}: batchSize must be a positive integer, got ${batchSize}`);
    const N = this.checkInput(x, where);
    const idx = labelIndices(where, t, N, this.outputSize);
    const per = x.size / N;
    const C = this.outputSize;
    let correct = 0;
    for (let start = 0; start < N; start += batchSize) {
      const n = Math.min(batchSize, N - start);
      const shape = [n, ...this.inputDim];
      const xb = x.memory
        ? Tensor.device(x.memory, x.ptr + start * per * 4, shape)
        : Tensor.host(x.data.subarray(start * per, (start + n) * per), shape);
      const y = this.forward(this.deviceInput(xb, 'accuracy', start * per), false).data;
      // bookkeeping over the (n, classes) logits: argmax, first maximum wins (np.argmax)
      for (let i = 0; i < n; i++) {
        let best = 0;
        for (let c = 1; c < C; c++) if (y[i * C + c] > y[i * C + best]) best = c;
        if (best === idx[start + i]) correct++;
      }
    }
    return correct / N;
  }

  /** Backprop gradients of the loss (training mode); the returned tensors belong to the layers. */
  gradient(x: Tensor, t: Labels): ParamMap {
    const xd = this.deviceInput(x, 'gradient');
    const idx = labelIndices(`${this.name}.gradient`, t, xd.shape[0], this.outputSize);
    this.lastLoss = this.lastLayer.forward(this.forward(xd, true), idx);
    let dout: Tensor | null = this.lastLayer.backward(1);
    // layers below the first one with parameters need no backward at all
    const stop = this.stack.firstParamLayer;
    for (let i = this.layers.length - 1; stop >= 0 && i >= stop && dout; i--) {
      dout = this.layers[i].backward(dout);
    }
    return this.grads;
  }

  /**
   * Central differences (f(p + h) - f(p - h)) / (p+h - (p-h)) of the training-mode loss
   * for every parameter value, as host tensors. Slow: for checking gradient() on tiny
   * networks. Dropout reuses the mask of the last training forward (so the result is
   * comparable with the gradient() just before it); BatchNormalization running
   * statistics are restored afterwards. See NUMERICAL_GRADIENT_H for the choice of h.
   */
  numericalGradient(x: Tensor, t: Labels, h = NUMERICAL_GRADIENT_H): ParamMap {
    if (typeof h !== 'number' || !(h > 0) || !Number.isFinite(h)) {
      throw new WasmCnnError(`${this.name}.numericalGradient: h must be a positive finite number, got ${describeValue(h)}`);
    }
    const xd = this.deviceInput(x, 'numericalGradient');
    const idx = labelIndices(`${this.name}.numericalGradient`, t, xd.shape[0], this.outputSize);
    const dropouts = this.layers.filter((l): l is Dropout => l instanceof Dropout);
    const saved = Object.entries(this.buffers).map(([, b]) => b.toArray());
    dropouts.forEach((d) => (d.frozen = true));
    const f = (): number => this.lastLayer.forward(this.forward(xd, true), idx);
    const out: ParamMap = {};
    try {
      for (const [name, p] of Object.entries(this.params)) {
        const g = new Float32Array(p.size);
        for (let i = 0; i < p.size; i++) {
          const v = p.data[i];
          const up = Math.fround(v + h);
          const down = Math.fround(v - h);
          p.data[i] = up;
          const fUp = f();
          p.data[i] = down;
          const fDown = f();
          p.data[i] = v;
          // divide by the step actually taken: v +- h is rounded to float32
          g[i] = (fUp - fDown) / (up - down);
        }
        out[name] = Tensor.host(g, p.shape);
      }
    } finally {
      dropouts.forEach((d) => (d.frozen = false));
      Object.values(this.buffers).forEach((b, i) => b.data.set(saved[i]));
    }
    return out;
  }

  /** Replaces parameter (or running-statistic) values by name; checks every entry before changing any. */
  setParams(values: Record<string, Float32Array | ArrayLike<number> | Tensor>): void {
    const where = `${this.name}.setParams`;
    if (!values || typeof values !== 'object') throw new WasmCnnError(`${where}: expected an object of parameter arrays`);
    const targets = { ...this.params, ...this.buffers };
    const checked: [Tensor, ArrayLike<number>][] = [];
    for (const [name, v] of Object.entries(values)) {
      const target = targets[name];
      if (!target) throw new WasmCnnError(`${where}: unknown parameter "${name}"; this model has ${Object.keys(targets).join(', ')}`);
      const arr = v instanceof Tensor ? v.data : v;
      if (!arr || typeof arr !== 'object' || typeof arr.length !== 'number') {
        throw new WasmCnnError(`${where}: ${name} must be a Float32Array (or an array of numbers, or a Tensor), got ${describeValue(v)}`);
      }
      if (arr.length !== target.size) {
        throw new ShapeError(`${where}: ${name} needs ${target.size} values (shape ${fmtShape(target.shape)}), got ${arr.length}`);
      }
      for (let i = 0; i < arr.length; i++) {
        const x = arr[i];
        if (typeof x !== 'number' || !Number.isFinite(x)) {
          throw new WasmCnnError(`${where}: ${name} has a non-finite value (${describeValue(x)}) at index ${i}; parameters must be finite numbers`);
        }
      }
      checked.push([target, arr]);
    }
    for (const [target, arr] of checked) target.data.set(arr);
  }

  /** Parameters and running statistics as a safetensors file, config in __metadata__. */
  saveParams(): Uint8Array {
    return encodeParams(this.fileEntries(), this.config());
  }

  /** Loads a file written by saveParams; validates everything first, a bad file changes nothing. */
  loadParams(bytes: Uint8Array): void {
    loadParamsInto(`${this.name}.loadParams`, bytes, this.fileEntries(), this.config());
  }

  /** Frees every device buffer of the model. The model must not be used afterwards. */
  dispose(): void {
    for (const l of this.layers) l.dispose();
    for (const p of this.stack.params) p.tensor.dispose();
    this.lastLayer.dispose();
    this.inputBuf.dispose();
  }

  // ---- internals ----------------------------------------------------------------

  private fileEntries(): NamedTensor[] {
    return [
      ...this.stack.params.map((p: NamedParam) => ({ name: p.name, tensor: p.tensor })),
      ...this.stack.buffers,
    ];
  }

  /** Runs the layers on a device input of shape (N, ...inputDim). */
  private forward(x: Tensor, train: boolean): Tensor {
    let y = x;
    for (const layer of this.layers) y = layer.forward(y, train);
    return y;
  }

  /** Validates x's shape and returns its batch size. */
  private checkInput(x: Tensor, where: string): number {
    if (!(x instanceof Tensor)) throw new WasmCnnError(`${where}: x must be a Tensor, got ${describeValue(x)}`);
    const s = x.shape;
    const dim = this.inputDim;
    const full = s.length === dim.length + 1 && dim.every((d, i) => s[i + 1] === d);
    const flat = dim.length > 1 && s.length === 2 && s[1] === shapeSize(dim);
    if (!full && !flat) {
      throw new ShapeError(`${where}: input must have shape (N, ${dim.join(', ')}), got ${fmtShape(s)}`);
    }
    if (s[0] < 1) throw new ShapeError(`${where}: the input batch ${fmtShape(s)} is empty`);
    return s[0];
  }

  /**
   * x on the device with shape (N, ...inputDim): x itself (or a view) or a copy in the input
   * buffer. Refuses NaN/Infinity; `offset` is x's first value in the caller's tensor (messages).
   */
  private deviceInput(x: Tensor, method: string, offset = 0): Tensor {
    const where = `${this.name}.${method}`;
    const N = this.checkInput(x, where);
    const shape = [N, ...this.inputDim];
    let d: Tensor;
    if (x.memory === this.backend.memory) d = sameShape(x.shape, shape) ? x : x.reshape(shape);
    else {
      d = this.inputBuf.shaped(shape);
      d.data.set(x.data);
    }
    // NaN or Infinity in the input would silently give NaN outputs, losses and gradients
    // (one SIMD pass over the batch; a training step reads it dozens of times over)
    const bad = this.backend.kernels.count_nonfinite_f32(d.ptr, d.size);
    if (bad > 0) {
      const data = d.data;
      let i = 0;
      while (i < data.length && Number.isFinite(data[i])) i++;
      throw new WasmCnnError(`${where}: x holds ${bad} NaN/Infinity value${bad > 1 ? 's' : ''} (first at index ${offset + i}: ${data[i]}); inputs must be finite`);
    }
    return d;
  }
}
