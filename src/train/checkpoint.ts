/**
 * The checkpoint file: everything a Trainer needs to continue a run so that it ends
 * bit-identical to an uninterrupted one. A safetensors file (the same container as
 * parameter files, so any safetensors reader opens it):
 *
 * tensors (all F32)
 *   W1, b1, ..., running statistics   the model's tensors, named as in saveParams()
 *   optimizer.<slot>.<param>          the optimizer's state, e.g. optimizer.m.W1,
 *                                     optimizer.v.W1 (Adam), optimizer.v.W1 (Momentum),
 *                                     optimizer.h.W1 (AdaGrad, RMSprop); none for SGD
 *   trainer.order                     (trainSize,) the current epoch's sample order
 *                                     (integers < 2^24, exact in F32); only mid-epoch
 * __metadata__ (string values, each a JSON text except format and version)
 *   format    "wasm-cnn-checkpoint"
 *   version   "1"
 *   config    the model's config() (what modelFromConfig rebuilds)
 *   trainer   {epochs, miniBatchSize, seed, evaluateSampleNumPerEpoch, snapshot,
 *              recomputeLoss, trainSize, testSize, labelsHash, lrDecay, baseLr, weightDecay}:
 *              the run's settings (lrDecay 1, baseLr null and weightDecay 0 when absent:
 *              files written before them);
 *              labelsHash is FNV-1a (32 bit) of the training then test class indices
 *   optimizer {name, hyper: {lr, ...}, step}: step is the update count (Adam's t)
 *   position  {epoch, iteration, step, evaluated, rngState, modelRngState}: the last
 *              step done is `iteration` of 1-based `epoch` (global `step`); `evaluated`
 *              says that epoch's end-of-epoch evaluation is done too (the next step is
 *              then the first of epoch + 1, on a fresh order). rngState is the uint32
 *              state of the shuffle PRNG after drawing the current epoch's order;
 *              modelRngState the model's own PRNG states (dropout masks). A checkpoint
 *              before any step has epoch 0, evaluated true.
 *   history   {trainLossList, trainAccList, testAccList}: as the Trainer keeps them
 *              (JSON numbers round-trip doubles exactly)
 *   app       optional: JSON the writer attached (the CLI keeps its options there)
 *
 * decodeCheckpoint checks the file completely (format, every JSON field's type, the
 * position against the history lengths, the order being a permutation) and throws a
 * FormatError naming the field; it never returns a partial checkpoint.
 */
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from '../io/safetensors.js';
import { FormatError, WasmCnnError } from '../errors.js';

export const CHECKPOINT_FORMAT = 'wasm-cnn-checkpoint';
export const CHECKPOINT_VERSION = '1';
const OPTIMIZER_PREFIX = 'optimizer.';
const ORDER_NAME = 'trainer.order';

/** The run's settings a checkpoint fixes (a resumed run keeps them). */
export interface CheckpointSettings {
  epochs: number;
  miniBatchSize: number;
  seed: number;
  evaluateSampleNumPerEpoch: number | null;
  snapshot: boolean;
  recomputeLoss: boolean;
  trainSize: number;
  testSize: number;
  labelsHash: number;
  /** Learning-rate decay per epoch (1: none; absent in older checkpoints). */
  lrDecay: number;
  /** The lr of epoch 1 that lrDecay scales (null without decay). */
  baseLr: number | null;
  /** L2 weight decay lambda (0: none; absent in older checkpoints). */
  weightDecay: number;
}

/** Where the run stands (see the file head). */
export interface CheckpointPosition {
  epoch: number;
  iteration: number;
  step: number;
  evaluated: boolean;
  rngState: number;
  modelRngState: number[];
}

export interface CheckpointHistory {
  trainLossList: number[];
  trainAccList: number[];
  testAccList: number[];
}

/** A checkpoint's whole content, as encodeCheckpoint takes it and decodeCheckpoint returns it. */
export interface CheckpointContents {
  config: Record<string, unknown> | undefined;
  /** The model's tensors (parameters, then buffers), as its saveParams() writes them. */
  model: SafetensorsTensor[];
  optimizer: { name: string; hyper: Record<string, number>; step: number; tensors: Record<string, { shape: number[]; data: Float32Array }> };
  settings: CheckpointSettings;
  position: CheckpointPosition;
  /** The current epoch's order; null at an epoch boundary. */
  order: Int32Array | null;
  history: CheckpointHistory;
  app?: Record<string, unknown>;
}

/** Steps per epoch, as the Trainer counts them. */
export function iterationsPerEpoch(trainSize: number, miniBatchSize: number): number {
  return Math.max(Math.floor(trainSize / miniBatchSize), 1);
}

/** FNV-1a over class indices (each as 4 little-endian bytes), chained from `h`. */
export function labelsHash(labels: ArrayLike<number>, h = 0x811c9dc5): number {
  for (let i = 0; i < labels.length; i++) {
    let v = labels[i] >>> 0;
    for (let b = 0; b < 4; b++) {
      h = Math.imul(h ^ (v & 0xff), 0x01000193) >>> 0;
      v >>>= 8;
    }
  }
  return h >>> 0;
}

