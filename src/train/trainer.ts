/**
 * Trainer: the course's common/trainer.py, made reproducible, asynchronous and safe.
 *
 * Semantics (and where they differ from the course):
 * - iterPerEpoch = max(floor(trainSize / miniBatchSize), 1) and maxIter = epochs *
 *   iterPerEpoch. Each epoch draws a fresh permutation of the training set from a
 *   PRNG seeded with `seed` and walks it in full mini-batches; the last
 *   trainSize % miniBatchSize samples of each permutation sit that epoch out (the
 *   batch shape never changes, so the layers never re-plan their buffers). The course
 *   draws every batch with replacement (np.random.choice) instead.
 * - A step is, as in the course: gradient -> optimizer.update -> loss on the same batch
 *   (evaluation mode, after the update) -> trainLossList. `recomputeLoss: false` records
 *   the loss gradient() computed instead, saving a forward pass per step.
 * - At the END of each epoch (the course evaluates at its start), train and test
 *   accuracy are measured on the first evaluateSampleNumPerEpoch samples of each set
 *   (all samples when unset) and appended to trainAccList / testAccList. After the last
 *   epoch the accuracy on the whole test set is `testAcc` (reusing the last epoch's
 *   figure when that already covered the whole test set).
 * - Evaluation runs predict() in batches of miniBatchSize; a short last batch is
 *   padded (see BatchGatherer) and only its real rows are counted.
 * - optimizerParam defaults to the chosen optimizer's own defaults (Adam: lr 0.001);
 *   the course passes {lr: 0.01} to whichever optimizer is chosen.
 * - train() is async and yields to the event loop after every step (setImmediate in
 *   Node, a MessageChannel message in browsers) so a UI or progress bar stays live.
 *
 * Divergence. After every step the loss is checked, and every parameter is checked with
 * count_nonfinite_f32 (one pass over the parameters, far cheaper than the step). A
 * device copy of the parameters is refreshed after every step that passes (one
 * memcpy of the parameters, small next to a step's arithmetic).
 * When a check fails, the parameters are restored from that copy, i.e. to their values
 * after the last finite step (or the initial values), and train() rejects with a
 * DivergenceError naming the epoch, the iteration and the first non-finite tensor
 * ("loss" when only the loss is: huge but finite weights whose activations overflow).
 * Note that the stable softmax and the 1e-7 of the cross-entropy cap the loss at
 * -log(1e-7) = 16.1, so a merely too-large learning rate (1e3 for SimpleConvNet) gives
 * a saturated but finite loss, not a DivergenceError; NaN needs ~1e10 there.
 * With `snapshot: false` there is no copy and no restore; the error then says that the
 * parameters hold non-finite values. The optimizer's state (moments) is not restored;
 * reset() it or make a new one before training on.
 *
 * Pausing and checkpoints. stop() ends train() after the current step; calling train()
 * again continues from there. checkpoint() returns the whole state of the run (model
 * tensors, optimizer state, position, shuffle and dropout PRNG states, the current
 * epoch's order, histories; format in src/train/checkpoint.ts) whenever train() is not
 * inside a step: between train() calls, or from a callback or any other code that runs
 * while train() awaits. Trainer.resume(bytes, ...) builds a Trainer that continues from
 * it; the run then ends bit-identical to one that was never interrupted (same backend
 * kind; any thread count, the kernels being bit-identical across threads). An optimizer
 * the Trainer created is freed when train() completes all epochs; a stopped run keeps
 * it for checkpoint() and a later train() (dispose() frees it).
 */
import { Backend } from '../backend/backend.js';
import type { Labels, Network, ParamMap } from '../models/sequential.js';
import type { Tensor } from '../tensor.js';
import { fmtShape, shapeSize } from '../tensor.js';
import { DivergenceError, ShapeError, WasmCnnError, describeValue } from '../errors.js';
import { Random } from '../random.js';
import type { Inputs } from '../data/dataset.js';
import { BatchGatherer, checkFiniteInputs, checkInputs, sampleCount, sampleShapeOf } from '../data/batch.js';
import { argmaxRows, labelIndices } from '../data/labels.js';
import { OPTIMIZER_NAMES, createOptimizer, type Optimizer, type OptimizerName, type OptimizerParams } from './optimizers.js';
import {
  decodeCheckpoint, encodeCheckpoint, iterationsPerEpoch, labelsHash, type CheckpointPosition,
} from './checkpoint.js';
import { encodeSafetensors, decodeSafetensors } from '../io/safetensors.js';
import { modelFromConfig } from '../models/loaders.js';

