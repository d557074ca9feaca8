// The Winograd F(4x4, 3x3) kernels (wino4_filter_f32, wino4_fwd_f32, wino4_grad_sums_f32 +
// wino4_grad_filter_f32), Wasm and JS, against the float64 direct definitions of
// tests/kernels/conv-ref.ts on random geometries (fast-check, seeded): 3x3 filters, stride 1, pad
// 0..2, every output size mod 4 (clipped edge tiles), sizes around the 16 output columns of a 4-tile
// SIMD quad, groups of several images of unequal size, the input gradient (flipped filters, pad
// 2 - pad), the filter gradient (its balanced groups, its image partitions, empty ones too), images or partitions computed in separate calls (bit-identical to one call), and no
// writes past y, u, sums, dw or the scratch.
//
// Tolerances: the per-tile bounds of conv-ref.ts with 4x4 output (6x6 input) tiles, not its per-cell
// direct bounds: the transforms mix all 36 inputs of the tile and all 9 taps of the filter, so the
// roundings of a cell are those of its whole tile, also where the cell's own window sum is tiny
// (padding, H or W = 1, small taps): in a few thousand random cases the error reached 10^4 to 5 x 10^5
// times the per-cell bound (unbounded in principle).
// - y and dx: winoBound, (9C + 9) 2^-23 a per output (the direct bound's K = 9C terms), a = |b| + the
//   sum over the channels of sum |g| (all 9 taps) times max |d| over the tile's 6x6 input. The error
//   stayed below 3.6 of it (Wasm, 10^5 random cases; 3.15 in another 2.5 x 10^4 per kernel; JS 2.1 in
//   4 x 10^4 and 1.56 in 2.5 x 10^4). That exceeds 1 because F(4x4)'s coefficients are large: the rows
//   of B^T sum to 10 in absolute value (coefficients 4 and 5), so |B^T d B| reaches 100 max |d|, and
//   those of A^T to 19 (coefficients 4 and 8), so the f32 roundings of V, U, the channel sums and the
//   products reach the output scaled by up to 19^2 while the values themselves cancel (G's 1/4 .. 1/24
//   take back only part of it); F(2x2)'s coefficients are 1 and 1/2. WINO4_SLACK = 8: 4 is the least
//   power of 2 that passed every measured case, times a margin of 2.
// - dw: winoFilterBound, (N OH OW + 9) 2^-23 a per dw[f][c] (the direct bound's K = N OH OW terms), a
//   = the sum over the images and tiles of sum |dy[n][f]| over the tile times max |x[n][c]| over its
//   6x6 input: every dw entry sums over all output cells, and a tile's dy and x values reach all 9 taps
//   through A dY A^T (A's rows (1,2,4,8), (1,-2,4,-8)), B^T d B and G^T . G. The error stayed below 1.49
//   of it on Wasm and 0.69 on JS (4 x 10^5 cases per backend: 2.5 x 10^4 of this suite's geometries, 8 x
//   10^4 of 1 or 2 images with H, W <= 9 and 3 x 10^5 with H, W <= 6, where it is largest: over many
//   tiles the roundings average out against a bound linear in N OH OW; Wasm's f32 transforms round
//   where JS's are float64). WINO4_FILTER_SLACK = 4: 2 is the least power of 2 that passed, times 2.
// A wrong input value (|w x| ~ 0.1) is still ~600x outside the y bound and ~30x outside the dw one
// (the last tests check that the comparison catches one, in y and in dw).
import { describe, it, expect, beforeAll } from 'vitest';
import fc from 'fast-check';
import { GUARD, SENTINEL as GUARD_SENTINEL, guardIntact, harness, outGuarded, randomF32, type Harness } from '../helpers/harness.js';
import { WINO_PARTS, wino4FwdScratch, wino4Geom, wino4SumsScratch, winoPartStart } from '../../src/backend/kernels.js';
import { SENTINEL, expectClose, outH, outW, refWinoData, refWinoFilter, refWinoForward, type G, type Ref } from './conv-ref.js';

const SEED = 20261215;
const WINO4_SLACK = 8;
const WINO4_FILTER_SLACK = 4;

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

/** The forward reference of g with winoBound (F(4x4): 6x6 input tiles) as its tolerance. */
const refFwd4 = (g: G, x: Float32Array, w: Float32Array, b: Float32Array | null): Ref => refWinoForward(4, WINO4_SLACK, g, x, w, b);

