// conv-fused.ts — plain-JS twin of assembly/conv-fused.ts: y = maxpool(relu(conv(x, w) + b))
// (or relu(conv(x, w) + b) for a 1x1 stride-1 window), the GEMMs of conv_fwd_f32 (conv.ts)
// with the epilogue applied to each group's result in the scratch block. Pooled first, then
// bias and ReLU: exact, as the Wasm file's head explains.
import type { Heap } from './heap.js';
import type { Ptr } from '../kernels.js';
import { gemm_f32 } from './gemm.js';
import { im2colRows } from './im2col-rows.js';
import { convGroup, convLd } from '../kernels.js';
import { outSize } from '../../geometry.js';

const fround = Math.fround;
/** GEMM columns per chunk of the one-image path (assembly/conv-fused.ts CHUNK_COLS). */
const CHUNK_COLS = 1024;

const outDim = (size: number, k: number, stride: number, pad: number): number =>
  size + 2 * pad - k < 0 ? 0 : outSize(size, k, stride, pad);

/** src: (OH, OW) plane at float index s -> dst: (PH, PW) at float index d = relu(window max + bias). */
function poolBiasRelu(f: Float32Array, s: number, OH: number, OW: number, PK: number, PS: number, PP: number,
  bias: number, d: number, PH: number, PW: number): void {
  for (let i = 0; i < PH; i++) {
    const h0 = i * PS - PP;
    const hLo = Math.max(h0, 0);
    const hHi = Math.min(h0 + PK, OH);
    for (let j = 0; j < PW; j++, d++) {
      const w0 = j * PS - PP;
      const wLo = Math.max(w0, 0);
      const wHi = Math.min(w0 + PK, OW);
      let best = -Infinity;
      for (let h = hLo; h < hHi; h++) {
        const r = s + h * OW;
        for (let w = wLo; w < wHi; w++) {
          const v = f[r + w];
          if (v > best || v !== v) best = v;
        }
      }
      const v = fround(best + bias);
      f[d] = v <= 0 ? 0 : v;
    }
  }
}

/**
 * x: (N, C, H, W); w: (FN, CKK); b: (FN) if hasBias -> y: (N, FN, PH, PW), PH = outDim(OH, PK, PS, PP);
 * col: (CKK + FN, ld) scratch = a group's im2col matrix, then its GEMM result.
 */
export function conv_relu_pool_fwd_f32(h: Heap, x: Ptr, N: number, C: number, H: number, W: number, w: Ptr, FN: number,
  KH: number, KW: number, strideH: number, strideW: number, padH: number, padW: number,
  b: Ptr, hasBias: number, PK: number, PS: number, PP: number, y: Ptr, col: Ptr): void {
  const OH = outDim(H, KH, strideH, padH);
  const OW = outDim(W, KW, strideW, padW);
  if (N <= 0 || FN <= 0 || OH <= 0 || OW <= 0) return;
  const PH = outDim(OH, PK, PS, PP);
  const PW = outDim(OW, PK, PS, PP);
  if (PH <= 0 || PW <= 0) return;
  const identity = PK === 1 && PS === 1;
  const CKK = C * KH * KW;
  const OHW = OH * OW;
  const G = convGroup(N, OHW);
  const ld = convLd(G, OHW);
  const yt = col + CKK * ld * 4;
  const PHW = PH * PW;
  const f = h.f32;
  // one image per GEMM, windows tiling the rows: the GEMM in chunks of whole windows' rows (as the Wasm kernel)
  const rowCols = identity ? OW : PK * OW;
  const chunked = G === 1 && (identity || (PS === PK && PP === 0));
  const rowsPerChunk = Math.max(1, Math.floor(CHUNK_COLS / rowCols));
  for (let n0 = 0; n0 < N; n0 += G) {
    const g1 = Math.min(G, N - n0);
    for (let g = 0; g < g1; g++) {
      im2colRows(h, x + (n0 + g) * C * H * W * 4, C, H, W, KH, KW, strideH, strideW, padH, padW, 0, CKK, col + g * OHW * 4, ld);
    }
    if (chunked) {
      const yn = y + n0 * FN * PHW * 4;
      for (let i0 = 0; i0 < PH; i0 += rowsPerChunk) {
        const rows = Math.min(rowsPerChunk, PH - i0);
        const c0 = i0 * rowCols;
        const nc = rows * rowCols;
        const dst = identity ? yn + c0 * 4 : yt;
        gemm_f32(h, 0, 0, FN, nc, CKK, 1, w, CKK, col + c0 * 4, ld, 0, dst, identity ? OHW : nc);
        for (let c = 0; c < FN; c++) {
          const bias = hasBias ? f[(b >> 2) + c] : 0;
          if (identity) {
            const d = (yn >> 2) + c * PHW + c0;
            for (let i = d; i < d + nc; i++) {
              const v = fround(f[i] + bias);
              f[i] = v <= 0 ? 0 : v;
            }
          } else {
            poolBiasRelu(f, (yt >> 2) + c * nc, rows * PK, OW, PK, PK, 0, bias, (yn >> 2) + c * PHW + i0 * PW, rows, PW);
          }
        }
      }
      continue;
    }
    // the group's result yt (FN, g1*OHW), row stride ld, then each image's planes through the epilogue
    gemm_f32(h, 0, 0, FN, g1 * OHW, CKK, 1, w, CKK, col, ld, 0, yt, ld);
    for (let g = 0; g < g1; g++) {
      const yn = (y >> 2) + (n0 + g) * FN * PHW;
      for (let c = 0; c < FN; c++) {
        const bias = hasBias ? f[(b >> 2) + c] : 0;
        const s = (yt >> 2) + c * ld + g * OHW;
        const d = yn + c * PHW;
        if (identity) {
          for (let i = 0; i < OHW; i++) {
            const v = fround(f[s + i] + bias);
            f[d + i] = v <= 0 ? 0 : v;
          }
        } else {
          poolBiasRelu(f, s, OH, OW, PK, PS, PP, bias, d, PH, PW);
        }
      }
    }
  }
}
