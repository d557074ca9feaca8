/**
 * Convolution over NCHW batches, by one of two algorithms (convAlgo):
 *   direct     im2col + GEMM over groups of images (Caffe layout): conv_fwd_f32 / conv_bwd_*_f32
 *   winograd   F(2x2, 3x3) for 3x3 stride-1 convolutions with pad <= 2 over enough channels:
 *              wino_filter_f32, wino_fwd_f32 (forward, and the input gradient as the forward
 *              of dy with the flipped filters), wino_grad_sums_f32 + wino_grad_filter_f32
 * Both agree to float rounding (tests/kernels/winograd.test.ts); a threaded kernel set splits
 * either across threads with bit-identical results (src/backend/threads/).
 *
 *   x: (N, C, H, W)   w: (FN, C, KH, KW)   b: (FN)   y: (N, FN, OH, OW)
 *   col, dcol: colSize floats of scratch (im2col matrices of a group of images, or the
 *              Winograd filter transform (16, FN, C), or in backward the filter gradient's
 *              sums (WINO_PARTS, 16, FN, C), followed by the kernels' scratch)
 *
 * Used by the Convolution layer and by conv2d; shapes are checked by convGeom.
 */
import type { Backend } from '../backend/backend.js';
import { WINO_PARTS, convDataScratch, convFilterScratch, winoFwdScratch, winoSumsScratch, type Kernels, type Ptr } from '../backend/kernels.js';
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

/** The convolution algorithms of convForward / convBackward. */
export type ConvAlgo = 'direct' | 'winograd';

/** Input channels from which Winograd is chosen (with fewer, its GEMMs are too short to win). */
export const WINO_MIN_C = 8;

/** Winograd F(2x2, 3x3) computes this convolution: 3x3 filters, stride 1, pad 0..2. */
export function winogradApplies(g: ConvGeom): boolean {
  return g.KH === 3 && g.KW === 3 && g.strideH === 1 && g.strideW === 1 && g.padH === g.padW && g.padH <= 2;
}

/** The algorithm convForward / convBackward use for `g`: Winograd where it applies and wins (bench group deep). */
export function convAlgo(g: ConvGeom): ConvAlgo {
  return winogradApplies(g) && g.C >= WINO_MIN_C ? 'winograd' : 'direct';
}

/** Floats of the transformed filters u: (16, FN, C) (wino_filter_f32), which the scratch starts with. */
function winoFilterFloats(g: ConvGeom): number {
  return 16 * g.FN * g.C;
}

/** Floats of the conv kernels' scratch, enough for each of them (sizes: src/backend/kernels.ts). */
export function colSize(g: ConvGeom, algo: ConvAlgo = convAlgo(g)): number {
  if (algo === 'winograd') {
    const u = winoFilterFloats(g);
    return Math.max(u + Math.max(winoFwdScratch(g.N, g.C, g.FN, g.OH, g.OW), winoFwdScratch(g.N, g.FN, g.C, g.H, g.W)),
      WINO_PARTS * u + winoSumsScratch(g.N, g.C, g.FN, g.OH, g.OW));
  }
  const CKK = g.C * g.KH * g.KW;
  const OHW = g.OH * g.OW;
  return Math.max(convFilterScratch(g.N, CKK, g.FN, OHW), convDataScratch(g.N, CKK, g.FN, OHW));
}

/** y = conv(x, w) + b. `b` may be -1 for no bias; `col`: colSize(g, algo) floats. */
export function convForward(k: Kernels, g: ConvGeom, x: Ptr, w: Ptr, b: Ptr, y: Ptr, col: Ptr, algo: ConvAlgo = convAlgo(g)): void {
  if (algo === 'winograd') {
    k.wino_filter_f32(w, g.FN, g.C, 0, col);
    k.wino_fwd_f32(x, g.N, g.C, g.H, g.W, col, g.FN, g.padH, b >= 0 ? b : 0, b >= 0 ? 1 : 0, y, col + 4 * winoFilterFloats(g));
    return;
  }
  k.conv_fwd_f32(x, g.N, g.C, g.H, g.W, w, g.FN, g.KH, g.KW, g.strideH, g.strideW, g.padH, g.padW,
    b >= 0 ? b : 0, b >= 0 ? 1 : 0, y, col);
}

/**
 * Gradients of convForward: dw = sum_n dy_n * col_n^T, db = sums of dy, dx = col2im(w^T * dy_n)
 * (or their Winograd forms). `dx` may be -1 when the input gradient is not needed (first layer).
 */
export function convBackward(k: Kernels, g: ConvGeom, x: Ptr, w: Ptr, dy: Ptr,
  dw: Ptr, db: Ptr, dx: Ptr, col: Ptr, dcol: Ptr, algo: ConvAlgo = convAlgo(g)): void {
  if (algo === 'winograd') {
    k.wino_grad_sums_f32(x, dy, g.N, g.C, g.H, g.W, g.FN, g.padH, 0, WINO_PARTS, col, col + 4 * WINO_PARTS * winoFilterFloats(g));
    k.wino_grad_filter_f32(col, g.FN, g.C, dw);
  } else {
    const CKK = g.C * g.KH * g.KW;
    k.conv_bwd_filter_f32(x, dy, g.N, g.C, g.H, g.W, g.FN, g.KH, g.KW, g.strideH, g.strideW, g.padH, g.padW, 0, CKK, dw, col);
  }
  k.conv_bwd_bias_f32(dy, g.N, g.FN, g.OH * g.OW, 0, g.FN, db);
  if (dx < 0) return;
  if (algo === 'winograd') {
    // dx = the forward of dy (N, FN, OH, OW) with the flipped filters (16, C, FN) and pad 2 - pad
    k.wino_filter_f32(w, g.FN, g.C, 1, dcol);
    k.wino_fwd_f32(dy, g.N, g.FN, g.OH, g.OW, dcol, g.C, 2 - g.padH, 0, 0, dx, dcol + 4 * winoFilterFloats(g));
    return;
  }
  k.conv_bwd_data_f32(dy, g.N, g.C, g.H, g.W, w, g.FN, g.KH, g.KW, g.strideH, g.strideW, g.padH, g.padW, dx, dcol);
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
