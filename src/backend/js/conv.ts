// conv.ts — plain-JS twins of assembly/conv.ts: batched convolution as im2col + GEMM over groups
// of convGroup(N, OHW) images side by side (shapes and scratch: src/backend/kernels.ts). Built
// from the other JS twins; a GEMM element does not depend on the number of columns, so the
// results are those of per-image GEMMs.
import type { Heap } from './heap.js';
import type { Ptr } from '../kernels.js';
import { gemm_f32 } from './gemm.js';
import { col2imLd } from './im2col.js';
import { im2colRows } from './im2col-rows.js';
import { convGroup, convLd } from '../kernels.js';

const outDim = (size: number, k: number, stride: number, pad: number): number => {
  const span = size + 2 * pad - k;
  return span < 0 ? 0 : Math.floor(span / stride) + 1;
};

/**
 * x: (N, C, H, W); w: (FN, CKK); b: (FN) if hasBias -> y: (N, FN, OH, OW);
 * col: (CKK + FN, ld) scratch = a group's im2col matrix, then its GEMM result.
 */
export function conv_fwd_f32(h: Heap, x: Ptr, N: number, C: number, H: number, W: number, w: Ptr, FN: number,
  KH: number, KW: number, strideH: number, strideW: number, padH: number, padW: number,
  b: Ptr, hasBias: number, y: Ptr, col: Ptr): void {
  const OH = outDim(H, KH, strideH, padH);
  const OW = outDim(W, KW, strideW, padW);
  if (N <= 0 || FN <= 0 || OH <= 0 || OW <= 0) return;
  const CKK = C * KH * KW;
  const OHW = OH * OW;
  const G = convGroup(N, OHW);
  const ld = convLd(G, OHW);
  const yt = col + CKK * ld * 4;
  const f = h.f32;
  for (let n0 = 0; n0 < N; n0 += G) {
    const g1 = Math.min(G, N - n0);
    for (let g = 0; g < g1; g++) {
      im2colRows(h, x + (n0 + g) * C * H * W * 4, C, H, W, KH, KW, strideH, strideW, padH, padW, 0, CKK, col + g * OHW * 4, ld);
    }
    if (G === 1) {
      // one image per GEMM: straight into y_n, then + b
      const yn = y + n0 * FN * OHW * 4;
      gemm_f32(h, 0, 0, FN, OHW, CKK, 1, w, CKK, col, ld, 0, yn, OHW);
      if (hasBias) {
        for (let c = 0; c < FN; c++) {
          const bc = f[(b >> 2) + c];
          for (let i = (yn >> 2) + c * OHW, e = i + OHW; i < e; i++) f[i] += bc;
        }
      }
      continue;
    }
    gemm_f32(h, 0, 0, FN, g1 * OHW, CKK, 1, w, CKK, col, ld, 0, yt, ld);
    for (let g = 0; g < g1; g++) {
      const yn = (y >> 2) + (n0 + g) * FN * OHW;
      for (let c = 0; c < FN; c++) {
        const s = (yt >> 2) + c * ld + g * OHW;
        const d = yn + c * OHW;
        if (hasBias) {
          const bc = f[(b >> 2) + c];
          for (let i = 0; i < OHW; i++) f[d + i] = f[s + i] + bc;
        } else {
          f.copyWithin(d, s, s + OHW);
        }
      }
    }
  }
}

/**
 * dy: (N, FN, OH, OW); w: (FN, CKK) -> dx: (N, C, H, W) overwritten;
 * dcol: (CKK + FN, ld) scratch = a group's col gradient, then its dy side by side.
 */
