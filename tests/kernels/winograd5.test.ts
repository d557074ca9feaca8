// The fused inference convolution by Winograd F(4x4, 5x5) (wino5_filter_f32 + wino5_relu_pool_fwd_f32):
// y = maxpool 2x2/2 (relu(conv5x5(x, w) + b)), Wasm and JS, against a float64 direct definition on
// random geometries (fast-check, seeded): pad 0..4, 1-3 channels, odd conv outputs (the pool drops
// the last row or column), pooled sizes odd (edge tiles with 1 pooled row or column) and tile counts
// not a multiple of 4 (a quad of tiles spanning two tile rows, lanes without a tile), no bias;
// against conv_relu_pool_fwd_f32 at SimpleConvNet's shape; images in separate calls bit for bit as
// in one; NaN in, NaN out; nothing written past y or the scratch.
//
// Tolerance, per pooled output: slack (25C + 9) 2^-23 a, a = |b[f]| + the sum over the channels of
// sum |w[f][c]| (all 25 taps) times max |x[n][c]| over the 8x8 input of the output's 4x4 tile (the
// transforms mix all 64 inputs of a tile and all 25 taps, as winograd4.test.ts explains for 3x3).
// The error stayed below 0.74 of it (Wasm, f32 transforms) and 0.22 (JS, float64 transforms) in
// 10^4 random cases of the first test's geometries per backend (1.19 on Wasm before u took the 1/8
// of assembly/winograd5.ts's at8; F(4x4, 5x5)'s coefficients reach 21/4 in B^T and 8 in A^T, with
// G's 1/90 and 32/45). WINO5_SLACK = 2: 1 is the least power of 2 above it, times 2. A wrong input
// value is still far outside the bound (the last test checks that the comparison catches one).
import { describe, it, expect, beforeAll } from 'vitest';
import fc from 'fast-check';
import { GUARD, SENTINEL, guardIntact, harness, outGuarded, randomF32, type Harness } from '../helpers/harness.js';
import { convDataScratch, wino5FilterFloats, wino5FwdScratch } from '../../src/backend/kernels.js';

const SEED = 20261206;
const WINO5_SLACK = 2;

interface G { N: number; C: number; H: number; W: number; FN: number; pad: number }
const convH = (g: G) => g.H + 2 * g.pad - 4;
const convW = (g: G) => g.W + 2 * g.pad - 4;
const poolH = (g: G) => Math.floor(convH(g) / 2);
const poolW = (g: G) => Math.floor(convW(g) / 2);

const geom: fc.Arbitrary<G> = fc.record({
  N: fc.integer({ min: 1, max: 4 }), C: fc.integer({ min: 1, max: 3 }),
  H: fc.integer({ min: 2, max: 23 }), W: fc.integer({ min: 2, max: 23 }),
  FN: fc.integer({ min: 1, max: 9 }), pad: fc.integer({ min: 0, max: 4 }),
}).filter((g) => poolH(g) >= 1 && poolW(g) >= 1);

interface Ref { v: Float64Array; bound: Float64Array }

/** Float64 relu(max over each 2x2 window of conv + b), with the per-tile tolerance of the head. */
function reference(g: G, x: Float32Array, w: Float32Array, b: Float32Array | null, slack = WINO5_SLACK): Ref {
  const OH = convH(g), OW = convW(g), PH = poolH(g), PW = poolW(g);
  const at = (n: number, c: number, r: number, s: number) =>
    r < 0 || r >= g.H || s < 0 || s >= g.W ? 0 : x[((n * g.C + c) * g.H + r) * g.W + s];
  const v = new Float64Array(g.N * g.FN * PH * PW), bound = new Float64Array(v.length);
  const mx = new Float64Array(g.C);
  for (let n = 0; n < g.N; n++) {
    for (let f = 0; f < g.FN; f++) {
      const conv = new Float64Array(OH * OW);
      for (let i = 0; i < OH; i++) for (let j = 0; j < OW; j++) {
        let s = b ? b[f] : 0;
        for (let c = 0; c < g.C; c++) for (let kh = 0; kh < 5; kh++) for (let kw = 0; kw < 5; kw++) {
          s += w[((f * g.C + c) * 5 + kh) * 5 + kw] * at(n, c, i - g.pad + kh, j - g.pad + kw);
        }
        conv[i * OW + j] = s;
      }
      for (let i = 0; i < PH; i++) for (let j = 0; j < PW; j++) {
        const m = Math.max(conv[2 * i * OW + 2 * j], conv[2 * i * OW + 2 * j + 1], conv[(2 * i + 1) * OW + 2 * j], conv[(2 * i + 1) * OW + 2 * j + 1]);
        // the 4x4 tile holding this window reads input rows 4 (i >> 1) - pad .. + 7, columns likewise
        const r0 = 4 * (i >> 1) - g.pad, c0 = 4 * (j >> 1) - g.pad;
        let a = b ? Math.abs(b[f]) : 0;
        for (let c = 0; c < g.C; c++) {
          mx[c] = 0;
          for (let r = r0; r < r0 + 8; r++) for (let s = c0; s < c0 + 8; s++) mx[c] = Math.max(mx[c], Math.abs(at(n, c, r, s)));
          let sw = 0;
          for (let k = 0; k < 25; k++) sw += Math.abs(w[(f * g.C + c) * 25 + k]);
          a += sw * mx[c];
        }
        const o = ((n * g.FN + f) * PH + i) * PW + j;
        v[o] = Math.max(m, 0);
        bound[o] = slack * ((25 * g.C + 9) * 2 ** -23 * a + 1e-30);
      }
    }
  }
  return { v, bound };
}

