// Float64 definitions of the convolution and its gradients (direct sums over the filter
// window), with per-element rounding bounds, shared by the conv and Winograd kernel tests, and the
// per-tile bounds of the Winograd kernels (winoBound, winoFilterBound).
import { expect } from 'vitest';

export const SENTINEL = 1234.5;

export interface G {
  N: number; C: number; H: number; W: number; FN: number; KH: number; KW: number;
  sH: number; sW: number; pH: number; pW: number;
}
export const outH = (g: G) => Math.floor((g.H + 2 * g.pH - g.KH) / g.sH) + 1;
export const outW = (g: G) => Math.floor((g.W + 2 * g.pW - g.KW) / g.sW) + 1;
export const CKK = (g: G) => g.C * g.KH * g.KW;

/** x value under kernel offset r = (c*KH + kh)*KW + kw at output (oh, ow) of image n, or undefined outside x. */
export function xAt(x: Float32Array, g: G, n: number, r: number, oh: number, ow: number): number | undefined {
  const kw = r % g.KW, kh = Math.floor(r / g.KW) % g.KH, c = Math.floor(r / (g.KW * g.KH));
  const ih = oh * g.sH - g.pH + kh, iw = ow * g.sW - g.pW + kw;
  if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) return undefined;
  return x[((n * g.C + c) * g.H + ih) * g.W + iw];
}

export interface Ref { v: Float64Array; bound: Float64Array }

export function refForward(g: G, x: Float32Array, w: Float32Array, b: Float32Array | null): Ref {
  const OH = outH(g), OW = outW(g), K = CKK(g);
  const v = new Float64Array(g.N * g.FN * OH * OW), bound = new Float64Array(v.length);
  for (let n = 0; n < g.N; n++) for (let f = 0; f < g.FN; f++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    let s = b ? b[f] : 0, a = b ? Math.abs(b[f]) : 0;
    for (let r = 0; r < K; r++) {
      const xv = xAt(x, g, n, r, oh, ow);
      if (xv === undefined) continue;
      s += w[f * K + r] * xv;
      a += Math.abs(w[f * K + r] * xv);
    }
    const i = ((n * g.FN + f) * OH + oh) * OW + ow;
    v[i] = s;
    bound[i] = (K + 9) * 2 ** -23 * a + 1e-30;
  }
  return { v, bound };
}

export function refData(g: G, dy: Float32Array, w: Float32Array): Ref {
  const OH = outH(g), OW = outW(g), K = CKK(g);
  const v = new Float64Array(g.N * g.C * g.H * g.W), abs = new Float64Array(v.length), cnt = new Float64Array(v.length);
  for (let n = 0; n < g.N; n++) for (let r = 0; r < K; r++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
    const kw = r % g.KW, kh = Math.floor(r / g.KW) % g.KH, c = Math.floor(r / (g.KW * g.KH));
    const ih = oh * g.sH - g.pH + kh, iw = ow * g.sW - g.pW + kw;
    if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
    const i = ((n * g.C + c) * g.H + ih) * g.W + iw;
    for (let f = 0; f < g.FN; f++) {
      const t = w[f * K + r] * dy[((n * g.FN + f) * OH + oh) * OW + ow];
      v[i] += t;
      abs[i] += Math.abs(t);
      cnt[i]++;
    }
  }
  return { v, bound: abs.map((a, i) => (cnt[i] + 8) * 2 ** -23 * a + 1e-30) };
}

export function refFilter(g: G, x: Float32Array, dy: Float32Array): Ref {
  const OH = outH(g), OW = outW(g), K = CKK(g);
  const v = new Float64Array(g.FN * K), bound = new Float64Array(v.length);
  for (let f = 0; f < g.FN; f++) for (let r = 0; r < K; r++) {
    let s = 0, a = 0;
    for (let n = 0; n < g.N; n++) for (let oh = 0; oh < OH; oh++) for (let ow = 0; ow < OW; ow++) {
      const xv = xAt(x, g, n, r, oh, ow);
      if (xv === undefined) continue;
      const t = dy[((n * g.FN + f) * OH + oh) * OW + ow] * xv;
      s += t;
      a += Math.abs(t);
    }
    v[f * K + r] = s;
    bound[f * K + r] = (g.N * OH * OW + 8) * 2 ** -23 * a + 1e-30;
  }
  return { v, bound };
}

export function expectClose(what: string, got: Float32Array, ref: Ref, keep?: (i: number) => boolean): void {
  for (let i = 0; i < got.length; i++) {
    if (keep?.(i)) {
      if (got[i] !== SENTINEL) expect.fail(`${what}[${i}] outside the range was written: ${got[i]}`);
      continue;
    }
    if (!(Math.abs(got[i] - ref.v[i]) <= ref.bound[i])) {
      expect.fail(`${what}[${i}] = ${got[i]}, expected ${ref.v[i]} (bound ${ref.bound[i]})`);
    }
  }
}

// ---- Winograd F(m x m, 3x3) tolerances (m = 2: 4x4 input tiles, m = 4: 6x6; stride 1, pad 0..2) ----
// The per-element bounds above do not fit Winograd: its transforms mix all (m+2)^2 inputs of a tile
// and all 9 taps of a filter, so an output (or filter-gradient tap) carries the roundings of its whole
// tile also where its own direct sum of |terms| is tiny (padding, H or W = 1, small taps). These
// bounds take the magnitudes over whole tiles instead (tests/kernels/winograd*.test.ts choose the slack).

