// The Winograd F(2x2, 3x3) kernels (wino_filter_f32, wino_fwd_f32, wino_grad_sums_f32 + wino_grad_filter_f32), Wasm
// and JS, against the float64 direct definitions of tests/kernels/conv-ref.ts on random
// geometries (fast-check, seeded): 3x3 filters, stride 1, pad 0..2, odd and even output sizes
// (clipped edge tiles), sizes around the 4-tile SIMD quads, groups of several images, the
// filter gradient's image partitions computed in separate calls (bit-identical to one call).
//
// Tolerance: the direct bound of conv-ref.ts times WINO_SLACK (2 is the least that passes here).
// The transforms combine up to 16
// input and 9 filter values per product before the sums over channels, so their roundings
// are those of sums of ~4x the magnitudes; a dropped or doubled term (|w x| ~ 0.1-1 here) is
// far outside the bound (the last test checks that the comparison catches one).
import { describe, it, expect, beforeAll } from 'vitest';
import fc from 'fast-check';
import { harness, randomF32, type Harness } from '../helpers/harness.js';
import { WINO_PARTS, winoFwdScratch, winoGeom, winoPartStart, winoSumsScratch } from '../../src/backend/kernels.js';
import { SENTINEL, expectClose, outH, outW, refData, refFilter, refForward, type G, type Ref } from './conv-ref.js';

const SEED = 20261202;
const WINO_SLACK = 4;
const slack = (r: Ref): Ref => ({ v: r.v, bound: r.bound.map((b) => b * WINO_SLACK) });

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
      const ref = slack(refForward(g, x, w, bias ? b : null));
      each((h, name) => expectClose(`${name} y`, winoForward(h, g, x, w, bias ? b : null), ref));
    }), { seed: SEED, numRuns: 80 });
  });

  it('computes the deep net\'s shapes (groups of many images, 7x7 and 8x8 outputs, groups of unequal size)', () => {
    // 13 images of 16x16 outputs: G = 4, groups of 4, 3, 3 and 3 images
    for (const [N, C, H, FN, p] of [[20, 8, 7, 5, 1], [9, 4, 8, 6, 1], [3, 3, 14, 4, 2], [13, 2, 14, 3, 2]]) {
      const g: G = { N, C, H, W: H, FN, KH: 3, KW: 3, sH: 1, sW: 1, pH: p, pW: p };
      expect(winoGeom(N, outH(g), outW(g)).G).toBeGreaterThan(1);
      const x = randomF32(N * C * H * H, N), w = randomF32(FN * C * 9, C);
      const ref = slack(refForward(g, x, w, null));
      each((h, name) => expectClose(`${name} y`, winoForward(h, g, x, w, null), ref));
    }
  });
});

describe('wino_filter_f32 with flip: the input gradient as wino_fwd_f32 of dy with pad 2 - pad', () => {
  it('matches the direct input gradient (every dx cell overwritten)', () => {
    fc.assert(fc.property(geom, fc.integer(), (g, seed) => {
      const OH = outH(g), OW = outW(g);
      const dy = randomF32(g.N * g.FN * OH * OW, seed), w = randomF32(g.FN * g.C * 9, seed + 1);
      const ref = slack(refData(g, dy, w));
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
      const ref = slack(refFilter(g, x, dy));
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
      const ref = slack(refFilter(g, x, dy));
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
    const ref = slack(refForward(g, x, w, null));
    const x2 = x.slice();
    x2[100] += 0.25;
    each((h) => {
      expect(() => expectClose('y', winoForward(h, g, x2, w, null), ref)).toThrow(/expected/);
    });
  });
});
