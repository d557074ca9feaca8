// conv.ts — batched convolution kernels: the per-image im2col + GEMM loops of a whole batch
// in one call (shapes: src/backend/kernels.ts), NCHW, Caffe im2col layout.
//
// One call per layer step instead of 2-3 kernel calls per image, and the unit of work the
// threads runtime splits: conv_fwd_f32 / conv_bwd_data_f32 by images, conv_bwd_filter_f32 by
// columns of the filter gradient (= rows of the im2col matrix, so a share never repeats
// another's im2col work), conv_bwd_bias_f32 by channels. In every kernel each output element
// is computed start to finish by one call, in an order that does not depend on the range the
// call was given (the filter gradient sums the images n = 0, 1, ... in turn; GEMM column
// ranges start at even columns, so each column keeps its dot-product micro-kernel), which
// makes a split batch bit-identical to the unsplit one.
//
// conv_fwd_f32 and conv_bwd_data_f32 batch their GEMMs over groups of G = conv_group(N, OHW)
// images (the group's im2col matrices side by side, row stride ld = conv_ld(G, OHW)), so a
// small OH*OW still makes one long GEMM and the weights are packed once per group. A GEMM
// element's summation order does not depend on the number of columns (gemm.ts), so the
// results are those of per-image GEMMs, whatever G is. conv_group and conv_ld are the twins
// of convGroup and convLd in src/backend/kernels.ts, which size the scratch.
//
// Scratch (col, dcol) is given by the caller, one block per concurrent call (sizes in
// src/backend/kernels.ts). Nothing here allocates; GEMM uses its instance's packing scratch (gemm.ts).
import { gemm_f32, gemm_nt_dots_f32 } from './gemm';
import { im2col_rows, col2im_ld } from './im2col';
import { outDim } from './window';
import { bias_add_channels_f32, channel_sums } from './bias';

const CONV_COLS: i32 = 256; // target GEMM width of a group: images per group = CONV_COLS / OHW

/** Images per batched GEMM: CONV_COLS / OHW, at least 1, at most N. */
export function conv_group(N: i32, OHW: i32): i32 {
  let g = CONV_COLS / max(OHW, 1);
  if (g > N) g = N;
  return g < 1 ? 1 : g;
}

/** Row stride of a group's matrices: G*OHW floats, 4 more when that is a multiple of 1 KiB (L1 set aliasing). */
export function conv_ld(G: i32, OHW: i32): i32 {
  const c = G * OHW;
  return (c & 255) == 0 ? c + 4 : c;
}

// @ts-ignore: decorator
@inline
function copy_floats(dst: usize, src: usize, n: i32): void {
  // dst: (n) = src: (n)
  memory.copy(dst, src, <usize>n << 2);
}

// @ts-ignore: decorator
@inline
function copy_add_bias(dst: usize, src: usize, n: i32, bias: f32): void {
  // dst: (n) = src: (n) + bias
  const bv = f32x4.splat(bias);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, f32x4.add(v128.load(src + o), bv));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, load<f32>(src + o) + bias);
  }
}

