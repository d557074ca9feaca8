/**
 * Sequential: the one model class. A stack of layers built from layer specs
 * (src/models/layer-specs.ts), ending in SoftmaxWithLoss, with the course's model surface
 * (predict, loss, accuracy, gradient, numericalGradient, params, saveParams/loadParams)
 * plus predictProba and classify. SimpleConvNet and the DeepConvNet preset are Sequentials.
 *
 *   new Sequential({ backend, inputDim: [1, 28, 28], layers: [
 *     { type: 'Convolution', filterNum: 16, filterSize: 3, pad: 1 }, { type: 'Relu' },
 *     { type: 'Pooling', size: 2 },
 *     { type: 'Affine', outputSize: 50 }, { type: 'Relu' }, { type: 'Dropout', ratio: 0.5 },
 *     { type: 'Affine', outputSize: 10 } ] })
 *
 * Inputs: (N, ...inputDim) tensors (or (N, prod(inputDim)) flattened), host or device.
 * Host inputs are copied into one reusable device buffer. predict, predictProba and
 * classify return new host arrays; gradients are tensors owned by the layers and
 * overwritten by the next call. After the first step with the largest batch, training
 * allocates no Wasm memory.
 */
import { Backend } from '../backend/backend.js';
import { ShapeError, WasmCnnError, describeValue } from '../errors.js';
import { Tensor, fmtShape, shapeSize } from '../tensor.js';
import type { Layer } from '../layers/layer.js';
import { DeviceBuffer, sameShape } from '../layers/buffer.js';
import { Dropout } from '../layers/dropout.js';
import { Convolution } from '../layers/convolution.js';
import { Pooling } from '../layers/pooling.js';
import { BatchNormalization } from '../layers/batch-normalization.js';
import { Relu, Sigmoid } from '../layers/activation.js';
import { SoftmaxWithLoss } from '../layers/softmax-with-loss.js';
import { argmaxRows, labelIndices, type Labels } from '../data/labels.js';
import {
  buildStack, checkInputDim, checkWeightInit, normalizeSpecs,
  type BuiltStack, type LayerSpec, type NamedParam, type ParamBudget, type WeightInit,
} from './layer-specs.js';
import { encodeParams, loadParamsInto, paramsLayout, type NamedTensor, type ParamsFileOptions } from './params-file.js';
import { encodeTorchParams, loadTorchParams, torchLayout, type LayoutLayer, type TorchLayout } from './pytorch-layout.js';
import { modelToOnnx, type OnnxExportOptions } from '../io/onnx/export.js';

export type { Labels };

/** Parameter or gradient tensors by name ('W1', 'b1', ...), in a fixed order. */
export type ParamMap = Record<string, Tensor>;

/** What a trainable model offers; the Trainer relies on this surface only. */
export interface Network {
  readonly backend: Backend;
  /** Live device tensors of the parameters; optimizers update them in place. */
  readonly params: ParamMap;
  /** Input shape of one sample, e.g. [1, 28, 28]. */
  readonly inputDim: readonly number[];
  /** Number of classes. */
  readonly outputSize: number;
  /** Logits (N, classes), a new host tensor that later calls leave alone. */
  predict(x: Tensor, train?: boolean): Tensor;
  /**
   * Logits (N, classes) in a device tensor owned by the network and overwritten by the next
   * call: the Trainer's evaluation path. Optional; predict is used where it is missing.
   */
  predictInPlace?(x: Tensor): Tensor;
  /** Mean cross-entropy of softmax(predict(x)) against t. */
  loss(x: Tensor, t: Labels, train?: boolean): number;
  /** Fraction of correct argmax predictions, evaluated in batches of `batchSize`. */
  accuracy(x: Tensor, t: Labels, batchSize?: number): number;
  /** Backprop gradients of the loss for each parameter (tensors owned by the network). */
  gradient(x: Tensor, t: Labels): ParamMap;
  /** Central-difference gradients (slow; for checking `gradient`). */
  numericalGradient(x: Tensor, t: Labels): ParamMap;
  /** Replaces parameter values (each array must match the parameter's size). */
  setParams(values: Record<string, Float32Array>): void;
  /** The parameters as a safetensors file, with the model config in __metadata__ (or in PyTorch's layout). */
  saveParams(options?: ParamsFileOptions): Uint8Array;
  /** Loads a safetensors file written by saveParams (or a PyTorch state dict); validates everything before changing anything. */
  loadParams(bytes: Uint8Array, options?: ParamsFileOptions): void;
  /** JSON-serializable description that rebuilds this architecture. */
  config(): Record<string, unknown>;
  /** States of the model's own PRNGs (dropout masks), for checkpoints; optional. */
  randomState?(): number[];
  /** Restores states from randomState(); optional. */
  setRandomState?(states: readonly number[]): void;
}