const square = (N: number, C: number, H: number, FN: number, p: number): G =>
  ({ N, C, H, W: H, FN, KH: 3, KW: 3, sH: 1, sW: 1, pH: p, pW: p });

// sizes near multiples of 4 (clipped tiles) and of 16 output columns (a quad of 4 tiles), with any pad
const edge = fc.constantFrom(2, 3, 4, 5, 6, 7, 14, 15, 16, 17, 18, 19, 20, 21);
const geom = fc.record({
  N: fc.integer({ min: 1, max: 5 }), C: fc.integer({ min: 1, max: 6 }),
  H: fc.oneof(fc.integer({ min: 1, max: 19 }), edge.filter((v) => v <= 19)),
  W: fc.oneof(fc.integer({ min: 1, max: 21 }), edge),
  FN: fc.integer({ min: 1, max: 7 }), p: fc.integer({ min: 0, max: 2 }),
}).map(({ p, ...g }): G => ({ ...g, KH: 3, KW: 3, sH: 1, sW: 1, pH: p, pW: p }))
  .filter((g) => outH(g) >= 1 && outW(g) >= 1);

/** wino4_filter_f32 + wino4_fwd_f32 of x with w (FN, C, 3, 3), one call per run of images between `splits`: y (N, FN, OH, OW). */
function wino4Forward(h: Harness, g: G, x: Float32Array, w: Float32Array, b: Float32Array | null,
  splits: number[] = []): Float32Array {
  const OH = outH(g), OW = outW(g), img = g.C * g.H * g.W, out = g.FN * OH * OW;
  const u = h.alloc(36 * g.FN * g.C);
  h.k.wino4_filter_f32(h.putF32(w), g.FN, g.C, 0, u);
  const xp = h.putF32(x), bp = b ? h.putF32(b) : 0;
  const y = h.alloc(g.N * out);
  const cuts = [0, ...splits, g.N];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const n0 = cuts[i], n = cuts[i + 1] - n0;
    h.k.wino4_fwd_f32(xp + n0 * img * 4, n, g.C, g.H, g.W, u, g.FN, g.pH, bp, b ? 1 : 0, y + n0 * out * 4,
      h.alloc(wino4FwdScratch(n, g.C, g.FN, OH, OW)));
  }
  return h.getF32(y, g.N * out);
}

