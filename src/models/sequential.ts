/**
 * Sequential: any stack of the layers, e.g.
 *   new Sequential({ backend, inputDim: [1, 28, 28], layers: [
 *     { type: 'Convolution', filterNum: 16, filterSize: 3, pad: 1 }, { type: 'Relu' },
 *     { type: 'Convolution', filterNum: 16, filterSize: 3, pad: 1 }, { type: 'Relu' },
 *     { type: 'Pooling', size: 2 },
 *     { type: 'Affine', outputSize: 50 }, { type: 'Relu' }, { type: 'Dropout', ratio: 0.5 },
 *     { type: 'Affine', outputSize: 10 }, { type: 'SoftmaxWithLoss' } ] })
 * Shapes are inferred from inputDim; the last layer must give (N, classes); the
 * trailing SoftmaxWithLoss is implied when left out. Parameters: W1, b1, W2, ... for
 * Convolution/Affine layers in order, gamma1, beta1, ... for BatchNormalization layers
 * (their running statistics are saved as runningMean1, runningVar1, ...).
 */
import { Backend } from '../backend/backend.js';
import { WasmCnnError, describeValue } from '../errors.js';
import { LayerNet } from './layer-net.js';
import { buildStack, checkInputDim, normalizeSpecs, type LayerSpec } from './stack.js';
import { checkWeightInit, type WeightInit } from './init.js';

export interface SequentialOptions {
  backend: Backend;
  /** Shape of one sample: (C, H, W) for convolutions, or (D). */
  inputDim: readonly number[];
  layers: readonly LayerSpec[];
  /** Default for every Convolution/Affine layer without its own; default 'he'. */
  weightInitStd?: WeightInit;
  /** Seed of the weight initialization and the dropout masks; default 0. */
  seed?: number;
}

export interface SequentialConfig {
  type: 'Sequential';
  inputDim: number[];
  layers: LayerSpec[];
  weightInitStd: WeightInit;
  seed: number;
}

export class Sequential extends LayerNet {
  /** The normalized layer specs (defaults filled in, SoftmaxWithLoss last). */
  readonly specs: readonly LayerSpec[];
  readonly weightInitStd: WeightInit;
  readonly seed: number;

  constructor(options: SequentialOptions) {
    const where = 'Sequential';
    if (!options || typeof options !== 'object' || !options.backend) throw new WasmCnnError(`${where}: options.backend is required`);
    if (!(options.backend instanceof Backend)) throw new WasmCnnError(`${where}: options.backend must be a Backend from createBackend(), got ${describeValue(options.backend)}`);
    const inputDim = checkInputDim(where, options.inputDim);
    const specs = normalizeSpecs(where, options.layers);
    const weightInitStd = checkWeightInit(where, options.weightInitStd ?? 'he');
    const seed = options.seed ?? 0;
    if (!Number.isFinite(seed)) throw new WasmCnnError(`${where}: seed must be a finite number, got ${seed}`);
    const stack = buildStack(where, options.backend, inputDim, specs, { weightInitStd, seed });
    super(where, options.backend, inputDim, stack);
    this.specs = Object.freeze(specs);
    this.weightInitStd = weightInitStd;
    this.seed = seed;
  }

  /** Rebuilds a Sequential from config() (e.g. read from a parameter file). */
  static fromConfig(config: Record<string, unknown>, backend: Backend): Sequential {
    if (!config || config.type !== 'Sequential') throw new WasmCnnError(`Sequential.fromConfig: config.type must be "Sequential", got ${JSON.stringify(config?.type)}`);
    const c = config as unknown as SequentialConfig;
    return new Sequential({ backend, inputDim: c.inputDim, layers: c.layers, weightInitStd: c.weightInitStd, seed: c.seed });
  }

  config(): SequentialConfig & Record<string, unknown> {
    return {
      type: 'Sequential',
      inputDim: [...this.inputDim],
      layers: this.specs.map((s) => ({ ...s })),
      weightInitStd: this.weightInitStd,
      seed: this.seed,
    };
  }
}
