// The Winograd F(2x2, 3x3) kernels (wino_filter_f32, wino_fwd_f32, wino_grad_sums_f32 + wino_grad_filter_f32), Wasm
// and JS, against the float64 direct definitions of tests/kernels/conv-ref.ts on random
// geometries (fast-check, seeded): 3x3 filters, stride 1, pad 0..2, odd and even output sizes
// (clipped edge tiles), sizes around the 4-tile SIMD quads, groups of several images, the
// filter gradient's image partitions computed in separate calls (bit-identical to one call).
//
// Tolerance: the per-tile bounds of conv-ref.ts with 2x2 output (4x4 input) tiles, not its per-cell
// direct bounds: the transforms mix a tile's 16 inputs and a filter's 9 taps, so a cell whose own
// window sum is tiny (padding, H or W = 1) still carries its tile's roundings, and the per-cell bound
// (which this file used, times 4) passed only by its fixed seed: in 5 other seeds of 80 cases per test,
// y or dx cells fell outside it in 3 on Wasm and 1 on JS.
// - y and dx: winoBound, (9C + 9) 2^-23 a per output, a = |b| + sum over c of sum |w[f][c]| times
//   max |x| over the tile's 4x4 input; WINO_SLACK = 1/4: the error stayed below 0.117 of winoBound on
//   Wasm and 0.088 on JS (2 x 10^5 random cases per backend and kernel: 2.5 x 10^4 of this file's
//   geometries, the rest 1 or 2 images with H, W <= 9, where the ratio is largest), so 1/8 is the least
//   power of 2 that passed every case, times a margin of 2.
//   It is below 1 because winoBound takes the worst case, every rounding at its largest and of one sign,
//   and F(2x2)'s coefficients are 1 and 1/2 (F(4x4)'s reach 8: WINO4_SLACK = 8 in winograd4.test.ts).
// - dw: winoFilterBound, (N OH OW + 9) 2^-23 a per dw[f][c], a = the sum over the tiles of sum |dy|
//   over the tile times max |x| over its input; WINO_FILTER_SLACK = 2: the error stayed below 0.52 of it
//   on Wasm and 0.38 on JS (4 x 10^5 cases per backend, most of them 1 or 2 images with H, W <= 6, where
//   it is largest: over many tiles the roundings average out against a bound linear in N OH OW), so 1
//   is the least power of 2 that passed every case, times 2.
// A wrong input value (|w x| or |dy x| ~ 0.1) is still ~2 x 10^4 times outside the y bound and ~60
// times outside the dw one (the last tests check that the comparison catches one, in y and in dw).
import { describe, it, expect, beforeAll } from 'vitest';
import fc from 'fast-check';
import { harness, randomF32, type Harness } from '../helpers/harness.js';
import { WINO_PARTS, winoFwdScratch, winoGeom, winoPartStart, winoSumsScratch } from '../../src/backend/kernels.js';
import { SENTINEL, expectClose, outH, outW, refWinoData, refWinoFilter, refWinoForward, type G, type Ref } from './conv-ref.js';

const SEED = 20261202;
const WINO_SLACK = 1 / 4;
const WINO_FILTER_SLACK = 2;
/** The references of g with the per-tile bounds of F(2x2) (4x4 input tiles) as their tolerance. */
const refFwd2 = (g: G, x: Float32Array, w: Float32Array, b: Float32Array | null): Ref => refWinoForward(2, WINO_SLACK, g, x, w, b);
const refData2 = (g: G, dy: Float32Array, w: Float32Array): Ref => refWinoData(2, WINO_SLACK, g, dy, w);
const refFilter2 = (g: G, x: Float32Array, dy: Float32Array): Ref => refWinoFilter(2, WINO_FILTER_SLACK, g, x, dy);

const BACKENDS = (process.env.WINO_BACKENDS ?? 'wasm,js').split(',');
const hs: Record<string, Harness> = {};
beforeAll(async () => {
  for (const b of BACKENDS) hs[b] = await harness(b as 'wasm' | 'js');
});

function each(fn: (h: Harness, name: string) => void): void {
  for (const name of BACKENDS) {
    try {
      fn(hs[name], name);
    } finally {
      hs[name].reset();
    }
  }
}

const geom = fc.record({
  N: fc.integer({ min: 1, max: 5 }), C: fc.integer({ min: 1, max: 6 }),
  H: fc.integer({ min: 1, max: 19 }), W: fc.integer({ min: 1, max: 21 }),
  FN: fc.integer({ min: 1, max: 7 }), p: fc.integer({ min: 0, max: 2 }),
}).map(({ p, ...g }): G => ({ ...g, KH: 3, KW: 3, sH: 1, sW: 1, pH: p, pW: p }))
  .filter((g) => outH(g) >= 1 && outW(g) >= 1);

