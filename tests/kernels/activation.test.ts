// relu / sigmoid kernels: Wasm vs JS vs a naive reference (the course's formulas on plain
// numbers), property-based over odd lengths (fast-check, seeded), aliasing and guard cells.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { randomF32, maxRelErr, useBothBackends, outGuarded, guardIntact } from '../helpers/harness.js';

const SEED = 20240601;
const RUNS = 60;


/** Runs `fn` on each backend (wasm, js), freeing its blocks afterwards. */
const onBoth = useBothBackends();


/** Lengths around the f32x4 / 16-wide boundaries, plus random ones. */
const len = fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 31, 33, 63, 65), fc.integer({ min: 0, max: 700 }));
/** Arbitrary f32 values including -0, denormals, huge values and (optionally) NaN / Inf. */
const anyF32 = (maxLength: number) => fc.float32Array({ maxLength, noDefaultInfinity: false, noNaN: false });

// ---- naive references (the course: Relu.forward/backward, Sigmoid.forward/backward) ----
const refRelu = (x: ArrayLike<number>) => Float32Array.from(x, (v) => (v <= 0 ? 0 : v)); // out[x <= 0] = 0
const refReluBwd = (y: ArrayLike<number>, dy: ArrayLike<number>) => Float32Array.from(dy, (d, i) => (y[i] > 0 ? d : 0));
const refSigmoid = (x: ArrayLike<number>) => Array.from(x, (v) => 1 / (1 + Math.exp(-v)));
const refSigmoidBwd = (y: ArrayLike<number>, dy: ArrayLike<number>) => Array.from(dy, (d, i) => d * (1 - y[i]) * y[i]);

describe('relu_fwd_f32', () => {
  it('matches the reference exactly on any f32 input (incl. -0, NaN, Inf), both backends', () => {
    fc.assert(fc.property(anyF32(300), (x) => {
      const want = refRelu(x);
      const [w, j] = onBoth((h) => {
        const xp = h.putF32(x), yp = outGuarded(h, x.length);
        h.k.relu_fwd_f32(xp, yp, x.length);
        expect(guardIntact(h, yp, x.length)).toBe(true);
        return h.getF32(yp, x.length);
      });
      expect(w).toEqual(want);
      expect(j).toEqual(want);
    }), { seed: SEED, numRuns: RUNS });
  });

  it('works in place (y == x) for odd lengths', () => {
    fc.assert(fc.property(len, fc.integer(), (n, seed) => {
      const x = randomF32(n, seed);
      const want = refRelu(x);
      const outs = onBoth((h) => {
        const p = h.putF32(x);
        h.k.relu_fwd_f32(p, p, n);
        return h.getF32(p, n);
      });
      for (const o of outs) expect(o).toEqual(want);
    }), { seed: SEED, numRuns: RUNS });
  });

  it('follows the course: NaN stays NaN, -0 and negatives become +0', () => {
    const x = [NaN, -0, -1, 2, -Infinity, Infinity, 1e-45, -1e-45];
    for (const o of onBoth((h) => {
      const p = h.putF32(x), q = h.alloc(x.length);
      h.k.relu_fwd_f32(p, q, x.length);
      return h.getF32(q, x.length);
    })) {
      expect(Array.from(o)).toEqual([NaN, 0, 0, 2, 0, Infinity, 1e-45, 0].map(Math.fround));
      expect(Object.is(o[1], 0)).toBe(true);
    }
  });
});

describe('relu_bwd_f32', () => {
  it('passes dy where y > 0, exactly, both backends; dx == dy allowed', () => {
    fc.assert(fc.property(len, fc.integer(), fc.boolean(), (n, seed, inPlace) => {
      const y = refRelu(randomF32(n, seed));
      const dy = randomF32(n, seed ^ 0x5bd1e995);
      const want = refReluBwd(y, dy);
      const outs = onBoth((h) => {
        const yp = h.putF32(y), dyp = h.putF32(dy);
        const dxp = inPlace ? dyp : outGuarded(h, n);
        h.k.relu_bwd_f32(yp, dyp, dxp, n);
        if (!inPlace) expect(guardIntact(h, dxp, n)).toBe(true);
        return h.getF32(dxp, n);
      });
      for (const o of outs) expect(o).toEqual(want);
    }), { seed: SEED, numRuns: RUNS });
  });
});