export function conv_fwd_f32(x: usize, N: i32, C: i32, H: i32, W: i32, w: usize, FN: i32, KH: i32, KW: i32,
  strideH: i32, strideW: i32, padH: i32, padW: i32, b: usize, hasBias: i32, y: usize, col: usize): void {
  // x: (N, C, H, W); w: (FN, C*KH*KW); b: (FN) if hasBias; y: (N, FN, OH, OW);
  // col: (C*KH*KW + FN, ld) scratch = a group's im2col matrix, then its GEMM result
  const OH = outDim(H, KH, strideH, padH);
  const OW = outDim(W, KW, strideW, padW);
  if (N <= 0 || FN <= 0 || OH <= 0 || OW <= 0) return;
  const CKK = C * KH * KW;
  const OHW = OH * OW;
  const G = conv_group(N, OHW);
  const ld = conv_ld(G, OHW);
  const yt = col + (<usize>CKK * <usize>ld << 2);
  const xStride = <usize>(C * H * W) << 2;
  const yStride = <usize>(FN * OHW) << 2;
  const imgBytes = <usize>OHW << 2;
  const ldBytes = <usize>ld << 2;
  for (let n0 = 0; n0 < N; n0 += G) {
    const g1 = min(G, N - n0);
    for (let g = 0; g < g1; g++) {
      im2col_rows(x + <usize>(n0 + g) * xStride, C, H, W, KH, KW, strideH, strideW, padH, padW, 0, CKK,
        col + <usize>g * imgBytes, ld);
    }
    if (G == 1) {
      // one image per GEMM: y_n (FN, OHW) = w * col directly, then + b per channel while y_n is in cache
      const yn = y + <usize>n0 * yStride;
      gemm_f32(0, 0, FN, OHW, CKK, 1, w, CKK, col, ld, 0, yn, OHW);
      if (hasBias != 0) bias_add_channels_f32(yn, b, 1, FN, OHW);
      continue;
    }
    // yt (FN, g1*OHW) = w (FN, CKK) * col (CKK, g1*OHW); then y_n[f] = yt[f, image n's columns] (+ b[f])
    gemm_f32(0, 0, FN, g1 * OHW, CKK, 1, w, CKK, col, ld, 0, yt, ld);
    for (let g = 0; g < g1; g++) {
      const yn = y + <usize>(n0 + g) * yStride;
      const src = yt + <usize>g * imgBytes;
      for (let f = 0; f < FN; f++) {
        const d = yn + <usize>f * imgBytes;
        const s = src + <usize>f * ldBytes;
        if (hasBias != 0) copy_add_bias(d, s, OHW, load<f32>(b + (<usize>f << 2)));
        else copy_floats(d, s, OHW);
      }
    }
  }
}

export function conv_bwd_data_f32(dy: usize, N: i32, C: i32, H: i32, W: i32, w: usize, FN: i32, KH: i32, KW: i32,
  strideH: i32, strideW: i32, padH: i32, padW: i32, dx: usize, dcol: usize): void {
  // dy: (N, FN, OH, OW); w: (FN, C*KH*KW) -> dx: (N, C, H, W) overwritten;
  // dcol: (C*KH*KW + FN, ld) scratch = a group's col gradient, then its dy side by side
  const OH = outDim(H, KH, strideH, padH);
  const OW = outDim(W, KW, strideW, padW);
  if (N <= 0 || C <= 0 || H <= 0 || W <= 0) return;
  const CKK = C * KH * KW;
  const OHW = OH * OW;
  const xStride = <usize>(C * H * W) << 2;
  if (FN <= 0 || OHW <= 0) {
    memory.fill(dx, 0, <usize>N * xStride);
    return;
  }
  const G = conv_group(N, OHW);
  const ld = conv_ld(G, OHW);
  const dyt = dcol + (<usize>CKK * <usize>ld << 2);
  const yStride = <usize>(FN * OHW) << 2;
  const imgBytes = <usize>OHW << 2;
  const ldBytes = <usize>ld << 2;
  for (let n0 = 0; n0 < N; n0 += G) {
    const g1 = min(G, N - n0);
    if (G == 1) {
      // one image per GEMM: dy_n read in place
      gemm_f32(1, 0, CKK, OHW, FN, 1, w, CKK, dy + <usize>n0 * yStride, OHW, 0, dcol, ld);
    } else {
      for (let g = 0; g < g1; g++) {
        const dyn = dy + <usize>(n0 + g) * yStride;
        for (let f = 0; f < FN; f++) copy_floats(dyt + <usize>f * ldBytes + <usize>g * imgBytes, dyn + <usize>f * imgBytes, OHW);
      }
      // dcol (CKK, g1*OHW) = w^T (CKK, FN) * dyt (FN, g1*OHW); dx_n = col2im(image n's columns of dcol)
      gemm_f32(1, 0, CKK, g1 * OHW, FN, 1, w, CKK, dyt, ld, 0, dcol, ld);
    }
    for (let g = 0; g < g1; g++) {
      col2im_ld(dcol + <usize>g * imgBytes, ld, C, H, W, KH, KW, strideH, strideW, padH, padW, dx + <usize>(n0 + g) * xStride);
    }
  }
}

