// conv_relu_pool_fwd_f32 (the inference convolution with bias + ReLU (+ max-pool) fused):
// on each backend bit for bit the same as that backend's conv_fwd_f32 -> relu_fwd_f32 ->
// maxpool_fwd_f32 run apart (NaN where they give NaN), and close to a naive float64 definition;
// on random geometries (fast-check, seeded): strides, paddings, odd conv outputs, pool windows
// with stride != size and padding, the 1x1 stride-1 window (no pooling), groups of several
// images per GEMM (small OH*OW), one image per GEMM (OH*OW >= 256) in one or several GEMM
// chunks (more than CHUNK_COLS = 1024 columns), no bias, batch 0.
// Nothing past the output is written.
import { describe, it, expect, beforeAll } from 'vitest';
import fc from 'fast-check';
import { harness, randomF32, type Harness } from '../helpers/harness.js';
import { convDataScratch, convGroup } from '../../src/backend/kernels.js';

const SEED = 20261202;
const SENTINEL = 1234.5;

interface G {
  N: number; C: number; H: number; W: number; FN: number; KH: number; KW: number;
  sH: number; sW: number; pH: number; pW: number;
  /** pool window, stride, pad; PK = PS = 1: none */
  PK: number; PS: number; PP: number;
  bias: boolean;
}
const od = (n: number, k: number, s: number, p: number) => Math.floor((n + 2 * p - k) / s) + 1;
const outH = (g: G) => od(g.H, g.KH, g.sH, g.pH);
const outW = (g: G) => od(g.W, g.KW, g.sW, g.pW);
const poolH = (g: G) => od(outH(g), g.PK, g.PS, g.PP);
const poolW = (g: G) => od(outW(g), g.PK, g.PS, g.PP);
const CKK = (g: G) => g.C * g.KH * g.KW;

const geom: fc.Arbitrary<G> = fc.record({
  N: fc.integer({ min: 0, max: 5 }), C: fc.integer({ min: 1, max: 3 }),
  H: fc.integer({ min: 1, max: 21 }), W: fc.integer({ min: 1, max: 21 }),
  FN: fc.integer({ min: 1, max: 12 }), KH: fc.integer({ min: 1, max: 5 }), KW: fc.integer({ min: 1, max: 5 }),
  sH: fc.integer({ min: 1, max: 2 }), sW: fc.integer({ min: 1, max: 2 }),
  pH: fc.integer({ min: 0, max: 2 }), pW: fc.integer({ min: 0, max: 2 }),
  PK: fc.integer({ min: 1, max: 3 }), PS: fc.integer({ min: 1, max: 3 }), PP: fc.integer({ min: 0, max: 2 }),
  bias: fc.boolean(),
}).map((g) => ({ ...g, PP: Math.min(g.PP, g.PK - 1) }))
  .filter((g) => outH(g) >= 1 && outW(g) >= 1 && poolH(g) >= 1 && poolW(g) >= 1);

interface Run { fused: Float32Array; apart: Float32Array }

/** The fused kernel and the three kernels apart on the same inputs; the fused output has SENTINEL cells after it. */
function run(h: Harness, g: G, x: Float32Array, w: Float32Array, b: Float32Array): Run {
  const OH = outH(g), OW = outW(g), PH = poolH(g), PW = poolW(g);
  const ny = g.N * g.FN * PH * PW;
  const px = h.putF32(x), pw = h.putF32(w), pb = h.putF32(b);
  const scratch = convDataScratch(g.N, CKK(g), g.FN, OH * OW);
  const col = h.alloc(scratch);
  const pyFused = h.putF32(new Float32Array(ny + 7).fill(SENTINEL));
  h.k.conv_relu_pool_fwd_f32(px, g.N, g.C, g.H, g.W, pw, g.FN, g.KH, g.KW, g.sH, g.sW, g.pH, g.pW, pb, g.bias ? 1 : 0,
    g.PK, g.PS, g.PP, pyFused, col);
  const conv = h.alloc(g.N * g.FN * OH * OW);
  h.k.conv_fwd_f32(px, g.N, g.C, g.H, g.W, pw, g.FN, g.KH, g.KW, g.sH, g.sW, g.pH, g.pW, pb, g.bias ? 1 : 0, conv, h.alloc(scratch));
  h.k.relu_fwd_f32(conv, conv, g.N * g.FN * OH * OW);
  const pooled = h.alloc(ny);
  h.k.maxpool_fwd_f32(conv, g.N * g.FN, OH, OW, g.PK, g.PK, g.PS, g.PS, g.PP, g.PP, pooled, h.alloc(ny));
  const r = { fused: h.getF32(pyFused, ny + 7), apart: h.getF32(pooled, ny) };
  h.reset();
  return r;
}