describe('sigmoid_fwd_f32', () => {
  it('matches 1 / (1 + exp(-x)) on random lengths and scales', () => {
    fc.assert(fc.property(len, fc.integer(), fc.constantFrom(1, 8, 40, 1000), (n, seed, scale) => {
      const x = randomF32(n, seed).map((v) => v * scale);
      const want = refSigmoid(x);
      const outs = onBoth((h) => {
        const xp = h.putF32(x), yp = outGuarded(h, n);
        h.k.sigmoid_fwd_f32(xp, yp, n);
        expect(guardIntact(h, yp, n)).toBe(true);
        return h.getF32(yp, n);
      });
      for (const o of outs) {
        expect(maxRelErr(o, want)).toBeLessThan(1e-6);
        expect(o.every((v) => v >= 0 && v <= 1)).toBe(true);
      }
      expect(maxRelErr(outs[0], outs[1])).toBeLessThan(1e-6);
    }), { seed: SEED, numRuns: RUNS });
  });

  it('is accurate in relative terms where y is tiny (x down to -85): the exp is not a rough one', () => {
    const x = Float32Array.from({ length: 1000 }, (_, i) => -85 + 85 * i / 999);
    const want = refSigmoid(x);
    for (const o of onBoth((h) => {
      const xp = h.putF32(x), yp = h.alloc(x.length);
      h.k.sigmoid_fwd_f32(xp, yp, x.length);
      return h.getF32(yp, x.length);
    })) {
      let worst = 0;
      for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(o[i] - want[i]) / want[i]);
      expect(worst).toBeLessThan(5e-7);
    }
  });

  it('saturates without NaN at extreme inputs, and works in place', () => {
    const x = [-1000, -100, -88.8, -20, 0, 20, 88.8, 100, 1000, -Infinity, Infinity];
    for (const o of onBoth((h) => {
      const p = h.putF32(x);
      h.k.sigmoid_fwd_f32(p, p, x.length);
      return h.getF32(p, x.length);
    })) {
      expect(o.some(Number.isNaN)).toBe(false);
      expect(o[0]).toBe(0);
      expect(o[4]).toBe(0.5);
      expect(o[8]).toBe(1);
      expect(o[9]).toBe(0);
      expect(o[10]).toBe(1);
      expect(maxRelErr(o, refSigmoid(x.map(Math.fround)))).toBeLessThan(1e-6);
    }
  });
});

describe('sigmoid_bwd_f32', () => {
  it('dx = dy * (1 - y) * y, both backends; dx == dy allowed', () => {
    fc.assert(fc.property(len, fc.integer(), fc.boolean(), (n, seed, inPlace) => {
      const y = Float32Array.from(refSigmoid(randomF32(n, seed).map((v) => v * 6)));
      const dy = randomF32(n, seed + 1);
      const want = refSigmoidBwd(y, dy);
      const outs = onBoth((h) => {
        const yp = h.putF32(y), dyp = h.putF32(dy);
        const dxp = inPlace ? dyp : outGuarded(h, n);
        h.k.sigmoid_bwd_f32(yp, dyp, dxp, n);
        if (!inPlace) expect(guardIntact(h, dxp, n)).toBe(true);
        return h.getF32(dxp, n);
      });
      for (const o of outs) expect(maxRelErr(o, want)).toBeLessThan(1e-6);
    }), { seed: SEED, numRuns: RUNS });
  });

  it('is the derivative of sigmoid_fwd (central difference, float64)', () => {
    const x = Array.from(randomF32(9, 7), (v) => v * 4);
    const y = Float32Array.from(refSigmoid(x));
    const dy = new Float32Array(9).fill(1);
    const numeric = x.map((v) => (1 / (1 + Math.exp(-(v + 1e-5))) - 1 / (1 + Math.exp(-(v - 1e-5)))) / 2e-5);
    for (const o of onBoth((h) => {
      const yp = h.putF32(y), dyp = h.putF32(dy), dxp = h.alloc(9);
      h.k.sigmoid_bwd_f32(yp, dyp, dxp, 9);
      return h.getF32(dxp, 9);
    })) expect(maxRelErr(o, numeric)).toBeLessThan(1e-6);
  });
});