/** wino_filter_f32 + wino_fwd_f32 of x with w (FN, C, 3, 3): y (N, FN, OH, OW). */
function winoForward(h: Harness, g: G, x: Float32Array, w: Float32Array, b: Float32Array | null): Float32Array {
  const OH = outH(g), OW = outW(g);
  const u = h.alloc(16 * g.FN * g.C);
  h.k.wino_filter_f32(h.putF32(w), g.FN, g.C, 0, u);
  const y = h.alloc(g.N * g.FN * OH * OW);
  h.k.wino_fwd_f32(h.putF32(x), g.N, g.C, g.H, g.W, u, g.FN, g.pH, b ? h.putF32(b) : 0, b ? 1 : 0, y,
    h.alloc(winoFwdScratch(g.N, g.C, g.FN, OH, OW)));
  return h.getF32(y, g.N * g.FN * OH * OW);
}

describe('wino_fwd_f32', () => {
  it('matches the direct convolution (with and without bias)', () => {
    fc.assert(fc.property(geom, fc.boolean(), fc.integer(), (g, bias, seed) => {
      const x = randomF32(g.N * g.C * g.H * g.W, seed), w = randomF32(g.FN * g.C * 9, seed + 1), b = randomF32(g.FN, seed + 2);
      const ref = refFwd2(g, x, w, bias ? b : null);
      each((h, name) => expectClose(`${name} y`, winoForward(h, g, x, w, bias ? b : null), ref));
    }), { seed: SEED, numRuns: 80 });
  });

  it('computes the deep net\'s shapes (groups of many images, 7x7 and 8x8 outputs, groups of unequal size)', () => {
    // 13 images of 16x16 outputs: G = 4, groups of 4, 3, 3 and 3 images
    for (const [N, C, H, FN, p] of [[20, 8, 7, 5, 1], [9, 4, 8, 6, 1], [3, 3, 14, 4, 2], [13, 2, 14, 3, 2]]) {
      const g: G = { N, C, H, W: H, FN, KH: 3, KW: 3, sH: 1, sW: 1, pH: p, pW: p };
      expect(winoGeom(N, outH(g), outW(g)).G).toBeGreaterThan(1);
      const x = randomF32(N * C * H * H, N), w = randomF32(FN * C * 9, C);
      const ref = refFwd2(g, x, w, null);
      each((h, name) => expectClose(`${name} y`, winoForward(h, g, x, w, null), ref));
    }
  });
});

describe('wino_filter_f32 with flip: the input gradient as wino_fwd_f32 of dy with pad 2 - pad', () => {
  it('matches the direct input gradient (every dx cell overwritten)', () => {
    fc.assert(fc.property(geom, fc.integer(), (g, seed) => {
      const OH = outH(g), OW = outW(g);
      const dy = randomF32(g.N * g.FN * OH * OW, seed), w = randomF32(g.FN * g.C * 9, seed + 1);
      const ref = refData2(g, dy, w);
      each((h, name) => {
        const u = h.alloc(16 * g.FN * g.C);
        h.k.wino_filter_f32(h.putF32(w), g.FN, g.C, 1, u);
        const n = g.N * g.C * g.H * g.W;
        const dx = h.alloc(n);
        h.k.wino_fwd_f32(h.putF32(dy), g.N, g.FN, OH, OW, u, g.C, 2 - g.pH, 0, 0, dx, h.alloc(winoFwdScratch(g.N, g.FN, g.C, g.H, g.W)));
        expectClose(`${name} dx`, h.getF32(dx, n), ref);
      });
    }), { seed: SEED + 1, numRuns: 80 });
  });
});

/**
 * wino_grad_sums_f32 over partitions [0, split) and [split, WINO_PARTS) in two calls (or one when
 * split is 0), then wino_grad_filter_f32: dw (FN, C, 3, 3), and the sums' bytes before the finish.
 */
