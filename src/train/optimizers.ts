/**
 * The course's optimizers (common/optimizer.py), updating parameters in place through
 * the backend's kernels (sgd_f32 ... adam_f32, see src/backend/kernels.ts):
 *
 *   SGD       p -= lr * g                                           lr 0.01
 *   Momentum  v = m * v - lr * g; p += v                            lr 0.01, momentum 0.9
 *   Nesterov  v = m * v - lr * g; p += m*m*v - (1 + m) * lr * g     lr 0.01, momentum 0.9
 *   AdaGrad   h += g*g; p -= lr * g / (sqrt(h) + 1e-7)              lr 0.01
 *   RMSprop   h = d*h + (1-d)*g*g; p -= lr * g / (sqrt(h) + 1e-7)   lr 0.01, decayRate 0.99
 *   Adam      m += (1-b1)(g-m); v += (1-b2)(g*g-v);                 lr 0.001, beta1 0.9, beta2 0.999
 *             p -= lr_t * m / (sqrt(v) + 1e-7), lr_t = lr*sqrt(1-b2^t)/(1-b1^t)
 *
 * State tensors (v, h, m) are allocated on the backend, zeroed, once per parameter on
 * the first update, and reused; dispose() frees them. Parameters and gradients must be
 * device tensors of one backend; the optimizer takes it from them on the first update
 * (as in the course: `new Adam({ lr: 0.001 }).update(net.params, grads)`), and refuses
 * tensors of another backend afterwards.
 *
 * Checkpoints: state() copies everything an optimizer needs to continue exactly where it
 * is (its name, hyperparameters, update count and, per parameter, its state tensors named
 * "<slot>.<param>": "v.W1" for Momentum/Nesterov, "h.W1" for AdaGrad/RMSprop, "m.W1" and
 * "v.W1" for Adam); loadState() on a fresh optimizer of the same kind continues from it
 * bit for bit. loadState validates everything before changing anything.
 */
import { Backend } from '../backend/backend.js';
import type { Kernels } from '../backend/kernels.js';
import type { ParamMap } from '../models/sequential.js';
import { Tensor, fmtShape } from '../tensor.js';
import { ShapeError, WasmCnnError, describeValue } from '../errors.js';

/** Anything that updates parameters from gradients; the Trainer accepts any such object. */
export interface Optimizer {
  /** Display name ("Adam"). */
  readonly name: string;
  /** Updates every parameter in `params` in place from the gradient of the same name. */
  update(params: ParamMap, grads: ParamMap): void;
  /** Attaches the backend whose kernels run the update (called by the Trainer when present). */
  bind?(backend: Backend): void;
  /** Zeroes the state (moments, step count) as if no update had happened. */
  reset?(): void;
  /** Frees the state tensors. */
  dispose?(): void;
  /** A host copy of the whole state (moments, update count, hyperparameters), for checkpoints. */
  state?(): OptimizerState;
  /** Continues from a state() of the same kind of optimizer; validates it before changing anything. */
  loadState?(state: OptimizerState): void;
}

/** What Optimizer.state() returns and loadState() takes. */
export interface OptimizerState {
  /** The optimizer's name ("Adam"). */
  name: string;
  /** Its hyperparameters (lr, momentum, decayRate, beta1, beta2 as they apply). */
  hyper: Record<string, number>;
  /** Updates done (Adam's t of beta^t). */
  step: number;
  /** State tensors by "<slot>.<param>" (e.g. "m.W1"), host copies. */
  tensors: Record<string, { shape: number[]; data: Float32Array }>;
}

export const OPTIMIZER_NAMES = ['sgd', 'momentum', 'nesterov', 'adagrad', 'rmsprop', 'adam'] as const;
/** The optimizers by name, as createOptimizer and the Trainer's `optimizer` option take them. */
export type OptimizerName = (typeof OPTIMIZER_NAMES)[number];

/** Options of SGD (lr 0.01 by default). */
export interface SGDOptions { lr?: number; backend?: Backend }
/** Options of Momentum and Nesterov (lr 0.01, momentum 0.9 by default). */
export interface MomentumOptions { lr?: number; momentum?: number; backend?: Backend }
/** Options of AdaGrad (lr 0.01 by default). */
export interface AdaGradOptions { lr?: number; backend?: Backend }
/** Options of RMSprop (lr 0.01, decayRate 0.99 by default). */
export interface RMSpropOptions {
  lr?: number;
  decayRate?: number;
  /** The course's spelling of decayRate. */
  decay_rate?: number;
  backend?: Backend;
}
/** Options of Adam (lr 0.001, beta1 0.9, beta2 0.999 by default). */
export interface AdamOptions { lr?: number; beta1?: number; beta2?: number; backend?: Backend }