describe('wino4_fwd_f32', () => {
  it('matches the direct convolution (with and without bias)', () => {
    fc.assert(fc.property(geom, fc.boolean(), fc.integer(), (g, bias, seed) => {
      const x = randomF32(g.N * g.C * g.H * g.W, seed), w = randomF32(g.FN * g.C * 9, seed + 1), b = randomF32(g.FN, seed + 2);
      const ref = refFwd4(g, x, w, bias ? b : null);
      each((h, name) => expectClose(`${name} y`, wino4Forward(h, g, x, w, bias ? b : null), ref));
    }), { seed: SEED, numRuns: 100 });
  });

  it('clips the edge tiles of every output size mod 4, over 1 to 2 quads of tiles', () => {
    for (let OW = 1; OW <= 21; OW++) {
      for (const OH of [1, 3, 4, 5, 8, 9]) {
        const p = (OW + OH) % 3;
        const g: G = { N: 2, C: 2, H: OH + 2 - 2 * p, W: OW + 2 - 2 * p, FN: 3, KH: 3, KW: 3, sH: 1, sW: 1, pH: p, pW: p };
        if (g.H < 1 || g.W < 1) continue;
        const x = randomF32(g.N * g.C * g.H * g.W, OW * 31 + OH), w = randomF32(g.FN * g.C * 9, OH), b = randomF32(g.FN, OW);
        const ref = refFwd4(g, x, w, b);
        each((h, name) => expectClose(`${name} y (OH ${OH}, OW ${OW}, pad ${p})`, wino4Forward(h, g, x, w, b), ref));
      }
    }
  });

  it('computes the deep net\'s shapes (groups of many images, 16x16 and 28x28 outputs, groups of unequal size)', () => {
    // [N, C, H, FN, pad, groups]: 13 images of 16x16 outputs: G = 4, groups of 3 and 4 images (ld = 4 * 16 + 4);
    // 28x28: G = ceil(64 / 49) = 2, groups of 1 and 2; 8x8 outputs of 45 images: G = 16, 3 groups of 15;
    // 5x5 (clipped) of 68: 5 groups of 13 and 14
    for (const [N, C, H, FN, p, groups] of [[13, 2, 14, 3, 2, 4], [20, 8, 7, 5, 1, 2], [9, 4, 8, 6, 1, 1], [3, 3, 28, 4, 1, 2],
      [45, 3, 8, 4, 1, 3], [68, 2, 5, 3, 1, 5]]) {
      const g = square(N, C, H, FN, p);
      const wg = wino4Geom(N, outH(g), outW(g));
      expect(wg.G).toBeGreaterThan(1);
      expect(Math.ceil(N / wg.G), `groups of ${N} images`).toBe(groups);
      const x = randomF32(N * C * H * H, N), w = randomF32(FN * C * 9, C), b = randomF32(FN, H);
      const ref = refFwd4(g, x, w, b);
      each((h, name) => expectClose(`${name} y [${N}, ${C}, ${H}, ${FN}, ${p}]`, wino4Forward(h, g, x, w, b), ref));
    }
  });

  it('computes images in separate calls bit for bit as in one call', () => {
    fc.assert(fc.property(geom.filter((g) => g.N >= 2), fc.integer(), fc.integer({ min: 1, max: 4 }), (g, seed, k) => {
      const split = Math.min(k, g.N - 1);
      const x = randomF32(g.N * g.C * g.H * g.W, seed), w = randomF32(g.FN * g.C * 9, seed + 1), b = randomF32(g.FN, seed + 2);
      each((h, name) => {
        const whole = wino4Forward(h, g, x, w, b), apart = wino4Forward(h, g, x, w, b, [split]);
        expect(Buffer.from(apart.buffer).equals(Buffer.from(whole.buffer)), `${name} y, split at image ${split}`).toBe(true);
      });
    }), { seed: SEED + 2, numRuns: 40 });
    // the 16x16 outputs of 13 images in groups of 6 and 7, against calls on 5 and 8 images (one group each)
    const g = square(13, 2, 14, 3, 2);
    const x = randomF32(13 * 2 * 14 * 14, 3), w = randomF32(3 * 2 * 9, 4);
    each((h, name) => {
      const whole = wino4Forward(h, g, x, w, null), apart = wino4Forward(h, g, x, w, null, [5]);
      expect(Buffer.from(apart.buffer).equals(Buffer.from(whole.buffer)), `${name} y, 13 images split at 5`).toBe(true);
    });
  });

  it('writes nothing past y, u and its scratch, and nothing for an empty batch or output', () => {
    for (const g of [square(3, 3, 28, 4, 1), square(13, 2, 14, 3, 2), square(2, 3, 9, 5, 0), { ...square(2, 2, 1, 3, 1), W: 7 }]) {
      const OH = outH(g), OW = outW(g), ny = g.N * g.FN * OH * OW, nu = 36 * g.FN * g.C;
      const ns = wino4FwdScratch(g.N, g.C, g.FN, OH, OW);
      const x = randomF32(g.N * g.C * g.H * g.W, 5), w = randomF32(g.FN * g.C * 9, 6), b = randomF32(g.FN, 7);
      const ref = refFwd4(g, x, w, b);
      each((h, name) => {
        const u = outGuarded(h, nu), y = outGuarded(h, ny), s = outGuarded(h, ns);
        h.k.wino4_filter_f32(h.putF32(w), g.FN, g.C, 0, u);
        h.k.wino4_fwd_f32(h.putF32(x), g.N, g.C, g.H, g.W, u, g.FN, g.pH, h.putF32(b), 1, y, s);
        expectClose(`${name} y`, h.getF32(y, ny), ref);
        expect(guardIntact(h, u, nu), `${name}: the ${GUARD} cells after u`).toBe(true);
        expect(guardIntact(h, y, ny), `${name}: the ${GUARD} cells after y`).toBe(true);
        expect(guardIntact(h, s, ns), `${name}: the ${GUARD} cells after the scratch`).toBe(true);
      });
    }
    // N = 0, FN = 0, OH = 0 (H = 2, pad 0), OW = 0 (W = 2, pad 0): y untouched
    const cases: [number, number, number, number, number, number][] =
      [[0, 2, 5, 5, 3, 1], [2, 2, 5, 5, 0, 1], [2, 2, 2, 5, 3, 0], [2, 2, 5, 2, 3, 0]];
    each((h, name) => {
      for (const [N, C, H, W, FN, p] of cases) {
        const y = h.putF32(new Float32Array(16).fill(GUARD_SENTINEL));
        const u = h.putF32(new Float32Array(36 * Math.max(FN, 1) * C));
        h.k.wino4_fwd_f32(h.putF32(new Float32Array(Math.max(1, N * C * H * W))), N, C, H, W, u, FN, p, 0, 0, y, h.alloc(16));
        expect(h.getF32(y, 16).every((v) => v === GUARD_SENTINEL), `${name}: [${N}, ${C}, ${H}, ${W}, ${FN}, ${p}] wrote y`).toBe(true);
      }
    });
  });
});

