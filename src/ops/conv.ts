/**
 * Convolution over NCHW batches, by one of two algorithms (convAlgo):
 *   direct     im2col + GEMM over groups of images (Caffe layout): conv_fwd_f32 / conv_bwd_*_f32
 *   winograd   for 3x3 stride-1 convolutions with pad <= 2 over enough channels, by F(4x4, 3x3)
 *              where it needs fewer products than F(2x2, 3x3) (winoTile4), each chosen by the
 *              size of its output: the forward (wino4_filter_f32 + wino4_fwd_f32, or wino_*),
 *              the input gradient as the forward of dy with the flipped filters, the filter
 *              gradient (wino4_grad_sums_f32 + wino4_grad_filter_f32, or wino_*)
 * Both agree to float rounding (tests/kernels/winograd.test.ts); a threaded kernel set splits
 * either across threads with bit-identical results (src/backend/threads/).
 * The inference convolution with ReLU (and a max-pool) fused, convReluPoolForward, by fusedAlgo:
 *   winograd5  for 5x5 stride-1 convolutions with pad <= 4 and a 2x2 stride-2 pool, by F(4x4, 5x5)
 *              (wino5_filter_f32 + wino5_relu_pool_fwd_f32; tests/kernels/winograd5.test.ts)
 *   direct     conv_fwd_f32's GEMMs with the epilogue fused (conv_relu_pool_fwd_f32), bit for bit
 *              the layers apart
 *
 *   x: (N, C, H, W)   w: (FN, C, KH, KW)   b: (FN)   y: (N, FN, OH, OW)
 *   col, dcol: colSize floats of scratch (im2col matrices of a group of images, or the
 *              Winograd filter transform (16 or 36, FN, C), or in backward the filter
 *              gradient's sums (WINO_PARTS, 16 or 36, FN, C), followed by the kernels' scratch)
 *
 * Used by the Convolution layer and by conv2d; shapes are checked by convGeom.
 */
import type { Backend } from '../backend/backend.js';
import {
  WINO_PARTS, convDataScratch, convFilterScratch, wino4FwdScratch, wino4SumsScratch, wino5FilterFloats, wino5FwdScratch, winoFwdScratch,
  winoSumsScratch,
  type Kernels, type Ptr,
} from '../backend/kernels.js';
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

/**
 * The Winograd tile of a forward with output (OH, OW) (the input gradient's output is (H, W);
 * the filter gradient goes by the forward's):
 * F(4x4, 3x3) where its 36 products per 4x4 tile are fewer than F(2x2, 3x3)'s 16 per 2x2 tile
 * over the clipped edge tiles (ties go to F(2x2), whose transforms are cheaper). On the deep
 * net's 8x8 to 28x28 outputs F(4x4) ran 1.05-1.5x faster (bench group deep, wino4_* rows).
 */
export function winoTile4(OH: number, OW: number): boolean {
  return 36 * Math.ceil(OH / 4) * Math.ceil(OW / 4) < 16 * Math.ceil(OH / 2) * Math.ceil(OW / 2);
}

/** Floats of the transformed filters u: (16 or 36, FN, C) (wino_filter_f32 / wino4_filter_f32), which the scratch starts with. */
function winoFilterFloats(g: ConvGeom, tile4 = false): number {
  return (tile4 ? 36 : 16) * g.FN * g.C;
}

/** Floats of a Winograd forward's scratch: the filter transform, then the kernel's (C -> FN channels, output (OH, OW)). */
function winoForwardFloats(g: ConvGeom, C: number, FN: number, OH: number, OW: number): number {
  const tile4 = winoTile4(OH, OW);
  return winoFilterFloats(g, tile4) + (tile4 ? wino4FwdScratch : winoFwdScratch)(g.N, C, FN, OH, OW);
}