/** Naive float64: relu(max over the pool window of conv + b), with the rounding bound of the window's terms. */
function reference(g: G, x: Float32Array, w: Float32Array, b: Float32Array): { v: Float64Array; bound: Float64Array } {
  const OH = outH(g), OW = outW(g), PH = poolH(g), PW = poolW(g), K = CKK(g);
  const conv = new Float64Array(g.N * g.FN * OH * OW), cb = new Float64Array(conv.length);
  for (let n = 0; n < g.N; n++) for (let f = 0; f < g.FN; f++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    let s = g.bias ? b[f] : 0, a = Math.abs(s);
    for (let c = 0; c < g.C; c++) for (let kh = 0; kh < g.KH; kh++) for (let kw = 0; kw < g.KW; kw++) {
      const ih = oh * g.sH - g.pH + kh, iw = ow * g.sW - g.pW + kw;
      if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
      const t = w[((f * g.C + c) * g.KH + kh) * g.KW + kw] * x[((n * g.C + c) * g.H + ih) * g.W + iw];
      s += t;
      a += Math.abs(t);
    }
    const i = ((n * g.FN + f) * OH + oh) * OW + ow;
    conv[i] = s;
    cb[i] = (K + 9) * 2 ** -23 * a + 1e-30;
  }
  const v = new Float64Array(g.N * g.FN * PH * PW), bound = new Float64Array(v.length);
  for (let p = 0; p < g.N * g.FN; p++) for (let i = 0; i < PH; i++) for (let j = 0; j < PW; j++) {
    let best = -Infinity, bnd = 0;
    for (let hh = Math.max(i * g.PS - g.PP, 0); hh < Math.min(i * g.PS - g.PP + g.PK, OH); hh++) {
      for (let ww = Math.max(j * g.PS - g.PP, 0); ww < Math.min(j * g.PS - g.PP + g.PK, OW); ww++) {
        best = Math.max(best, conv[(p * OH + hh) * OW + ww]);
        bnd = Math.max(bnd, cb[(p * OH + hh) * OW + ww]);
      }
    }
    v[(p * PH + i) * PW + j] = Math.max(best, 0);
    bound[(p * PH + i) * PW + j] = bnd;
  }
  return { v, bound };
}

/** Same values, NaN where the other has NaN; +0 and -0 told apart. */
function expectSame(what: string, got: Float32Array, want: Float32Array): void {
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i]) && !(Number.isNaN(got[i]) && Number.isNaN(want[i]))) {
      expect.fail(`${what}[${i}] = ${got[i]}, apart ${want[i]}`);
    }
  }
}

const hs: Record<'wasm' | 'js', Harness> = {} as never;
beforeAll(async () => {
  hs.wasm = await harness('wasm');
  hs.js = await harness('js');
});

