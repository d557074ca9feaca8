// Optimizer kernels: Wasm vs JS vs the course's optimizer classes (SGD, Momentum, Nesterov,
// AdaGrad, RMSprop, Adam) transcribed to float64 JS, over several steps with the state
// carried between them, on odd lengths (fast-check, seeded).
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { randomF32, maxRelErr, type Harness, useBothBackends, putGuarded, guardIntact } from '../helpers/harness.js';

const SEED = 1618033;
const RUNS = 40;
const STEPS = 6;


const onBoth = useBothBackends();

type Rule = 'sgd' | 'momentum' | 'nesterov' | 'adagrad' | 'rmsprop' | 'adam';
interface Hyper { lr: number; momentum: number; decay: number; beta1: number; beta2: number }

/** The course's update(params, grads) for one parameter array, float64; returns nothing, mutates p and state. */
function refStep(rule: Rule, hp: Hyper, iter: number, p: number[], g: ArrayLike<number>, s1: number[], s2: number[]): void {
  const n = p.length;
  switch (rule) {
    case 'sgd':
      for (let i = 0; i < n; i++) p[i] -= hp.lr * g[i];
      break;
    case 'momentum': // v = momentum * v - lr * grad; params += v
      for (let i = 0; i < n; i++) {
        s1[i] = hp.momentum * s1[i] - hp.lr * g[i];
        p[i] += s1[i];
      }
      break;
    case 'nesterov': // v *= momentum; v -= lr * grad; params += momentum^2 * v; params -= (1 + momentum) * lr * grad
      for (let i = 0; i < n; i++) {
        s1[i] *= hp.momentum;
        s1[i] -= hp.lr * g[i];
        p[i] += hp.momentum * hp.momentum * s1[i];
        p[i] -= (1 + hp.momentum) * hp.lr * g[i];
      }
      break;
    case 'adagrad': // h += grad * grad; params -= lr * grad / (sqrt(h) + 1e-7)
      for (let i = 0; i < n; i++) {
        s1[i] += g[i] * g[i];
        p[i] -= hp.lr * g[i] / (Math.sqrt(s1[i]) + 1e-7);
      }
      break;
    case 'rmsprop': // h *= decay; h += (1 - decay) * grad * grad; params -= lr * grad / (sqrt(h) + 1e-7)
      for (let i = 0; i < n; i++) {
        s1[i] *= hp.decay;
        s1[i] += (1 - hp.decay) * g[i] * g[i];
        p[i] -= hp.lr * g[i] / (Math.sqrt(s1[i]) + 1e-7);
      }
      break;
    case 'adam': { // iter += 1; lr_t = lr * sqrt(1 - beta2^iter) / (1 - beta1^iter); m += ...; v += ...
      const lrt = hp.lr * Math.sqrt(1 - hp.beta2 ** iter) / (1 - hp.beta1 ** iter);
      for (let i = 0; i < n; i++) {
        s1[i] += (1 - hp.beta1) * (g[i] - s1[i]);
        s2[i] += (1 - hp.beta2) * (g[i] ** 2 - s2[i]);
        p[i] -= lrt * s1[i] / (Math.sqrt(s2[i]) + 1e-7);
      }
      break;
    }
  }
}

/** One kernel call for `rule` at step `iter` (1-based), state blocks s1 (v / h / m) and s2 (v of Adam). */
function kernelStep(h: Harness, rule: Rule, hp: Hyper, iter: number, p: number, g: number, s1: number, s2: number, n: number): void {
  const k = h.k;
  switch (rule) {
    case 'sgd': return k.sgd_f32(p, g, n, hp.lr);
    case 'momentum': return k.momentum_f32(p, g, s1, n, hp.lr, hp.momentum);
    case 'nesterov': return k.nesterov_f32(p, g, s1, n, hp.lr, hp.momentum);
    case 'adagrad': return k.adagrad_f32(p, g, s1, n, hp.lr);
    case 'rmsprop': return k.rmsprop_f32(p, g, s1, n, hp.lr, hp.decay);
    case 'adam': {
      const lrt = hp.lr * Math.sqrt(1 - hp.beta2 ** iter) / (1 - hp.beta1 ** iter);
      return k.adam_f32(p, g, s1, s2, n, lrt, hp.beta1, hp.beta2);
    }
  }
}

const RULES: Rule[] = ['sgd', 'momentum', 'nesterov', 'adagrad', 'rmsprop', 'adam'];
const len = fc.oneof(fc.constantFrom(0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33), fc.integer({ min: 0, max: 400 }));
const hyperArb = fc.record({
  lr: fc.constantFrom(0.01, 0.001, 0.1),
  momentum: fc.constantFrom(0.9, 0.5, 0),
  decay: fc.constantFrom(0.99, 0.9),
  beta1: fc.constantFrom(0.9, 0.5),
  beta2: fc.constantFrom(0.999, 0.9),
});
/** Gradient scales: ordinary, tiny (where the 1e-7 term matters) and large. */
const gradScale = fc.constantFrom(1, 1e-6, 100);