/** Options of `new Sequential(...)`. */
export interface SequentialOptions {
  backend: Backend;
  /** Shape of one sample: (C, H, W) for convolutions, or (D). */
  inputDim: readonly number[];
  /** The layers, first to last; the trailing SoftmaxWithLoss is implied when left out. */
  layers: readonly LayerSpec[];
  /** Default for every Convolution/Affine layer without its own; default 'he'. */
  weightInitStd?: WeightInit;
  /** Seed of the weight initialization and the dropout masks; default 0. */
  seed?: number;
}

/** What config() of a Sequential returns and modelFromConfig accepts. */
export interface SequentialConfig {
  type: 'Sequential';
  inputDim: number[];
  layers: LayerSpec[];
  weightInitStd: WeightInit;
  seed: number;
}

/** @internal How a subclass or a loader builds the stack (names for messages, a file's parameter budget). */
export interface BuildSettings {
  /** The model's name in messages (default 'Sequential'). */
  name?: string;
  /** Layer names for messages, one per spec. */
  names?: string[];
  budget?: ParamBudget;
}

const SEQUENTIAL_KEYS = ['backend', 'inputDim', 'layers', 'weightInitStd', 'seed'];

/** Largest batch one inference forward runs (predict, predictProba, classify split bigger inputs). */
const INFERENCE_BATCH = 1000;

/**
 * Default step of numericalGradient. The network computes in float32: the loss carries
 * rounding noise of roughly 1e-7 relative, which central differences divide by 2h, so
 * the course's float64 step h = 1e-4 leaves errors near 5e-4. Larger steps cut the noise
 * but cross more ReLU / max-pool kinks and grow the O(h^2) error. h = 1e-3 balances the
 * two on the networks of the gradient-check tests.
 */
export const NUMERICAL_GRADIENT_H = 1e-3;

/** Layers whose output an activation may overwrite (their backward does not read it). */
const IN_PLACE_AFTER = new Set(['Convolution', 'Affine', 'BatchNormalization']);

/** A stack of layers from layer specs, ending in softmax with cross-entropy: the one model class (see the file's head). */
export class Sequential implements Network {
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
  /** The normalized layer specs (defaults filled in, SoftmaxWithLoss last). */
  readonly specs: readonly LayerSpec[];
  readonly weightInitStd: WeightInit;
  readonly seed: number;
  /** The loss of the last loss() or gradient() call. */
  lastLoss = NaN;
  protected readonly name: string;
  private readonly stack: BuiltStack;
  private readonly inputBuf: DeviceBuffer;
  private readonly probBuf: DeviceBuffer;
  /** The inference forward: one step per layer, Convolution -> Relu (-> max Pooling) as one fused step. */
  private readonly inferSteps: readonly ((x: Tensor) => Tensor)[];