export function conv_bwd_data_f32(h: Heap, dy: Ptr, N: number, C: number, H: number, W: number, w: Ptr, FN: number,
  KH: number, KW: number, strideH: number, strideW: number, padH: number, padW: number, dx: Ptr, dcol: Ptr): void {
  const OH = outDim(H, KH, strideH, padH);
  const OW = outDim(W, KW, strideW, padW);
  if (N <= 0 || C <= 0 || H <= 0 || W <= 0) return;
  const CKK = C * KH * KW;
  const OHW = OH * OW;
  const f = h.f32;
  if (FN <= 0 || OHW <= 0) {
    f.fill(0, dx >> 2, (dx >> 2) + N * C * H * W);
    return;
  }
  const G = convGroup(N, OHW);
  const ld = convLd(G, OHW);
  const dyt = dcol + CKK * ld * 4;
  for (let n0 = 0; n0 < N; n0 += G) {
    const g1 = Math.min(G, N - n0);
    if (G === 1) {
      gemm_f32(h, 1, 0, CKK, OHW, FN, 1, w, CKK, dy + n0 * FN * OHW * 4, OHW, 0, dcol, ld);
    } else {
      for (let g = 0; g < g1; g++) {
        const dyn = (dy >> 2) + (n0 + g) * FN * OHW;
        for (let c = 0; c < FN; c++) f.copyWithin((dyt >> 2) + c * ld + g * OHW, dyn + c * OHW, dyn + (c + 1) * OHW);
      }
      gemm_f32(h, 1, 0, CKK, g1 * OHW, FN, 1, w, CKK, dyt, ld, 0, dcol, ld);
    }
    for (let g = 0; g < g1; g++) {
      col2imLd(h, dcol + g * OHW * 4, ld, C, H, W, KH, KW, strideH, strideW, padH, padW, dx + (n0 + g) * C * H * W * 4);
    }
  }
}

/**
 * dw: (FN, CKK) columns [r0, r1) = sum over groups of G images of dy_g * (rows r0..r1-1 of the
 * group's im2col matrices side by side)^T; col: convFilterScratch floats (the im2col rows
 * (r1 - r0, G*OHW), the (FN, r1 - r0) sums, then if G > 1 the group's dy side by side (FN, G*OHW)).
 */
export function conv_bwd_filter_f32(h: Heap, x: Ptr, dy: Ptr, N: number, C: number, H: number, W: number, FN: number,
  KH: number, KW: number, strideH: number, strideW: number, padH: number, padW: number,
  r0: number, r1: number, dw: Ptr, col: Ptr): void {
  const OH = outDim(H, KH, strideH, padH);
  const OW = outDim(W, KW, strideW, padW);
  const CKK = C * KH * KW;
  if (FN <= 0 || r1 <= r0) return;
  const rows = r1 - r0;
  const dwr = (dw >> 2) + r0;
  if (N <= 0 || OH <= 0 || OW <= 0) {
    const f = h.f32;
    for (let fi = 0; fi < FN; fi++) f.fill(0, dwr + fi * CKK, dwr + fi * CKK + rows);
    return;
  }
  const OHW = OH * OW;
  const G = convGroup(N, OHW);
  const ld = G * OHW;
  const acc = col + rows * ld * 4;
  const dyt = acc + FN * rows * 4;
  const f = h.f32;
  for (let n0 = 0; n0 < N; n0 += G) {
    const g1 = Math.min(G, N - n0);
    for (let g = 0; g < g1; g++) {
      im2colRows(h, x + (n0 + g) * C * H * W * 4, C, H, W, KH, KW, strideH, strideW, padH, padW, r0, r1, col + g * OHW * 4, ld);
    }
    let a = dy + n0 * FN * OHW * 4;
    if (G > 1) {
      for (let g = 0; g < g1; g++) {
        const dyn = (dy >> 2) + (n0 + g) * FN * OHW;
        for (let c = 0; c < FN; c++) f.copyWithin((dyt >> 2) + c * ld + g * OHW, dyn + c * OHW, dyn + (c + 1) * OHW);
      }
      a = dyt;
    }
    gemm_f32(h, 0, 1, FN, rows, g1 * OHW, 1, a, ld, col, ld, n0 === 0 ? 0 : 1, acc, rows);
  }
  for (let fi = 0; fi < FN; fi++) f.copyWithin(dwr + fi * CKK, (acc >> 2) + fi * rows, (acc >> 2) + (fi + 1) * rows);
}

/** dy: (N, C, HW) -> db: (C), entries [c0, c1) = sums over N and HW (as bias_grad_channels_f32). */
export function conv_bwd_bias_f32(h: Heap, dy: Ptr, N: number, C: number, HW: number, c0: number, c1: number, db: Ptr): void {
  const f = h.f32;
  const oi = db >> 2;
  f.fill(0, oi + c0, oi + Math.max(c0, c1));
  for (let n = 0; n < N; n++) {
    for (let c = c0; c < c1; c++) {
      const di = (dy >> 2) + (n * C + c) * HW;
      let s = 0;
      for (let i = 0; i < HW; i++) s += f[di + i];
      f[oi + c] += s;
    }
  }
}
