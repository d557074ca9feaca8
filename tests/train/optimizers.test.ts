import { describe, it, expect, beforeAll } from 'vitest';
import { createBackend } from '../../src/backend/create.js';
import type { Backend } from '../../src/backend/backend.js';
import { tensor, type Tensor } from '../../src/tensor.js';
import {
  SGD, Momentum, Nesterov, AdaGrad, RMSprop, Adam, createOptimizer, OPTIMIZER_NAMES, type Optimizer,
} from '../../src/train/optimizers.js';
import { BACKENDS, randomF32, maxRelErr } from '../helpers/harness.js';

// ---- plain-JS transcriptions of the course's common/optimizer.py (float64) ----------
type Arr = Float64Array;
type Ref = { update(params: Record<string, Arr>, grads: Record<string, Arr>): void };

const zerosLike = (p: Record<string, Arr>) => Object.fromEntries(Object.entries(p).map(([k, a]) => [k, new Float64Array(a.length)]));

function refSGD(lr = 0.01): Ref {
  return { update(params, grads) { for (const k in params) for (let i = 0; i < params[k].length; i++) params[k][i] -= lr * grads[k][i]; } };
}
function refMomentum(lr = 0.01, momentum = 0.9): Ref {
  let v: Record<string, Arr> | null = null;
  return {
    update(params, grads) {
      v ??= zerosLike(params);
      for (const k in params) for (let i = 0; i < params[k].length; i++) {
        v[k][i] = momentum * v[k][i] - lr * grads[k][i];
        params[k][i] += v[k][i];
      }
    },
  };
}
function refNesterov(lr = 0.01, momentum = 0.9): Ref {
  let v: Record<string, Arr> | null = null;
  return {
    update(params, grads) {
      v ??= zerosLike(params);
      for (const k in params) for (let i = 0; i < params[k].length; i++) {
        v[k][i] *= momentum;
        v[k][i] -= lr * grads[k][i];
        params[k][i] += momentum * momentum * v[k][i];
        params[k][i] -= (1 + momentum) * lr * grads[k][i];
      }
    },
  };
}
function refAdaGrad(lr = 0.01): Ref {
  let h: Record<string, Arr> | null = null;
  return {
    update(params, grads) {
      h ??= zerosLike(params);
      for (const k in params) for (let i = 0; i < params[k].length; i++) {
        h[k][i] += grads[k][i] * grads[k][i];
        params[k][i] -= lr * grads[k][i] / (Math.sqrt(h[k][i]) + 1e-7);
      }
    },
  };
}
function refRMSprop(lr = 0.01, decayRate = 0.99): Ref {
  let h: Record<string, Arr> | null = null;
  return {
    update(params, grads) {
      h ??= zerosLike(params);
      for (const k in params) for (let i = 0; i < params[k].length; i++) {
        h[k][i] *= decayRate;
        h[k][i] += (1 - decayRate) * grads[k][i] * grads[k][i];
        params[k][i] -= lr * grads[k][i] / (Math.sqrt(h[k][i]) + 1e-7);
      }
    },
  };
}
function refAdam(lr = 0.001, beta1 = 0.9, beta2 = 0.999): Ref {
  let m: Record<string, Arr> | null = null;
  let v: Record<string, Arr> | null = null;
  let iter = 0;
  return {
    update(params, grads) {
      m ??= zerosLike(params);
      v ??= zerosLike(params);
      iter++;
      const lrT = lr * Math.sqrt(1.0 - beta2 ** iter) / (1.0 - beta1 ** iter);
      for (const k in params) for (let i = 0; i < params[k].length; i++) {
        m[k][i] += (1 - beta1) * (grads[k][i] - m[k][i]);
        v[k][i] += (1 - beta2) * (grads[k][i] ** 2 - v[k][i]);
        params[k][i] -= lrT * m[k][i] / (Math.sqrt(v[k][i]) + 1e-7);
      }
    },
  };
}

