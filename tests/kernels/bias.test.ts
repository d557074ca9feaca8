// bias kernels: Wasm vs JS vs a naive reference (the course's Affine/Convolution bias terms:
// out = x W + b, db = sum(dout, axis=0); conv: + b[c], db = sum over N, H, W), on odd shapes.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { randomF32, maxRelErr, useBothBackends, putGuarded, outGuarded, guardIntact } from '../helpers/harness.js';

const SEED = 424242;
const RUNS = 60;


const onBoth = useBothBackends();


const dim = fc.oneof(fc.constantFrom(0, 1, 3, 4, 5, 7, 8, 16, 17), fc.integer({ min: 0, max: 70 }));
const spatial = fc.oneof(fc.constantFrom(0, 1, 3, 4, 5, 7, 9, 16, 17, 24, 25), fc.integer({ min: 0, max: 150 }));

describe('bias_add_rows_f32', () => {
  it('y[r, j] += b[j] on odd shapes, both backends', () => {
    fc.assert(fc.property(dim, dim, fc.integer(), (rows, cols, seed) => {
      const y = randomF32(rows * cols, seed), b = randomF32(cols, seed + 1);
      const want = Array.from(y, (v, i) => v + b[i % cols]);
      const outs = onBoth((h) => {
        const yp = putGuarded(h, y), bp = h.putF32(b);
        h.k.bias_add_rows_f32(yp, bp, rows, cols);
        expect(guardIntact(h, yp, y.length)).toBe(true);
        return h.getF32(yp, y.length);
      });
      for (const o of outs) expect(maxRelErr(o, want)).toBeLessThan(1e-6);
    }), { seed: SEED, numRuns: RUNS });
  });
});

describe('bias_add_channels_f32', () => {
  it('y[n, c, i] += b[c] on odd shapes, both backends', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 4 }), dim, spatial, fc.integer(), (N, C, HW, seed) => {
      const y = randomF32(N * C * HW, seed), b = randomF32(C, seed + 1);
      const want = Array.from(y, (v, i) => v + b[Math.floor(i / HW) % C]);
      const outs = onBoth((h) => {
        const yp = putGuarded(h, y), bp = h.putF32(b);
        h.k.bias_add_channels_f32(yp, bp, N, C, HW);
        expect(guardIntact(h, yp, y.length)).toBe(true);
        return h.getF32(yp, y.length);
      });
      for (const o of outs) expect(maxRelErr(o, want)).toBeLessThan(1e-6);
    }), { seed: SEED, numRuns: RUNS });
  });
});

describe('bias_grad_rows_f32', () => {
  it('db = column sums of dy (overwritten, not accumulated), both backends', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 130 }), dim, fc.integer(), (rows, cols, seed) => {
      const dy = randomF32(rows * cols, seed);
      const want = new Array(cols).fill(0);
      for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) want[j] += dy[r * cols + j];
      const outs = onBoth((h) => {
        const dyp = h.putF32(dy), dbp = outGuarded(h, cols); // db starts as NaN: must not be read
        h.k.bias_grad_rows_f32(dyp, dbp, rows, cols);
        expect(guardIntact(h, dbp, cols)).toBe(true);
        return h.getF32(dbp, cols);
      });
      // sums of up to 130 terms in [-1, 1): absolute error well under 1e-5
      for (const o of outs) expect(maxRelErr(o, want)).toBeLessThan(1e-5);
      if (rows === 0) for (const o of outs) expect(Array.from(o)).toEqual(new Array(cols).fill(0));
    }), { seed: SEED, numRuns: RUNS });
  });
});

describe('bias_grad_channels_f32', () => {
  it('db[c] = sum over N and HW (overwritten), both backends', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 5 }), dim, spatial, fc.integer(), (N, C, HW, seed) => {
      const dy = randomF32(N * C * HW, seed);
      const want = new Array(C).fill(0);
      for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let i = 0; i < HW; i++) want[c] += dy[(n * C + c) * HW + i];
      const outs = onBoth((h) => {
        const dyp = h.putF32(dy), dbp = outGuarded(h, C);
        h.k.bias_grad_channels_f32(dyp, dbp, N, C, HW);
        expect(guardIntact(h, dbp, C)).toBe(true);
        return h.getF32(dbp, C);
      });
      for (const o of outs) expect(maxRelErr(o, want)).toBeLessThan(1e-5);
      expect(maxRelErr(outs[0], outs[1])).toBeLessThan(1e-5);
    }), { seed: SEED, numRuns: RUNS });
  });

  it('the SimpleConvNet shape: N=100, C=30, HW=24*24', () => {
    const N = 100, C = 30, HW = 576;
    const dy = randomF32(N * C * HW, 99);
    const want = new Array(C).fill(0);
    for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let i = 0; i < HW; i++) want[c] += dy[(n * C + c) * HW + i];
    const outs = onBoth((h) => {
      const dyp = h.putF32(dy), dbp = h.alloc(C);
      h.k.bias_grad_channels_f32(dyp, dbp, N, C, HW);
      return h.getF32(dbp, C);
    });
    // 57,600 terms per channel in f32: allow a little accumulated rounding (|sum| ~ 100s)
    for (const o of outs) for (let c = 0; c < C; c++) expect(Math.abs(o[c] - want[c])).toBeLessThan(2e-3);
  });
});