function winoFilterGrad(h: Harness, g: G, x: Float32Array, dy: Float32Array, split: number): { dw: Float32Array; sums: Float32Array } {
  const OH = outH(g), OW = outW(g), n = WINO_PARTS * 16 * g.FN * g.C;
  const sums = h.putF32(new Float32Array(n).fill(SENTINEL));
  const xp = h.putF32(x), dyp = h.putF32(dy);
  const scratch = h.alloc(Math.max(1, winoSumsScratch(g.N, g.C, g.FN, OH, OW)));
  for (const [p0, p1] of split > 0 ? [[0, split], [split, WINO_PARTS]] : [[0, WINO_PARTS]]) {
    h.k.wino_grad_sums_f32(xp, dyp, g.N, g.C, g.H, g.W, g.FN, g.pH, p0, p1, sums, scratch);
  }
  const before = h.getF32(sums, n).slice();
  const dw = h.putF32(new Float32Array(g.FN * g.C * 9).fill(SENTINEL));
  h.k.wino_grad_filter_f32(sums, g.FN, g.C, dw);
  return { dw: h.getF32(dw, g.FN * g.C * 9), sums: before };
}

describe('wino_grad_sums_f32 + wino_grad_filter_f32 (the filter gradient)', () => {
  it('matches the direct filter gradient, and partitions computed apart equal one call bit for bit', () => {
    fc.assert(fc.property(geom, fc.integer(), fc.integer({ min: 1, max: WINO_PARTS - 1 }), (g, seed, split) => {
      const OH = outH(g), OW = outW(g);
      const x = randomF32(g.N * g.C * g.H * g.W, seed), dy = randomF32(g.N * g.FN * OH * OW, seed + 1);
      const ref = refFilter2(g, x, dy);
      each((h, name) => {
        const whole = winoFilterGrad(h, g, x, dy, 0);
        expectClose(`${name} dw`, whole.dw, ref);
        const apart = winoFilterGrad(h, g, x, dy, split);
        expect(Buffer.from(apart.sums.buffer).equals(Buffer.from(whole.sums.buffer)), `${name} sums, split at partition ${split}`).toBe(true);
      });
    }), { seed: SEED + 2, numRuns: 80 });
  });

  it('computes the deep net\'s shapes (several groups in each partition, partitions of unequal size)', () => {
    for (const [N, C, H, FN, p] of [[130, 2, 8, 3, 1], [40, 3, 14, 4, 2], [23, 2, 28, 3, 1]]) {
      const g: G = { N, C, H, W: H, FN, KH: 3, KW: 3, sH: 1, sW: 1, pH: p, pW: p };
      const wg = winoGeom(N, outH(g), outW(g));
      const ng = Math.ceil(N / wg.G);
      expect(winoPartStart(1, ng)).toBeGreaterThan(1); // more than one group in the first partition
      const x = randomF32(N * C * H * H, N), dy = randomF32(N * FN * outH(g) * outW(g), C);
      const ref = refFilter2(g, x, dy);
      each((h, name) => expectClose(`${name} dw`, winoFilterGrad(h, g, x, dy, 2).dw, ref));
    }
  });

  it('writes zeros for an empty batch', () => {
    each((h) => {
      const g: G = { N: 0, C: 2, H: 5, W: 5, FN: 3, KH: 3, KW: 3, sH: 1, sW: 1, pH: 1, pW: 1 };
      const { dw, sums } = winoFilterGrad(h, g, new Float32Array(1), new Float32Array(1), 1);
      sums.forEach((v) => expect(v).toBe(0));
      dw.forEach((v) => expect(v).toBe(0));
    });
  });
});

describe('the comparison', () => {
  it('catches one wrong input value', () => {
    const g: G = { N: 2, C: 3, H: 9, W: 10, FN: 4, KH: 3, KW: 3, sH: 1, sW: 1, pH: 1, pW: 1 };
    const x = randomF32(2 * 3 * 90, 7), w = randomF32(4 * 27, 8);
    const ref = refFwd2(g, x, w, null);
    const x2 = x.slice();
    x2[100] += 0.25;
    each((h) => {
      expect(() => expectClose('y', winoForward(h, g, x2, w, null), ref)).toThrow(/expected/);
    });
  });

  it('catches one wrong value in the filter gradient', () => {
    const g: G = { N: 2, C: 3, H: 9, W: 10, FN: 4, KH: 3, KW: 3, sH: 1, sW: 1, pH: 1, pW: 1 };
    const x = randomF32(2 * 3 * 90, 7), dy = randomF32(2 * 4 * 90, 8);
    const ref = refFilter2(g, x, dy);
    const x2 = x.slice();
    x2[100] += 0.25;
    each((h) => {
      expect(() => expectClose('dw', winoFilterGrad(h, g, x2, dy, 0).dw, ref)).toThrow(/expected/);
    });
  });
});