describe('wino4_filter_f32 with flip: the input gradient as wino4_fwd_f32 of dy with pad 2 - pad', () => {
  it('matches the direct input gradient (every dx cell overwritten)', () => {
    fc.assert(fc.property(geom, fc.integer(), (g, seed) => {
      const OH = outH(g), OW = outW(g);
      const dy = randomF32(g.N * g.FN * OH * OW, seed), w = randomF32(g.FN * g.C * 9, seed + 1);
      const ref = refWinoData(4, WINO4_SLACK, g, dy, w);
      each((h, name) => {
        const u = h.alloc(36 * g.FN * g.C);
        h.k.wino4_filter_f32(h.putF32(w), g.FN, g.C, 1, u);
        const n = g.N * g.C * g.H * g.W;
        const dx = outGuarded(h, n);
        new Float32Array(h.backend.memory.buffer, dx, n).fill(SENTINEL);
        h.k.wino4_fwd_f32(h.putF32(dy), g.N, g.FN, OH, OW, u, g.C, 2 - g.pH, 0, 0, dx,
          h.alloc(wino4FwdScratch(g.N, g.FN, g.C, g.H, g.W)));
        expectClose(`${name} dx`, h.getF32(dx, n), ref);
        expect(guardIntact(h, dx, n), `${name}: the ${GUARD} cells after dx`).toBe(true);
      });
    }), { seed: SEED + 1, numRuns: 100 });
  });
});

/**
 * wino4_grad_sums_f32 over partitions [0, split) and [split, WINO_PARTS) in two calls (or one when
 * split is 0), then wino4_grad_filter_f32: dw (FN, C, 3, 3), and the sums' bytes before the finish.
 * sums, dw and the scratch are followed by GUARD cells, checked here.
 */
function wino4FilterGrad(h: Harness, g: G, x: Float32Array, dy: Float32Array, split: number): { dw: Float32Array; sums: Float32Array } {
  const OH = outH(g), OW = outW(g), n = WINO_PARTS * 36 * g.FN * g.C, ndw = g.FN * g.C * 9;
  const ns = Math.max(1, wino4SumsScratch(g.N, g.C, g.FN, OH, OW));
  const sums = outGuarded(h, n), scratch = outGuarded(h, ns), dw = outGuarded(h, ndw);
  new Float32Array(h.backend.memory.buffer, sums, n).fill(SENTINEL);
  new Float32Array(h.backend.memory.buffer, dw, ndw).fill(SENTINEL);
  const xp = h.putF32(x), dyp = h.putF32(dy);
  for (const [p0, p1] of split > 0 ? [[0, split], [split, WINO_PARTS]] : [[0, WINO_PARTS]]) {
    h.k.wino4_grad_sums_f32(xp, dyp, g.N, g.C, g.H, g.W, g.FN, g.pH, p0, p1, sums, scratch);
  }
  const before = h.getF32(sums, n);
  h.k.wino4_grad_filter_f32(sums, g.FN, g.C, dw);
  expect(guardIntact(h, sums, n), `the ${GUARD} cells after sums`).toBe(true);
  expect(guardIntact(h, scratch, ns), `the ${GUARD} cells after the scratch`).toBe(true);
  expect(guardIntact(h, dw, ndw), `the ${GUARD} cells after dw`).toBe(true);
  return { dw: h.getF32(dw, ndw), sums: before };
}