describe.each(RULES)('%s_f32', (rule) => {
  it(`follows the course's ${rule} for ${STEPS} steps in a row (state carried), both backends`, () => {
    fc.assert(fc.property(len, fc.integer(), hyperArb, gradScale, (n, seed, hp, gs) => {
      const p0 = randomF32(n, seed);
      const grads = Array.from({ length: STEPS }, (_, t) => randomF32(n, seed + 100 + t).map((v) => v * gs));
      // reference: float64, fed the same f32 gradients
      const p = Array.from(p0), s1 = new Array(n).fill(0), s2 = new Array(n).fill(0);
      for (let t = 0; t < STEPS; t++) refStep(rule, hp, t + 1, p, grads[t], s1, s2);
      const outs = onBoth((h) => {
        const pp = putGuarded(h, p0);
        const s1p = putGuarded(h, new Float32Array(n)), s2p = putGuarded(h, new Float32Array(n));
        for (let t = 0; t < STEPS; t++) {
          const gp = h.putF32(grads[t]);
          kernelStep(h, rule, hp, t + 1, pp, gp, s1p, s2p, n);
          expect(h.getF32(gp, n)).toEqual(grads[t]); // g is read-only
        }
        for (const q of [pp, s1p, s2p]) expect(guardIntact(h, q, n)).toBe(true);
        return { p: h.getF32(pp, n), s1: h.getF32(s1p, n), s2: h.getF32(s2p, n) };
      });
      // hyper-parameters reach Wasm as f32: 1 - f32(0.999) is 1.3e-5 off 0.001 in relative terms
      for (const o of outs) {
        expect(maxRelErr(o.p, p)).toBeLessThan(1e-5);
        if (rule !== 'sgd') expect(maxRelErr(o.s1, s1)).toBeLessThan(3e-5);
        if (rule === 'adam') expect(maxRelErr(o.s2, s2)).toBeLessThan(3e-5);
      }
      expect(maxRelErr(outs[0].p, outs[1].p)).toBeLessThan(1e-5);
    }), { seed: SEED, numRuns: RUNS });
  });
});

describe('hand-checked steps', () => {
  it('sgd, momentum and nesterov on [1, 2] with g = [0.5, -1], lr = 0.1, momentum = 0.9', () => {
    for (const o of onBoth((h) => {
      const g = h.putF32([0.5, -1]);
      const a = h.putF32([1, 2]);
      h.k.sgd_f32(a, g, 2, 0.1);
      const b = h.putF32([1, 2]), bv = h.putF32([0, 0]);
      h.k.momentum_f32(b, g, bv, 2, 0.1, 0.9); // v = [-0.05, 0.1]
      h.k.momentum_f32(b, g, bv, 2, 0.1, 0.9); // v = [-0.095, 0.19]
      const c = h.putF32([1, 2]), cv = h.putF32([0, 0]);
      h.k.nesterov_f32(c, g, cv, 2, 0.1, 0.9); // v = [-0.05, 0.1]; p += 0.81 v - 0.19 g
      return [...h.getF32(a, 2), ...h.getF32(b, 2), ...h.getF32(bv, 2), ...h.getF32(c, 2), ...h.getF32(cv, 2)];
    })) {
      expect(maxRelErr(o, [0.95, 2.1, 1 - 0.145, 2 + 0.29, -0.095, 0.19,
        1 + 0.81 * -0.05 - 0.19 * 0.5, 2 + 0.81 * 0.1 + 0.19, -0.05, 0.1])).toBeLessThan(1e-6);
    }
  });

  it('adam from zero state moves every parameter by ~lr * sign(g) on step 1; adagrad likewise', () => {
    const g = [3, -0.25, 1e-3, -40];
    for (const o of onBoth((h) => {
      const gp = h.putF32(g);
      const p = h.putF32([0, 0, 0, 0]), m = h.putF32([0, 0, 0, 0]), v = h.putF32([0, 0, 0, 0]);
      const lrt = 0.001 * Math.sqrt(1 - 0.999) / (1 - 0.9);
      h.k.adam_f32(p, gp, m, v, 4, lrt, 0.9, 0.999);
      const q = h.putF32([0, 0, 0, 0]), hq = h.putF32([0, 0, 0, 0]);
      h.k.adagrad_f32(q, gp, hq, 4, 0.01);
      return [...h.getF32(p, 4), ...h.getF32(q, 4), ...h.getF32(hq, 4)];
    })) {
      for (let i = 0; i < 4; i++) {
        expect(o[i]).toBeCloseTo(-0.001 * Math.sign(g[i]), 5);
        expect(o[4 + i]).toBeCloseTo(-0.01 * Math.sign(g[i]), 4);
        expect(o[8 + i]).toBeCloseTo(g[i] * g[i], 4);
      }
    }
  });

  it('rmsprop: h = 0.99 h + 0.01 g^2; zero gradients leave p unchanged', () => {
    for (const o of onBoth((h) => {
      const p = h.putF32([1, -1, 5]), g = h.putF32([2, 0, 0]), hh = h.putF32([1, 0, 4]);
      h.k.rmsprop_f32(p, g, hh, 3, 0.01, 0.99);
      return [...h.getF32(p, 3), ...h.getF32(hh, 3)];
    })) {
      const h0 = 0.99 + 0.04;
      expect(maxRelErr(o, [1 - 0.02 / (Math.sqrt(h0) + 1e-7), -1, 5, h0, 0, 3.96])).toBeLessThan(1e-6);
    }
  });
});