/** Hyperparameters for createOptimizer / Trainer's optimizerParam (which keys apply depends on the optimizer). */
export interface OptimizerParams {
  lr?: number;
  momentum?: number;
  decayRate?: number;
  decay_rate?: number;
  beta1?: number;
  beta2?: number;
}

type Check = 'positive' | 'unit';

/** Validates an options object against the allowed keys; returns the numeric values with defaults filled in. */
function readOptions<K extends string>(
  where: string, given: object | undefined, defaults: Record<K, number>, checks: Record<K, Check>,
  aliases: Record<string, NoInfer<K>> = {},
): Record<K, number> {
  const out = { ...defaults };
  if (given === undefined) return out;
  if (typeof given !== 'object' || given === null) throw new WasmCnnError(`${where}: options must be an object, got ${describeValue(given)}`);
  const valid = [...Object.keys(defaults), ...Object.keys(aliases)];
  for (const [key, value] of Object.entries(given)) {
    if (key === 'backend' || value === undefined) continue;
    const name = (key in defaults ? key : aliases[key]) as K | undefined;
    if (name === undefined) {
      throw new WasmCnnError(`${where}: unknown option "${key}"; valid options are ${valid.join(', ')}`);
    }
    checkValue(where, key, value, checks[name]);
    out[name] = value as number;
  }
  return out;
}

function checkValue(where: string, key: string, value: unknown, check: Check): void {
  const ok = typeof value === 'number' && Number.isFinite(value) &&
    (check === 'positive' ? value > 0 : value >= 0 && value < 1);
  if (!ok) {
    const want = check === 'positive' ? 'a positive finite number' : 'a number in [0, 1)';
    throw new WasmCnnError(`${where}: ${key} must be ${want}, got ${describeValue(value)}`);
  }
}

interface Slot {
  /** The parameter this state belongs to (its size must not change). */
  size: number;
  state: Tensor[];
}

/** Shared machinery: backend binding, argument checks, lazily allocated state per parameter. */
abstract class KernelOptimizer implements Optimizer {
  abstract readonly name: string;
  protected backend: Backend | undefined;
  private slots = new Map<string, Slot>();
  /** Names of the state tensors per parameter (none for SGD), as state() names them. */
  protected abstract readonly stateNames: readonly string[];
  /** The hyperparameters, as state() reports them. */
  protected abstract hyper(): Record<string, number>;

  constructor(backend: Backend | undefined) {
    this.backend = backend;
  }

  bind(backend: Backend): void {
    if (this.backend === backend) return;
    if (this.backend && this.slots.size > 0) {
      throw new WasmCnnError(`${this.name}: already holds state on another backend; dispose() it or create a new optimizer`);
    }
    this.backend = backend;
  }

  update(params: ParamMap, grads: ParamMap): void {
    if (!params || typeof params !== 'object') throw new WasmCnnError(`${this.name}.update: params must be an object of parameter tensors (net.params), got ${describeValue(params)}`);
    if (!grads || typeof grads !== 'object') throw new WasmCnnError(`${this.name}.update: grads must be an object of gradient tensors (net.gradient(x, t)), got ${describeValue(grads)}`);
    const keys = Object.keys(params);
    const backend = this.backend ?? this.backendOf(params, keys);
    // check everything first so that a bad call changes nothing
    for (const key of keys) this.checkPair(backend, key, params[key], grads[key]);
    this.beginStep();
    this.updates++;
    const k = backend.kernels;
    for (const key of keys) {
      const p = params[key];
      this.apply(k, p, grads[key], this.stateFor(backend, key, p));
    }
  }

  reset(): void {
    if (this.backend) {
      for (const slot of this.slots.values()) for (const s of slot.state) this.backend.kernels.fill_f32(s.ptr, s.size, 0);
    }
    this.resetStep();
  }

  dispose(): void {
    for (const slot of this.slots.values()) for (const s of slot.state) s.dispose();
    this.slots.clear();
    this.resetStep();
  }

  /** A host copy of the state: hyperparameters, update count, every state tensor ("m.W1", ...). */
  state(): OptimizerState {
    const tensors: OptimizerState['tensors'] = {};
    for (const [key, slot] of this.slots) {
      slot.state.forEach((t, i) => { tensors[`${this.stateNames[i]}.${key}`] = { shape: [...t.shape], data: t.toArray() }; });
    }
    return { name: this.name, hyper: this.hyper(), step: this.stepCount, tensors };
  }