/**
 * The forward tolerance of Winograd F(m x m, 3x3) of x (N, C, H, W) with w (FN, C, 3, 3), pad, bias b:
 * per output (N, FN, OH, OW), slack (9C + 9) 2^-23 a of its m x m tile, a = |b[f]| + sum over c of
 * sum |w[f][c]| * max |x[n][c]| over the tile's (m+2) x (m+2) input window (clipped to x).
 */
export function winoBound(m: number, slack: number, x: Float32Array, N: number, C: number, H: number, W: number,
  w: Float32Array, FN: number, pad: number, b: Float32Array | null): Float64Array {
  const OH = H + 2 * pad - 2, OW = W + 2 * pad - 2;
  const bound = new Float64Array(N * FN * OH * OW);
  const mx = new Float64Array(C);
  for (let n = 0; n < N; n++) for (let r0 = 0; r0 < OH; r0 += m) for (let c0 = 0; c0 < OW; c0 += m) {
    for (let c = 0; c < C; c++) mx[c] = windowMax(x, (n * C + c) * H * W, H, W, r0 - pad, c0 - pad, m + 2);
    for (let f = 0; f < FN; f++) {
      let a = b ? Math.abs(b[f]) : 0;
      for (let c = 0; c < C; c++) {
        let s = 0;
        for (let k = 0; k < 9; k++) s += Math.abs(w[(f * C + c) * 9 + k]);
        a += s * mx[c];
      }
      const e = slack * ((9 * C + 9) * 2 ** -23 * a + 1e-30);
      for (let i = r0; i < Math.min(OH, r0 + m); i++) {
        for (let j = c0; j < Math.min(OW, c0 + m); j++) bound[((n * FN + f) * OH + i) * OW + j] = e;
      }
    }
  }
  return bound;
}

/**
 * The filter-gradient tolerance of Winograd F(m x m, 3x3) (dw = G^T (sum over tiles of Z .* V) G) of x
 * (N, C, H, W) and dy (N, FN, OH, OW): per dw[f][c] (all 9 taps alike), slack (N OH OW + 9) 2^-23 a,
 * a = sum over the images and m x m output tiles of sum |dy[n][f]| over the tile times max |x[n][c]|
 * over its (m+2) x (m+2) input window: refFilter's bound with a taken over whole tiles (a tile's
 * transforms mix its m^2 dy and (m+2)^2 x values into every tap; a >= refFilter's a for each tap).
 */
export function winoFilterBound(m: number, slack: number, g: G, x: Float32Array, dy: Float32Array): Float64Array {
  const { N, C, H, W, FN } = g, pad = g.pH, OH = outH(g), OW = outW(g);
  const a = new Float64Array(FN * C);
  for (let n = 0; n < N; n++) for (let r0 = 0; r0 < OH; r0 += m) for (let c0 = 0; c0 < OW; c0 += m) {
    for (let c = 0; c < C; c++) {
      const mx = windowMax(x, (n * C + c) * H * W, H, W, r0 - pad, c0 - pad, m + 2);
      for (let f = 0; f < FN; f++) {
        let s = 0;
        for (let i = r0; i < Math.min(OH, r0 + m); i++) {
          for (let j = c0; j < Math.min(OW, c0 + m); j++) s += Math.abs(dy[((n * FN + f) * OH + i) * OW + j]);
        }
        a[f * C + c] += s * mx;
      }
    }
  }
  const bound = new Float64Array(FN * C * 9);
  for (let i = 0; i < bound.length; i++) bound[i] = slack * ((N * OH * OW + 9) * 2 ** -23 * a[Math.floor(i / 9)] + 1e-30);
  return bound;
}

/** max |x| over the k x k window at rows r0.., columns c0.. of the plane (H, W) at x[o], clipped to the plane. */
function windowMax(x: Float32Array, o: number, H: number, W: number, r0: number, c0: number, k: number): number {
  let m = 0;
  for (let r = Math.max(0, r0); r < Math.min(H, r0 + k); r++) {
    for (let q = Math.max(0, c0); q < Math.min(W, c0 + k); q++) m = Math.max(m, Math.abs(x[o + r * W + q]));
  }
  return m;
}

/** The input gradient's filters as forward filters: (C, FN, 3, 3), w'[c][f] = w[f][c] rotated by 180 degrees. */
export function flippedFilters(w: Float32Array, FN: number, C: number): Float32Array {
  const o = new Float32Array(w.length);
  for (let f = 0; f < FN; f++) {
    for (let c = 0; c < C; c++) for (let k = 0; k < 9; k++) o[(c * FN + f) * 9 + k] = w[(f * C + c) * 9 + 8 - k];
  }
  return o;
}

/** refForward of g (3x3, stride 1) with winoBound(m, slack) as its tolerance. */
export function refWinoForward(m: number, slack: number, g: G, x: Float32Array, w: Float32Array, b: Float32Array | null): Ref {
  return { v: refForward(g, x, w, b).v, bound: winoBound(m, slack, x, g.N, g.C, g.H, g.W, w, g.FN, g.pH, b) };
}

/** refData of g with the tolerance of the input gradient as Winograd forward of dy (flipped filters, pad 2 - pad). */
export function refWinoData(m: number, slack: number, g: G, dy: Float32Array, w: Float32Array): Ref {
  return { v: refData(g, dy, w).v,
    bound: winoBound(m, slack, dy, g.N, g.FN, outH(g), outW(g), flippedFilters(w, g.FN, g.C), g.C, 2 - g.pH, null) };
}

/** refFilter of g with winoFilterBound(m, slack) as its tolerance. */
export function refWinoFilter(m: number, slack: number, g: G, x: Float32Array, dy: Float32Array): Ref {
  return { v: refFilter(g, x, dy).v, bound: winoFilterBound(m, slack, g, x, dy) };
}