const sameBytes = (a: Float32Array, b: Float32Array): boolean => Buffer.from(a.buffer).equals(Buffer.from(b.buffer));

describe('wino4_grad_sums_f32 + wino4_grad_filter_f32 (the filter gradient)', () => {
  it('matches the direct filter gradient, and partitions computed apart equal one call bit for bit', () => {
    fc.assert(fc.property(geom, fc.integer(), fc.integer({ min: 1, max: WINO_PARTS - 1 }), (g, seed, split) => {
      const OH = outH(g), OW = outW(g);
      const x = randomF32(g.N * g.C * g.H * g.W, seed), dy = randomF32(g.N * g.FN * OH * OW, seed + 1);
      const ref = refWinoFilter(4, WINO4_FILTER_SLACK, g, x, dy);
      each((h, name) => {
        const whole = wino4FilterGrad(h, g, x, dy, 0);
        expectClose(`${name} dw`, whole.dw, ref);
        const apart = wino4FilterGrad(h, g, x, dy, split);
        expect(sameBytes(apart.sums, whole.sums), `${name} sums, split at partition ${split}`).toBe(true);
        expect(sameBytes(apart.dw, whole.dw), `${name} dw, split at partition ${split}`).toBe(true);
      });
    }), { seed: SEED + 3, numRuns: 100 });
  });

  it('computes the deep net\'s shapes (balanced groups, several in a partition, partitions of unequal size)', () => {
    // [N, C, H, FN, pad], then G, the smallest and largest group and the groups per partition
    // (winoPartStart); groups are balanced: ng = ceil(N / G) of floor or ceil(N / ng) images.
    // 8x8 outputs of 130 images: 4 tiles each, G = 16, 9 groups of 14-15, partitions 2, 2, 2, 3;
    // 16x16 of 40: G = 4, 10 groups of 4; 28x28 of 23: G = 2, 12 groups of 1-2, 3 per partition;
    // 28x28 of 13: 7 groups of 1-2, partitions 1, 2, 2, 2; 8x8 of 30: 2 groups of 15, partitions 0, 1, 0, 1 (two empty)
    const shapes: [number[], number, [number, number], number[]][] = [
      [[130, 2, 8, 3, 1], 16, [14, 15], [2, 2, 2, 3]], [[40, 3, 14, 4, 2], 4, [4, 4], [2, 3, 2, 3]],
      [[23, 2, 28, 3, 1], 2, [1, 2], [3, 3, 3, 3]], [[13, 2, 28, 3, 1], 2, [1, 2], [1, 2, 2, 2]],
      [[30, 3, 8, 4, 1], 16, [15, 15], [0, 1, 0, 1]]];
    for (const [[N, C, H, FN, p], G, sizes, parts] of shapes) {
      const g = square(N, C, H, FN, p);
      const OH = outH(g), OW = outW(g);
      const wg = wino4Geom(N, OH, OW);
      const ng = Math.ceil(N / wg.G);
      expect(wg.G, `G of [${N}, ${C}, ${H}, ${FN}, ${p}]`).toBe(G);
      expect([Math.floor(N / ng), Math.ceil(N / ng)], `group sizes of [${N}, ${C}, ${H}, ${FN}, ${p}]`).toEqual(sizes);
      expect(Array.from({ length: WINO_PARTS }, (_, q) => winoPartStart(q + 1, ng) - winoPartStart(q, ng)),
        `groups per partition of [${N}, ${C}, ${H}, ${FN}, ${p}]`).toEqual(parts);
      const x = randomF32(N * C * H * H, N), dy = randomF32(N * FN * OH * OW, C);
      const ref = refWinoFilter(4, WINO4_FILTER_SLACK, g, x, dy);
      const part = 36 * FN * C;
      each((h, name) => {
        const whole = wino4FilterGrad(h, g, x, dy, 0);
        expectClose(`${name} dw [${N}, ${C}, ${H}, ${FN}, ${p}]`, whole.dw, ref);
        for (let q = 0; q < WINO_PARTS; q++) {
          if (parts[q] === 0) expect(whole.sums.subarray(q * part, (q + 1) * part).every((v) => v === 0), `${name} empty partition ${q}`).toBe(true);
        }
        const apart = wino4FilterGrad(h, g, x, dy, 2);
        expect(sameBytes(apart.sums, whole.sums), `${name} sums [${N}, ${C}, ${H}, ${FN}, ${p}], split at partition 2`).toBe(true);
      });
    }
  });

  it('writes zeros for an empty batch or output, only in the requested partitions, nothing for p1 <= p0', () => {
    // N = 0; OH = 0 (H = 2, pad 0); OW = 0 (W = 2, pad 0)
    const empty: G[] = [square(0, 2, 5, 3, 1), { ...square(2, 2, 2, 3, 0), W: 5 }, { ...square(2, 2, 5, 3, 0), W: 2 }];
    each((h, name) => {
      for (const g of empty) {
        const x = new Float32Array(Math.max(1, g.N * g.C * g.H * g.W)), dy = new Float32Array(1);
        const { dw, sums } = wino4FilterGrad(h, g, x, dy, 1);
        expect(sums.every((v) => v === 0), `${name} sums of [${g.N}, ${g.H}, ${g.W}, ${g.pH}]`).toBe(true);
        expect(dw.every((v) => v === 0), `${name} dw of [${g.N}, ${g.H}, ${g.W}, ${g.pH}]`).toBe(true);
      }
      const part = 36 * 3 * 2, n = WINO_PARTS * part;
      const sums = h.putF32(new Float32Array(n).fill(SENTINEL)), x = h.putF32(new Float32Array(50));
      h.k.wino4_grad_sums_f32(x, x, 0, 2, 5, 5, 3, 1, 1, 3, sums, h.alloc(16));
      const got = h.getF32(sums, n);
      expect(got.every((v, i) => (i >= part && i < 3 * part ? v === 0 : v === SENTINEL)), `${name}: N = 0, partitions 1..2`).toBe(true);
      h.k.wino4_grad_sums_f32(x, x, 0, 2, 5, 5, 3, 1, 2, 2, sums, h.alloc(16));
      h.k.wino4_grad_sums_f32(x, x, 2, 2, 3, 3, 3, 1, 3, 1, sums, h.alloc(16));
      expect(sameBytes(h.getF32(sums, n), got), `${name}: p1 <= p0 wrote sums`).toBe(true);
    });
  });

  it('writes nothing past sums, dw and its scratch', () => {
    // wino4FilterGrad checks the guards; clipped tiles, a partial quad of tiles, several groups
    for (const g of [square(3, 3, 28, 4, 1), square(13, 2, 14, 3, 2), square(2, 3, 9, 5, 0), { ...square(2, 2, 1, 3, 1), W: 7 },
      { ...square(40, 2, 6, 3, 1), W: 23 }]) {
      const OH = outH(g), OW = outW(g);
      const x = randomF32(g.N * g.C * g.H * g.W, 5), dy = randomF32(g.N * g.FN * OH * OW, 6);
      const ref = refWinoFilter(4, WINO4_FILTER_SLACK, g, x, dy);
      each((h, name) => expectClose(`${name} dw`, wino4FilterGrad(h, g, x, dy, 3).dw, ref));
    }
  });
});

