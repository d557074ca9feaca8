// Batch normalization kernels: Wasm vs JS vs the course's BatchNormalization (2-D case)
// transcribed to float64 JS: forward (train: batch mean, biased variance; eval: running
// statistics) and the backward chain (dbeta, dgamma, dxn, dxc, dstd, dvar, dmu) verbatim.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { randomF32, maxRelErr, type Harness, useBothBackends } from '../helpers/harness.js';

const SEED = 8675309;
const RUNS = 50;
const EPS = 10e-7; // the course's 10e-7 (= 1e-6)


const onBoth = useBothBackends();

// ---- the course, on number[][] ------------------------------------------------------------
type M = number[][];
const toM = (a: ArrayLike<number>, N: number, D: number): M => Array.from({ length: N }, (_, i) => Array.from({ length: D }, (_, j) => a[i * D + j]));
const flat = (m: M) => m.flat();
const colSum = (m: M, D: number) => Array.from({ length: D }, (_, j) => m.reduce((s, r) => s + r[j], 0));

function refForwardTrain(x: M, gamma: number[], beta: number[], N: number, D: number) {
  const mu = colSum(x, D).map((s) => s / N); // mu = x.mean(axis=0)
  const xc = x.map((r) => r.map((v, j) => v - mu[j])); // xc = x - mu
  const variance = colSum(xc.map((r) => r.map((v) => v * v)), D).map((s) => s / N); // var = np.mean(xc**2, axis=0)
  const std = variance.map((v) => Math.sqrt(v + EPS)); // std = np.sqrt(var + 10e-7)
  const xn = xc.map((r) => r.map((v, j) => v / std[j])); // xn = xc / std
  const out = xn.map((r) => r.map((v, j) => gamma[j] * v + beta[j]));
  return { mu, variance, xc, std, xn, out };
}

function refBackward(dout: M, gamma: number[], fwd: ReturnType<typeof refForwardTrain>, N: number, D: number) {
  const { xc, std, xn } = fwd;
  const dbeta = colSum(dout, D); // dbeta = dout.sum(axis=0)
  const dgamma = colSum(xn.map((r, i) => r.map((v, j) => v * dout[i][j])), D); // dgamma = np.sum(xn * dout, axis=0)
  const dxn = dout.map((r) => r.map((v, j) => gamma[j] * v)); // dxn = gamma * dout
  let dxc = dxn.map((r) => r.map((v, j) => v / std[j])); // dxc = dxn / std
  const dstd = colSum(dxn.map((r, i) => r.map((v, j) => (v * xc[i][j]) / (std[j] * std[j]))), D).map((s) => -s);
  const dvar = dstd.map((v, j) => (0.5 * v) / std[j]); // dvar = 0.5 * dstd / std
  dxc = dxc.map((r, i) => r.map((v, j) => v + (2.0 / N) * xc[i][j] * dvar[j])); // dxc += (2.0 / batch_size) * xc * dvar
  const dmu = colSum(dxc, D); // dmu = np.sum(dxc, axis=0)
  const dx = dxc.map((r) => r.map((v, j) => v - dmu[j] / N)); // dx = dxc - dmu / batch_size
  return { dx, dgamma, dbeta };
}

const rowsArb = fc.oneof(fc.constantFrom(1, 2, 3, 5, 7, 8, 100), fc.integer({ min: 1, max: 60 }));
const colsArb = fc.oneof(fc.constantFrom(1, 2, 3, 4, 5, 7, 8, 9, 17, 100), fc.integer({ min: 1, max: 50 }));

interface Case { N: number; D: number; x: Float32Array; gamma: Float32Array; beta: Float32Array; dy: Float32Array }
const caseArb = fc.record({ N: rowsArb, D: colsArb, seed: fc.integer(), shift: fc.constantFrom(0, 3, -50), spread: fc.constantFrom(1, 0.01, 20) })
  .map(({ N, D, seed, shift, spread }): Case => ({
    N, D,
    x: randomF32(N * D, seed).map((v) => v * spread + shift),
    gamma: randomF32(D, seed + 1).map((v) => 1 + 0.5 * v),
    beta: randomF32(D, seed + 2),
    dy: randomF32(N * D, seed + 3),
  }));

/** Runs train forward then backward in one backend. */
function runBn(h: Harness, c: Case, dxAliasesDy = false) {
  const { N, D } = c;
  const x = h.putF32(c.x), g = h.putF32(c.gamma), b = h.putF32(c.beta), dy = h.putF32(c.dy);
  const mean = h.alloc(D), variance = h.alloc(D), xhat = h.alloc(N * D), y = h.alloc(N * D);
  h.k.bn_fwd_train_f32(x, N, D, g, b, EPS, mean, variance, xhat, y);
  const dgamma = h.alloc(D), dbeta = h.alloc(D), dx = dxAliasesDy ? dy : h.alloc(N * D);
  h.k.bn_bwd_f32(dy, xhat, variance, g, N, D, EPS, dgamma, dbeta, dx);
  return {
    mean: h.getF32(mean, D), variance: h.getF32(variance, D), xhat: h.getF32(xhat, N * D), y: h.getF32(y, N * D),
    dgamma: h.getF32(dgamma, D), dbeta: h.getF32(dbeta, D), dx: h.getF32(dx, N * D),
  };
}

