// The batched conv kernels (conv_fwd_f32, conv_bwd_data_f32, conv_bwd_filter_f32,
// conv_bwd_bias_f32): Wasm vs JS vs a naive float64 definition, on random geometries
// (fast-check, seeded): strides, paddings, odd sizes, filters larger than the padded input
// in one direction, partial column / channel ranges (the cells outside a range must keep
// their values), batch 0.
//
// Tolerance: per element, (terms + 8) * 2^-23 * sum of |terms| (any summation order of f32
// terms stays within it; a dropped or doubled term does not).
import { describe, it, expect, beforeAll } from 'vitest';
import fc from 'fast-check';
import { harness, randomF32, type Harness } from '../helpers/harness.js';
import { convDataScratch, convFilterScratch, convGroup } from '../../src/backend/kernels.js';

import { SENTINEL, CKK, expectClose, outH, outW, refData, refFilter, refForward, type G, type Ref } from './conv-ref.js';

const SEED = 20241128;
function refBias(N: number, C: number, HW: number, dy: Float32Array): Ref {
  const v = new Float64Array(C), bound = new Float64Array(C);
  for (let c = 0; c < C; c++) {
    let s = 0, a = 0;
    for (let n = 0; n < N; n++) for (let i = 0; i < HW; i++) { const t = dy[(n * C + c) * HW + i]; s += t; a += Math.abs(t); }
    v[c] = s;
    bound[c] = (N * HW + 8) * 2 ** -23 * a + 1e-30;
  }
  return { v, bound };
}

let wasm: Harness;
let js: Harness;
beforeAll(async () => {
  wasm = await harness('wasm');
  js = await harness('js');
});

const geom = fc.record({
  N: fc.integer({ min: 1, max: 3 }), C: fc.integer({ min: 1, max: 3 }),
  H: fc.integer({ min: 1, max: 9 }), W: fc.integer({ min: 1, max: 10 }),
  FN: fc.integer({ min: 1, max: 7 }), KH: fc.integer({ min: 1, max: 4 }), KW: fc.integer({ min: 1, max: 4 }),
  sH: fc.integer({ min: 1, max: 3 }), sW: fc.integer({ min: 1, max: 3 }),
  pH: fc.integer({ min: 0, max: 2 }), pW: fc.integer({ min: 0, max: 2 }),
}).filter((g) => outH(g) >= 1 && outW(g) >= 1);

/** Runs `fn` on both backends with the same inputs. */
function both(fn: (h: Harness, name: string) => void): void {
  for (const [h, name] of [[wasm, 'wasm'], [js, 'js']] as const) {
    try {
      fn(h, name);
    } finally {
      h.reset();
    }
  }
}

describe('conv_fwd_f32', () => {
  it('matches the definition (with and without bias)', () => {
    fc.assert(fc.property(geom, fc.boolean(), fc.integer(), (g, bias, seed) => {
      const OHW = outH(g) * outW(g);
      const x = randomF32(g.N * g.C * g.H * g.W, seed), w = randomF32(g.FN * CKK(g), seed + 1), b = randomF32(g.FN, seed + 2);
      const ref = refForward(g, x, w, bias ? b : null);
      both((h, name) => {
        const y = h.alloc(g.N * g.FN * OHW);
        h.k.conv_fwd_f32(h.putF32(x), g.N, g.C, g.H, g.W, h.putF32(w), g.FN, g.KH, g.KW, g.sH, g.sW, g.pH, g.pW,
          h.putF32(b), bias ? 1 : 0, y, h.alloc(convDataScratch(g.N, CKK(g), g.FN, OHW)));
        expectClose(`${name} y`, h.getF32(y, g.N * g.FN * OHW), ref);
      });
    }), { seed: SEED, numRuns: 60 });
  });
});

describe('conv_bwd_data_f32', () => {
  it('matches the definition (every dx cell overwritten)', () => {
    fc.assert(fc.property(geom, fc.integer(), (g, seed) => {
      const OHW = outH(g) * outW(g);
      const dy = randomF32(g.N * g.FN * OHW, seed), w = randomF32(g.FN * CKK(g), seed + 1);
      const ref = refData(g, dy, w);
      both((h, name) => {
        const n = g.N * g.C * g.H * g.W;
        const dx = h.alloc(n); // NaN-filled: must be overwritten
        h.k.conv_bwd_data_f32(h.putF32(dy), g.N, g.C, g.H, g.W, h.putF32(w), g.FN, g.KH, g.KW, g.sH, g.sW, g.pH, g.pW,
          dx, h.alloc(convDataScratch(g.N, CKK(g), g.FN, OHW)));
        expectClose(`${name} dx`, h.getF32(dx, n), ref);
      });
    }), { seed: SEED + 1, numRuns: 60 });
  });
});