/** Floats of the Winograd filter gradient's scratch: the partitions' sums, then the kernel's. */
function winoFilterGradFloats(g: ConvGeom): number {
  const tile4 = winoTile4(g.OH, g.OW);
  return WINO_PARTS * winoFilterFloats(g, tile4) + (tile4 ? wino4SumsScratch : winoSumsScratch)(g.N, g.C, g.FN, g.OH, g.OW);
}

/**
 * A Winograd forward of x (N, C, .) with the transformed-filter buffer `u` (its scratch after
 * the transform): F(4x4) or F(2x2) by winoTile4 of the output (OH, OW); flip: the input gradient's.
 */
function winoForward(k: Kernels, g: ConvGeom, w: Ptr, flip: number, x: Ptr, C: number, H: number, W: number, FN: number,
  pad: number, b: Ptr, y: Ptr, u: Ptr): void {
  const OH = H + 2 * pad - 2, OW = W + 2 * pad - 2;
  const tile4 = winoTile4(OH, OW);
  const scratch = u + 4 * winoFilterFloats(g, tile4);
  if (tile4) {
    k.wino4_filter_f32(w, g.FN, g.C, flip, u);
    k.wino4_fwd_f32(x, g.N, C, H, W, u, FN, pad, b >= 0 ? b : 0, b >= 0 ? 1 : 0, y, scratch);
  } else {
    k.wino_filter_f32(w, g.FN, g.C, flip, u);
    k.wino_fwd_f32(x, g.N, C, H, W, u, FN, pad, b >= 0 ? b : 0, b >= 0 ? 1 : 0, y, scratch);
  }
}

/** Floats of the conv kernels' scratch, enough for each of them (sizes: src/backend/kernels.ts). */
export function colSize(g: ConvGeom, algo: ConvAlgo = convAlgo(g)): number {
  if (algo === 'winograd') {
    return Math.max(winoForwardFloats(g, g.C, g.FN, g.OH, g.OW), winoForwardFloats(g, g.FN, g.C, g.H, g.W),
      winoFilterGradFloats(g));
  }
  const CKK = g.C * g.KH * g.KW;
  const OHW = g.OH * g.OW;
  return Math.max(convFilterScratch(g.N, CKK, g.FN, OHW), convDataScratch(g.N, CKK, g.FN, OHW));
}

/** y = conv(x, w) + b. `b` may be -1 for no bias; `col`: colSize(g, algo) floats. */
export function convForward(k: Kernels, g: ConvGeom, x: Ptr, w: Ptr, b: Ptr, y: Ptr, col: Ptr, algo: ConvAlgo = convAlgo(g)): void {
  if (algo === 'winograd') {
    winoForward(k, g, w, 0, x, g.C, g.H, g.W, g.FN, g.padH, b, y, col);
    return;
  }
  k.conv_fwd_f32(x, g.N, g.C, g.H, g.W, w, g.FN, g.KH, g.KW, g.strideH, g.strideW, g.padH, g.padW,
    b >= 0 ? b : 0, b >= 0 ? 1 : 0, y, col);
}

/** A max-pool window fused into the inference convolution (a Pooling layer's size, stride, pad). */
export interface PoolWindow { size: number; stride: number; pad: number }

/**
 * The algorithms of the fused inference convolution y = maxpool(relu(conv(x, w) + b)) (or relu(conv + b)
 * without a pool): 'winograd5', Winograd F(4x4, 5x5) (wino5_*), for 5x5 stride-1 filters with pad
 * <= 4 and a 2x2 stride-2 max-pool, each 4x4 output tile four pool windows; 'direct', the GEMMs
 * of conv_fwd_f32 with the epilogue fused (conv_relu_pool_fwd_f32), bit for bit the layers apart.
 */
export type FusedAlgo = 'direct' | 'winograd5';