/** Passed to onIteration after every training step. */
export interface IterationInfo {
  /** 1-based epoch. */
  epoch: number;
  /** 1-based iteration within the epoch. */
  iteration: number;
  iterPerEpoch: number;
  /** 1-based step over the whole run. */
  step: number;
  maxIter: number;
  /** Loss on this step's mini-batch after the update. */
  loss: number;
}

/** Passed to onEpoch after every epoch. */
export interface EpochInfo {
  /** 1-based epoch. */
  epoch: number;
  epochs: number;
  /** Mean of this epoch's mini-batch losses. */
  trainLoss: number;
  trainAcc: number;
  testAcc: number;
  /** Images trained on in this epoch. */
  images: number;
  /** Training throughput of this epoch: images / trainMs (evaluation and yields excluded). */
  imagesPerSecond: number;
  /** Time in training steps (gradient, update, loss, checks). */
  trainMs: number;
  /** Time in the epoch-end evaluation. */
  evalMs: number;
  /** Wall time of the epoch, everything included. */
  elapsedMs: number;
  /** Wall time since train() started. */
  totalElapsedMs: number;
}

/** What train() resolves to: the histories, the final test accuracy and timing. */
export interface TrainResult {
  trainLossList: number[];
  trainAccList: number[];
  testAccList: number[];
  /** Accuracy on the whole test set after training; null when stopped early. */
  testAcc: number | null;
  /** Epochs completed. */
  epochs: number;
  /** Steps done. */
  steps: number;
  /** Wall time of train(). */
  elapsedMs: number;
  /** Images per second of training steps over the whole run. */
  imagesPerSecond: number;
  /** Whether stop() ended the run early. */
  stopped: boolean;
}

/** Options of the Trainer (the course's names in camelCase: epochs, miniBatchSize, optimizer, optimizerParam, evaluateSampleNumPerEpoch, ...). */
export interface TrainerOptions {
  /** Passes over the training set (default 20). */
  epochs?: number;
  /** Samples per step (default 100). */
  miniBatchSize?: number;
  /** Optimizer name (sgd, momentum, nesterov, adagrad, rmsprop, adam; default sgd) or instance. */
  optimizer?: OptimizerName | (string & {}) | Optimizer;
  /** Hyperparameters when `optimizer` is a name; unset ones take the optimizer's defaults. */
  optimizerParam?: OptimizerParams;
  /** Samples of each set evaluated at each epoch end (default: all). */
  evaluateSampleNumPerEpoch?: number | null;
  /** Print a line per epoch and the final accuracy (default false). */
  verbose?: boolean;
  /** Seed of the mini-batch shuffle (default 0). */
  seed?: number;
  /** Keep a copy of the last finite parameters to restore on divergence (default true). */
  snapshot?: boolean;
  /**
   * true (default, the course): the recorded loss is loss() on the step's batch after the
   * update, in evaluation mode, which costs one more forward pass. false: record the
   * training-mode loss that gradient() computed before the update (the network's
   * `lastLoss`, which SimpleConvNet and Sequential keep), saving that forward pass.
   */
  recomputeLoss?: boolean;
  /**
   * Exponential learning-rate decay per epoch: epoch e (1, 2, ...) trains with the optimizer's
   * initial lr times lrDecay^(e-1) (default 1: the lr is left alone). Needs an optimizer with a
   * numeric `lr` (all the built-in ones).
   */
  lrDecay?: number;
  /**
   * L2 weight decay lambda, as the course's MultiLayerNet's weight_decay_lambda (default 0:
   * none). Before every update, lambda * W is added to the gradient of each weight: the
   * parameters whose names start with "W" (convolution and affine weights); biases and
   * batch normalization's gamma and beta are not decayed (a network with no such parameter
   * is refused when weightDecay > 0). The recorded losses stay the data loss (cross-entropy),
   * as PyTorch's weight_decay reports them; the course adds 0.5 * lambda * sum(W^2) to its loss.
   */
  weightDecay?: number;
  /** Called after every step (awaited when it returns a promise). */
  onIteration?: (info: IterationInfo) => void | Promise<void>;
  /** Called after every epoch's evaluation (awaited when it returns a promise). */
  onEpoch?: (info: EpochInfo) => void | Promise<void>;
}

/** Options of Trainer.resume: the data again, and the model (or a backend to rebuild it on). */
export interface ResumeOptions {
  /** The model to continue training (same architecture as the checkpoint's); its parameters are replaced. */
  network?: Network;
  /** Without `network`: the backend to rebuild the checkpoint's model on (modelFromConfig). */
  backend?: Backend;
  xTrain: Inputs;
  tTrain: Labels;
  xTest: Inputs;
  tTest: Labels;
  verbose?: boolean;
  onIteration?: TrainerOptions['onIteration'];
  onEpoch?: TrainerOptions['onEpoch'];
}

