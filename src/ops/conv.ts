/**
 * Convolution over NCHW batches as per-image im2col + GEMM (Caffe layout), so the
 * GEMM writes NCHW directly and the scratch `col` holds one image only. The per-image
 * loops are the batched kernels conv_fwd_f32 / conv_bwd_*_f32 (assembly/conv.ts and their
 * JS twins), which a threaded kernel set splits across threads (src/backend/threads/).
 *
 *   x: (N, C, H, W)   w: (FN, C, KH, KW)   b: (FN)   y: (N, FN, OH, OW)
 *   col, dcol: colSize floats of scratch (a group of images' im2col matrices)
 *
 * Used by the Convolution layer and by conv2d; shapes are checked by convGeom.
 */
import type { Backend } from '../backend/backend.js';
import { convDataScratch, convFilterScratch, type Kernels, type Ptr } from '../backend/kernels.js';
import { ShapeError, WasmCnnError, describeValue } from '../errors.js';
import { Tensor, fmtShape, type Shape } from '../tensor.js';
import { checkBackendArg, checkOptionsArg, checkTensorArg, runOnDevice } from './on-device.js';
import { outSize, checkWindowOptions } from '../geometry.js';

export interface ConvGeom {
  N: number; C: number; H: number; W: number;
  FN: number; KH: number; KW: number;
  strideH: number; strideW: number; padH: number; padW: number;
  OH: number; OW: number;
}

/** Validates shapes and options of a convolution and derives its output size. */
export function convGeom(where: string, xShape: Shape, wShape: Shape, stride: number, pad: number): ConvGeom {
  checkWindowOptions(where, stride, pad);
  if (xShape.length !== 4) throw new ShapeError(`${where}: input must be 4-D (N, C, H, W), got ${fmtShape(xShape)}`);
  if (wShape.length !== 4) throw new ShapeError(`${where}: weights must be 4-D (FN, C, KH, KW), got ${fmtShape(wShape)}`);
  const [N, C, H, W] = xShape;
  const [FN, WC, KH, KW] = wShape;
  if (WC !== C) {
    throw new ShapeError(`${where}: weights ${fmtShape(wShape)} expect ${WC} input channels, but the input ${fmtShape(xShape)} has ${C}`);
  }
  const OH = outSize(H, KH, stride, pad);
  const OW = outSize(W, KW, stride, pad);
  if (OH < 1 || OW < 1) {
    throw new ShapeError(`${where}: a ${KH}x${KW} filter with pad ${pad} does not fit the ${H}x${W} input ${fmtShape(xShape)}`);
  }
  return { N, C, H, W, FN, KH, KW, strideH: stride, strideW: stride, padH: pad, padW: pad, OH, OW };
}

/** Floats of the conv kernels' scratch, enough for each of them (sizes: src/backend/kernels.ts). */
export function colSize(g: ConvGeom): number {
  const CKK = g.C * g.KH * g.KW;
  const OHW = g.OH * g.OW;
  return Math.max(convFilterScratch(g.N, CKK, g.FN, OHW), convDataScratch(g.N, CKK, g.FN, OHW));
}

/** y = conv(x, w) + b. `b` may be -1 for no bias. */
export function convForward(k: Kernels, g: ConvGeom, x: Ptr, w: Ptr, b: Ptr, y: Ptr, col: Ptr): void {
  k.conv_fwd_f32(x, g.N, g.C, g.H, g.W, w, g.FN, g.KH, g.KW, g.strideH, g.strideW, g.padH, g.padW,
    b >= 0 ? b : 0, b >= 0 ? 1 : 0, y, col);
}

/**
 * Gradients of convForward: dw = sum_n dy_n * col_n^T, db = sums of dy, dx = col2im(w^T * dy_n).
 * `dx` may be -1 when the input gradient is not needed (first layer).
 */
export function convBackward(k: Kernels, g: ConvGeom, x: Ptr, w: Ptr, dy: Ptr,
  dw: Ptr, db: Ptr, dx: Ptr, col: Ptr, dcol: Ptr): void {
  const CKK = g.C * g.KH * g.KW;
  k.conv_bwd_filter_f32(x, dy, g.N, g.C, g.H, g.W, g.FN, g.KH, g.KW, g.strideH, g.strideW, g.padH, g.padW, 0, CKK, dw, col);
  k.conv_bwd_bias_f32(dy, g.N, g.FN, g.OH * g.OW, 0, g.FN, db);
  if (dx >= 0) {
    k.conv_bwd_data_f32(dy, g.N, g.C, g.H, g.W, w, g.FN, g.KH, g.KW, g.strideH, g.strideW, g.padH, g.padW, dx, dcol);
  }
}

/** Options of conv2d. */
export interface ConvOptions {
  /** Step of the window in both directions; default 1. */
  stride?: number;
  /** Zeros added on every side; default 0. */
  pad?: number;
}

/**
 * Convolution of a batch: x (N, C, H, W), w (FN, C, KH, KW), b (FN) or null ->
 * a new host tensor (N, FN, OH, OW). Inputs may live on the host or on `backend`.
 */
export function conv2d(backend: Backend, x: Tensor, w: Tensor, b: Tensor | null, opts: ConvOptions = {}): Tensor {
  const where = 'conv2d';
  checkBackendArg(where, backend);
  checkTensorArg(where, 'x', x);
  checkTensorArg(where, 'w', w);
  if (b !== null && b !== undefined && !(b instanceof Tensor)) {
    throw new WasmCnnError(`${where}: b must be a Tensor or null, got ${describeValue(b)}`);
  }
  checkOptionsArg(where, opts, ['stride', 'pad']);
  const g = convGeom(where, x.shape, w.shape, opts.stride ?? 1, opts.pad ?? 0);
  if (b && (b.rank !== 1 || b.size !== g.FN)) {
    throw new ShapeError(`${where}: bias must have shape (${g.FN}) for ${g.FN} filters, got ${fmtShape(b.shape)}`);
  }
  return runOnDevice(backend, [g.N, g.FN, g.OH, g.OW], (y, s) => {
    convForward(backend.kernels, g, s.input(x).ptr, s.input(w).ptr, b ? s.input(b).ptr : -1, y.ptr, s.alloc(colSize(g)));
  });
}
