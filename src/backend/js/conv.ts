// conv.ts — plain-JS twins of assembly/conv.ts: batched convolution as per-image im2col + GEMM
// (shapes: src/backend/kernels.ts). Built from the other JS twins, so it computes what the
// per-image loops of earlier versions of src/ops/conv.ts computed.
import type { Heap } from './heap.js';
import type { Ptr } from '../kernels.js';
import { gemm_f32 } from './gemm.js';
import { col2im_f32 } from './im2col.js';
import { im2colRows } from './im2col-rows.js';

const outDim = (size: number, k: number, stride: number, pad: number): number => {
  const span = size + 2 * pad - k;
  return span < 0 ? 0 : Math.floor(span / stride) + 1;
};

/** x: (N, C, H, W); w: (FN, CKK); b: (FN) if hasBias -> y: (N, FN, OH, OW); col: (CKK, OHW) scratch. */
export function conv_fwd_f32(h: Heap, x: Ptr, N: number, C: number, H: number, W: number, w: Ptr, FN: number,
  KH: number, KW: number, strideH: number, strideW: number, padH: number, padW: number,
  b: Ptr, hasBias: number, y: Ptr, col: Ptr): void {
  const OH = outDim(H, KH, strideH, padH);
  const OW = outDim(W, KW, strideW, padW);
  if (N <= 0 || FN <= 0 || OH <= 0 || OW <= 0) return;
  const CKK = C * KH * KW;
  const OHW = OH * OW;
  for (let n = 0; n < N; n++) {
    const yn = y + n * FN * OHW * 4;
    im2colRows(h, x + n * C * H * W * 4, C, H, W, KH, KW, strideH, strideW, padH, padW, 0, CKK, col);
    gemm_f32(h, 0, 0, FN, OHW, CKK, 1, w, CKK, col, OHW, 0, yn, OHW);
    if (hasBias) {
      const f = h.f32;
      for (let c = 0; c < FN; c++) {
        const bc = f[(b >> 2) + c];
        for (let i = (yn >> 2) + c * OHW, e = i + OHW; i < e; i++) f[i] += bc;
      }
    }
  }
}

/** dy: (N, FN, OH, OW); w: (FN, CKK) -> dx: (N, C, H, W) overwritten; dcol: (CKK, OHW) scratch. */
export function conv_bwd_data_f32(h: Heap, dy: Ptr, N: number, C: number, H: number, W: number, w: Ptr, FN: number,
  KH: number, KW: number, strideH: number, strideW: number, padH: number, padW: number, dx: Ptr, dcol: Ptr): void {
  const OH = outDim(H, KH, strideH, padH);
  const OW = outDim(W, KW, strideW, padW);
  if (N <= 0 || C <= 0 || H <= 0 || W <= 0) return;
  const CKK = C * KH * KW;
  const OHW = OH * OW;
  for (let n = 0; n < N; n++) {
    gemm_f32(h, 1, 0, CKK, OHW, FN, 1, w, CKK, dy + n * FN * OHW * 4, OHW, 0, dcol, OHW);
    col2im_f32(h, dcol, C, H, W, KH, KW, strideH, strideW, padH, padW, dx + n * C * H * W * 4);
  }
}

/**
 * dw: (FN, CKK) columns [r0, r1) = sum_n dy_n * (rows r0..r1-1 of im2col(x_n))^T;
 * col: scratch of (r1 - r0) * (OHW + FN) floats (the im2col rows, then the (FN, r1 - r0) sums).
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
  const acc = col + rows * OHW * 4;
  for (let n = 0; n < N; n++) {
    im2colRows(h, x + n * C * H * W * 4, C, H, W, KH, KW, strideH, strideW, padH, padW, r0, r1, col);
    gemm_f32(h, 0, 1, FN, rows, OHW, 1, dy + n * FN * OHW * 4, OHW, col, OHW, n === 0 ? 0 : 1, acc, rows);
  }
  const f = h.f32;
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