/** Options of trainer.checkpoint(). */
export interface CheckpointOptions {
  /** JSON-serializable data stored with the checkpoint (Trainer.checkpointApp reads it back). */
  app?: Record<string, unknown>;
}

const RESUME_KEYS = ['network', 'backend', 'xTrain', 'tTrain', 'xTest', 'tTest', 'verbose', 'onIteration', 'onEpoch'];

const OPTION_KEYS = ['epochs', 'miniBatchSize', 'optimizer', 'optimizerParam', 'evaluateSampleNumPerEpoch',
  'verbose', 'seed', 'snapshot', 'recomputeLoss', 'lrDecay', 'weightDecay', 'onIteration', 'onEpoch'];

/** Where a run diverged (the step and the tensor that became NaN/Infinity); carried by DivergenceError. */
export type DivergenceDetails = {
  epoch: number;
  iteration: number;
  step: number;
  loss: number;
  /** "loss" or the name of the first parameter holding NaN or Infinity. */
  tensor: string;
  /** Whether the parameters were restored to the last finite step. */
  restored: boolean;
};

/** Yields to the event loop: a macrotask, so timers, I/O and rendering get their turn. */
let yieldImpl: (() => Promise<void>) | undefined;
function yieldToEventLoop(): Promise<void> {
  if (!yieldImpl) {
    if (typeof setImmediate === 'function') {
      yieldImpl = () => new Promise<void>((resolve) => setImmediate(resolve));
    } else if (typeof MessageChannel === 'function') {
      // unlike setTimeout(0), not clamped to 4 ms when nested
      const channel = new MessageChannel();
      const queue: (() => void)[] = [];
      channel.port1.onmessage = () => queue.shift()?.();
      yieldImpl = () => new Promise<void>((resolve) => {
        queue.push(resolve);
        channel.port2.postMessage(null);
      });
    } else {
      yieldImpl = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
    }
  }
  return yieldImpl();
}

const now = (): number => performance.now();

function positiveInt(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new WasmCnnError(`Trainer: ${name} must be a positive integer, got ${String(v)}`);
  }
  return v;
}

/** The course's Trainer: mini-batch training of a network for a number of epochs with an optimizer, evaluating train and test accuracy every epoch. */
export class Trainer {
  readonly network: Network;
  readonly optimizer: Optimizer;
  readonly epochs: number;
  readonly miniBatchSize: number;
  readonly evaluateSampleNumPerEpoch: number | null;
  readonly verbose: boolean;
  readonly seed: number;
  readonly trainSize: number;
  readonly testSize: number;
  readonly iterPerEpoch: number;
  readonly maxIter: number;
  readonly trainLossList: number[] = [];
  readonly trainAccList: number[] = [];
  readonly testAccList: number[] = [];
  /** Accuracy on the whole test set once train() has finished. */
  testAcc: number | null = null;
  currentIter = 0;
  currentEpoch = 0;

  private readonly xTrain: Inputs;
  private readonly tTrain: Int32Array | Uint8Array;
  private readonly xTest: Inputs;
  private readonly tTest: Int32Array | Uint8Array;
  private readonly sampleShape: readonly number[];
  private readonly useSnapshot: boolean;
  private readonly recomputeLoss: boolean;
  /** The lrDecay option (1: none). */
  readonly lrDecay: number;
  /** The optimizer's lr of epoch 1, which lrDecay scales (null without decay). */
  private baseLr: number | null = null;
  /** The weightDecay option (0: none). */
  readonly weightDecay: number;
  private readonly onIteration?: TrainerOptions['onIteration'];
  private readonly onEpoch?: TrainerOptions['onEpoch'];
  private readonly ownsOptimizer: boolean;
  private readonly labelsHash: number;
  private running = false;
  private finished = false;
  private failed = false;
  private stopRequested = false;
  /** The shuffle PRNG; its state is the one after drawing the current epoch's order. */
  private readonly rng: Random;
  /** The last step done (see CheckpointPosition); epoch 0 before any step. */
  private position = { epoch: 0, iteration: 0, evaluated: true };
  /** The current epoch's sample order (null before the first epoch). */
  private order: Int32Array | null = null;