/** wino5_filter_f32 + wino5_relu_pool_fwd_f32, one call per run of images between `splits`; checks the guards after y, u and the scratch. */
function wino5(h: Harness, g: G, x: Float32Array, w: Float32Array, b: Float32Array | null, splits: number[] = []): Float32Array {
  const img = g.C * g.H * g.W, out = g.FN * poolH(g) * poolW(g), nu = wino5FilterFloats(g.FN, g.C);
  const u = outGuarded(h, nu);
  h.k.wino5_filter_f32(h.putF32(w), g.FN, g.C, u);
  expect(guardIntact(h, u, nu), 'u guard').toBe(true);
  const xp = h.putF32(x), bp = b ? h.putF32(b) : 0;
  const y = outGuarded(h, g.N * out);
  const cuts = [0, ...splits, g.N];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const n0 = cuts[i], n = cuts[i + 1] - n0;
    const ns = wino5FwdScratch(g.C, g.H, g.W, g.pad), scratch = outGuarded(h, ns);
    h.k.wino5_relu_pool_fwd_f32(xp + n0 * img * 4, n, g.C, g.H, g.W, u, g.FN, g.pad, bp, b ? 1 : 0, y + n0 * out * 4, scratch);
    expect(guardIntact(h, scratch, ns), 'scratch guard').toBe(true);
  }
  expect(guardIntact(h, y, g.N * out), 'y guard').toBe(true);
  return h.getF32(y, g.N * out);
}

function expectClose(what: string, got: Float32Array, ref: Ref): void {
  for (let i = 0; i < got.length; i++) {
    if (!(Math.abs(got[i] - ref.v[i]) <= ref.bound[i])) expect.fail(`${what}[${i}] = ${got[i]}, expected ${ref.v[i]} (bound ${ref.bound[i]})`);
    if (got[i] < 0 || Object.is(got[i], -0)) expect.fail(`${what}[${i}] = ${got[i]}: ReLU output is never negative`);
  }
}

const hs: Record<'wasm' | 'js', Harness> = {} as never;
beforeAll(async () => {
  hs.wasm = await harness('wasm');
  hs.js = await harness('js');
});

function each(fn: (h: Harness, name: string) => void): void {
  for (const name of ['wasm', 'js'] as const) {
    try {
      fn(hs[name], name);
    } finally {
      hs[name].reset();
    }
  }
}