  /**
   * Continues from `state` (from state() of an optimizer of the same name): replaces the
   * state tensors and the update count; the hyperparameters stay this optimizer's. Needs
   * a backend (given to the constructor, bound, or taken by an earlier update). Everything
   * is checked before anything changes.
   */
  loadState(state: OptimizerState): void {
    const where = `${this.name}.loadState`;
    if (!state || typeof state !== 'object') throw new WasmCnnError(`${where}: expected an object from state(), got ${describeValue(state)}`);
    if (state.name !== this.name) throw new WasmCnnError(`${where}: the state is of ${describeValue(state.name)}, not ${this.name}`);
    if (!Number.isSafeInteger(state.step) || state.step < 0) throw new WasmCnnError(`${where}: step must be a non-negative integer, got ${describeValue(state.step)}`);
    const backend = this.backend;
    if (!backend) throw new WasmCnnError(`${where}: no backend yet; pass { backend } to the constructor or bind(backend) first`);
    if (!state.tensors || typeof state.tensors !== 'object') throw new WasmCnnError(`${where}: tensors must be an object of state tensors`);
    const byParam = new Map<string, { shape: number[]; data: Float32Array }[]>();
    for (const [name, t] of Object.entries(state.tensors)) {
      const dot = name.indexOf('.');
      const slot = this.stateNames.indexOf(name.slice(0, dot));
      if (dot < 0 || slot < 0) {
        throw new WasmCnnError(`${where}: unknown state tensor "${name}"; ${this.name} keeps ${this.stateNames.length ? this.stateNames.map((n) => `"${n}.<param>"`).join(', ') : 'none'}`);
      }
      if (!t || !(t.data instanceof Float32Array) || !Array.isArray(t.shape) || t.shape.reduce((a, d) => a * d, 1) !== t.data.length) {
        throw new WasmCnnError(`${where}: state tensor "${name}" must be { shape, data: Float32Array } with shape matching the data`);
      }
      for (let i = 0; i < t.data.length; i++) {
        if (!Number.isFinite(t.data[i])) throw new WasmCnnError(`${where}: state tensor "${name}" has a non-finite value (${t.data[i]}) at index ${i}`);
      }
      const key = name.slice(dot + 1);
      const list = byParam.get(key) ?? [];
      list[slot] = t;
      byParam.set(key, list);
    }
    for (const [key, list] of byParam) {
      for (let i = 0; i < this.stateNames.length; i++) {
        if (!list[i]) throw new WasmCnnError(`${where}: parameter "${key}" has no state tensor "${this.stateNames[i]}.${key}"`);
        if (list[i].data.length !== list[0].data.length) throw new ShapeError(`${where}: the state tensors of "${key}" differ in size`);
      }
    }
    for (const slot of this.slots.values()) for (const s of slot.state) s.dispose();
    this.slots.clear();
    for (const [key, list] of byParam) {
      const tensors = list.map((t) => {
        const d = backend.empty(t.shape);
        d.data.set(t.data);
        return d;
      });
      this.slots.set(key, { size: list[0].data.length, state: tensors });
    }
    this.stepCount = state.step;
  }

  /** Updates done, as state() reports it (Adam's t). */
  protected get stepCount(): number { return this.updates; }
  protected set stepCount(n: number) { this.updates = n; }
  private updates = 0;

  /** The one backend the parameters live on; bound for every later update. */
  private backendOf(params: ParamMap, keys: string[]): Backend {
    let found: Backend | undefined;
    let foundKey = '';
    for (const key of keys) {
      const p = params[key];
      const b = p instanceof Tensor ? Backend.of(p) : undefined;
      if (!b) throw new WasmCnnError(`${this.name}: parameter "${key}" is not a device tensor of a backend (pass the model's params, net.params)`);
      if (found && b !== found) {
        throw new WasmCnnError(`${this.name}: parameters "${foundKey}" and "${key}" live on two different backends; one optimizer updates the parameters of one backend`);
      }
      found = b;
      foundKey = key;
    }
    if (!found) throw new WasmCnnError(`${this.name}.update: params is empty`);
    this.backend = found;
    return found;
  }

  /** Called once per update() before the parameters are visited. */
  protected beginStep(): void {}
  protected resetStep(): void { this.updates = 0; }
  protected abstract apply(k: Kernels, p: Tensor, g: Tensor, state: Tensor[]): void;