/** The fused algorithm for `g` and `pool`: F(4x4, 5x5) wherever it applies (bench group kernels, "conv 5x5 + relu + pool" rows). */
export function fusedAlgo(g: ConvGeom, pool: PoolWindow | null): FusedAlgo {
  const win = pool !== null && pool.size === 2 && pool.stride === 2 && pool.pad === 0;
  return win && g.KH === 5 && g.KW === 5 && g.strideH === 1 && g.strideW === 1 && g.padH === g.padW && g.padH <= 4
    && g.OH >= 2 && g.OW >= 2 ? 'winograd5' : 'direct';
}

/** Floats of convReluPoolForward's scratch: the F(4x4, 5x5) filters (FN, C, 64, 4) and the kernel's, or the direct GEMMs'. */
export function fusedColSize(g: ConvGeom, algo: FusedAlgo): number {
  return algo === 'winograd5' ? wino5FilterFloats(g.FN, g.C) + wino5FwdScratch(g.C, g.H, g.W, g.padH) : colSize(g, 'direct');
}

/** y = maxpool(relu(conv(x, w) + b)) by `algo` (pool null: relu(conv(x, w) + b), direct only); `col`: fusedColSize floats. */
export function convReluPoolForward(k: Kernels, g: ConvGeom, x: Ptr, w: Ptr, b: Ptr, pool: PoolWindow | null, y: Ptr, col: Ptr,
  algo: FusedAlgo = fusedAlgo(g, pool)): void {
  if (algo === 'winograd5') {
    k.wino5_filter_f32(w, g.FN, g.C, col);
    k.wino5_relu_pool_fwd_f32(x, g.N, g.C, g.H, g.W, col, g.FN, g.padH, b, 1, y, col + 4 * wino5FilterFloats(g.FN, g.C));
    return;
  }
  k.conv_relu_pool_fwd_f32(x, g.N, g.C, g.H, g.W, w, g.FN, g.KH, g.KW, g.strideH, g.strideW, g.padH, g.padW, b, 1,
    pool ? pool.size : 1, pool ? pool.stride : 1, pool ? pool.pad : 0, y, col);
}

/**
 * Gradients of convForward: dw = sum_n dy_n * col_n^T, db = sums of dy, dx = col2im(w^T * dy_n)
 * (or their Winograd forms). `dx` may be -1 when the input gradient is not needed (first layer).
 */
export function convBackward(k: Kernels, g: ConvGeom, x: Ptr, w: Ptr, dy: Ptr,
  dw: Ptr, db: Ptr, dx: Ptr, col: Ptr, dcol: Ptr, algo: ConvAlgo = convAlgo(g)): void {
  if (algo === 'winograd') {
    const tile4 = winoTile4(g.OH, g.OW);
    const scratch = col + 4 * WINO_PARTS * winoFilterFloats(g, tile4);
    if (tile4) {
      k.wino4_grad_sums_f32(x, dy, g.N, g.C, g.H, g.W, g.FN, g.padH, 0, WINO_PARTS, col, scratch);
      k.wino4_grad_filter_f32(col, g.FN, g.C, dw);
    } else {
      k.wino_grad_sums_f32(x, dy, g.N, g.C, g.H, g.W, g.FN, g.padH, 0, WINO_PARTS, col, scratch);
      k.wino_grad_filter_f32(col, g.FN, g.C, dw);
    }
  } else {
    const CKK = g.C * g.KH * g.KW;
    k.conv_bwd_filter_f32(x, dy, g.N, g.C, g.H, g.W, g.FN, g.KH, g.KW, g.strideH, g.strideW, g.padH, g.padW, 0, CKK, dw, col);
  }
  k.conv_bwd_bias_f32(dy, g.N, g.FN, g.OH * g.OW, 0, g.FN, db);
  if (dx < 0) return;
  if (algo === 'winograd') {
    // dx = the forward of dy (N, FN, OH, OW) with the flipped filters (16 or 36, C, FN) and pad 2 - pad
    winoForward(k, g, w, 1, dy, g.FN, g.OH, g.OW, g.C, 2 - g.padH, -1, dx, dcol);
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