  constructor(options: SequentialOptions, /** @internal */ settings: BuildSettings = {}) {
    const where = settings.name ?? 'Sequential';
    checkBackendOption(where, options);
    if (!settings.name) checkKeys(where, 'option', options, SEQUENTIAL_KEYS);
    const backend = options.backend;
    const inputDim = checkInputDim(where, options.inputDim);
    const specs = normalizeSpecs(where, options.layers);
    const weightInitStd = checkWeightInit(where, options.weightInitStd ?? 'he');
    const seed = options.seed ?? 0;
    if (typeof seed !== 'number' || !Number.isFinite(seed)) throw new WasmCnnError(`${where}: seed must be a finite number, got ${describeValue(seed)}`);
    const stack = buildStack(where, backend, inputDim, specs, { weightInitStd, seed, names: settings.names, budget: settings.budget });
    this.specs = Object.freeze(specs);
    this.weightInitStd = weightInitStd;
    this.seed = seed;
    this.name = where;
    this.backend = backend;
    this.inputDim = Object.freeze([...inputDim]);
    this.stack = stack;
    this.layers = Object.freeze([...stack.layers]);
    this.outputSize = stack.outputDim[0];
    this.params = Object.freeze(Object.fromEntries(stack.params.map((p) => [p.name, p.tensor])));
    this.grads = Object.freeze(Object.fromEntries(stack.params.map((p) => [p.name, p.grad])));
    this.buffers = Object.freeze(Object.fromEntries(stack.buffers.map((b) => [b.name, b.tensor])));
    this.lastLayer = new SoftmaxWithLoss(backend, { name: `${where}: SoftmaxWithLoss` });
    this.inputBuf = new DeviceBuffer(backend);
    this.probBuf = new DeviceBuffer(backend);
    // An activation right after a layer whose backward does not read its own output runs in
    // place (see Activation.inPlace), saving one activation buffer per such pair.
    stack.layers.forEach((l, i) => {
      const prev = stack.layers[i - 1];
      if ((l instanceof Relu || l instanceof Sigmoid) && prev && IN_PLACE_AFTER.has(prev.type)) l.inPlace = true;
    });
    this.inferSteps = inferenceSteps(stack.layers);
  }

  /** JSON-serializable description that rebuilds this architecture (modelFromConfig). */
  config(): Record<string, unknown> {
    const c: SequentialConfig = {
      type: 'Sequential',
      inputDim: [...this.inputDim],
      layers: this.specs.map((s) => ({ ...s })),
      weightInitStd: this.weightInitStd,
      seed: this.seed,
    };
    return { ...c };
  }

  // ---- the course's surface ---------------------------------------------------

  /**
   * Logits (N, outputSize) as a new host tensor. In inference (train false, the default)
   * inputs of more than 1,000 samples run in batches of 1,000 (the same values).
   */
  predict(x: Tensor, train = false): Tensor {
    if (train) return Tensor.host(this.forward(this.deviceInput(x, 'predict'), true).toArray(), [x.shape[0], this.outputSize]);
    return this.infer(x, 'predict', INFERENCE_BATCH, false);
  }

  /** Class probabilities softmax(logits) (N, outputSize) as a new host tensor (inference mode). */
  predictProba(x: Tensor): Tensor {
    return this.infer(x, 'predictProba', INFERENCE_BATCH, true);
  }

  /** The predicted class of every sample (argmax of the logits, first maximum on ties). */
  classify(x: Tensor): Int32Array {
    const y = this.infer(x, 'classify', INFERENCE_BATCH, false);
    return argmaxRows(y.data, y.shape[0], this.outputSize);
  }

  /** @internal Logits in a device tensor owned by the model, overwritten by the next call (the Trainer's fast path). */
  predictInPlace(x: Tensor): Tensor {
    return this.forward(this.deviceInput(x, 'predict'), false);
  }

  /** Mean cross-entropy of softmax(predict(x)) against t (class indices or one-hot). */
  loss(x: Tensor, t: Labels, train = false): number {
    const xd = this.deviceInput(x, 'loss');
    const idx = labelIndices(`${this.name}.loss`, t, { count: xd.shape[0], classes: this.outputSize });
    this.lastLoss = this.lastLayer.forward(this.forward(xd, train), idx);
    return this.lastLoss;
  }

  /** Fraction of samples whose argmax prediction equals the label, in batches of `batchSize`. */
  accuracy(x: Tensor, t: Labels, batchSize = 100): number {
    const where = `${this.name}.accuracy`;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new WasmCnnError(`${where}: batchSize must be a positive integer, got ${batchSize}`);
    const N = this.checkInput(x, where);
    const idx = labelIndices(where, t, { count: N, classes: this.outputSize });
    const y = this.infer(x, 'accuracy', batchSize, false);
    const predicted = argmaxRows(y.data, N, this.outputSize);
    let correct = 0;
    for (let i = 0; i < N; i++) if (predicted[i] === idx[i]) correct++;
    return correct / N;
  }