describe('bn_fwd_train_f32 / bn_bwd_f32', () => {
  it('match the course forward and backward on odd shapes, both backends', () => {
    fc.assert(fc.property(caseArb, fc.boolean(), (c, alias) => {
      const { N, D } = c;
      const fwd = refForwardTrain(toM(c.x, N, D), Array.from(c.gamma), Array.from(c.beta), N, D);
      const bwd = refBackward(toM(c.dy, N, D), Array.from(c.gamma), fwd, N, D);
      const outs = onBoth((h) => runBn(h, c, alias));
      const xnRef = flat(fwd.xn), outRef = flat(fwd.out);
      for (const o of outs) {
        expect(maxRelErr(o.mean, fwd.mu)).toBeLessThan(1e-5);
        // variance relative to its own size (the spread may be tiny)
        const vScale = Math.max(...fwd.variance, EPS);
        for (let j = 0; j < D; j++) expect(Math.abs(o.variance[j] - fwd.variance[j]) / vScale).toBeLessThan(1e-4);
        // xhat = xc / std with f32 inputs: the centering loses ~|shift| / spread digits
        expect(maxRelErr(o.xhat, xnRef)).toBeLessThan(1e-3);
        expect(maxRelErr(o.y, outRef)).toBeLessThan(1e-3);
        expect(maxRelErr(o.dbeta, bwd.dbeta)).toBeLessThan(1e-5);
        expect(maxRelErr(o.dgamma, bwd.dgamma)).toBeLessThan(2e-3);
        // dx scales with gamma / std, which is 1e3 for N = 1 or spread 0.01: compare relative to max |dx|
        const dxRef = flat(bwd.dx);
        let dxScale = 1, dxErr = 0;
        for (let k = 0; k < dxRef.length; k++) {
          dxScale = Math.max(dxScale, Math.abs(dxRef[k]));
          dxErr = Math.max(dxErr, Math.abs(o.dx[k] - dxRef[k]));
        }
        expect(dxErr / dxScale).toBeLessThan(2e-3);
      }
      // the twins agree much more closely with each other than with the float64 course
      expect(maxRelErr(outs[0].mean, outs[1].mean)).toBeLessThan(1e-5);
      expect(maxRelErr(outs[0].y, outs[1].y)).toBeLessThan(2e-3);
    }), { seed: SEED, numRuns: RUNS });
  });

  it('hand-checked: two rows [1, 10], [3, 30] -> mean [2, 20], var [1, 100], xhat +-1', () => {
    for (const o of onBoth((h) => runBn(h, {
      N: 2, D: 2, x: Float32Array.of(1, 10, 3, 30), gamma: Float32Array.of(2, 1), beta: Float32Array.of(0.5, 0),
      dy: Float32Array.of(1, 0, 0, 1),
    }))) {
      expect(Array.from(o.mean)).toEqual([2, 20]);
      expect(Array.from(o.variance)).toEqual([1, 100]);
      const s0 = 1 / Math.sqrt(1 + EPS), s1 = 10 / Math.sqrt(100 + EPS);
      expect(maxRelErr(o.xhat, [-s0, -s1, s0, s1])).toBeLessThan(1e-6);
      expect(maxRelErr(o.y, [0.5 - 2 * s0, -s1, 0.5 + 2 * s0, s1])).toBeLessThan(1e-6);
      expect(maxRelErr(o.dbeta, [1, 1])).toBeLessThan(1e-6);
      expect(maxRelErr(o.dgamma, [-s0, s1])).toBeLessThan(1e-6);
    }
  });

  it('the gradient of sum(w * y) matches central differences of the float64 course forward', () => {
    const N = 4, D = 3;
    const x = Array.from(randomF32(N * D, 21), (v) => v * 2);
    const gamma = [1.5, 0.7, -1.1], beta = [0.1, -0.2, 0.3];
    const w = Array.from(randomF32(N * D, 22));
    const f = (xs: number[]) => flat(refForwardTrain(toM(xs, N, D), gamma, beta, N, D).out).reduce((s, v, k) => s + v * w[k], 0);
    const numeric = x.map((_, k) => {
      const a = x.slice(), b = x.slice();
      a[k] += 1e-5;
      b[k] -= 1e-5;
      return (f(a) - f(b)) / 2e-5;
    });
    for (const o of onBoth((h) => runBn(h, {
      N, D, x: Float32Array.from(x), gamma: Float32Array.from(gamma), beta: Float32Array.from(beta), dy: Float32Array.from(w),
    }))) expect(maxRelErr(o.dx, numeric)).toBeLessThan(1e-4);
  });
});

describe('bn_fwd_eval_f32', () => {
  it('y = gamma * (x - runMean) / sqrt(runVar + eps) + beta, both backends; y == x allowed', () => {
    fc.assert(fc.property(rowsArb, colsArb, fc.integer(), fc.boolean(), (N, D, seed, inPlace) => {
      const x = randomF32(N * D, seed).map((v) => 3 * v);
      const gamma = randomF32(D, seed + 1), beta = randomF32(D, seed + 2);
      const rm = randomF32(D, seed + 3), rv = randomF32(D, seed + 4).map((v) => v + 1.5);
      const want = Array.from(x, (v, k) => {
        const j = k % D;
        return gamma[j] * ((v - rm[j]) / Math.sqrt(rv[j] + EPS)) + beta[j];
      });
      const outs = onBoth((h) => {
        const xp = h.putF32(x), yp = inPlace ? xp : h.alloc(N * D);
        h.k.bn_fwd_eval_f32(xp, N, D, h.putF32(gamma), h.putF32(beta), EPS, h.putF32(rm), h.putF32(rv), yp);
        return h.getF32(yp, N * D);
      });
      for (const o of outs) expect(maxRelErr(o, want)).toBeLessThan(1e-5);
    }), { seed: SEED, numRuns: RUNS });
  });
});