const CASES: { name: string; make: (b: Backend) => Optimizer; ref: () => Ref }[] = [
  { name: 'SGD (default lr 0.01)', make: (backend) => new SGD({ backend }), ref: () => refSGD() },
  { name: 'SGD lr 0.1', make: (backend) => new SGD({ lr: 0.1, backend }), ref: () => refSGD(0.1) },
  { name: 'Momentum (defaults)', make: (backend) => new Momentum({ backend }), ref: () => refMomentum() },
  { name: 'Momentum lr 0.05 m 0.5', make: (backend) => new Momentum({ lr: 0.05, momentum: 0.5, backend }), ref: () => refMomentum(0.05, 0.5) },
  { name: 'Nesterov (defaults)', make: (backend) => new Nesterov({ backend }), ref: () => refNesterov() },
  { name: 'AdaGrad (defaults)', make: (backend) => new AdaGrad({ backend }), ref: () => refAdaGrad() },
  { name: 'RMSprop (defaults)', make: (backend) => new RMSprop({ backend }), ref: () => refRMSprop() },
  { name: 'RMSprop decay_rate 0.9', make: (backend) => new RMSprop({ decay_rate: 0.9, backend }), ref: () => refRMSprop(0.01, 0.9) },
  { name: 'Adam (defaults)', make: (backend) => new Adam({ backend }), ref: () => refAdam() },
  { name: 'Adam lr 0.01 b1 0.8 b2 0.99', make: (backend) => new Adam({ lr: 0.01, beta1: 0.8, beta2: 0.99, backend }), ref: () => refAdam(0.01, 0.8, 0.99) },
];

// odd sizes exercise the SIMD tails
const SIZES = { W1: 37, b1: 3, W2: 64 };

for (const name of BACKENDS) {
  describe(`optimizers vs the course's Python (${name})`, () => {
    let backend: Backend;
    beforeAll(async () => { backend = await createBackend(name); });

    for (const c of CASES) {
      it(`${c.name}: 4 steps match`, () => {
        const opt = c.make(backend);
        const ref = c.ref();
        const params: Record<string, Tensor> = {};
        const grads: Record<string, Tensor> = {};
        const rp: Record<string, Float64Array> = {};
        let seed = 1;
        for (const [k, n] of Object.entries(SIZES)) {
          params[k] = backend.tensor(randomF32(n, seed++));
          grads[k] = backend.zeros([n]);
          rp[k] = Float64Array.from(params[k].data);
        }
        for (let step = 0; step < 4; step++) {
          const rg: Record<string, Float64Array> = {};
          for (const [k, n] of Object.entries(SIZES)) {
            const g = randomF32(n, 100 + step * 10 + seed++);
            if (step === 2) g[0] = 0; // zero gradient: AdaGrad/RMSprop/Adam divide by sqrt(h) + 1e-7
            grads[k].data.set(g);
            rg[k] = Float64Array.from(g);
          }
          opt.update(params, grads);
          ref.update(rp, rg);
          for (const k of Object.keys(SIZES)) {
            expect(maxRelErr(params[k].data, rp[k]), `${k} after step ${step + 1}`).toBeLessThan(2e-6);
          }
        }
        opt.dispose?.();
        for (const k of Object.keys(SIZES)) { params[k].dispose(); grads[k].dispose(); }
      });
    }

    it('allocates state once per parameter on the first update, then allocates nothing', () => {
      const p = { W: backend.tensor(randomF32(100, 3)) };
      const g = { W: backend.tensor(randomF32(100, 4)) };
      const opt = new Adam({ backend });
      const before = backend.memoryStats().used;
      opt.update(p, g);
      const afterFirst = backend.memoryStats().used;
      expect(afterFirst).toBeGreaterThan(before); // m and v
      for (let i = 0; i < 5; i++) opt.update(p, g);
      expect(backend.memoryStats().used).toBe(afterFirst);
      opt.dispose();
      expect(backend.memoryStats().used).toBe(before);
    });

    for (const opt of OPTIMIZER_NAMES) {
      it(`${opt} converges on a quadratic`, () => {
        // f(p) = 0.5 * sum a_i (p_i - c_i)^2, grad = a_i (p_i - c_i)
        const n = 13;
        const a = Float64Array.from({ length: n }, (_, i) => 0.5 + (i % 5) * 0.25);
        const c = Float64Array.from(randomF32(n, 9));
        const lr = { sgd: 0.1, momentum: 0.02, nesterov: 0.02, adagrad: 0.5, rmsprop: 0.01, adam: 0.05 }[opt];
        const o = createOptimizer(opt, { lr }, backend);
        const p = { x: backend.tensor(randomF32(n, 10).map((v) => v * 3)) };
        const g = { x: backend.zeros([n]) };
        const f = () => { let s = 0; const d = p.x.data; for (let i = 0; i < n; i++) s += 0.5 * a[i] * (d[i] - c[i]) ** 2; return s; };
        const f0 = f();
        for (let step = 0; step < 600; step++) {
          const d = p.x.data;
          const gd = g.x.data;
          for (let i = 0; i < n; i++) gd[i] = a[i] * (d[i] - c[i]);
          o.update(p, g);
        }
        expect(f()).toBeLessThan(f0 * 1e-3);
        for (let i = 0; i < n; i++) expect(Math.abs(p.x.data[i] - c[i])).toBeLessThan(0.05);
        o.dispose?.();
      });
    }
  });
}

