// Float64 definitions of the convolution and its gradients (direct sums over the filter
// window), with per-element rounding bounds, shared by the conv and Winograd kernel tests.
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