describe('conv_bwd_filter_f32', () => {
  it('matches the definition on a column range and leaves the other columns alone', () => {
    fc.assert(fc.property(geom, fc.integer(), fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 1000 }), (g, seed, ra, rb) => {
      const K = CKK(g), OHW = outH(g) * outW(g);
      const r0 = ra % (K + 1), r1 = r0 + (rb % (K - r0 + 1));
      const x = randomF32(g.N * g.C * g.H * g.W, seed), dy = randomF32(g.N * g.FN * OHW, seed + 1);
      const ref = refFilter(g, x, dy);
      both((h, name) => {
        const dw = h.putF32(new Float32Array(g.FN * K).fill(SENTINEL));
        h.k.conv_bwd_filter_f32(h.putF32(x), h.putF32(dy), g.N, g.C, g.H, g.W, g.FN, g.KH, g.KW, g.sH, g.sW, g.pH, g.pW,
          r0, r1, dw, h.alloc(Math.max(1, convFilterScratch(g.N, r1 - r0, g.FN, OHW))));
        expectClose(`${name} dw [${r0}, ${r1})`, h.getF32(dw, g.FN * K), ref, (i) => i % K < r0 || i % K >= r1);
      });
    }), { seed: SEED + 2, numRuns: 60 });
  });

  it('writes zeros for an empty batch', () => {
    const g: G = { N: 0, C: 2, H: 5, W: 5, FN: 3, KH: 3, KW: 3, sH: 1, sW: 1, pH: 0, pW: 0 };
    both((h) => {
      const dw = h.putF32(new Float32Array(3 * 18).fill(SENTINEL));
      h.k.conv_bwd_filter_f32(h.putF32([0]), h.putF32([0]), 0, g.C, g.H, g.W, g.FN, g.KH, g.KW, 1, 1, 0, 0, 2, 7, dw, h.alloc(64));
      const got = h.getF32(dw, 54);
      got.forEach((v, i) => expect(v).toBe(i % 18 >= 2 && i % 18 < 7 ? 0 : SENTINEL));
    });
  });
});

describe('conv_bwd_bias_f32', () => {
  it('sums a channel range and leaves the other channels alone', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 4 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 70 }),
      fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 100 }), fc.integer(), (N, C, HW, ca, cb, seed) => {
        const c0 = ca % (C + 1), c1 = c0 + (cb % (C - c0 + 1));
        const dy = randomF32(Math.max(1, N * C * HW), seed);
        const ref = refBias(N, C, HW, dy);
        both((h, name) => {
          const db = h.putF32(new Float32Array(C).fill(SENTINEL));
          h.k.conv_bwd_bias_f32(h.putF32(dy), N, C, HW, c0, c1, db);
          expectClose(`${name} db [${c0}, ${c1})`, h.getF32(db, C), ref, (i) => i < c0 || i >= c1);
        });
      }), { seed: SEED + 3, numRuns: 80 });
  });
});

describe('SimpleConvNet shapes', () => {
  it('Wasm and JS agree on conv1 of SimpleConvNet (batch 4: 1x28x28, 30 filters 5x5)', () => {
    const g: G = { N: 4, C: 1, H: 28, W: 28, FN: 30, KH: 5, KW: 5, sH: 1, sW: 1, pH: 0, pW: 0 };
    const OHW = 576, K = 25;
    const x = randomF32(4 * 784, 1), w = randomF32(30 * 25, 2), b = randomF32(30, 3), dy = randomF32(4 * 30 * OHW, 4);
    const fwd = refForward(g, x, w, b), filt = refFilter(g, x, dy), data = refData(g, dy, w);
    both((h, name) => {
      const y = h.alloc(4 * 30 * OHW), dw = h.alloc(30 * K), dx = h.alloc(4 * 784), col = h.alloc(Math.max(convFilterScratch(4, K, 30, OHW), convDataScratch(4, K, 30, OHW)));
      const xp = h.putF32(x), wp = h.putF32(w), dyp = h.putF32(dy);
      h.k.conv_fwd_f32(xp, 4, 1, 28, 28, wp, 30, 5, 5, 1, 1, 0, 0, h.putF32(b), 1, y, col);
      h.k.conv_bwd_filter_f32(xp, dyp, 4, 1, 28, 28, 30, 5, 5, 1, 1, 0, 0, 0, K, dw, col);
      h.k.conv_bwd_data_f32(dyp, 4, 1, 28, 28, wp, 30, 5, 5, 1, 1, 0, 0, dx, col);
      expectClose(`${name} y`, h.getF32(y, 4 * 30 * OHW), fwd);
      expectClose(`${name} dw`, h.getF32(dw, 30 * K), filt);
      expectClose(`${name} dx`, h.getF32(dx, 4 * 784), data);
    });
  });
});