describe('optimizer construction', () => {
  it('has the course defaults', () => {
    expect(new SGD().lr).toBe(0.01);
    expect(new Momentum()).toMatchObject({ lr: 0.01, momentum: 0.9, name: 'Momentum' });
    expect(new Nesterov()).toMatchObject({ lr: 0.01, momentum: 0.9, name: 'Nesterov' });
    expect(new AdaGrad().lr).toBe(0.01);
    expect(new RMSprop()).toMatchObject({ lr: 0.01, decayRate: 0.99 });
    expect(new Adam()).toMatchObject({ lr: 0.001, beta1: 0.9, beta2: 0.999 });
  });

  it('selects by name (case-insensitive) or instance', () => {
    expect(createOptimizer('ADAM')).toBeInstanceOf(Adam);
    expect(createOptimizer('RMSprop', { decay_rate: 0.9 })).toMatchObject({ decayRate: 0.9 });
    expect(createOptimizer('nesterov', { lr: 0.1 })).toMatchObject({ lr: 0.1, momentum: 0.9 });
    const inst = new Momentum({ lr: 0.5 });
    expect(createOptimizer(inst)).toBe(inst);
  });

  it('rejects unknown names, listing the valid ones', () => {
    expect(() => createOptimizer('adamw')).toThrow(/unknown optimizer "adamw"; valid names are sgd, momentum, nesterov, adagrad, rmsprop, adam/);
    expect(() => createOptimizer('toString')).toThrow(/unknown optimizer/);
  });

  it('rejects unknown and bad hyperparameters', () => {
    expect(() => createOptimizer('sgd', { momentum: 0.9 })).toThrow(/SGD: unknown option "momentum"; valid options are lr/);
    expect(() => new Adam({ lr: -1 })).toThrow(/Adam: lr must be a positive finite number, got -1/);
    expect(() => new Momentum({ momentum: 1 })).toThrow(/momentum must be a number in \[0, 1\)/);
    expect(() => new Adam({ beta2: NaN })).toThrow(/beta2/);
    expect(() => createOptimizer(new SGD(), { lr: 1 })).toThrow(/apply only when the optimizer is given by name/);
  });

  it('says what is wrong when tensors are not on one backend or a gradient does not fit', async () => {
    const backend = await createBackend('js');
    const p = { W: backend.zeros([4]) };
    const other = await createBackend('js');
    expect(() => new SGD().update({ W: tensor([1, 2]) }, { W: tensor([1, 2]) })).toThrow(/SGD: parameter "W" is not a device tensor of a backend/);
    expect(() => new SGD().update({ W: backend.zeros([2]), V: other.zeros([2]) }, { W: backend.zeros([2]), V: other.zeros([2]) }))
      .toThrow(/SGD: parameters "W" and "V" live on two different backends/);
    expect(() => new SGD().update(null as never, {})).toThrow(/SGD.update: params must be an object/);
    const sgd = new SGD({ backend });
    expect(() => sgd.update(p, {})).toThrow(/no gradient for parameter "W"/);
    expect(() => sgd.update(p, { W: backend.zeros([5]) })).toThrow(/gradient "W" has shape \(5\), but the parameter has shape \(4\)/);
    expect(() => sgd.update(p, { W: other.zeros([4]) })).toThrow(/gradient "W" is not a tensor on the optimizer's js backend/);
  });

  it('reset() zeroes the moments and the step count', async () => {
    const backend = await createBackend('js');
    const run = (opt: Adam) => {
      const p = { W: backend.tensor([1, 2, 3]) };
      const g = { W: backend.tensor([0.5, -1, 2]) };
      for (let i = 0; i < 3; i++) opt.update(p, g);
      return p.W.toArray();
    };
    const opt = new Adam({ backend, lr: 0.1 });
    const first = run(opt);
    opt.reset();
    expect(opt.iter).toBe(0);
    expect(run(opt)).toEqual(first);
  });
});