describe('wino5_relu_pool_fwd_f32 (Winograd F(4x4, 5x5) with bias, ReLU and a 2x2 max-pool)', () => {
  it('matches the float64 definition on random geometries, with and without bias', () => {
    fc.assert(fc.property(geom, fc.boolean(), fc.integer(), (g, bias, seed) => {
      const x = randomF32(g.N * g.C * g.H * g.W, seed), w = randomF32(g.FN * g.C * 25, seed + 1).map((v) => v * 0.3);
      const b = bias ? randomF32(g.FN, seed + 2) : null;
      const ref = reference(g, x, w, b);
      each((h, name) => expectClose(`${name} y`, wino5(h, g, x, w, b), ref));
    }), { seed: SEED, numRuns: 150 });
  });

  it('covers every pooled size mod 4 (edge tiles, quads over two tile rows, lanes without a tile) and every pad', () => {
    let cases = 0;
    for (let PW = 1; PW <= 9; PW++) {
      for (const PH of [1, 2, 3, 6]) {
        const pad = (PW + PH) % 5;
        // odd conv sizes too: the pool drops the last conv row / column
        const g: G = { N: 2, C: 2, H: 2 * PH + 4 - 2 * pad + (PW % 2), W: 2 * PW + 4 - 2 * pad + (PH % 2), FN: 3, pad };
        if (g.H < 1 || g.W < 1 || poolH(g) !== PH || poolW(g) !== PW) continue;
        const x = randomF32(g.N * g.C * g.H * g.W, PW * 31 + PH), w = randomF32(g.FN * g.C * 25, PH), b = randomF32(g.FN, PW);
        const ref = reference(g, x, w, b);
        each((h, name) => expectClose(`${name} y (PH ${PH}, PW ${PW}, pad ${pad})`, wino5(h, g, x, w, b), ref));
        cases++;
      }
    }
    expect(cases).toBeGreaterThanOrEqual(30);
  });

  it('agrees with conv_relu_pool_fwd_f32 at SimpleConvNet\'s shape (28x28, 30 filters), all 36 tiles of an image filled', () => {
    const g: G = { N: 5, C: 1, H: 28, W: 28, FN: 30, pad: 0 };
    const x = randomF32(5 * 784, 1).map((v) => Math.abs(v)), w = randomF32(30 * 25, 2).map((v) => v * 0.1), b = randomF32(30, 3);
    const ref = reference(g, x, w, b);
    each((h, name) => {
      const y = wino5(h, g, x, w, b);
      expectClose(`${name} y`, y, ref);
      const d = h.alloc(5 * 30 * 144);
      h.k.conv_relu_pool_fwd_f32(h.putF32(x), 5, 1, 28, 28, h.putF32(w), 30, 5, 5, 1, 1, 0, 0, h.putF32(b), 1, 2, 2, 0, d,
        h.alloc(convDataScratch(5, 25, 30, 576)));
      const direct = h.getF32(d, 5 * 30 * 144);
      expectClose(`${name} direct y`, direct, reference(g, x, w, b, 1));
      // both close to the definition, and a real test: most windows are not clipped by ReLU
      expect(y.filter((v) => v > 0).length).toBeGreaterThan(y.length / 3);
    });
  });

  it('computes images in separate calls bit for bit as in one call', () => {
    fc.assert(fc.property(geom.filter((g) => g.N >= 2), fc.integer(), (g, seed) => {
      const x = randomF32(g.N * g.C * g.H * g.W, seed), w = randomF32(g.FN * g.C * 25, seed + 1), b = randomF32(g.FN, seed + 2);
      each((h, name) => {
        const whole = wino5(h, g, x, w, b), apart = wino5(h, g, x, w, b, [1]);
        expect(Buffer.from(apart.buffer).equals(Buffer.from(whole.buffer)), `${name} y, split at image 1`).toBe(true);
      });
    }), { seed: SEED + 1, numRuns: 30 });
  });

  it('gives NaN where a window\'s outputs see a NaN input, and leaves an empty batch alone', () => {
    const g: G = { N: 1, C: 1, H: 20, W: 20, FN: 2, pad: 0 };
    const x = randomF32(400, 7);
    x[3 * 20 + 2] = NaN; // in the input of the tiles at tile row 0, tile column 0
    each((h, name) => {
      const y = wino5(h, g, x, randomF32(2 * 25, 8), randomF32(2, 9));
      // pooled (0..1, 0..1) of both filters come from tile (0, 0)
      for (const f of [0, 1]) for (const [i, j] of [[0, 0], [0, 1], [1, 0], [1, 1]]) expect(y[f * 64 + i * 8 + j], `${name} f ${f} (${i}, ${j})`).toBeNaN();
      // a tile whose 8x8 input does not hold it is finite
      expect(Number.isFinite(y[7 * 8 + 7]), `${name} (7, 7)`).toBe(true);
      const yp = outGuarded(h, 4);
      h.k.wino5_relu_pool_fwd_f32(h.putF32(x), 0, 1, 20, 20, h.alloc(512), 2, 0, 0, 0, yp, h.alloc(wino5FwdScratch(1, 20, 20, 0)));
      expect(h.getF32(yp, 4 + GUARD).slice(4).every((v) => v === SENTINEL) && h.getF32(yp, 4).every(Number.isNaN), name).toBe(true);
    });
  });

  it('the comparison catches a wrong input value', () => {
    const g: G = { N: 1, C: 1, H: 28, W: 28, FN: 4, pad: 0 };
    const x = randomF32(784, 11).map((v) => Math.abs(v)), w = randomF32(100, 12).map((v) => v * 0.1), b = randomF32(4, 13).map((v) => Math.abs(v));
    const ref = reference(g, x, w, b);
    const x2 = x.slice();
    x2[14 * 28 + 14] += 0.25;
    each((h, name) => {
      expect(() => expectClose(`${name} y`, wino5(h, g, x2, w, b), ref), name).toThrow();
    });
  });
});