  constructor(network: Network, xTrain: Inputs, tTrain: Labels, xTest: Inputs, tTest: Labels, options: TrainerOptions = {}) {
    if (typeof network !== 'object' || network === null || typeof network.gradient !== 'function' || !network.backend) {
      throw new WasmCnnError('Trainer: network must implement the Network interface (backend, params, predict, loss, gradient, ...)');
    }
    if (typeof options !== 'object' || options === null) throw new WasmCnnError('Trainer: options must be an object');
    for (const key of Object.keys(options)) {
      if (!OPTION_KEYS.includes(key)) {
        throw new WasmCnnError(`Trainer: unknown option "${key}"; valid options are ${OPTION_KEYS.join(', ')}`);
      }
    }
    this.network = network;
    this.epochs = positiveInt('epochs', options.epochs ?? 20);
    this.miniBatchSize = positiveInt('miniBatchSize', options.miniBatchSize ?? 100);
    const ev = options.evaluateSampleNumPerEpoch ?? null;
    this.evaluateSampleNumPerEpoch = ev === null ? null : positiveInt('evaluateSampleNumPerEpoch', ev);
    for (const key of ['verbose', 'snapshot', 'recomputeLoss'] as const) {
      const v = options[key];
      if (v !== undefined && typeof v !== 'boolean') throw new WasmCnnError(`Trainer: ${key} must be a boolean, got ${describeValue(v)}`);
    }
    this.verbose = options.verbose ?? false;
    this.seed = options.seed ?? 0;
    if (typeof this.seed !== 'number' || !Number.isFinite(this.seed)) {
      throw new WasmCnnError(`Trainer: seed must be a finite number, got ${String(this.seed)}`);
    }
    this.useSnapshot = options.snapshot ?? true;
    this.recomputeLoss = options.recomputeLoss ?? true;
    if (!this.recomputeLoss && typeof (network as { lastLoss?: unknown }).lastLoss !== 'number') {
      throw new WasmCnnError('Trainer: recomputeLoss: false needs a network that keeps the loss of gradient() in a numeric `lastLoss` property');
    }
    for (const cb of ['onIteration', 'onEpoch'] as const) {
      if (options[cb] !== undefined && typeof options[cb] !== 'function') throw new WasmCnnError(`Trainer: ${cb} must be a function`);
    }
    this.onIteration = options.onIteration;
    this.onEpoch = options.onEpoch;

    // data: shapes, counts and labels are checked now, before any training
    checkInputs('Trainer: xTrain', xTrain);
    checkInputs('Trainer: xTest', xTest);
    checkFiniteInputs('Trainer: xTrain', xTrain);
    checkFiniteInputs('Trainer: xTest', xTest);
    this.trainSize = sampleCount(xTrain);
    this.testSize = sampleCount(xTest);
    const inputDim = [...network.inputDim];
    for (const [name, x] of [['xTrain', xTrain], ['xTest', xTest]] as const) {
      const s = sampleShapeOf(x);
      if (shapeSize(s) !== shapeSize(inputDim)) {
        throw new ShapeError(`Trainer: ${name} samples have shape ${fmtShape(s)}, but the network expects ${fmtShape(inputDim)}`);
      }
    }
    if (this.trainSize < 1) throw new WasmCnnError('Trainer: the training set is empty');
    if (this.testSize < 1) throw new WasmCnnError('Trainer: the test set is empty');
    // class indices, validated once (a one-hot tensor is converted here, not per batch)
    this.tTrain = labelIndices('Trainer: tTrain', tTrain, { count: this.trainSize, classes: network.outputSize });
    this.tTest = labelIndices('Trainer: tTest', tTest, { count: this.testSize, classes: network.outputSize });
    if (this.miniBatchSize > this.trainSize) {
      throw new WasmCnnError(`Trainer: miniBatchSize ${this.miniBatchSize} is larger than the training set (${this.trainSize} samples)`);
    }
    this.xTrain = xTrain;
    this.xTest = xTest;
    this.sampleShape = inputDim;

    this.iterPerEpoch = Math.max(Math.floor(this.trainSize / this.miniBatchSize), 1);
    this.maxIter = this.epochs * this.iterPerEpoch;

    const wd = options.weightDecay ?? 0;
    if (typeof wd !== 'number' || !Number.isFinite(wd) || wd < 0) {
      throw new WasmCnnError(`Trainer: weightDecay must be a finite number >= 0, got ${describeValue(wd)}`);
    }
    if (wd > 0 && !Object.keys(network.params).some(isDecayed)) {
      throw new WasmCnnError(`Trainer: weightDecay decays the parameters whose names start with "W", and the network has none (its parameters: ${Object.keys(network.params).join(', ') || 'none'})`);
    }
    this.weightDecay = wd;
    const opt = options.optimizer ?? 'sgd';
    this.ownsOptimizer = typeof opt === 'string';
    this.optimizer = createOptimizer(opt, options.optimizerParam, network.backend);
    const decay = options.lrDecay ?? 1;
    if (typeof decay !== 'number' || !Number.isFinite(decay) || decay <= 0) {
      throw new WasmCnnError(`Trainer: lrDecay must be a positive number, got ${describeValue(decay)}`);
    }
    this.lrDecay = decay;
    if (decay !== 1) {
      const lr = (this.optimizer as { lr?: unknown }).lr;
      if (typeof lr !== 'number') throw new WasmCnnError(`Trainer: lrDecay needs an optimizer with a numeric lr; ${this.optimizer.name} has none`);
      this.baseLr = lr;
    }
    this.rng = new Random(this.seed);
    this.labelsHash = labelsHash(this.tTest, labelsHash(this.tTrain));
  }

