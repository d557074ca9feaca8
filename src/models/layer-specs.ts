/**
 * Layer specs and the one builder every model uses: it walks the specs from the input
 * dimension, infers every layer's input shape, creates and initializes the parameters
 * (seeded) and names them:
 *   Convolution / Affine, in order:   W1, b1, W2, b2, ...
 *   BatchNormalization, in order:     gamma1, beta1, gamma2, ... (running statistics
 *                                     runningMean1, runningVar1, ... are saved too)
 */
import type { Backend } from '../backend/backend.js';
import { ShapeError, WasmCnnError, describeValue } from '../errors.js';
import { Random } from '../random.js';
import { fmtShape, shapeSize, type Tensor } from '../tensor.js';
import type { Layer } from '../layers/layer.js';
import { Convolution } from '../layers/convolution.js';
import { Pooling, type PoolMode } from '../layers/pooling.js';
import { Affine } from '../layers/affine.js';
import { Relu, Sigmoid } from '../layers/activation.js';
import { Dropout } from '../layers/dropout.js';
import { BatchNormalization } from '../layers/batch-normalization.js';

/** A convolution layer: filterNum filters of filterSize x filterSize over all input channels (stride 1, pad 0 by default). */
export interface ConvolutionSpec { type: 'Convolution'; filterNum: number; filterSize: number; stride?: number; pad?: number; weightInitStd?: WeightInit }
/** A pooling layer: size x size windows, max (default) or avg, stride = size by default. */
export interface PoolingSpec { type: 'Pooling'; size: number; stride?: number; pad?: number; mode?: PoolMode }
/** A fully connected layer (the course's Affine): flattens its input and maps it to outputSize values. */
export interface AffineSpec { type: 'Affine'; outputSize: number; weightInitStd?: WeightInit }
/** A ReLU activation. */
export interface ReluSpec { type: 'Relu' }
/** A sigmoid activation. */
export interface SigmoidSpec { type: 'Sigmoid' }
/** Dropout (training only): drops each value with probability ratio (default 0.5), scaling as the course does. */
export interface DropoutSpec { type: 'Dropout'; ratio?: number }
/** Batch normalization over the features of each sample (the course's BatchNormalization), momentum 0.9 and eps 1e-6 by default. */
export interface BatchNormalizationSpec { type: 'BatchNormalization'; momentum?: number; eps?: number }
/** Optional as the last spec: every model ends with SoftmaxWithLoss anyway. */
export interface SoftmaxWithLossSpec { type: 'SoftmaxWithLoss' }

/** One layer of a Sequential, by type; fields left out take their defaults (config() shows them filled in). */
export type LayerSpec = ConvolutionSpec | PoolingSpec | AffineSpec | ReluSpec | SigmoidSpec
  | DropoutSpec | BatchNormalizationSpec | SoftmaxWithLossSpec;

const LAYER_TYPES = ['Convolution', 'Pooling', 'Affine', 'Relu', 'Sigmoid', 'Dropout', 'BatchNormalization', 'SoftmaxWithLoss'];

/** The fields each layer spec may have (anything else is a typo, e.g. `padding` for `pad`). */
const SPEC_FIELDS: Record<string, string[]> = {
  Convolution: ['filterNum', 'filterSize', 'stride', 'pad', 'weightInitStd'],
  Pooling: ['size', 'stride', 'pad', 'mode'],
  Affine: ['outputSize', 'weightInitStd'],
  Relu: [],
  Sigmoid: [],
  Dropout: ['ratio'],
  BatchNormalization: ['momentum', 'eps'],
  SoftmaxWithLoss: [],
};

/** The most parameter values a model may have: they and their gradients (8 bytes a value) must fit in 4 GiB. */
const MAX_PARAM_VALUES = 2 ** 29;

/**
 * A bound on the parameter values of a model built from a file: a config that declares far
 * more values than the file holds is refused before anything is allocated.
 */
export interface ParamBudget {
  maxValues: number;
  /** The values the file really holds (for the message). */
  fileValues: number;
}