export function encodeCheckpoint(c: CheckpointContents): Uint8Array {
  const tensors: SafetensorsTensor[] = [...c.model];
  for (const [name, t] of Object.entries(c.optimizer.tensors)) tensors.push({ name: OPTIMIZER_PREFIX + name, shape: t.shape, data: t.data });
  if (c.order) tensors.push({ name: ORDER_NAME, shape: [c.order.length], data: Float32Array.from(c.order) });
  const metadata: Record<string, string> = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    trainer: JSON.stringify(c.settings),
    optimizer: JSON.stringify({ name: c.optimizer.name, hyper: c.optimizer.hyper, step: c.optimizer.step }),
    position: JSON.stringify(c.position),
    history: JSON.stringify(c.history),
  };
  if (c.config) metadata.config = JSON.stringify(c.config);
  if (c.app) metadata.app = JSON.stringify(c.app);
  return encodeSafetensors(tensors, metadata);
}

/** Parses and checks a checkpoint; FormatError (starting with `where`) on anything wrong. */
export function decodeCheckpoint(bytes: Uint8Array, where: string): CheckpointContents {
  if (!(bytes instanceof Uint8Array)) throw new WasmCnnError(`${where}: expected the bytes of a checkpoint (Uint8Array)`);
  let decoded: ReturnType<typeof decodeSafetensors>;
  try {
    decoded = decodeSafetensors(bytes, { name: `${where}: not a valid safetensors file` });
  } catch (e) {
    if (e instanceof WasmCnnError) throw e;
    throw new FormatError(`${where}: not a valid safetensors file: ${(e as Error)?.message ?? String(e)}`);
  }
  const md = decoded.metadata ?? {};
  const fail = (msg: string): never => { throw new FormatError(`${where}: ${msg}`); };
  if (md.format !== CHECKPOINT_FORMAT) {
    fail(md.format === 'wasm-cnn'
      ? 'this is a parameter file, not a checkpoint (it has no optimizer state or position); load it with loadParams'
      : `__metadata__.format is ${JSON.stringify(md.format ?? null)}, not "${CHECKPOINT_FORMAT}"`);
  }
  if (md.version !== CHECKPOINT_VERSION) fail(`__metadata__.version is ${JSON.stringify(md.version ?? null)}; this wasm-cnn reads version ${CHECKPOINT_VERSION}`);
  const json = (key: string): Record<string, unknown> => {
    const text = md[key];
    if (text === undefined) fail(`__metadata__ has no "${key}"`);
    let v: unknown;
    try {
      v = JSON.parse(text!);
    } catch (e) {
      fail(`__metadata__.${key} is not valid JSON: ${(e as Error).message}`);
    }
    if (!v || typeof v !== 'object' || Array.isArray(v)) fail(`__metadata__.${key} must be a JSON object`);
    return v as Record<string, unknown>;
  };
  const int = (o: Record<string, unknown>, obj: string, k: string, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(`__metadata__.${obj}.${k} must be an integer in [${min}, ${max}], got ${JSON.stringify(v ?? null)}`);
    return v as number;
  };
  const bool = (o: Record<string, unknown>, obj: string, k: string): boolean => {
    if (typeof o[k] !== 'boolean') fail(`__metadata__.${obj}.${k} must be true or false, got ${JSON.stringify(o[k] ?? null)}`);
    return o[k] as boolean;
  };
  /** A finite number of trainer.<k>, > 0 or (zero: true) >= 0. */
  const trainerNumber = (o: Record<string, unknown>, k: string, zero = false): number => {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || (zero ? v < 0 : v <= 0)) {
      fail(`__metadata__.trainer.${k} must be ${zero ? 'a finite number >= 0' : 'a positive number'}, got ${JSON.stringify(v ?? null)}`);
    }
    return v as number;
  };
  const numbers = (o: Record<string, unknown>, obj: string, k: string): number[] => {
    const v = o[k];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'number' || !Number.isFinite(x))) fail(`__metadata__.${obj}.${k} must be an array of finite numbers`);
    return v as number[];
  };

  const t = json('trainer');
  const ev = t.evaluateSampleNumPerEpoch;
  const settings: CheckpointSettings = {
    epochs: int(t, 'trainer', 'epochs', 1),
    miniBatchSize: int(t, 'trainer', 'miniBatchSize', 1),
    seed: typeof t.seed === 'number' && Number.isFinite(t.seed) ? t.seed : fail('__metadata__.trainer.seed must be a finite number'),
    evaluateSampleNumPerEpoch: ev === null ? null : int(t, 'trainer', 'evaluateSampleNumPerEpoch', 1),
    snapshot: bool(t, 'trainer', 'snapshot'),
    recomputeLoss: bool(t, 'trainer', 'recomputeLoss'),
    trainSize: int(t, 'trainer', 'trainSize', 1, 1 << 24),
    testSize: int(t, 'trainer', 'testSize', 1),
    labelsHash: int(t, 'trainer', 'labelsHash', 0, 0xffffffff),
    lrDecay: t.lrDecay === undefined ? 1 : trainerNumber(t, 'lrDecay'),
    baseLr: t.baseLr === undefined || t.baseLr === null ? null : trainerNumber(t, 'baseLr'),
    weightDecay: t.weightDecay === undefined ? 0 : trainerNumber(t, 'weightDecay', true),
  };
  if (settings.lrDecay !== 1 && settings.baseLr === null) fail('__metadata__.trainer.baseLr must be a positive number when lrDecay is not 1');
  const o = json('optimizer');
  if (typeof o.name !== 'string') fail('__metadata__.optimizer.name must be a string');
  const hyperIn = o.hyper;
  if (!hyperIn || typeof hyperIn !== 'object' || Array.isArray(hyperIn) ||
    Object.values(hyperIn).some((x) => typeof x !== 'number' || !Number.isFinite(x))) fail('__metadata__.optimizer.hyper must be an object of finite numbers');
  const p = json('position');
  const position: CheckpointPosition = {
    epoch: int(p, 'position', 'epoch', 0, settings.epochs),
    iteration: int(p, 'position', 'iteration', 0),
    step: int(p, 'position', 'step', 0),
    evaluated: bool(p, 'position', 'evaluated'),
    rngState: int(p, 'position', 'rngState', 0, 0xffffffff),
    modelRngState: numbers(p, 'position', 'modelRngState'),
  };
  if (position.modelRngState.some((s) => !Number.isInteger(s) || s < 0 || s > 0xffffffff)) fail('__metadata__.position.modelRngState must hold uint32 states');
  const h = json('history');
  const history: CheckpointHistory = {
    trainLossList: numbers(h, 'history', 'trainLossList'),
    trainAccList: numbers(h, 'history', 'trainAccList'),
    testAccList: numbers(h, 'history', 'testAccList'),
  };

  // the position must agree with itself and with the history
  const ipe = iterationsPerEpoch(settings.trainSize, settings.miniBatchSize);
  const { epoch, iteration, evaluated } = position;
  if (epoch === 0 ? !(evaluated && iteration === 0) : (iteration < 1 || iteration > ipe || (evaluated && iteration !== ipe))) {
    fail(`__metadata__.position is inconsistent: epoch ${epoch}, iteration ${iteration} of ${ipe}, evaluated ${evaluated}`);
  }
  const steps = epoch === 0 ? 0 : (epoch - 1) * ipe + iteration;
  if (position.step !== steps) fail(`__metadata__.position.step is ${position.step}, but epoch ${epoch} iteration ${iteration} makes ${steps}`);
  if (history.trainLossList.length !== steps) fail(`__metadata__.history.trainLossList has ${history.trainLossList.length} entries for ${steps} steps`);
  const evals = evaluated ? epoch : epoch - 1;
  if (history.trainAccList.length !== evals || history.testAccList.length !== evals) {
    fail(`__metadata__.history has ${history.trainAccList.length} / ${history.testAccList.length} accuracies for ${evals} evaluated epochs`);
  }

  const model: SafetensorsTensor[] = [];
  const optTensors: CheckpointContents['optimizer']['tensors'] = {};
  let order: Int32Array | null = null;
  for (const [name, tensor] of decoded.tensors) {
    if (name === ORDER_NAME) {
      order = orderFrom(tensor.data, settings.trainSize, fail);
    } else if (name.startsWith(OPTIMIZER_PREFIX)) {
      optTensors[name.slice(OPTIMIZER_PREFIX.length)] = { shape: [...tensor.shape], data: tensor.data };
    } else {
      model.push({ name, shape: [...tensor.shape], data: tensor.data });
    }
  }
  const midEpoch = !evaluated;
  if (midEpoch !== (order !== null)) fail(midEpoch ? `the position is inside epoch ${epoch} but the file has no "${ORDER_NAME}"` : `the file has "${ORDER_NAME}" but the position is at an epoch boundary`);
  let config: Record<string, unknown> | undefined;
  if (md.config !== undefined) config = json('config');
  let app: Record<string, unknown> | undefined;
  if (md.app !== undefined) app = json('app');
  return {
    config, model, settings, position, order, history, app,
    optimizer: { name: o.name as string, hyper: { ...(hyperIn as Record<string, number>) }, step: int(o, 'optimizer', 'step', 0), tensors: optTensors },
  };
}

function orderFrom(data: Float32Array, n: number, fail: (msg: string) => never): Int32Array {
  if (data.length !== n) fail(`"${ORDER_NAME}" holds ${data.length} values for ${n} training samples`);
  const seen = new Uint8Array(n);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const v = data[i];
    if (!Number.isInteger(v) || v < 0 || v >= n || seen[v]) fail(`"${ORDER_NAME}" is not a permutation of 0..${n - 1} (value ${v} at index ${i})`);
    seen[v] = 1;
    order[i] = v;
  }
  return order;
}