describe('conv_relu_pool_fwd_f32', () => {
  it('equals conv -> relu -> maxpool apart bit for bit on each backend, and the float64 definition, on random geometries', () => {
    fc.assert(fc.property(geom, fc.integer({ min: 1, max: 1 << 30 }), (g, seed) => {
      const x = randomF32(g.N * g.C * g.H * g.W, seed), w = randomF32(g.FN * CKK(g), seed + 1), b = randomF32(g.FN, seed + 2);
      const ref = reference(g, x, w, b);
      const ny = ref.v.length;
      const out: Record<string, Float32Array> = {};
      for (const name of ['wasm', 'js'] as const) {
        const r = run(hs[name], g, x, w, b);
        expectSame(`${name} fused vs apart`, r.fused, r.apart);
        for (let i = ny; i < ny + 7; i++) if (r.fused[i] !== SENTINEL) expect.fail(`${name}: y[${i}] past the output was written`);
        for (let i = 0; i < ny; i++) {
          if (!(Math.abs(r.fused[i] - ref.v[i]) <= ref.bound[i])) expect.fail(`${name} y[${i}] = ${r.fused[i]}, expected ${ref.v[i]} (bound ${ref.bound[i]})`);
        }
        out[name] = r.fused.subarray(0, ny);
      }
      // ReLU output is never -0 and never negative
      for (const v of out.wasm) if (Object.is(v, -0) || v < 0) expect.fail(`negative output ${v}`);
    }), { seed: SEED, numRuns: 150 });
  });

  const fixed: [string, G][] = [
    ['SimpleConvNet (one image per GEMM), 2x2 pool', { N: 3, C: 1, H: 28, W: 28, FN: 30, KH: 5, KW: 5, sH: 1, sW: 1, pH: 0, pW: 0, PK: 2, PS: 2, PP: 0, bias: true }],
    ['odd conv output 25x23 (2x2 pool drops the last row and column)', { N: 2, C: 2, H: 29, W: 27, FN: 7, KH: 5, KW: 5, sH: 1, sW: 1, pH: 0, pW: 0, PK: 2, PS: 2, PP: 0, bias: true }],
    ['groups of images per GEMM, 3x3 pool stride 2 pad 1', { N: 9, C: 3, H: 9, W: 11, FN: 5, KH: 3, KW: 3, sH: 1, sW: 1, pH: 1, pW: 1, PK: 3, PS: 2, PP: 1, bias: true }],
    ['one image per GEMM, overlapping padded pool 3x3 stride 2 pad 1 (not chunked)', { N: 2, C: 1, H: 20, W: 21, FN: 5, KH: 3, KW: 3, sH: 1, sW: 1, pH: 1, pW: 1, PK: 3, PS: 2, PP: 1, bias: true }],
    ['an image in two GEMM chunks (38x38 conv, 2x2 pool: 13 + 6 pooled rows)', { N: 2, C: 2, H: 40, W: 40, FN: 6, KH: 3, KW: 3, sH: 1, sW: 1, pH: 0, pW: 0, PK: 2, PS: 2, PP: 0, bias: true }],
    ['no pooling, an image in two GEMM chunks (36x36 conv: 28 + 8 rows)', { N: 2, C: 1, H: 36, W: 36, FN: 5, KH: 3, KW: 3, sH: 1, sW: 1, pH: 1, pW: 1, PK: 1, PS: 1, PP: 0, bias: true }],
    ['no pooling (1x1 stride 1), one image per GEMM', { N: 2, C: 2, H: 20, W: 19, FN: 6, KH: 3, KW: 3, sH: 1, sW: 1, pH: 1, pW: 1, PK: 1, PS: 1, PP: 0, bias: true }],
    ['no pooling, groups of images, no bias', { N: 7, C: 1, H: 6, W: 7, FN: 4, KH: 2, KW: 3, sH: 1, sW: 2, pH: 0, pW: 1, PK: 1, PS: 1, PP: 0, bias: false }],
  ];
  for (const [name, g] of fixed) {
    it(name, () => {
      const x = randomF32(g.N * g.C * g.H * g.W, 11), w = randomF32(g.FN * CKK(g), 12), b = randomF32(g.FN, 13);
      expect(convGroup(g.N, outH(g) * outW(g)) > 1).toBe(name.includes('groups'));
      const ref = reference(g, x, w, b);
      for (const h of [hs.wasm, hs.js]) {
        const r = run(h, g, x, w, b);
        expectSame(`${h.backend.name} fused vs apart`, r.fused, r.apart);
        for (let i = 0; i < ref.v.length; i++) expect(Math.abs(r.fused[i] - ref.v[i])).toBeLessThanOrEqual(ref.bound[i]);
        expect(r.fused[ref.v.length]).toBe(SENTINEL);
      }
    });
  }

  it('NaN and infinite inputs give NaN / inf exactly where the kernels apart do', () => {
    const g: G = { N: 2, C: 1, H: 28, W: 28, FN: 8, KH: 5, KW: 5, sH: 1, sW: 1, pH: 0, pW: 0, PK: 2, PS: 2, PP: 0, bias: true };
    const x = randomF32(2 * 28 * 28, 21), w = randomF32(8 * 25, 22), b = randomF32(8, 23);
    x[100] = NaN; x[700] = Infinity; x[900] = -Infinity; x[28 * 28 + 5] = NaN;
    for (const h of [hs.wasm, hs.js]) {
      const r = run(h, g, x, w, b);
      expect(r.apart.some(Number.isNaN)).toBe(true);
      expectSame(`${h.backend.name} fused vs apart`, r.fused, r.apart);
    }
  });
});