/** Specs with every default filled in (what config() stores), SoftmaxWithLoss last. */
export function normalizeSpecs(where: string, specs: readonly LayerSpec[]): LayerSpec[] {
  if (!Array.isArray(specs)) throw new WasmCnnError(`${where}: layers must be an array of layer specs`);
  const out: LayerSpec[] = [];
  specs.forEach((s, i) => {
    const at = `${where}: layer ${i + 1} (${s && typeof s === 'object' ? String((s as { type?: unknown }).type) : typeof s})`;
    if (!s || typeof s !== 'object' || !LAYER_TYPES.includes((s as LayerSpec).type)) {
      throw new WasmCnnError(`${at}: type must be one of ${LAYER_TYPES.join(', ')}`);
    }
    for (const key of Object.keys(s)) {
      if (key !== 'type' && !SPEC_FIELDS[s.type].includes(key)) {
        const valid = SPEC_FIELDS[s.type];
        throw new WasmCnnError(`${at}: unknown field "${key}"; ${valid.length ? `valid fields are ${valid.join(', ')}` : `a ${s.type} layer has no fields but type`}`);
      }
    }
    switch (s.type) {
      case 'Convolution': {
        const spec: ConvolutionSpec = {
          type: s.type, filterNum: posInt(at, 'filterNum', s.filterNum), filterSize: posInt(at, 'filterSize', s.filterSize),
          stride: posInt(at, 'stride', s.stride ?? 1), pad: nonNegInt(at, 'pad', s.pad ?? 0),
        };
        if (s.weightInitStd !== undefined) spec.weightInitStd = checkWeightInit(at, s.weightInitStd);
        out.push(spec);
        break;
      }
      case 'Pooling': {
        const size = posInt(at, 'size', s.size);
        const mode = s.mode ?? 'max';
        if (mode !== 'max' && mode !== 'avg') throw new WasmCnnError(`${at}: mode must be "max" or "avg", got ${JSON.stringify(mode)}`);
        out.push({ type: s.type, size, stride: posInt(at, 'stride', s.stride ?? size), pad: nonNegInt(at, 'pad', s.pad ?? 0), mode });
        break;
      }
      case 'Affine': {
        const spec: AffineSpec = { type: s.type, outputSize: posInt(at, 'outputSize', s.outputSize) };
        if (s.weightInitStd !== undefined) spec.weightInitStd = checkWeightInit(at, s.weightInitStd);
        out.push(spec);
        break;
      }
      case 'Relu':
      case 'Sigmoid':
        out.push({ type: s.type });
        break;
      case 'Dropout': {
        const ratio = s.ratio ?? 0.5;
        if (!(typeof ratio === 'number' && ratio >= 0 && ratio < 1)) throw new WasmCnnError(`${at}: ratio must be in [0, 1), got ${ratio}`);
        out.push({ type: s.type, ratio });
        break;
      }
      case 'BatchNormalization': {
        const momentum = s.momentum ?? 0.9;
        const eps = s.eps ?? 1e-6;
        if (!(typeof momentum === 'number' && momentum >= 0 && momentum <= 1)) throw new WasmCnnError(`${at}: momentum must be in [0, 1], got ${momentum}`);
        if (!(typeof eps === 'number' && eps > 0)) throw new WasmCnnError(`${at}: eps must be positive, got ${eps}`);
        out.push({ type: s.type, momentum, eps });
        break;
      }
      case 'SoftmaxWithLoss':
        if (i !== specs.length - 1) throw new WasmCnnError(`${at}: SoftmaxWithLoss can only be the last layer`);
        break;
    }
  });
  out.push({ type: 'SoftmaxWithLoss' });
  return out;
}

export function checkInputDim(where: string, inputDim: unknown): number[] {
  if (!Array.isArray(inputDim) || inputDim.length < 1 || inputDim.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new WasmCnnError(`${where}: inputDim must be a non-empty array of positive integers, e.g. [1, 28, 28], got ${JSON.stringify(inputDim)}`);
  }
  return [...inputDim];
}

export interface NamedParam {
  name: string;
  tensor: Tensor;
  grad: Tensor;
}

