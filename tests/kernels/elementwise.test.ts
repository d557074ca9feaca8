// mul / axpby / fill / count_nonfinite: Wasm vs JS vs a naive reference, property-based
// over odd lengths (fast-check, seeded), with aliasing, guard cells and planted NaN/Inf.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { randomF32, maxRelErr, useBothBackends, putGuarded, outGuarded, guardIntact } from '../helpers/harness.js';

const SEED = 777;
const RUNS = 60;


const onBoth = useBothBackends();


const len = fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 65), fc.integer({ min: 0, max: 700 }));

describe('mul_f32', () => {
  it('y = a * b (exact in f32), both backends; y may alias a or b', () => {
    fc.assert(fc.property(len, fc.integer(), fc.constantFrom('none', 'a', 'b'), (n, seed, alias) => {
      const a = randomF32(n, seed), b = randomF32(n, ~seed);
      const want = Float32Array.from(a, (v, i) => v * b[i]);
      const outs = onBoth((h) => {
        const ap = putGuarded(h, a), bp = putGuarded(h, b);
        const yp = alias === 'a' ? ap : alias === 'b' ? bp : outGuarded(h, n);
        h.k.mul_f32(ap, bp, yp, n);
        expect(guardIntact(h, yp, n)).toBe(true);
        return h.getF32(yp, n);
      });
      for (const o of outs) expect(o).toEqual(want);
    }), { seed: SEED, numRuns: RUNS });
  });
});

describe('axpby_f32', () => {
  it('y = a * x + b * y, both backends', () => {
    fc.assert(fc.property(len, fc.integer(), fc.constantFrom(0.9, -2, 1, 0.1), fc.constantFrom(0.1, 1, -0.5, 3), (n, seed, a, b) => {
      const x = randomF32(n, seed), y = randomF32(n, seed + 2);
      const want = Array.from(x, (v, i) => Math.fround(a) * v + Math.fround(b) * y[i]);
      const outs = onBoth((h) => {
        const xp = h.putF32(x), yp = putGuarded(h, y);
        h.k.axpby_f32(xp, yp, n, a, b);
        expect(guardIntact(h, yp, n)).toBe(true);
        return h.getF32(yp, n);
      });
      for (const o of outs) expect(maxRelErr(o, want)).toBeLessThan(1e-6);
    }), { seed: SEED, numRuns: RUNS });
  });

  it('b == 0 does not read y (NaN in y does not leak), like gemm beta == 0', () => {
    fc.assert(fc.property(len, fc.integer(), (n, seed) => {
      const x = randomF32(n, seed);
      const want = Float32Array.from(x, (v) => Math.fround(0.25) * v);
      const outs = onBoth((h) => {
        const xp = h.putF32(x), yp = outGuarded(h, n); // y is NaN
        h.k.axpby_f32(xp, yp, n, 0.25, 0);
        expect(guardIntact(h, yp, n)).toBe(true);
        return h.getF32(yp, n);
      });
      for (const o of outs) expect(o).toEqual(want);
    }), { seed: SEED, numRuns: RUNS });
  });

  it('runs a BatchNorm running-mean update: run = 0.9 * run + 0.1 * mean', () => {
    const mean = randomF32(13, 5), run = randomF32(13, 6);
    const want = Array.from(run, (r, i) => Math.fround(0.9) * r + Math.fround(0.1) * mean[i]);
    for (const o of onBoth((h) => {
      const mp = h.putF32(mean), rp = h.putF32(run);
      h.k.axpby_f32(mp, rp, 13, 0.1, 0.9);
      return h.getF32(rp, 13);
    })) expect(maxRelErr(o, want)).toBeLessThan(1e-6);
  });
});

describe('fill_f32', () => {
  it('y[0..n) = v, nothing past n, both backends', () => {
    fc.assert(fc.property(len, fc.constantFrom(0, -0, 1.5, -3, NaN, Infinity, 1e-40), (n, v) => {
      const want = new Float32Array(n).fill(v);
      const outs = onBoth((h) => {
        const yp = outGuarded(h, n);
        h.k.fill_f32(yp, n, v);
        expect(guardIntact(h, yp, n)).toBe(true);
        return h.getF32(yp, n);
      });
      for (const o of outs) expect(o).toEqual(want);
    }), { seed: SEED, numRuns: RUNS });
  });
});

describe('count_nonfinite_f32', () => {
  it('counts planted NaN / +-Inf at random positions (incl. tails), ignores guard cells', () => {
    const special = fc.constantFrom(NaN, Infinity, -Infinity, -NaN);
    fc.assert(fc.property(len, fc.integer(), fc.array(fc.tuple(fc.nat(), special), { maxLength: 20 }), (n, seed, plants) => {
      const x = randomF32(n, seed).map((v) => v * 3e38); // huge but finite
      if (n > 0) for (const [pos, v] of plants) x[pos % n] = v;
      let want = 0;
      for (const v of x) if (!Number.isFinite(v)) want++;
      const counts = onBoth((h) => {
        const p = h.putF32([...Array.from(x), NaN, Infinity, NaN, -Infinity, NaN]); // non-finite just past n
        return h.k.count_nonfinite_f32(p, n);
      });
      expect(counts).toEqual([want, want]);
    }), { seed: SEED, numRuns: RUNS });
  });

  it('NaN payloads and the largest finite / denormal values', () => {
    // 3 NaNs (quiet with payload, negative, signalling) + 2 infinities; max finite, -max, denormal, -0 are finite
    const u = Uint32Array.of(0x7fc00001, 0xffffffff, 0x7f800001, 0x7f7fffff, 0xff7fffff, 0x00000001, 0x80000000, 0x7f800000, 0xff800000);
    for (const c of onBoth((h) => {
      const p = h.alloc(9);
      new Uint32Array(h.backend.memory.buffer, p, 9).set(u);
      return h.k.count_nonfinite_f32(p, 9);
    })) expect(c).toBe(5);
  });
});
