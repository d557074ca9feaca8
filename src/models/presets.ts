/**
 * The course's models as presets of Sequential.
 *
 * SimpleConvNet (ch07):
 *   Conv1 - Relu1 - Pool1 (max 2x2, stride 2) - Affine1 - Relu2 - Affine2 - SoftmaxWithLoss
 * Parameters (shapes as in the course):
 *   W1 (filterNum, C, filterSize, filterSize), b1 (filterNum)
 *   W2 (poolOutputSize, hiddenSize), b2 (hiddenSize)
 *   W3 (hiddenSize, outputSize), b3 (outputSize)
 * poolOutputSize = filterNum * floor(convOut / 2)^2 per axis (the course's
 * filter_num * (conv_output_size / 2)^2 breaks when convOut is odd).
 *
 * DeepConvNet (ch08): six 3x3 convolutions in three pooled blocks, two affine layers with
 * dropout, He initialization (DEEP_CONV_NET_LAYERS).
 */
import { WasmCnnError, describeValue } from '../errors.js';
import { Sequential, checkBackendOption, checkKeys, type BuildSettings } from './sequential.js';
import type { LayerSpec, WeightInit } from './layer-specs.js';
import type { Backend } from '../backend/backend.js';

/** The convolution of SimpleConvNet (the course's conv_param). */
export interface ConvParam {
  filterNum?: number;
  filterSize?: number;
  pad?: number;
  stride?: number;
}

/** Options of `new SimpleConvNet(...)` / `simpleConvNet(...)`, as in the course (camelCase). */
export interface SimpleConvNetOptions {
  backend: Backend;
  /** (C, H, W) of one sample; default [1, 28, 28]. */
  inputDim?: readonly number[];
  /** Default { filterNum: 30, filterSize: 5, pad: 0, stride: 1 }. */
  convParam?: ConvParam;
  /** Default 100. */
  hiddenSize?: number;
  /** Default 10. */
  outputSize?: number;
  /** A standard deviation, or 'relu'/'he' (sqrt(2/fanIn)) or 'sigmoid'/'xavier' (sqrt(1/fanIn)); default 0.01. */
  weightInitStd?: WeightInit;
  /** Seed of the weight initialization; default 0. */
  seed?: number;
}

/** What config() of a SimpleConvNet returns and modelFromConfig accepts. */
export interface SimpleConvNetConfig {
  type: 'SimpleConvNet';
  inputDim: number[];
  convParam: Required<ConvParam>;
  hiddenSize: number;
  outputSize: number;
  weightInitStd: WeightInit;
  seed: number;
}

const OPTION_KEYS = ['backend', 'inputDim', 'convParam', 'hiddenSize', 'outputSize', 'weightInitStd', 'seed'];
const CONV_PARAM_KEYS = ['filterNum', 'filterSize', 'pad', 'stride'];
const LAYER_NAMES = ['Conv1', 'Relu1', 'Pool1', 'Affine1', 'Relu2', 'Affine2'];

/** The course's SimpleConvNet: a Sequential with the course's options, parameter names and config. */
export class SimpleConvNet extends Sequential {
  readonly convParam: Readonly<Required<ConvParam>>;
  readonly hiddenSize: number;

  constructor(options: SimpleConvNetOptions, /** @internal */ settings: BuildSettings = {}) {
    const { sequential, convParam, hiddenSize } = simpleConvNetLayers(options);
    super(sequential, { ...settings, name: 'SimpleConvNet', names: LAYER_NAMES });
    this.convParam = Object.freeze(convParam);
    this.hiddenSize = hiddenSize;
  }

  override config(): Record<string, unknown> {
    const c: SimpleConvNetConfig = {
      type: 'SimpleConvNet',
      inputDim: [...this.inputDim],
      convParam: { ...this.convParam },
      hiddenSize: this.hiddenSize,
      outputSize: this.outputSize,
      weightInitStd: this.weightInitStd,
      seed: this.seed,
    };
    return { ...c };
  }
}

/** A new SimpleConvNet (the course's CNN); defaults as in the course (30 5x5 filters, 100 hidden units, std 0.01). */
export function simpleConvNet(options: SimpleConvNetOptions): SimpleConvNet {
  return new SimpleConvNet(options);
}