  private checkPair(backend: Backend, key: string, p: Tensor, g: Tensor | undefined): void {
    if (!g) throw new WasmCnnError(`${this.name}: no gradient for parameter "${key}"`);
    if (p.memory !== backend.memory) throw new WasmCnnError(`${this.name}: parameter "${key}" is not a tensor on the optimizer's ${backend.name} backend`);
    if (g.memory !== backend.memory) throw new WasmCnnError(`${this.name}: gradient "${key}" is not a tensor on the optimizer's ${backend.name} backend`);
    if (g.size !== p.size) {
      throw new ShapeError(`${this.name}: gradient "${key}" has shape ${fmtShape(g.shape)}, but the parameter has shape ${fmtShape(p.shape)}`);
    }
    const slot = this.slots.get(key);
    if (slot && slot.size !== p.size) {
      throw new ShapeError(`${this.name}: parameter "${key}" now has ${p.size} values, but had ${slot.size} at the first update; create a new optimizer`);
    }
  }

  private stateFor(backend: Backend, key: string, p: Tensor): Tensor[] {
    let slot = this.slots.get(key);
    if (!slot) {
      const state: Tensor[] = [];
      for (let i = 0; i < this.stateNames.length; i++) state.push(backend.zeros(p.shape));
      slot = { size: p.size, state };
      this.slots.set(key, slot);
    }
    return slot.state;
  }
}

/** Stochastic gradient descent: p -= lr * g. */
export class SGD extends KernelOptimizer {
  readonly name = 'SGD';
  protected readonly stateNames = [] as const;
  lr: number;

  constructor(options: SGDOptions = {}) {
    super(options?.backend);
    const o = readOptions('SGD', options, { lr: 0.01 }, { lr: 'positive' });
    this.lr = o.lr;
  }

  protected apply(k: Kernels, p: Tensor, g: Tensor): void {
    k.sgd_f32(p.ptr, g.ptr, p.size, this.lr);
  }

  protected hyper(): Record<string, number> { return { lr: this.lr }; }
}

/** Momentum SGD: v = momentum * v - lr * g; p += v. */
export class Momentum extends KernelOptimizer {
  readonly name: string = 'Momentum';
  protected readonly stateNames = ['v'] as const;
  lr: number;
  momentum: number;

  constructor(options: MomentumOptions = {}) {
    super(options?.backend);
    const o = readOptions(new.target.name, options, { lr: 0.01, momentum: 0.9 }, { lr: 'positive', momentum: 'unit' });
    this.lr = o.lr;
    this.momentum = o.momentum;
  }

  protected apply(k: Kernels, p: Tensor, g: Tensor, [v]: Tensor[]): void {
    k.momentum_f32(p.ptr, g.ptr, v.ptr, p.size, this.lr, this.momentum);
  }

  protected hyper(): Record<string, number> { return { lr: this.lr, momentum: this.momentum }; }
}

/** Nesterov's accelerated gradient, in the course's form. */
export class Nesterov extends Momentum {
  override readonly name: string = 'Nesterov';

  protected override apply(k: Kernels, p: Tensor, g: Tensor, [v]: Tensor[]): void {
    k.nesterov_f32(p.ptr, g.ptr, v.ptr, p.size, this.lr, this.momentum);
  }
}

/** AdaGrad: h += g * g; p -= lr * g / (sqrt(h) + 1e-7). */
export class AdaGrad extends KernelOptimizer {
  readonly name = 'AdaGrad';
  protected readonly stateNames = ['h'] as const;
  lr: number;

  constructor(options: AdaGradOptions = {}) {
    super(options?.backend);
    this.lr = readOptions('AdaGrad', options, { lr: 0.01 }, { lr: 'positive' }).lr;
  }

  protected apply(k: Kernels, p: Tensor, g: Tensor, [h]: Tensor[]): void {
    k.adagrad_f32(p.ptr, g.ptr, h.ptr, p.size, this.lr);
  }

  protected hyper(): Record<string, number> { return { lr: this.lr }; }
}

/** RMSprop: h = decayRate * h + (1 - decayRate) * g * g; p -= lr * g / (sqrt(h) + 1e-7). */
export class RMSprop extends KernelOptimizer {
  readonly name = 'RMSprop';
  protected readonly stateNames = ['h'] as const;
  lr: number;
  decayRate: number;

