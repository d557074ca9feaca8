// im2col.ts — plain-JS twins of assembly/im2col.ts (one image, Caffe layout; shapes: src/backend/kernels.ts).
//
// Row r = (c*KH + kh)*KW + kw of col holds x[c, oh*strideH - padH + kh, ow*strideW - padW + kw]
// for every (oh, ow), 0 outside x. The in-image output columns of a row form one range
// [owLo, owHi) that depends on kw only, so the inner loops carry no bounds checks.
// col2im adds in the order (c, kh, kw, oh, ow) like the Wasm kernel: bit-identical results.
import type { Heap } from './heap.js';
import type { Ptr } from '../kernels.js';
import { firstInside, endInside, im2colRows } from './im2col-rows.js';
import { outSize } from '../../geometry.js';

/** x: (C, H, W) -> col: (C*KH*KW, OH*OW); OH = (H + 2*padH - KH) / strideH + 1, OW likewise. */
export function im2col_f32(heap: Heap, x: Ptr, C: number, H: number, W: number, KH: number, KW: number,
  strideH: number, strideW: number, padH: number, padW: number, col: Ptr): void {
  im2colRows(heap, x, C, H, W, KH, KW, strideH, strideW, padH, padW, 0, C * KH * KW, col);
}

/** col: (C*KH*KW, OH*OW) -> x: (C, H, W), overwritten with the sum of all overlapping patches. */
export function col2im_f32(heap: Heap, col: Ptr, C: number, H: number, W: number, KH: number, KW: number,
  strideH: number, strideW: number, padH: number, padW: number, x: Ptr): void {
  col2imLd(heap, col, outSize(H, KH, strideH, padH) * outSize(W, KW, strideW, padW), C, H, W, KH, KW, strideH, strideW, padH, padW, x);
}

/** col2im_f32 of a col matrix whose rows start ld floats apart (ld >= OH*OW; assembly/im2col.ts col2im_ld). */
export function col2imLd(heap: Heap, col: Ptr, ld: number, C: number, H: number, W: number, KH: number, KW: number,
  strideH: number, strideW: number, padH: number, padW: number, x: Ptr): void {
  const OH = outSize(H, KH, strideH, padH);
  const OW = outSize(W, KW, strideW, padW);
  if (C <= 0 || H <= 0 || W <= 0) return;
  const f = heap.f32;
  const HW = H * W;
  if (OH <= 0 || OW <= 0) {
    f.fill(0, x >> 2, (x >> 2) + C * HW);
    return;
  }
  let row = col >> 2;
  for (let c = 0; c < C; c++) {
    const plane = (x >> 2) + c * HW;
    f.fill(0, plane, plane + HW); // channel by channel: accumulated into while it is in cache
    for (let kh = 0; kh < KH; kh++) {
      const ohLo = firstInside(padH, kh, strideH, OH);
      const ohHi = endInside(H, padH, kh, strideH, OH, ohLo);
      for (let kw = 0; kw < KW; kw++, row += ld) {
        const owLo = firstInside(padW, kw, strideW, OW);
        const owHi = endInside(W, padW, kw, strideW, OW, owLo);
        const run = owHi - owLo;
        if (run <= 0) continue;
        let t = plane + (ohLo * strideH - padH + kh) * W + owLo * strideW - padW + kw;
        const tStep = strideH * W;
        let s = row + ohLo * OW + owLo;
        for (let oh = ohLo; oh < ohHi; oh++, t += tStep, s += OW) {
          if (strideW === 1) {
            for (let i = 0; i < run; i++) f[t + i] += f[s + i];
          } else {
            for (let i = 0, j = t; i < run; i++, j += strideW) f[j] += f[s + i];
          }
        }
      }
    }
  }
}