export interface BuiltStack {
  layers: Layer[];
  params: NamedParam[];
  /** Non-trainable state saved with the parameters (BatchNormalization running statistics). */
  buffers: { name: string; tensor: Tensor }[];
  /** Index of the first layer with parameters; backward stops there. */
  firstParamLayer: number;
  /** Output shape of one sample (must be (classes)). */
  outputDim: number[];
}

export interface BuildOptions {
  weightInitStd: WeightInit;
  seed: number;
  /** Layer names for messages (default: type + per-type count, e.g. 'Convolution1'). */
  names?: string[];
  budget?: ParamBudget;
}

/** Builds the layers of normalized specs (SoftmaxWithLoss, if last, is skipped: the model adds it). */
export function buildStack(where: string, backend: Backend, inputDim: readonly number[], specs: readonly LayerSpec[],
  options: BuildOptions): BuiltStack {
  const rng = new Random(options.seed);
  const layers: Layer[] = [];
  const params: NamedParam[] = [];
  const buffers: { name: string; tensor: Tensor }[] = [];
  const typeCount = new Map<string, number>();
  let weighted = 0;
  let normalized = 0;
  let firstParamLayer = -1;
  let paramValues = 0;
  /** Refuses a parameter tensor (`values`, plus `more` in its companions) before anything is allocated. */
  const reserve = (at: string, what: string, values: number, more: number): void => {
    paramValues += values + more;
    if (paramValues > MAX_PARAM_VALUES) {
      throw new ShapeError(`${at}: ${what} would hold ${values} values, and the model's parameters with their gradients would ` +
        `need ${paramValues * 8} bytes or more; a WebAssembly memory holds at most 4 GiB`);
    }
    const budget = options.budget;
    if (budget && paramValues > budget.maxValues) {
      throw new ShapeError(`${at}: ${what} would hold ${values} values, taking the model to ${paramValues} parameter values or more, ` +
        `but the file holds only ${budget.fileValues}`);
    }
  };
  let shape = [1, ...inputDim];
  const body = specs.filter((s) => s.type !== 'SoftmaxWithLoss');
  try {
    body.forEach((spec, i) => {
      const count = (typeCount.get(spec.type) ?? 0) + 1;
      typeCount.set(spec.type, count);
      const name = options.names?.[i] ?? `${spec.type}${count}`;
      const inputGrad = firstParamLayer >= 0;
      const at = `${where}: ${name}`;
      let layer: Layer;
      switch (spec.type) {
        case 'Convolution': {
          if (shape.length !== 4) {
            throw new ShapeError(`${at}: a convolution needs (C, H, W) samples, but its input is ${fmtShape(shape.slice(1))}`);
          }
          const C = shape[1];
          const fs = spec.filterSize;
          const wShape = [spec.filterNum, C, fs, fs];
          const std = initStd(spec.weightInitStd ?? options.weightInitStd, C * fs * fs);
          reserve(at, `W ${fmtShape(wShape)}`, shapeSize(wShape), spec.filterNum);
          weighted++;
          const W = backend.tensor(rng.fillNormal(new Float32Array(shapeSize(wShape)), std), wShape);
          const b = backend.zeros([spec.filterNum]);
          layer = new Convolution(backend, W, b, { stride: spec.stride, pad: spec.pad, inputGrad, name: at });
          params.push({ name: `W${weighted}`, tensor: W, grad: layer.grads.W }, { name: `b${weighted}`, tensor: b, grad: layer.grads.b });
          break;
        }
        case 'Affine': {
          const D = shapeSize(shape.slice(1));
          const std = initStd(spec.weightInitStd ?? options.weightInitStd, D);
          reserve(at, `W (${D}, ${spec.outputSize})`, D * spec.outputSize, spec.outputSize);
          weighted++;
          const W = backend.tensor(rng.fillNormal(new Float32Array(D * spec.outputSize), std), [D, spec.outputSize]);
          const b = backend.zeros([spec.outputSize]);
          layer = new Affine(backend, W, b, { inputGrad, name: at });
          params.push({ name: `W${weighted}`, tensor: W, grad: layer.grads.W }, { name: `b${weighted}`, tensor: b, grad: layer.grads.b });
          break;
        }
        case 'BatchNormalization': {
          const D = shapeSize(shape.slice(1));
          reserve(at, `gamma (${D})`, D, 3 * D);
          normalized++;
          const gamma = backend.empty([D]);
          backend.kernels.fill_f32(gamma.ptr, D, 1);
          const beta = backend.zeros([D]);
          const bn = new BatchNormalization(backend, gamma, beta, { momentum: spec.momentum, eps: spec.eps, name: at });
          layer = bn;
          params.push({ name: `gamma${normalized}`, tensor: gamma, grad: bn.dgamma }, { name: `beta${normalized}`, tensor: beta, grad: bn.dbeta });
          buffers.push({ name: `runningMean${normalized}`, tensor: bn.runningMean }, { name: `runningVar${normalized}`, tensor: bn.runningVar });
          break;
        }
        case 'Pooling':
          layer = new Pooling(backend, { size: spec.size, stride: spec.stride, pad: spec.pad, mode: spec.mode, name: at });
          break;
        case 'Relu':
          layer = new Relu(backend, { name: at });
          break;
        case 'Sigmoid':
          layer = new Sigmoid(backend, { name: at });
          break;
        case 'Dropout':
          // each dropout layer draws from its own stream, derived from the model seed
          layer = new Dropout(backend, { ratio: spec.ratio, seed: (Math.imul(options.seed >>> 0, 0x9e3779b1) + 0x7f4a7c15 * (i + 1)) >>> 0, name: at });
          break;
        default:
          throw new WasmCnnError(`${at}: unknown layer type`);
      }
      layers.push(layer);
      if (firstParamLayer < 0 && Object.keys(layer.params).length > 0) firstParamLayer = i;
      shape = layer.outputShape(shape);
    });
  } catch (e) {
    for (const l of layers) l.dispose();
    for (const p of params) p.tensor.dispose();
    throw e;
  }
  if (shape.length !== 2) {
    for (const l of layers) l.dispose();
    for (const p of params) p.tensor.dispose();
    throw new ShapeError(`${where}: the last layer must give class scores (N, classes), but it gives (N, ${shape.slice(1).join(', ')}); end with an Affine layer`);
  }
  return { layers, params, buffers, firstParamLayer, outputDim: shape.slice(1) };
}

