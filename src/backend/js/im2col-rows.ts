// im2col-rows.ts — helpers of the plain-JS im2col twins (not kernels themselves, so they live
// outside the kernel families that src/backend/js/index.ts binds): the in-image ranges of a
// kernel offset, and rows [r0, r1) of one image's im2col matrix (Caffe layout, see im2col.ts).
import type { Heap } from './heap.js';
import type { Ptr } from '../kernels.js';
import { outSize } from '../../geometry.js';

/** Smallest o >= 0 with o*stride - pad + k >= 0, at most outN. */
export function firstInside(pad: number, k: number, stride: number, outN: number): number {
  const need = pad - k;
  const o = need <= 0 ? 0 : Math.ceil(need / stride);
  return o < outN ? o : outN;
}

/** One past the largest o < outN with o*stride - pad + k <= size - 1 (never below lo). */
export function endInside(size: number, pad: number, k: number, stride: number, outN: number, lo: number): number {
  const lim = size - 1 + pad - k;
  if (lim < 0) return lo;
  const e = Math.floor(lim / stride) + 1;
  return e < outN ? (e > lo ? e : lo) : outN;
}

/**
 * x: (C, H, W) -> col: (r1 - r0, OH*OW), rows r0..r1-1 (row r = (c*KH + kh)*KW + kw) of the
 * im2col matrix, each row `ld` floats after the previous one (default OH*OW: dense).
 */
export function im2colRows(heap: Heap, x: Ptr, C: number, H: number, W: number, KH: number, KW: number,
  strideH: number, strideW: number, padH: number, padW: number, r0: number, r1: number, col: Ptr, ld?: number): void {
  const OH = outSize(H, KH, strideH, padH);
  const OW = outSize(W, KW, strideW, padW);
  if (C <= 0 || OH <= 0 || OW <= 0 || r1 <= r0) return;
  const f = heap.f32;
  const HW = H * W;
  const rowStride = ld ?? OH * OW;
  for (let r = r0; r < r1; r++) {
    let d = (col >> 2) + (r - r0) * rowStride;
    const kw = r % KW;
    const kh = Math.floor(r / KW) % KH;
    const plane = (x >> 2) + Math.floor(r / (KW * KH)) * HW;
    const ohLo = firstInside(padH, kh, strideH, OH);
    const ohHi = endInside(H, padH, kh, strideH, OH, ohLo);
    const owLo = firstInside(padW, kw, strideW, OW);
    const owHi = endInside(W, padW, kw, strideW, OW, owLo);
    // rows above the image
    for (let e = d + ohLo * OW; d < e; d++) f[d] = 0;
    let s = plane + (ohLo * strideH - padH + kh) * W + owLo * strideW - padW + kw;
    const sStep = strideH * W;
    for (let oh = ohLo; oh < ohHi; oh++, s += sStep) {
      for (let e = d + owLo; d < e; d++) f[d] = 0;
      if (strideW === 1) {
        for (let i = s, e = d + owHi - owLo; d < e; d++, i++) f[d] = f[i];
      } else {
        for (let i = s, e = d + owHi - owLo; d < e; d++, i += strideW) f[d] = f[i];
      }
      for (let e = d + OW - owHi; d < e; d++) f[d] = 0;
    }
    // rows below the image
    for (let e = d + (OH - ohHi) * OW; d < e; d++) f[d] = 0;
  }
}