describe('conv_fwd_f32 / conv_bwd_data_f32 / conv_bwd_filter_f32 over groups of images', () => {
  // OHW 256 -> one image per GEMM (row stride padded to 260), OHW 64 -> groups of 4 (260 again),
  // OHW 100 -> groups of 2, OHW 9 -> all 7 at once: several groups and a short last one, with the
  // scratch exactly as large as convDataScratch says
  const cases: G[] = [
    { N: 3, C: 3, H: 16, W: 16, FN: 4, KH: 3, KW: 3, sH: 1, sW: 1, pH: 1, pW: 1 },
    { N: 6, C: 4, H: 8, W: 8, FN: 5, KH: 3, KW: 3, sH: 1, sW: 1, pH: 1, pW: 1 },
    { N: 7, C: 2, H: 10, W: 10, FN: 6, KH: 3, KW: 3, sH: 1, sW: 1, pH: 1, pW: 1 },
    { N: 7, C: 5, H: 5, W: 5, FN: 9, KH: 3, KW: 3, sH: 2, sW: 2, pH: 1, pW: 1 },
  ];
  for (const g of cases) {
    const OHW = outH(g) * outW(g);
    it(`N ${g.N}, ${g.C}x${g.H}x${g.W}, ${g.FN} filters 3x3: groups of ${convGroup(g.N, OHW)}; match the definition and stay inside the scratch`, () => {
      const x = randomF32(g.N * g.C * g.H * g.W, 11), w = randomF32(g.FN * CKK(g), 12), b = randomF32(g.FN, 13);
      const dy = randomF32(g.N * g.FN * OHW, 14);
      const fwd = refForward(g, x, w, b), data = refData(g, dy, w);
      const scratch = convDataScratch(g.N, CKK(g), g.FN, OHW);
      const GUARD = 64;
      both((h, name) => {
        const y = h.alloc(g.N * g.FN * OHW), dx = h.alloc(g.N * g.C * g.H * g.W);
        const col = h.putF32(new Float32Array(scratch + GUARD).fill(SENTINEL));
        h.k.conv_fwd_f32(h.putF32(x), g.N, g.C, g.H, g.W, h.putF32(w), g.FN, 3, 3, g.sH, g.sW, g.pH, g.pW, h.putF32(b), 1, y, col);
        expectClose(`${name} y`, h.getF32(y, g.N * g.FN * OHW), fwd);
        h.k.conv_bwd_data_f32(h.putF32(dy), g.N, g.C, g.H, g.W, h.putF32(w), g.FN, 3, 3, g.sH, g.sW, g.pH, g.pW, dx, col);
        expectClose(`${name} dx`, h.getF32(dx, g.N * g.C * g.H * g.W), data);
        const guard = h.getF32(col + scratch * 4, GUARD);
        expect(guard.every((v) => Object.is(v, SENTINEL)), `${name}: a write past the scratch`).toBe(true);
        // the filter gradient, whole and on a column range, with its scratch exactly as large as convFilterScratch says
        const K = CKK(g);
        const filt = refFilter(g, x, dy);
        for (const [r0, r1] of [[0, K], [3, K - 2]]) {
          const fs = convFilterScratch(g.N, r1 - r0, g.FN, OHW);
          const fcol = h.putF32(new Float32Array(fs + GUARD).fill(SENTINEL));
          const dw = h.putF32(new Float32Array(g.FN * K).fill(SENTINEL));
          h.k.conv_bwd_filter_f32(h.putF32(x), h.putF32(dy), g.N, g.C, g.H, g.W, g.FN, 3, 3, g.sH, g.sW, g.pH, g.pW, r0, r1, dw, fcol);
          expectClose(`${name} dw [${r0}, ${r1})`, h.getF32(dw, g.FN * K), filt, (i) => i % K < r0 || i % K >= r1);
          expect(h.getF32(fcol + fs * 4, GUARD).every((v) => Object.is(v, SENTINEL)), `${name}: dw scratch overrun`).toBe(true);
        }
      });
    });
  }
});