  /** Backprop gradients of the loss (training mode); the returned tensors belong to the layers. */
  gradient(x: Tensor, t: Labels): ParamMap {
    const xd = this.deviceInput(x, 'gradient');
    const idx = labelIndices(`${this.name}.gradient`, t, { count: xd.shape[0], classes: this.outputSize });
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
    const idx = labelIndices(`${this.name}.numericalGradient`, t, { count: xd.shape[0], classes: this.outputSize });
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

  /**
   * Parameters and running statistics as a safetensors file, config in __metadata__; with
   * `{ layout: 'pytorch' }` the state dict of the equivalent nn.Sequential instead
   * (PyTorch's names and shapes, __metadata__ {"format": "pt"}; see src/models/pytorch-layout.ts).
   */
  saveParams(options?: ParamsFileOptions): Uint8Array {
    const where = `${this.name}.saveParams`;
    if (paramsLayout(where, options) === 'pytorch') return encodeTorchParams(this.torchLayout(where));
    return encodeParams(this.fileEntries(), this.config());
  }

  /**
   * Loads a file written by saveParams (with `{ layout: 'pytorch' }`: a state dict of the
   * equivalent nn.Sequential); validates everything first, a bad file changes nothing.
   */
  loadParams(bytes: Uint8Array, options?: ParamsFileOptions): void {
    const where = `${this.name}.loadParams`;
    if (paramsLayout(where, options) === 'pytorch') loadTorchParams(where, bytes, this.torchLayout(where));
    else loadParamsInto(where, bytes, this.fileEntries(), this.config());
  }

  /** The states of the dropout layers' mask PRNGs, first to last (checkpoints store them). */
  randomState(): number[] {
    return this.layers.filter((l): l is Dropout => l instanceof Dropout).map((l) => l.rngState);
  }

  /** Restores states from randomState(); the count must match the dropout layers. */
  setRandomState(states: readonly number[]): void {
    const dropouts = this.layers.filter((l): l is Dropout => l instanceof Dropout);
    if (!Array.isArray(states) || states.length !== dropouts.length ||
      states.some((s) => !Number.isInteger(s) || s < 0 || s > 0xffffffff)) {
      throw new WasmCnnError(`${this.name}.setRandomState: expected ${dropouts.length} uint32 states (one per Dropout layer), got ${describeValue(states)}`);
    }
    dropouts.forEach((l, i) => { l.rngState = states[i]; });
  }

  /** @internal The equivalent nn.Sequential and its state dict (src/models/pytorch-layout.ts). */
  torchLayout(where = this.name): TorchLayout {
    const names = new Map(this.fileEntries().map((e) => [e.tensor, e]));
    const prefix = `${this.name}: `;
    let shape: number[] = [1, ...this.inputDim];
    const layers: LayoutLayer[] = this.layers.map((layer, i) => {
      const own: Record<string, Tensor> = { ...layer.params };
      if (layer instanceof BatchNormalization) Object.assign(own, { runningMean: layer.runningMean, runningVar: layer.runningVar });
      const tensors = Object.fromEntries(Object.entries(own).map(([role, t]) => [role, names.get(t)!]));
      const l = { name: layer.name.startsWith(prefix) ? layer.name.slice(prefix.length) : layer.name, spec: this.specs[i], inShape: shape.slice(1), tensors };
      shape = layer.outputShape(shape);
      return l;
    });
    return torchLayout(where, layers);
  }

  /** The model as an ONNX file (opset 13, input "input" (N, ...inputDim), output "logits"); see modelFromOnnx. */
  toOnnx(options?: OnnxExportOptions): Uint8Array {
    return modelToOnnx(this, options);
  }

  /** Frees every device buffer of the model. The model must not be used afterwards. */
  dispose(): void {
    for (const l of this.layers) l.dispose();
    for (const p of this.stack.params) p.tensor.dispose();
    this.lastLayer.dispose();
    this.inputBuf.dispose();
    this.probBuf.dispose();
  }

  /** `using net = ...` disposes the model at the end of the block. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  // ---- internals ----------------------------------------------------------------

  private fileEntries(): NamedTensor[] {
    return [
      ...this.stack.params.map((p: NamedParam) => ({ name: p.name, tensor: p.tensor })),
      ...this.stack.buffers,
    ];
  }

  /**
   * Inference over x in batches of at most `batch` samples: logits, or softmax probabilities
   * when `proba`, gathered into one new host tensor (N, outputSize).
   */
  private infer(x: Tensor, method: string, batch: number, proba: boolean): Tensor {
    const where = `${this.name}.${method}`;
    const N = this.checkInput(x, where);
    const per = x.size / N;
    const C = this.outputSize;
    const out = new Float32Array(N * C);
    for (let start = 0; start < N; start += batch) {
      const n = Math.min(batch, N - start);
      const shape = [n, ...this.inputDim];
      const xb = n === N ? x : x.memory
        ? Tensor.device(x.memory, x.ptr + start * per * 4, shape)
        : Tensor.host(x.data.subarray(start * per, (start + n) * per), shape);
      let y = this.forward(this.deviceInput(xb, method, start * per), false);
      if (proba) {
        const p = this.probBuf.shaped(y.shape);
        this.backend.kernels.softmax_f32(y.ptr, p.ptr, n, C);
        y = p;
      }
      out.set(y.data, start * C);
    }
    return Tensor.host(out, [N, C]);
  }

  /**
   * Runs the layers on a device input of shape (N, ...inputDim); in inference (train false)
   * through inferSteps, whose fused steps give the same values as the layers one by one.
   */
  private forward(x: Tensor, train: boolean): Tensor {
    let y = x;
    if (train) for (const layer of this.layers) y = layer.forward(y, true);
    else for (const step of this.inferSteps) y = step(y);
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

/**
 * The inference forward of a stack: Convolution -> Relu -> Pooling (max, windows that tile the
 * rows: stride = size, no pad) and Convolution -> Relu become one fused call each
 * (Convolution.forwardFused) where the convolution is direct or its fused form is Winograd
 * F(4x4, 5x5) (a Winograd 3x3 one runs its layers apart, decided per input shape); every other
 * layer runs its own forward (an overlapping or padded max-pool too: the fused kernel would pool
 * it one window at a time, where maxpool_fwd_f32 has SIMD paths for it). Training runs the
 * layers apart: backward needs their outputs.
 */
function inferenceSteps(layers: readonly Layer[]): ((x: Tensor) => Tensor)[] {
  const steps: ((x: Tensor) => Tensor)[] = [];
  for (let i = 0; i < layers.length;) {
    const l = layers[i];
    const next = layers[i + 1];
    const after = layers[i + 2];
    if (l instanceof Convolution && next instanceof Relu) {
      const pool = after instanceof Pooling && after.mode === 'max' && after.stride === after.size && after.pad === 0 ? after : null;
      const group = layers.slice(i, pool ? i + 3 : i + 2);
      steps.push((x) => l.fusable(x.shape, pool) ? l.forwardFused(x, pool) : group.reduce((y, layer) => layer.forward(y, false), x));
      i += group.length;
    } else {
      steps.push((x) => l.forward(x, false));
      i++;
    }
  }
  return steps;
}

/** Refuses options without a Backend from createBackend(), blaming the caller's argument. */
export function checkBackendOption(where: string, options: unknown): asserts options is { backend: Backend } {
  if (!options || typeof options !== 'object') throw new WasmCnnError(`${where}: expected an options object with a backend, got ${describeValue(options)}`);
  const backend = (options as { backend?: unknown }).backend;
  if (backend === undefined) throw new WasmCnnError(`${where}: options.backend is required (a Backend from createBackend())`);
  if (!(backend instanceof Backend)) throw new WasmCnnError(`${where}: options.backend must be a Backend from createBackend(), got ${describeValue(backend)}`);
}

/** Rejects keys an options object does not have (e.g. the course's snake_case filter_num), naming the valid ones. */
export function checkKeys(where: string, what: string, obj: object, valid: readonly string[]): void {
  for (const key of Object.keys(obj)) {
    if (!valid.includes(key)) throw new WasmCnnError(`${where}: unknown ${what} "${key}"; valid ${what}s are ${valid.join(', ')}`);
  }
}