  constructor(options: RMSpropOptions = {}) {
    super(options?.backend);
    if (options?.decayRate !== undefined && options?.decay_rate !== undefined) {
      throw new WasmCnnError('RMSprop: give decayRate or decay_rate, not both');
    }
    const o = readOptions('RMSprop', options, { lr: 0.01, decayRate: 0.99 }, { lr: 'positive', decayRate: 'unit' },
      { decay_rate: 'decayRate' });
    this.lr = o.lr;
    this.decayRate = o.decayRate;
  }

  protected apply(k: Kernels, p: Tensor, g: Tensor, [h]: Tensor[]): void {
    k.rmsprop_f32(p.ptr, g.ptr, h.ptr, p.size, this.lr, this.decayRate);
  }

  protected hyper(): Record<string, number> { return { lr: this.lr, decayRate: this.decayRate }; }
}

/** Adam (Kingma & Ba), in the course's form with the bias correction folded into lr_t. */
export class Adam extends KernelOptimizer {
  readonly name = 'Adam';
  protected readonly stateNames = ['m', 'v'] as const;
  lr: number;
  beta1: number;
  beta2: number;
  /** Updates done so far (the t of beta^t). */
  iter = 0;
  private lrt = 0;

  constructor(options: AdamOptions = {}) {
    super(options?.backend);
    const o = readOptions('Adam', options, { lr: 0.001, beta1: 0.9, beta2: 0.999 },
      { lr: 'positive', beta1: 'unit', beta2: 'unit' });
    this.lr = o.lr;
    this.beta1 = o.beta1;
    this.beta2 = o.beta2;
  }

  protected override beginStep(): void {
    this.iter++;
    this.lrt = this.lr * Math.sqrt(1 - this.beta2 ** this.iter) / (1 - this.beta1 ** this.iter);
  }

  protected override resetStep(): void {
    this.iter = 0;
  }

  protected override get stepCount(): number { return this.iter; }
  protected override set stepCount(n: number) { this.iter = n; }

  protected hyper(): Record<string, number> { return { lr: this.lr, beta1: this.beta1, beta2: this.beta2 }; }

  protected apply(k: Kernels, p: Tensor, g: Tensor, [m, v]: Tensor[]): void {
    k.adam_f32(p.ptr, g.ptr, m.ptr, v.ptr, p.size, this.lrt, this.beta1, this.beta2);
  }
}

const CLASSES: Record<OptimizerName, new (o: OptimizerParams & { backend?: Backend }) => Optimizer> = {
  sgd: SGD,
  momentum: Momentum,
  nesterov: Nesterov,
  adagrad: AdaGrad,
  rmsprop: RMSprop,
  adam: Adam,
};

function isOptimizer(x: unknown): x is Optimizer {
  return typeof x === 'object' && x !== null && typeof (x as Optimizer).update === 'function';
}

/**
 * An optimizer by name (case-insensitive: sgd, momentum, nesterov, adagrad, rmsprop,
 * adam) with the given hyperparameters (unset ones take the course's defaults), or the
 * given instance itself (then `params` must be empty). Binds `backend` when given.
 */
export function createOptimizer(nameOrInstance: string | Optimizer, params?: OptimizerParams, backend?: Backend): Optimizer {
  let opt: Optimizer;
  if (isOptimizer(nameOrInstance)) {
    if (params && Object.keys(params).length > 0) {
      throw new WasmCnnError(`createOptimizer: hyperparameters (${Object.keys(params).join(', ')}) apply only when the optimizer is given by name; set them on the ${nameOrInstance.name} instance instead`);
    }
    opt = nameOrInstance;
  } else if (typeof nameOrInstance === 'string') {
    const cls = CLASSES[nameOrInstance.toLowerCase() as OptimizerName];
    if (!Object.prototype.hasOwnProperty.call(CLASSES, nameOrInstance.toLowerCase()) || !cls) {
      throw new WasmCnnError(`createOptimizer: unknown optimizer ${JSON.stringify(nameOrInstance)}; valid names are ${OPTIMIZER_NAMES.join(', ')}`);
    }
    if (params !== undefined && (typeof params !== 'object' || params === null)) {
      throw new WasmCnnError(`createOptimizer: hyperparameters must be an object, got ${String(params)}`);
    }
    if (params && 'backend' in params) {
      throw new WasmCnnError('createOptimizer: pass the backend as the third argument, not among the hyperparameters');
    }
    opt = new cls({ ...params });
  } else {
    throw new WasmCnnError(`createOptimizer: expected an optimizer name (${OPTIMIZER_NAMES.join(', ')}) or an object with update(params, grads), got ${String(nameOrInstance)}`);
  }
  if (backend) opt.bind?.(backend);
  return opt;
}