export function conv_bwd_filter_f32(x: usize, dy: usize, N: i32, C: i32, H: i32, W: i32, FN: i32, KH: i32, KW: i32,
  strideH: i32, strideW: i32, padH: i32, padW: i32, r0: i32, r1: i32, dw: usize, col: usize): void {
  // x: (N, C, H, W); dy: (N, FN, OH, OW) -> dw: (FN, C*KH*KW), columns r0..r1-1 overwritten with
  // sum over groups of G = conv_group(N, OHW) images of dy_group (FN, G*OHW) * col_group[r0:r1]^T;
  // col: scratch (convFilterScratch floats) = rows r0..r1-1 of the group's im2col matrices side
  // by side (r1 - r0, G*OHW), the partial sums acc (FN, r1 - r0), and (if G > 1) the group's dy
  // side by side (FN, G*OHW). G does not depend on r0, r1: column shares stay bit-identical.
  const OH = outDim(H, KH, strideH, padH);
  const OW = outDim(W, KW, strideW, padW);
  const CKK = C * KH * KW;
  if (FN <= 0 || r1 <= r0) return;
  const rows = r1 - r0;
  const dwr = dw + (<usize>r0 << 2);
  const rowBytes = <usize>rows << 2;
  if (N <= 0 || OH <= 0 || OW <= 0) {
    for (let f = 0; f < FN; f++) memory.fill(dwr + (<usize>(f * CKK) << 2), 0, rowBytes);
    return;
  }
  const OHW = OH * OW;
  const xStride = <usize>(C * H * W) << 2;
  const yStride = <usize>(FN * OHW) << 2;
  // The sums build up in a dense block of their own and are copied into dw once: concurrent
  // calls on other column ranges share dw's cache lines, and 100 read-modify-writes of a
  // shared line per image would cost more than the GEMMs.
  const G = conv_group(N, OHW);
  const ld = G * OHW;
  const acc = col + (<usize>rows * <usize>ld << 2);
  const dyt = acc + (<usize>(FN * rows) << 2);
  const imgBytes = <usize>OHW << 2;
  const ldBytes = <usize>ld << 2;
  for (let n0 = 0; n0 < N; n0 += G) {
    const g1 = min(G, N - n0);
    for (let g = 0; g < g1; g++) {
      im2col_rows(x + <usize>(n0 + g) * xStride, C, H, W, KH, KW, strideH, strideW, padH, padW, r0, r1, col + <usize>g * imgBytes, ld);
    }
    let a = dy + <usize>n0 * yStride;
    if (G > 1) {
      for (let g = 0; g < g1; g++) {
        const dyn = dy + <usize>(n0 + g) * yStride;
        for (let f = 0; f < FN; f++) copy_floats(dyt + <usize>f * ldBytes + <usize>g * imgBytes, dyn + <usize>f * imgBytes, OHW);
      }
      a = dyt;
    }
    // acc (FN, rows) (+)= dy_group (FN, g1*OHW) * col^T (g1*OHW, rows)
    gemm_nt_dots_f32(FN, rows, g1 * OHW, 1, a, ld, col, ld, n0 == 0 ? 0 : 1, acc, rows);
  }
  for (let f = 0; f < FN; f++) memory.copy(dwr + (<usize>(f * CKK) << 2), acc + <usize>f * rowBytes, rowBytes);
}

export function conv_bwd_bias_f32(dy: usize, N: i32, C: i32, HW: i32, c0: i32, c1: i32, db: usize): void {
  // dy: (N, C, HW) -> db: (C), entries c0..c1-1 = sums over N and HW (the same sums as bias_grad_channels_f32)
  channel_sums(dy, N, C, HW, c0, c1, db);
}