describe('the comparison', () => {
  it('catches one wrong input value', () => {
    const g: G = { N: 2, C: 3, H: 9, W: 10, FN: 4, KH: 3, KW: 3, sH: 1, sW: 1, pH: 1, pW: 1 };
    const x = randomF32(2 * 3 * 90, 7), w = randomF32(4 * 27, 8);
    const ref = refFwd4(g, x, w, null);
    const x2 = x.slice();
    x2[100] += 0.25;
    each((h) => {
      expect(() => expectClose('y', wino4Forward(h, g, x2, w, null), ref)).toThrow(/expected/);
    });
  });

  it('catches one wrong value in the filter gradient', () => {
    const g: G = { N: 2, C: 3, H: 9, W: 10, FN: 4, KH: 3, KW: 3, sH: 1, sW: 1, pH: 1, pW: 1 };
    const x = randomF32(2 * 3 * 90, 7), dy = randomF32(2 * 4 * 90, 8);
    const ref = refWinoFilter(4, WINO4_FILTER_SLACK, g, x, dy);
    const x2 = x.slice();
    x2[100] += 0.25;
    each((h) => {
      expect(() => expectClose('dw', wino4FilterGrad(h, g, x2, dy, 0).dw, ref)).toThrow(/expected/);
    });
  });
});