  /**
   * The run's whole state as checkpoint bytes (safetensors; see src/train/checkpoint.ts):
   * model tensors, optimizer state, position, PRNG states, the current epoch's order and
   * the histories. Valid whenever no step is running (see the file head); needs an
   * optimizer with state() (the built-in ones have it).
   */
  checkpoint(options: CheckpointOptions = {}): Uint8Array {
    const where = 'Trainer.checkpoint';
    if (typeof options !== 'object' || options === null) throw new WasmCnnError(`${where}: options must be an object { app }`);
    const opt = this.optimizer;
    if (typeof opt.state !== 'function') throw new WasmCnnError(`${where}: the optimizer ${opt.name} has no state(); checkpoints need one of the built-in optimizers or one with state()/loadState()`);
    if (this.finished && this.ownsOptimizer && !this.running) {
      throw new WasmCnnError(`${where}: the run has ${this.failed ? 'failed' : 'finished'} and its optimizer state was freed; take checkpoints in onEpoch or before train() ends`);
    }
    const params = decodeSafetensors(this.network.saveParams(), { name: `${where}: the network's saveParams()` });
    let config: Record<string, unknown> | undefined;
    if (params.metadata?.config !== undefined) config = JSON.parse(params.metadata.config) as Record<string, unknown>;
    const state = opt.state();
    const position: CheckpointPosition = {
      ...this.position, step: this.currentIter, rngState: this.rng.getState(),
      modelRngState: this.network.randomState?.() ?? [],
    };
    return encodeCheckpoint({
      config,
      model: [...params.tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data })),
      optimizer: state,
      settings: {
        epochs: this.epochs, miniBatchSize: this.miniBatchSize, seed: this.seed,
        evaluateSampleNumPerEpoch: this.evaluateSampleNumPerEpoch, snapshot: this.useSnapshot,
        recomputeLoss: this.recomputeLoss, trainSize: this.trainSize, testSize: this.testSize,
        labelsHash: this.labelsHash, lrDecay: this.lrDecay, baseLr: this.baseLr, weightDecay: this.weightDecay,
      },
      position,
      order: this.position.evaluated ? null : this.order,
      history: { trainLossList: [...this.trainLossList], trainAccList: [...this.trainAccList], testAccList: [...this.testAccList] },
      app: options.app,
    });
  }

  /** The `app` data a checkpoint was written with (checkpoint({ app })), after checking the file. */
  static checkpointApp(bytes: Uint8Array): Record<string, unknown> | undefined {
    return decodeCheckpoint(bytes, 'Trainer.checkpointApp').app;
  }

  /**
   * A Trainer that continues the run of a checkpoint (trainer.checkpoint()): the model's
   * tensors, the optimizer state and position are restored, the settings (epochs, batch,
   * optimizer, seed, ...) are the checkpoint's. The data must be the same (sizes and
   * labels are checked). Give `network` (same architecture) or `backend` to rebuild the
   * model from the checkpoint's config. Everything is checked before anything changes.
   */
  static resume(bytes: Uint8Array, options: ResumeOptions): Trainer {
    const where = 'Trainer.resume';
    if (typeof options !== 'object' || options === null) throw new WasmCnnError(`${where}: options must be an object { network or backend, xTrain, tTrain, xTest, tTest }`);
    for (const key of Object.keys(options)) {
      if (!RESUME_KEYS.includes(key)) throw new WasmCnnError(`${where}: unknown option "${key}"; valid options are ${RESUME_KEYS.join(', ')}`);
    }
    const c = decodeCheckpoint(bytes, where);
    const s = c.settings;
    const name = c.optimizer.name.toLowerCase();
    if (!(OPTIMIZER_NAMES as readonly string[]).includes(name)) {
      throw new WasmCnnError(`${where}: the checkpoint's optimizer ${JSON.stringify(c.optimizer.name)} is not a built-in one; create the Trainer with it and load its state yourself`);
    }
    if (options.network && options.backend) throw new WasmCnnError(`${where}: give network or backend, not both`);
    let network = options.network;
    let built = false;
    if (!network) {
      if (!options.backend) throw new WasmCnnError(`${where}: give the network to continue training, or a backend to rebuild the checkpoint's model on`);
      if (!c.config) throw new WasmCnnError(`${where}: the checkpoint has no model config; pass the network`);
      network = modelFromConfig(c.config, { backend: options.backend });
      built = true;
    }
    try {
      const trainer = new Trainer(network, options.xTrain, options.tTrain, options.xTest, options.tTest, {
        epochs: s.epochs, miniBatchSize: s.miniBatchSize, seed: s.seed,
        evaluateSampleNumPerEpoch: s.evaluateSampleNumPerEpoch ?? undefined, snapshot: s.snapshot,
        recomputeLoss: s.recomputeLoss, optimizer: name as OptimizerName, optimizerParam: c.optimizer.hyper,
        lrDecay: s.lrDecay, weightDecay: s.weightDecay, verbose: options.verbose, onIteration: options.onIteration, onEpoch: options.onEpoch,
      });
      // the saved hyperparameters hold the decayed lr of the epoch the run stopped in
      if (s.lrDecay !== 1) trainer.baseLr = s.baseLr;
      if (trainer.trainSize !== s.trainSize || trainer.testSize !== s.testSize) {
        throw new WasmCnnError(`${where}: the checkpoint was trained on ${s.trainSize} / ${s.testSize} samples, but the data given has ${trainer.trainSize} / ${trainer.testSize}`);
      }
      if (trainer.labelsHash !== s.labelsHash) throw new WasmCnnError(`${where}: the labels differ from the checkpoint's run (another data set or order)`);
      const modelRng = c.position.modelRngState;
      const own = network.randomState?.() ?? [];
      if (modelRng.length !== own.length) throw new WasmCnnError(`${where}: the checkpoint holds ${modelRng.length} model PRNG states, the network has ${own.length}`);
      // the model's tensors go through the network's own loader: names, shapes, config checked
      const paramBytes = encodeSafetensors(c.model, c.config ? { format: 'wasm-cnn', config: JSON.stringify(c.config) } : undefined);
      const before = network.saveParams();
      network.loadParams(paramBytes);
      try {
        trainer.optimizer.loadState!(c.optimizer);
      } catch (e) {
        network.loadParams(before);
        throw e;
      }
      if (modelRng.length > 0) network.setRandomState!(modelRng);
      trainer.rng.setState(c.position.rngState);
      trainer.position = { epoch: c.position.epoch, iteration: c.position.iteration, evaluated: c.position.evaluated };
      trainer.order = c.order;
      trainer.currentIter = c.position.step;
      trainer.currentEpoch = c.history.trainAccList.length;
      trainer.trainLossList.push(...c.history.trainLossList);
      trainer.trainAccList.push(...c.history.trainAccList);
      trainer.testAccList.push(...c.history.testAccList);
      return trainer;
    } catch (e) {
      if (built) (network as { dispose?: () => void }).dispose?.();
      throw e;
    }
  }

  /** Frees the optimizer the Trainer created (kept after a stopped run for checkpoint() and train()). */
  dispose(): void {
    if (this.running) throw new WasmCnnError('Trainer.dispose: train() is running; stop() it and wait for it first');
    if (this.ownsOptimizer) this.optimizer.dispose?.();
  }

  /** Asks a running train() to return after the current step (its result says stopped); train() again continues. */
  stop(): void {
    this.stopRequested = true;
  }

  /**
   * Runs the remaining epochs: all of them on a new Trainer, the rest after stop() or
   * Trainer.resume. Rejects with DivergenceError when the loss or a parameter becomes
   * NaN/Infinity.
   */
  async train(): Promise<TrainResult> {
    if (this.running) throw new WasmCnnError('Trainer: train() is already running');
    if (this.finished) {
      throw new WasmCnnError(this.failed
        ? 'Trainer: train() failed (see its error); create a new Trainer, or resume from a checkpoint, to train again'
        : 'Trainer: train() has completed all epochs; create a new Trainer to train again');
    }
    this.running = true;
    this.stopRequested = false;
    const net = this.network;
    const backend = net.backend;
    const B = this.miniBatchSize;
    const rng = this.rng;
    const params = net.params;
    const names = Object.keys(params);
    const decayed = this.weightDecay > 0 ? names.filter(isDecayed) : [];

    let trainBatch: BatchGatherer | undefined;
    let testBatch: BatchGatherer | undefined;
    let snap: Tensor[] = [];
    const t0 = now();
    let trainMsTotal = 0;
    let stopped = false;
    let ok = false;
    const firstStep = this.currentIter;
    try {
      trainBatch = new BatchGatherer(backend, this.xTrain, this.tTrain, B,
        { sampleShape: this.sampleShape, where: 'Trainer: training set' });
      testBatch = new BatchGatherer(backend, this.xTest, this.tTest, B,
        { sampleShape: this.sampleShape, where: 'Trainer: test set' });

      const bad = firstNonFinite(backend, params, names);
      if (bad) throw new DivergenceError(`Trainer: parameter "${bad.name}" holds ${bad.count} NaN/Infinity values before training`);
      if (this.useSnapshot) {
        snap = names.map((n) => backend.empty(params[n].shape));
        copyParams(params, names, snap, 'save');
      }

      // continue after the last step done: inside its epoch, or at the next one
      const from = this.position;
      const firstEpoch = from.evaluated ? from.epoch + 1 : from.epoch;
      run: for (let epoch = firstEpoch; epoch <= this.epochs; epoch++) {
        const e0 = now();
        let trainMs = 0;
        let lossSum = 0;
        const within = epoch === from.epoch && !from.evaluated;
        if (this.baseLr !== null) (this.optimizer as unknown as { lr: number }).lr = this.baseLr * this.lrDecay ** (epoch - 1);
        if (!within) this.order = rng.permutation(this.trainSize);
        const perm = this.order!;
        // the same additions in the same order as an uninterrupted epoch
        if (within) for (let i = this.trainLossList.length - from.iteration; i < this.trainLossList.length; i++) lossSum += this.trainLossList[i];
        for (let it = within ? from.iteration + 1 : 1; it <= this.iterPerEpoch; it++) {
          const s0 = now();
          trainBatch.gather(perm, (it - 1) * B);
          const x = trainBatch.x;
          const t = trainBatch.t;
          let loss: number;
          try {
            const grads = net.gradient(x, t);
            const gradLoss = this.recomputeLoss ? 0 : (net as unknown as { lastLoss: number }).lastLoss;
            decayWeights(backend, params, grads, decayed, this.weightDecay);
            this.optimizer.update(params, grads);
            loss = this.recomputeLoss ? net.loss(x, t) : gradLoss;
          } catch (e) {
            // a step that fails half-way (an optimizer or kernel error, a worker that died)
            // must not leave some parameters updated and others not
            if (this.useSnapshot) copyParams(params, names, snap, 'restore');
            throw e;
          }
          this.trainLossList.push(loss);
          this.currentIter++;
          this.checkStep(backend, params, names, snap, loss, epoch, it);
          if (this.useSnapshot) copyParams(params, names, snap, 'save');
          this.position = { epoch, iteration: it, evaluated: false };
          trainMs += now() - s0;
          lossSum += loss;
          if (this.onIteration) {
            const r = this.onIteration({ epoch, iteration: it, iterPerEpoch: this.iterPerEpoch, step: this.currentIter, maxIter: this.maxIter, loss });
            if (r instanceof Promise) await r;
          }
          await yieldToEventLoop();
          if (this.stopRequested) {
            stopped = true;
            trainMsTotal += trainMs;
            break run;
          }
        }
        trainMsTotal += trainMs;

        const v0 = now();
        const n = this.evaluateSampleNumPerEpoch;
        const trainAcc = evaluate(net, trainBatch, n === null ? this.trainSize : Math.min(n, this.trainSize));
        const testAcc = evaluate(net, testBatch, n === null ? this.testSize : Math.min(n, this.testSize));
        this.trainAccList.push(trainAcc);
        this.testAccList.push(testAcc);
        this.currentEpoch = epoch;
        this.position = { epoch, iteration: this.iterPerEpoch, evaluated: true };
        const evalMs = now() - v0;
        const images = this.iterPerEpoch * B;
        const info: EpochInfo = {
          epoch, epochs: this.epochs, trainLoss: lossSum / this.iterPerEpoch, trainAcc, testAcc,
          images, imagesPerSecond: images / (trainMs / 1000), trainMs, evalMs,
          elapsedMs: now() - e0, totalElapsedMs: now() - t0,
        };
        if (this.verbose) {
          console.log(`=== epoch ${epoch}/${this.epochs}: train loss ${info.trainLoss.toFixed(4)}, train acc ${trainAcc.toFixed(4)}, ` +
            `test acc ${testAcc.toFixed(4)} (${Math.round(info.imagesPerSecond)} img/s, ${(info.elapsedMs / 1000).toFixed(2)} s) ===`);
        }
        if (this.onEpoch) {
          const r = this.onEpoch(info);
          if (r instanceof Promise) await r;
        }
        await yieldToEventLoop();
        if (this.stopRequested && epoch < this.epochs) {
          stopped = true;
          break;
        }
      }

      if (!stopped) {
        this.finished = true;
        const evaluatedAll = this.evaluateSampleNumPerEpoch === null || this.evaluateSampleNumPerEpoch >= this.testSize;
        this.testAcc = evaluatedAll && this.testAccList.length > 0
          ? this.testAccList[this.testAccList.length - 1]
          : evaluate(net, testBatch, this.testSize);
        if (this.verbose) console.log(`=============== Final Test Accuracy ===============\ntest acc: ${this.testAcc}`);
      }
      ok = true;
    } finally {
      if (!ok) this.finished = this.failed = true;
      trainBatch?.dispose();
      testBatch?.dispose();
      for (const s of snap) s.dispose();
      // a stopped run keeps its optimizer state for checkpoint() and the next train()
      if (this.ownsOptimizer && !(ok && stopped)) this.optimizer.dispose?.();
      this.running = false;
    }
    return {
      trainLossList: this.trainLossList,
      trainAccList: this.trainAccList,
      testAccList: this.testAccList,
      testAcc: this.testAcc,
      epochs: this.currentEpoch,
      steps: this.currentIter,
      elapsedMs: now() - t0,
      imagesPerSecond: (this.currentIter - firstStep) * B / (trainMsTotal / 1000),
      stopped,
    };
  }

  /** Throws DivergenceError (after restoring the snapshot) when the loss or a parameter is not finite. */
  private checkStep(backend: Backend, params: ParamMap, names: string[], snap: Tensor[], loss: number, epoch: number, it: number): void {
    const lossOk = Number.isFinite(loss);
    const bad = firstNonFinite(backend, params, names);
    if (lossOk && !bad) return;
    const restored = this.useSnapshot;
    if (restored) copyParams(params, names, snap, 'restore');
    const tensor = bad ? bad.name : 'loss';
    const what = bad
      ? `parameter "${bad.name}" ${fmtShape(params[bad.name].shape)} holds ${bad.count} NaN/Infinity values (loss ${loss})`
      : `the loss is ${loss} (the parameters are finite)`;
    const after = restored
      ? (this.currentIter > 1 ? `restored to their values after step ${this.currentIter - 1}` : 'restored to their initial values')
      : `NOT restored (snapshot: false)${bad ? ' and hold non-finite values' : ''}`;
    const err = new DivergenceError(
      `Trainer: training diverged at epoch ${epoch}, iteration ${it} (step ${this.currentIter} of ${this.maxIter}): ${what}. ` +
      `The parameters were ${after}. Try a smaller learning rate.`);
    const details: DivergenceDetails = { epoch, iteration: it, step: this.currentIter, loss, tensor, restored };
    throw Object.assign(err, { details });
  }
}