/** The course's DeepConvNet layers (ch08) for 1x28x28 inputs and 10 classes. */
export const DEEP_CONV_NET_LAYERS: readonly LayerSpec[] = Object.freeze([
  { type: 'Convolution', filterNum: 16, filterSize: 3, pad: 1, stride: 1 }, { type: 'Relu' },
  { type: 'Convolution', filterNum: 16, filterSize: 3, pad: 1, stride: 1 }, { type: 'Relu' },
  { type: 'Pooling', size: 2, stride: 2 },
  { type: 'Convolution', filterNum: 32, filterSize: 3, pad: 1, stride: 1 }, { type: 'Relu' },
  { type: 'Convolution', filterNum: 32, filterSize: 3, pad: 2, stride: 1 }, { type: 'Relu' },
  { type: 'Pooling', size: 2, stride: 2 },
  { type: 'Convolution', filterNum: 64, filterSize: 3, pad: 1, stride: 1 }, { type: 'Relu' },
  { type: 'Convolution', filterNum: 64, filterSize: 3, pad: 1, stride: 1 }, { type: 'Relu' },
  { type: 'Pooling', size: 2, stride: 2 },
  { type: 'Affine', outputSize: 50 }, { type: 'Relu' }, { type: 'Dropout', ratio: 0.5 },
  { type: 'Affine', outputSize: 10 }, { type: 'Dropout', ratio: 0.5 },
] satisfies LayerSpec[]);

/** Options of `deepConvNet(...)`. */
export interface DeepConvNetOptions {
  backend: Backend;
  /** Seed of the weight initialization and the dropout masks; default 0. */
  seed?: number;
}

/** The course's DeepConvNet (ch08) for MNIST: a Sequential of DEEP_CONV_NET_LAYERS with He initialization. */
export function deepConvNet(options: DeepConvNetOptions): Sequential {
  const where = 'deepConvNet';
  checkBackendOption(where, options);
  checkKeys(where, 'option', options, ['backend', 'seed']);
  return new Sequential({ backend: options.backend, inputDim: [1, 28, 28], layers: DEEP_CONV_NET_LAYERS, weightInitStd: 'he', seed: options.seed },
    { name: 'DeepConvNet' });
}

/** Validates SimpleConvNet's options and turns them into Sequential options. */
function simpleConvNetLayers(options: SimpleConvNetOptions) {
  const where = 'SimpleConvNet';
  checkBackendOption(where, options);
  checkKeys(where, 'option', options, OPTION_KEYS);
  if (options.convParam !== undefined) {
    if (typeof options.convParam !== 'object' || options.convParam === null) {
      throw new WasmCnnError(`${where}: convParam must be an object { filterNum, filterSize, pad, stride }, got ${describeValue(options.convParam)}`);
    }
    checkKeys(where, 'convParam key', options.convParam, CONV_PARAM_KEYS);
  }
  const inputDim = options.inputDim ?? [1, 28, 28];
  if (!Array.isArray(inputDim) || inputDim.length !== 3) throw new WasmCnnError(`${where}: inputDim must be [C, H, W], got ${JSON.stringify(inputDim)}`);
  const cp = options.convParam ?? {};
  const convParam = { filterNum: cp.filterNum ?? 30, filterSize: cp.filterSize ?? 5, pad: cp.pad ?? 0, stride: cp.stride ?? 1 };
  for (const [k, v] of Object.entries(convParam)) {
    const min = k === 'pad' ? 0 : 1;
    if (!Number.isInteger(v) || v < min) throw new WasmCnnError(`${where}: convParam.${k} must be a ${min ? 'positive' : 'non-negative'} integer, got ${describeValue(v)}`);
  }
  const hiddenSize = options.hiddenSize ?? 100;
  const outputSize = options.outputSize ?? 10;
  for (const [k, v] of Object.entries({ hiddenSize, outputSize })) {
    if (!Number.isInteger(v) || v < 1) throw new WasmCnnError(`${where}: ${k} must be a positive integer, got ${describeValue(v)}`);
  }
  const layers: LayerSpec[] = [
    { type: 'Convolution', ...convParam },
    { type: 'Relu' },
    { type: 'Pooling', size: 2, stride: 2, pad: 0, mode: 'max' },
    { type: 'Affine', outputSize: hiddenSize },
    { type: 'Relu' },
    { type: 'Affine', outputSize },
  ];
  const weightInitStd: WeightInit = options.weightInitStd ?? 0.01;
  return { sequential: { backend: options.backend, inputDim, layers, weightInitStd, seed: options.seed }, convParam, hiddenSize };
}
