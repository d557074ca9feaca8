/**
 * SimpleConvNet, the course's CNN:
 *   Conv1 - Relu1 - Pool1 (max 2x2, stride 2) - Affine1 - Relu2 - Affine2 - SoftmaxWithLoss
 * Parameters (shapes as in the course):
 *   W1 (filterNum, C, filterSize, filterSize), b1 (filterNum)
 *   W2 (poolOutputSize, hiddenSize), b2 (hiddenSize)
 *   W3 (hiddenSize, outputSize), b3 (outputSize)
 * poolOutputSize = filterNum * floor(convOut / 2)^2 per axis (the course's
 * filter_num * (conv_output_size / 2)^2 breaks when convOut is odd).
 */
import { Backend } from '../backend/backend.js';
import { WasmCnnError, describeValue } from '../errors.js';
import { LayerNet } from './layer-net.js';
import { buildStack, checkInputDim, type LayerSpec } from './stack.js';
import { checkWeightInit, type WeightInit } from './init.js';

export interface ConvParam {
  filterNum?: number;
  filterSize?: number;
  pad?: number;
  stride?: number;
}

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

/** Rejects keys the options do not have (e.g. the course's snake_case filter_num), naming the valid ones. */
function checkKeys(where: string, what: string, obj: object, valid: string[]): void {
  for (const key of Object.keys(obj)) {
    if (!valid.includes(key)) throw new WasmCnnError(`${where}: unknown ${what} "${key}"; valid ${what}s are ${valid.join(', ')}`);
  }
}

export class SimpleConvNet extends LayerNet {
  readonly convParam: Readonly<Required<ConvParam>>;
  readonly hiddenSize: number;
  readonly weightInitStd: WeightInit;
  readonly seed: number;

  constructor(options: SimpleConvNetOptions) {
    const where = 'SimpleConvNet';
    if (!options || typeof options !== 'object' || !options.backend) throw new WasmCnnError(`${where}: options.backend is required`);
    if (!(options.backend instanceof Backend)) throw new WasmCnnError(`${where}: options.backend must be a Backend from createBackend(), got ${describeValue(options.backend)}`);
    checkKeys(where, 'option', options, OPTION_KEYS);
    if (options.convParam !== undefined) {
      if (typeof options.convParam !== 'object' || options.convParam === null) {
        throw new WasmCnnError(`${where}: convParam must be an object { filterNum, filterSize, pad, stride }, got ${describeValue(options.convParam)}`);
      }
      checkKeys(where, 'convParam key', options.convParam, CONV_PARAM_KEYS);
    }
    const inputDim = checkInputDim(where, options.inputDim ?? [1, 28, 28]);
    if (inputDim.length !== 3) throw new WasmCnnError(`${where}: inputDim must be [C, H, W], got ${JSON.stringify(inputDim)}`);
    const cp = options.convParam ?? {};
    const convParam = { filterNum: cp.filterNum ?? 30, filterSize: cp.filterSize ?? 5, pad: cp.pad ?? 0, stride: cp.stride ?? 1 };
    const hiddenSize = options.hiddenSize ?? 100;
    const outputSize = options.outputSize ?? 10;
    const weightInitStd = checkWeightInit(where, options.weightInitStd ?? 0.01);
    const seed = options.seed ?? 0;
    if (!Number.isFinite(seed)) throw new WasmCnnError(`${where}: seed must be a finite number, got ${seed}`);
    for (const [k, v] of Object.entries({ hiddenSize, outputSize })) {
      if (!Number.isInteger(v) || v < 1) throw new WasmCnnError(`${where}: ${k} must be a positive integer, got ${describeValue(v)}`);
    }
    const specs: LayerSpec[] = [
      { type: 'Convolution', ...convParam },
      { type: 'Relu' },
      { type: 'Pooling', size: 2, stride: 2, pad: 0, mode: 'max' },
      { type: 'Affine', outputSize: hiddenSize },
      { type: 'Relu' },
      { type: 'Affine', outputSize },
    ];
    for (const [k, v] of Object.entries(convParam)) {
      const min = k === 'pad' ? 0 : 1;
      if (!Number.isInteger(v) || v < min) throw new WasmCnnError(`${where}: convParam.${k} must be a ${min ? 'positive' : 'non-negative'} integer, got ${describeValue(v)}`);
    }
    const backend = options.backend;
    const stack = buildStack(where, backend, inputDim, specs, {
      weightInitStd, seed, names: ['Conv1', 'Relu1', 'Pool1', 'Affine1', 'Relu2', 'Affine2'],
    });
    super(where, backend, inputDim, stack);
    this.convParam = Object.freeze(convParam);
    this.hiddenSize = hiddenSize;
    this.weightInitStd = weightInitStd;
    this.seed = seed;
  }

  /** Rebuilds a SimpleConvNet from config() (e.g. read from a parameter file). */
  static fromConfig(config: Record<string, unknown>, backend: Backend): SimpleConvNet {
    if (!config || config.type !== 'SimpleConvNet') throw new WasmCnnError(`SimpleConvNet.fromConfig: config.type must be "SimpleConvNet", got ${JSON.stringify(config?.type)}`);
    const c = config as unknown as SimpleConvNetConfig;
    return new SimpleConvNet({
      backend, inputDim: c.inputDim, convParam: c.convParam, hiddenSize: c.hiddenSize, outputSize: c.outputSize,
      weightInitStd: c.weightInitStd, seed: c.seed,
    });
  }

  config(): SimpleConvNetConfig & Record<string, unknown> {
    return {
      type: 'SimpleConvNet',
      inputDim: [...this.inputDim],
      convParam: { ...this.convParam },
      hiddenSize: this.hiddenSize,
      outputSize: this.outputSize,
      weightInitStd: this.weightInitStd,
      seed: this.seed,
    };
  }
}