function firstNonFinite(backend: Backend, params: ParamMap, names: string[]): { name: string; count: number } | null {
  const k = backend.kernels;
  for (const name of names) {
    const p = params[name];
    const count = k.count_nonfinite_f32(p.ptr, p.size);
    if (count > 0) return { name, count };
  }
  return null;
}

/** Whether weightDecay applies to the parameter of this name: the weights W1, W2, ... (TrainerOptions.weightDecay). */
function isDecayed(name: string): boolean {
  return name.startsWith('W');
}

/** grads[n] += lambda * params[n] for each name (see TrainerOptions.weightDecay). */
function decayWeights(backend: Backend, params: ParamMap, grads: ParamMap, names: string[], lambda: number): void {
  for (const n of names) {
    const w = params[n];
    const g = grads[n];
    if (!g || g.size !== w.size || Backend.of(g) !== backend) {
      throw new ShapeError(`Trainer: weightDecay: the gradient of "${n}" must be a device tensor of the network's backend with ${w.size} values, got ${g ? `${fmtShape(g.shape)}${Backend.of(g) === backend ? '' : ' elsewhere'}` : 'none'}`);
    }
    backend.kernels.axpby_f32(w.ptr, g.ptr, w.size, lambda, 1);
  }
}

function copyParams(params: ParamMap, names: string[], snap: Tensor[], dir: 'save' | 'restore'): void {
  for (let i = 0; i < names.length; i++) {
    const p = params[names[i]];
    if (dir === 'save') snap[i].data.set(p.data);
    else p.data.set(snap[i].data);
  }
}

/** Accuracy of `net` on the first `count` samples of the gatherer's data set, in padded batches. */
function evaluate(net: Network, batch: BatchGatherer, count: number): number {
  const C = net.outputSize;
  const predicted = new Int32Array(batch.batchSize);
  let correct = 0;
  for (let start = 0; start < count; start += batch.batchSize) {
    const real = Math.min(batch.gatherRange(start), count - start);
    const logits = net.predictInPlace ? net.predictInPlace(batch.x) : net.predict(batch.x, false);
    argmaxRows(logits.data, real, C, predicted);
    const t = batch.t;
    for (let r = 0; r < real; r++) if (predicted[r] === t[r]) correct++;
  }
  return correct / count;
}
