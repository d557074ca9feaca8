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
// Scratch (col, dcol) is one image's worth per call: the caller gives each concurrent call
// its own. Nothing here allocates; GEMM uses its instance's packing scratch (gemm.ts).
import { gemm_f32, gemm_nt_dots_f32 } from './gemm';
import { im2col_rows, col2im_f32 } from './im2col';
import { outDim } from './window';
import { bias_add_channels_f32, channel_sums } from './bias';

export function conv_fwd_f32(x: usize, N: i32, C: i32, H: i32, W: i32, w: usize, FN: i32, KH: i32, KW: i32,
  strideH: i32, strideW: i32, padH: i32, padW: i32, b: usize, hasBias: i32, y: usize, col: usize): void {
  // x: (N, C, H, W); w: (FN, C*KH*KW); b: (FN) if hasBias; y: (N, FN, OH, OW); col: (C*KH*KW, OH*OW) scratch
  const OH = outDim(H, KH, strideH, padH);
  const OW = outDim(W, KW, strideW, padW);
  if (N <= 0 || FN <= 0 || OH <= 0 || OW <= 0) return;
  const CKK = C * KH * KW;
  const OHW = OH * OW;
  const xStride = <usize>(C * H * W) << 2;
  const yStride = <usize>(FN * OHW) << 2;
  let xn = x;
  let yn = y;
  for (let n = 0; n < N; n++, xn += xStride, yn += yStride) {
    im2col_rows(xn, C, H, W, KH, KW, strideH, strideW, padH, padW, 0, CKK, col);
    // y_n (FN, OHW) = w (FN, CKK) * col (CKK, OHW), then + b per channel while y_n is in cache
    gemm_f32(0, 0, FN, OHW, CKK, 1, w, CKK, col, OHW, 0, yn, OHW);
    if (hasBias != 0) bias_add_channels_f32(yn, b, 1, FN, OHW);
  }
}

export function conv_bwd_data_f32(dy: usize, N: i32, C: i32, H: i32, W: i32, w: usize, FN: i32, KH: i32, KW: i32,
  strideH: i32, strideW: i32, padH: i32, padW: i32, dx: usize, dcol: usize): void {
  // dy: (N, FN, OH, OW); w: (FN, C*KH*KW) -> dx: (N, C, H, W) overwritten; dcol: (C*KH*KW, OH*OW) scratch
  const OH = outDim(H, KH, strideH, padH);
  const OW = outDim(W, KW, strideW, padW);
  if (N <= 0 || C <= 0 || H <= 0 || W <= 0) return;
  const CKK = C * KH * KW;
  const OHW = OH * OW;
  const xStride = <usize>(C * H * W) << 2;
  const yStride = <usize>(FN * OHW) << 2;
  let dyn = dy;
  let dxn = dx;
  for (let n = 0; n < N; n++, dyn += yStride, dxn += xStride) {
    // dcol (CKK, OHW) = w^T (CKK, FN) * dy_n (FN, OHW); dx_n = col2im(dcol)
    gemm_f32(1, 0, CKK, OHW, FN, 1, w, CKK, dyn, OHW, 0, dcol, OHW);
    col2im_f32(dcol, C, H, W, KH, KW, strideH, strideW, padH, padW, dxn);
  }
}

export function conv_bwd_filter_f32(x: usize, dy: usize, N: i32, C: i32, H: i32, W: i32, FN: i32, KH: i32, KW: i32,
  strideH: i32, strideW: i32, padH: i32, padW: i32, r0: i32, r1: i32, dw: usize, col: usize): void {
  // x: (N, C, H, W); dy: (N, FN, OH, OW) -> dw: (FN, C*KH*KW), columns r0..r1-1 overwritten with
  // sum_n dy_n (FN, OHW) * col_n[r0:r1]^T; col: scratch of (r1 - r0) * (OHW + FN) floats =
  // rows r0..r1-1 of im2col(x_n) (r1 - r0, OHW), then the partial sums acc (FN, r1 - r0)
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
  const acc = col + (<usize>(rows * OHW) << 2);
  let xn = x;
  let dyn = dy;
  for (let n = 0; n < N; n++, xn += xStride, dyn += yStride) {
    im2col_rows(xn, C, H, W, KH, KW, strideH, strideW, padH, padW, r0, r1, col);
    // acc (FN, rows) (+)= dy_n (FN, OHW) * col^T (OHW, rows)
    gemm_nt_dots_f32(FN, rows, OHW, 1, dyn, OHW, col, OHW, n == 0 ? 0 : 1, acc, rows);
  }
  for (let f = 0; f < FN; f++) memory.copy(dwr + (<usize>(f * CKK) << 2), acc + <usize>f * rowBytes, rowBytes);
}

export function conv_bwd_bias_f32(dy: usize, N: i32, C: i32, HW: i32, c0: i32, c1: i32, db: usize): void {
  // dy: (N, C, HW) -> db: (C), entries c0..c1-1 = sums over N and HW (the same sums as bias_grad_channels_f32)
  channel_sums(dy, N, C, HW, c0, c1, db);
}