function posInt(at: string, what: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new WasmCnnError(`${at}: ${what} must be a positive integer, got ${describeValue(v)}`);
  return v;
}

function nonNegInt(at: string, what: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new WasmCnnError(`${at}: ${what} must be a non-negative integer, got ${describeValue(v)}`);
  return v;
}

// Weight initialization scales, as in the course: a fixed standard deviation, or one
// derived from the fan-in n of the layer (inputs per output: C*FH*FW for a convolution,
// D for an affine layer): 'relu' / 'he' std = sqrt(2 / n); 'sigmoid' / 'xavier' std = sqrt(1 / n).

/** Weight initialization: a standard deviation, or 'relu'/'he' (sqrt(2 / fanIn)) or 'sigmoid'/'xavier' (sqrt(1 / fanIn)). */
export type WeightInit = number | 'relu' | 'he' | 'sigmoid' | 'xavier';

export function checkWeightInit(where: string, w: unknown): WeightInit {
  if (typeof w === 'number') {
    if (!(Number.isFinite(w) && w >= 0)) throw new WasmCnnError(`${where}: weightInitStd must be a non-negative number, got ${w}`);
    return w;
  }
  if (w === 'relu' || w === 'he' || w === 'sigmoid' || w === 'xavier') return w;
  throw new WasmCnnError(`${where}: weightInitStd must be a number, 'relu'/'he' or 'sigmoid'/'xavier', got ${JSON.stringify(w)}`);
}

/** The standard deviation for a layer with `fanIn` inputs per output. */
export function initStd(w: WeightInit, fanIn: number): number {
  if (typeof w === 'number') return w;
  if (w === 'relu' || w === 'he') return Math.sqrt(2 / fanIn);
  return Math.sqrt(1 / fanIn);
}
