/**
 * The kernel ABI shared by the Wasm build (assembly/*.ts) and the plain-JS twins
 * (src/backend/js/*.ts). Every pointer is a BYTE offset into the backend's linear
 * memory; f32 buffers are 4-byte aligned, i32 buffers (labels, argmax) too.
 * Kernels never allocate. Buffers are dense row-major unless a leading dimension
 * (lda/ldb/ldc) says otherwise. Unless a kernel says "accumulates", outputs are
 * overwritten (and never read, so garbage/NaN in an output buffer does not leak).
 */
export type Ptr = number;

export interface Kernels {
  // ---- gemm.ts --------------------------------------------------------------
  /**
   * C = alpha * op(A) * op(B) + beta * C.
   * op(A): (M, K) = transA ? A^T with A stored (K, M) : A stored (M, K); row stride lda.
   * op(B): (K, N) = transB ? B^T with B stored (N, K) : B stored (K, N); row stride ldb.
   * C: (M, N), row stride ldc. beta == 0 means C is not read.
   */
  gemm_f32(transA: number, transB: number, M: number, N: number, K: number,
    alpha: number, A: Ptr, lda: number, B: Ptr, ldb: number,
    beta: number, C: Ptr, ldc: number): void;
  /**
   * C = alpha * A * B^T + beta * C (gemm_f32 with transA = 0, transB = 1) computed as dot
   * products over contiguous runs of k: faster than gemm_f32 for few columns over a long k
   * (the convolution's weight gradient, (FN, CKK, OH*OW)); with K < 32 it is gemm_f32.
   * A: (M, K), row stride lda; B: (N, K), row stride ldb; C: (M, N), row stride ldc.
   */
  gemm_nt_dots_f32(M: number, N: number, K: number, alpha: number, A: Ptr, lda: number, B: Ptr, ldb: number,
    beta: number, C: Ptr, ldc: number): void;

  // ---- im2col.ts (one image at a time, Caffe layout) --------------------------
  /** x: (C, H, W); col: (C*KH*KW, OH*OW); OH = (H + 2*padH - KH) / strideH + 1 (floor). */
  im2col_f32(x: Ptr, C: number, H: number, W: number, KH: number, KW: number,
    strideH: number, strideW: number, padH: number, padW: number, col: Ptr): void;
  /** col: (C*KH*KW, OH*OW) -> x: (C, H, W); x is overwritten with the sum of all overlapping patches. */
  col2im_f32(col: Ptr, C: number, H: number, W: number, KH: number, KW: number,
    strideH: number, strideW: number, padH: number, padW: number, x: Ptr): void;

  // ---- conv.ts (batched convolution: per-image im2col + GEMM over a batch, NCHW) ----
  // OH = (H + 2*padH - KH) / strideH + 1 and OW likewise (floor); CKK = C*KH*KW; OHW = OH*OW.
  // Each output element is computed by one call in an order that does not depend on the
  // image / column / channel range a call covers: split calls give bit-identical results.
  /**
   * y = conv(x, w) + b. x: (N, C, H, W); w: (FN, CKK); b: (FN), read only if hasBias != 0;
   * y: (N, FN, OH, OW) overwritten; col: convDataScratch(N, CKK, FN, OHW) floats of scratch.
   * The GEMMs run over groups of convGroup(N, OHW) images side by side (row stride convLd).
   */
  conv_fwd_f32(x: Ptr, N: number, C: number, H: number, W: number, w: Ptr, FN: number, KH: number, KW: number,
    strideH: number, strideW: number, padH: number, padW: number, b: Ptr, hasBias: number, y: Ptr, col: Ptr): void;
  /**
   * dy: (N, FN, OH, OW); w: (FN, CKK) -> dx: (N, C, H, W) overwritten (col2im of w^T dy_n);
   * dcol: convDataScratch(N, CKK, FN, OHW) floats of scratch (groups of images as in conv_fwd_f32).
   */
  conv_bwd_data_f32(dy: Ptr, N: number, C: number, H: number, W: number, w: Ptr, FN: number, KH: number, KW: number,
    strideH: number, strideW: number, padH: number, padW: number, dx: Ptr, dcol: Ptr): void;
  /**
   * x: (N, C, H, W); dy: (N, FN, OH, OW) -> dw: (FN, CKK), only columns r0 <= r < r1 overwritten, with
   * the sum over groups of convGroup(N, OHW) images (in order) of dy_g (FN, G*OHW) * col_g^T, col_g =
   * rows r0..r1-1 of the group's im2col matrices side by side; col: convFilterScratch(N, r1 - r0, FN, OHW)
   * floats of scratch (col_g, then the (FN, r1 - r0) sums, copied into dw at the end so concurrent calls
   * on other columns do not share cache lines, then the group's dy side by side). N == 0 writes zeros.
   */
  conv_bwd_filter_f32(x: Ptr, dy: Ptr, N: number, C: number, H: number, W: number, FN: number, KH: number, KW: number,
    strideH: number, strideW: number, padH: number, padW: number, r0: number, r1: number, dw: Ptr, col: Ptr): void;
  /** dy: (N, C, HW) -> db: (C), only entries c0 <= c < c1 overwritten, with the sums over N and HW. */
  conv_bwd_bias_f32(dy: Ptr, N: number, C: number, HW: number, c0: number, c1: number, db: Ptr): void;

  // ---- winograd.ts (F(2x2, 3x3): stride 1, 3x3 filters, pad 0..2; layout: winoGeom) ----
  // OH = H + 2*pad - 2, OW likewise; the output is cut into 2x2 tiles (TH x TW per image, the
  // last row / column of tiles clipped when OH / OW is odd), each computed from a 4x4 input tile
  // as A^T [(G g G^T) . (B^T d B)] A; the 16 elementwise products over all channels are 16 GEMMs
  // over the groups of images of winoGeom(N, OH, OW). Splitting rules: images (forward), image
  // partitions (the filter gradient's sums); results are bit-identical for every split.
  /**
   * w: (FN, C, 3, 3) -> u: (16, FN, C) = G g G^T for g = w[f][c]; flip != 0: u: (16, C, FN) of the
   * input gradient's filters, g = w[f][c] rotated by 180 degrees (wino_fwd_f32 of dy with pad 2 - pad).
   */
  wino_filter_f32(w: Ptr, FN: number, C: number, flip: number, u: Ptr): void;
  /**
   * x: (N, C, H, W); u: (16, FN, C); b: (FN), read only if hasBias != 0 -> y: (N, FN, OH, OW)
   * overwritten (untouched when N, FN, OH or OW <= 0); scratch: winoFwdScratch(N, C, FN, OH, OW) floats.
   */
  wino_fwd_f32(x: Ptr, N: number, C: number, H: number, W: number, u: Ptr, FN: number, pad: number,
    b: Ptr, hasBias: number, y: Ptr, scratch: Ptr): void;
  /**
   * The filter gradient's transformed sums: x: (N, C, H, W); dy: (N, FN, OH, OW) -> sums:
   * (WINO_PARTS, 16, FN, C), only partitions p0 <= p < p1 overwritten, each with the sum over
   * its groups of images (winoPartStart), in order (zeros for an empty partition or N == 0);
   * scratch: winoSumsScratch(N, C, FN, OH, OW) floats.
   */
  wino_grad_sums_f32(x: Ptr, dy: Ptr, N: number, C: number, H: number, W: number, FN: number, pad: number,
    p0: number, p1: number, sums: Ptr, scratch: Ptr): void;
  /**
   * sums: (WINO_PARTS, 16, FN, C) of wino_grad_sums_f32 -> dw: (FN, C, 3, 3) overwritten with
   * G^T (sums[0] + sums[1] + ..., added in order) G; sums is clobbered.
   */
  wino_grad_filter_f32(sums: Ptr, FN: number, C: number, dw: Ptr): void;

  // ---- winograd4.ts (F(4x4, 3x3): 36 products per 4x4 output tile and channel, where F(2x2)'s
  // four 2x2 tiles need 64 and the direct algorithm 144; layout: wino4Geom, xi = 6 * row + column of the 6x6 transformed tile). Splitting
  // rules: images (forward), image partitions (the filter gradient's sums, WINO_PARTS and
  // winoPartStart as for F(2x2), over the groups of wino4Geom); results are bit-identical for
  // every split.
  /**
   * w: (FN, C, 3, 3) -> u: (36, FN, C) = G g G^T of F(4x4, 3x3) for g = w[f][c]; flip != 0:
   * u: (36, C, FN), g = w[f][c] rotated by 180 degrees (the input gradient's filters).
   */
  wino4_filter_f32(w: Ptr, FN: number, C: number, flip: number, u: Ptr): void;
  /**
   * wino_fwd_f32 by F(4x4, 3x3): x: (N, C, H, W); u: (36, FN, C); b: (FN), read only if
   * hasBias != 0 -> y: (N, FN, OH, OW) overwritten (untouched when N, FN, OH or OW <= 0);
   * scratch: wino4FwdScratch(N, C, FN, OH, OW) floats.
   */
  wino4_fwd_f32(x: Ptr, N: number, C: number, H: number, W: number, u: Ptr, FN: number, pad: number,
    b: Ptr, hasBias: number, y: Ptr, scratch: Ptr): void;
  /**
   * wino_grad_sums_f32 by F(4x4, 3x3): sums: (WINO_PARTS, 36, FN, C), partitions p0 <= p < p1
   * overwritten; scratch: wino4SumsScratch(N, C, FN, OH, OW) floats.
   */
  wino4_grad_sums_f32(x: Ptr, dy: Ptr, N: number, C: number, H: number, W: number, FN: number, pad: number,
    p0: number, p1: number, sums: Ptr, scratch: Ptr): void;
  /**
   * sums: (WINO_PARTS, 36, FN, C) of wino4_grad_sums_f32 -> dw: (FN, C, 3, 3) overwritten with
   * G^T (sums[0] + sums[1] + ..., added in order) G of F(4x4, 3x3); sums is clobbered.
   */
  wino4_grad_filter_f32(sums: Ptr, FN: number, C: number, dw: Ptr): void;

  // ---- winograd5.ts (inference: 5x5 stride-1 convolution, pad 0..4, with bias + ReLU + 2x2/2 max-pool) ----
  // Winograd F(4x4, 5x5), each 4x4 output tile four pool windows; layouts: u (FN, C, 64, 4)
  // (wino5FilterFloats), entry 8 * column + row of the 8x8 transformed tile. Splitting rule:
  // images (bit-identical).
  /**
   * w: (FN, C, 5, 5) -> u: (FN, C, 64, 4) = S G g G^T S of F(4x4, 5x5) for g = w[f][c], each float 4
   * times; S = diag(1, 1, 1, 1, 1, 1/8, 1/8, 1) (assembly/winograd5.ts at8 undoes it).
   */
  wino5_filter_f32(w: Ptr, FN: number, C: number, u: Ptr): void;
  /**
   * y = maxpool(relu(conv(x, w) + b)) for a 5x5 stride-1 convolution with pad 0..4 and a 2x2
   * stride-2 max-pool without padding: x: (N, C, H, W); u: (FN, C, 64, 4) of wino5_filter_f32; b: (FN),
   * read only if hasBias != 0 -> y: (N, FN, PH, PW) overwritten, PH = floor(OH / 2) for OH =
   * H + 2*pad - 4, PW likewise (untouched when N, FN, PH or PW <= 0); agrees with
   * conv_relu_pool_fwd_f32 to float rounding, NaN where it gives NaN (for finite inputs);
   * scratch: wino5FwdScratch(C, H, W, pad) floats.
   */
  wino5_relu_pool_fwd_f32(x: Ptr, N: number, C: number, H: number, W: number, u: Ptr, FN: number, pad: number,
    b: Ptr, hasBias: number, y: Ptr, scratch: Ptr): void;

  // ---- conv-fused.ts (inference: the convolution with its epilogue, no backward) ----
  /**
   * y = maxpool(relu(conv(x, w) + b)): conv_fwd_f32's GEMMs (the same sums), then per plane a
   * PK x PK max-pool with stride PS and pad PP (windows clipped, padding never wins) and bias +
   * ReLU on each maximum, which equals Convolution -> Relu -> Pooling(max) bit for bit (ReLU and
   * max are exact; NaN stays NaN). PK = PS = 1 (PP = 0): y = relu(conv(x, w) + b), no pooling.
   * x: (N, C, H, W); w: (FN, CKK); b: (FN), read only if hasBias != 0; y: (N, FN, PH, PW) overwritten,
   * PH = (OH + 2*PP - PK) / PS + 1 and PW likewise (floor); col: convDataScratch(N, CKK, FN, OHW) floats.
   */
  conv_relu_pool_fwd_f32(x: Ptr, N: number, C: number, H: number, W: number, w: Ptr, FN: number, KH: number, KW: number,
    strideH: number, strideW: number, padH: number, padW: number, b: Ptr, hasBias: number,
    PK: number, PS: number, PP: number, y: Ptr, col: Ptr): void;

  // ---- pool.ts (P = N*C independent planes) -----------------------------------
  /** x: (P, H, W) -> y: (P, OH, OW); argmax (i32): (P, OH, OW) index h*W+w in the plane; padding never wins; ties -> first. */
  maxpool_fwd_f32(x: Ptr, P: number, H: number, W: number, KH: number, KW: number,
    strideH: number, strideW: number, padH: number, padW: number, y: Ptr, argmax: Ptr): void;
  /** dy: (P, OH, OW), argmax: (P, OH, OW) -> dx: (P, H, W) overwritten (zeros + scattered dy). */
  maxpool_bwd_f32(dy: Ptr, argmax: Ptr, P: number, H: number, W: number, KH: number, KW: number,
    strideH: number, strideW: number, padH: number, padW: number, dx: Ptr): void;
  /** x: (P, H, W) -> y: (P, OH, OW); mean over the KH*KW window, padding counts as zeros (divisor KH*KW). */
  avgpool_fwd_f32(x: Ptr, P: number, H: number, W: number, KH: number, KW: number,
    strideH: number, strideW: number, padH: number, padW: number, y: Ptr): void;
  /** dy: (P, OH, OW) -> dx: (P, H, W) overwritten. */
  avgpool_bwd_f32(dy: Ptr, P: number, H: number, W: number, KH: number, KW: number,
    strideH: number, strideW: number, padH: number, padW: number, dx: Ptr): void;

  // ---- activation.ts ----------------------------------------------------------
  /** x, y: (n). y = max(x, 0). y may equal x. */
  relu_fwd_f32(x: Ptr, y: Ptr, n: number): void;
  /** y (forward output), dy, dx: (n). dx = y > 0 ? dy : 0. dx may equal dy. */
  relu_bwd_f32(y: Ptr, dy: Ptr, dx: Ptr, n: number): void;
  /** x, y: (n). y = 1 / (1 + exp(-x)). */
  sigmoid_fwd_f32(x: Ptr, y: Ptr, n: number): void;
  /** y (forward output), dy, dx: (n). dx = dy * y * (1 - y). */
  sigmoid_bwd_f32(y: Ptr, dy: Ptr, dx: Ptr, n: number): void;

  // ---- bias.ts ----------------------------------------------------------------
  /** y: (rows, cols) += b: (cols). */
  bias_add_rows_f32(y: Ptr, b: Ptr, rows: number, cols: number): void;
  /** y: (N, C, HW) += b: (C). */
  bias_add_channels_f32(y: Ptr, b: Ptr, N: number, C: number, HW: number): void;
  /** dy: (rows, cols) -> db: (cols) = column sums (overwritten). */
  bias_grad_rows_f32(dy: Ptr, db: Ptr, rows: number, cols: number): void;
  /** dy: (N, C, HW) -> db: (C) = sums over N and HW (overwritten). */
  bias_grad_channels_f32(dy: Ptr, db: Ptr, N: number, C: number, HW: number): void;

  // ---- elementwise.ts ---------------------------------------------------------
  /** a, b, y: (n). y = a * b. */
  mul_f32(a: Ptr, b: Ptr, y: Ptr, n: number): void;
  /** x, y: (n). y = a * x + b * y. */
  axpby_f32(x: Ptr, y: Ptr, n: number, a: number, b: number): void;
  /** y: (n) = v. */
  fill_f32(y: Ptr, n: number, v: number): void;
  /** x: (n). Number of elements that are NaN or +-Infinity. */
  count_nonfinite_f32(x: Ptr, n: number): number;

  // ---- loss.ts ----------------------------------------------------------------
  /** x, y: (N, C). Row-wise numerically stable softmax. */
  softmax_f32(x: Ptr, y: Ptr, N: number, C: number): void;
  /**
   * x (logits): (N, C), labels (i32): (N) -> y (softmax probabilities): (N, C).
   * Returns the mean cross-entropy -sum_i log(y[i, t_i] + 1e-7) / N (the course's delta).
   */
  softmax_xent_fwd_f32(x: Ptr, labels: Ptr, y: Ptr, N: number, C: number): number;
  /** y (probabilities): (N, C), labels (i32): (N) -> dx: (N, C) = (y - onehot(t)) / N. */
  softmax_xent_bwd_f32(y: Ptr, labels: Ptr, dx: Ptr, N: number, C: number): void;

  // ---- norm.ts (batch normalization over the rows of (N, D), as in the course) ----
  /**
   * x: (N, D) -> mean, variance (biased): (D); xhat, y: (N, D).
   * xhat = (x - mean) / sqrt(var + eps); y = gamma * xhat + beta; gamma, beta: (D).
   */
  bn_fwd_train_f32(x: Ptr, N: number, D: number, gamma: Ptr, beta: Ptr, eps: number,
    mean: Ptr, variance: Ptr, xhat: Ptr, y: Ptr): void;
  /** x: (N, D) -> y: (N, D) = gamma * (x - runMean) / sqrt(runVar + eps) + beta. */
  bn_fwd_eval_f32(x: Ptr, N: number, D: number, gamma: Ptr, beta: Ptr, eps: number,
    runMean: Ptr, runVar: Ptr, y: Ptr): void;
  /** dy, xhat: (N, D); variance, gamma: (D) -> dgamma, dbeta: (D), dx: (N, D). */
  bn_bwd_f32(dy: Ptr, xhat: Ptr, variance: Ptr, gamma: Ptr, N: number, D: number, eps: number,
    dgamma: Ptr, dbeta: Ptr, dx: Ptr): void;

  // ---- optim.ts (in place over n floats; the course's update rules) ------------
  /** p -= lr * g */
  sgd_f32(p: Ptr, g: Ptr, n: number, lr: number): void;
  /** v = momentum * v - lr * g; p += v */
  momentum_f32(p: Ptr, g: Ptr, v: Ptr, n: number, lr: number, momentum: number): void;
  /** v = momentum * v - lr * g; p += momentum * momentum * v - (1 + momentum) * lr * g */
  nesterov_f32(p: Ptr, g: Ptr, v: Ptr, n: number, lr: number, momentum: number): void;
  /** h += g * g; p -= lr * g / (sqrt(h) + 1e-7) */
  adagrad_f32(p: Ptr, g: Ptr, h: Ptr, n: number, lr: number): void;
  /** h = decay * h + (1 - decay) * g * g; p -= lr * g / (sqrt(h) + 1e-7) */
  rmsprop_f32(p: Ptr, g: Ptr, h: Ptr, n: number, lr: number, decay: number): void;
  /**
   * m += (1 - beta1) * (g - m); v += (1 - beta2) * (g * g - v); p -= lrt * m / (sqrt(v) + 1e-7)
   * where the caller passes lrt = lr * sqrt(1 - beta2^t) / (1 - beta1^t).
   */
  adam_f32(p: Ptr, g: Ptr, m: Ptr, v: Ptr, n: number, lrt: number, beta1: number, beta2: number): void;
}

/** Target GEMM width of conv_fwd_f32 / conv_bwd_data_f32: they batch CONV_COLS / OHW images per GEMM. */
export const CONV_COLS = 256;

/** Images per batched conv GEMM: CONV_COLS / OHW (floor), at least 1, at most N (assembly/conv.ts conv_group). */
export function convGroup(N: number, OHW: number): number {
  const g = Math.min(Math.floor(CONV_COLS / Math.max(OHW, 1)), N);
  return g < 1 ? 1 : g;
}

/** Row stride of a group's matrices: G*OHW floats, 4 more when that is a multiple of 256 (assembly/conv.ts conv_ld). */
export function convLd(G: number, OHW: number): number {
  const c = G * OHW;
  return c % 256 === 0 ? c + 4 : c;
}

/** Scratch floats of conv_fwd_f32 / conv_bwd_data_f32 on N images: (CKK + FN) rows of convLd. */
export function convDataScratch(N: number, CKK: number, FN: number, OHW: number): number {
  return (CKK + FN) * convLd(convGroup(N, OHW), OHW);
}

/** Scratch floats of conv_bwd_filter_f32 on N images and `rows` columns of dw: rows x G*OHW, FN x rows, and FN x G*OHW if G > 1. */
export function convFilterScratch(N: number, rows: number, FN: number, OHW: number): number {
  const G = convGroup(N, OHW);
  return rows * G * OHW + FN * rows + (G > 1 ? FN * G * OHW : 0);
}

/** Target tiles per Winograd GEMM: winoGeom groups ceil(WINO_COLS / (tiles per image)) images. */
export const WINO_COLS = 256;

/**
 * Tile layout of the Winograd kernels on N images of output (OH, OW) with m x m output tiles
 * (m = 2: assembly/winograd.ts wino_* twins, winoGeom; m = 4: winograd4.ts, wino4Geom): TH x TW
 * tiles per image (T), TWq = TW rounded up to 4 (the SIMD transforms work on 4 tiles at a time),
 * ng = ceil(N / G) groups of images, group q = images floor(q N / ng) .. floor((q + 1) N / ng) - 1
 * (at most G, sizes differing by at most 1), ld = row stride of the ((m + 2)^2, rows, G*T) tile
 * matrices (G*T, 4 more when a multiple of 32; the planes winoPlane apart), the zero-padded input
 * plane (Hp, Wp) = (m*TH + 2, m*TWq + m) (m = 4: the transform of 4 tiles reads 20 floats of each
 * of 6 rows) and the output-gradient plane (m*TH, m*TWq).
 */
export interface WinoGeom { TH: number; TW: number; TWq: number; T: number; G: number; ld: number; Hp: number; Wp: number;
  planeFloats: number; dyPlaneFloats: number }

function tileGeom(N: number, OH: number, OW: number, m: number, cols: number): WinoGeom {
  const TH = Math.ceil(OH / m), TW = Math.ceil(OW / m);
  const TWq = Math.ceil(TW / 4) * 4;
  const T = TH * TW;
  const G = Math.max(1, Math.min(Math.ceil(cols / T), N));
  const Hp = m * TH + 2, Wp = m * TWq + m;
  const c = G * T;
  return { TH, TW, TWq, T, G, ld: c % 32 === 0 ? c + 4 : c, Hp, Wp, planeFloats: Math.ceil((Hp * Wp) / 4) * 4, dyPlaneFloats: m * TH * m * TWq };
}

/**
 * Floats between the planes of a (rows, ld) tile matrix: rows * ld rounded up to an odd number
 * of 64-byte lines (so the planes of one tile column fall in distinct L1 sets; twin of
 * wino_plane_bytes in assembly/winograd.ts).
 */
export function winoPlane(rows: number, ld: number): number {
  let lines = Math.ceil((rows * ld) / 16);
  if (lines % 2 === 0) lines++;
  return 16 * lines;
}

/** The tile layout of the F(2x2, 3x3) kernels on N images of output (OH, OW). */
export function winoGeom(N: number, OH: number, OW: number): WinoGeom {
  return tileGeom(N, OH, OW, 2, WINO_COLS);
}

/**
 * Scratch floats of wino_fwd_f32: the padded plane, (16, C, ld) input and (16, FN, ld) product
 * tiles, 4 spare floats (the output transform reads a whole quad past the last tile), and u
 * packed for the GEMMs (16 x gemmPackedFloats(FN, C)).
 */
export function winoFwdScratch(N: number, C: number, FN: number, OH: number, OW: number): number {
  const g = winoGeom(N, OH, OW);
  return g.planeFloats + 16 * (winoPlane(C, g.ld) + winoPlane(FN, g.ld)) + 4 + 16 * gemmPackedFloats(FN, C);
}

/** Floats of an (M, K) matrix packed in the GEMM's panels of 5 rows (assembly/gemm.ts gemm_packed_floats). */
function gemmPackedFloats(M: number, K: number): number {
  return Math.ceil(M / 5) * 5 * K;
}

/**
 * Image partitions of the Winograd filter gradient: partition p sums the groups
 * winoPartStart(p, ng) <= q < winoPartStart(p + 1, ng) of the ng = ceil(N / G) groups, then the
 * partitions are added in order. They depend on N only, so the sums are the same for every
 * thread count; a threaded kernel set computes up to WINO_PARTS of them at once.
 */
export const WINO_PARTS = 4;

/** First group of image partition p of `ng` groups (twin of part_start in assembly/winograd.ts). */
export function winoPartStart(p: number, ng: number): number {
  return Math.floor((p * ng) / WINO_PARTS);
}

/** Scratch floats of wino_grad_sums_f32: both planes, (16, C, ld) and (16, FN, ld) tiles. */
export function winoSumsScratch(N: number, C: number, FN: number, OH: number, OW: number): number {
  const g = winoGeom(N, OH, OW);
  return g.planeFloats + g.dyPlaneFloats + 16 * (winoPlane(C, g.ld) + winoPlane(FN, g.ld));
}

/**
 * Target tiles per F(4x4, 3x3) GEMM: wino4Geom groups ceil(WINO4_COLS / (tiles per image))
 * images. 64: a group's 36 tile matrices of the input and of the products stay near L2 size
 * (bench group deep, wino4_* rows).
 */
export const WINO4_COLS = 64;

/** The tile layout of the F(4x4, 3x3) kernels on N images of output (OH, OW) (WinoGeom, m = 4). */
export function wino4Geom(N: number, OH: number, OW: number): WinoGeom {
  return tileGeom(N, OH, OW, 4, WINO4_COLS);
}

/**
 * Scratch floats of wino4_fwd_f32: the padded plane, (36, C, ld) input and (36, FN, ld) product
 * tiles, and 144 floats for the transforms of 4 tiles (which also cover the quad the output
 * transform reads past the last tile), and u packed for the GEMMs (36 x gemmPackedFloats(FN, C)).
 */
export function wino4FwdScratch(N: number, C: number, FN: number, OH: number, OW: number): number {
  const g = wino4Geom(N, OH, OW);
  return g.planeFloats + 36 * (winoPlane(C, g.ld) + winoPlane(FN, g.ld)) + 144 + 36 * gemmPackedFloats(FN, C);
}

/** Scratch floats of wino4_grad_sums_f32: 4 input planes (4 channels at a time), the dy plane, (36, tiles, C) and (36, FN, ld) tiles, 144 for the transforms. */
export function wino4SumsScratch(N: number, C: number, FN: number, OH: number, OW: number): number {
  const g = wino4Geom(N, OH, OW);
  return 4 * g.planeFloats + g.dyPlaneFloats + 36 * (winoPlane(C, g.ld) + winoPlane(FN, g.ld)) + 144;
}

/** Floats of wino5_filter_f32's u: (FN, C, 64, 4), each transformed tap 4 times. */
export function wino5FilterFloats(FN: number, C: number): number {
  return 256 * FN * C;
}

/**
 * Scratch floats of wino5_relu_pool_fwd_f32: C zero-bordered planes (4 TH + 4, 4 TW + 4) for the
 * TH x TW 4x4 output tiles (TH = ceil(PH / 2), TW likewise), the transformed inputs of an image's
 * nq = ceil(TH TW / 4) quads of tiles (C x 64 x 4 floats each), the quads' tile table (8 each),
 * 2 x 256 floats for a quad's transforms and channel sums, and 4 for a zero bias.
 */
export function wino5FwdScratch(C: number, H: number, W: number, pad: number): number {
  const PH = Math.max(0, Math.floor((H + 2 * pad - 4) / 2)), PW = Math.max(0, Math.floor((W + 2 * pad - 4) / 2));
  const TH = Math.ceil(PH / 2), TW = Math.ceil(PW / 2);
  const nq = Math.ceil((TH * TW) / 4);
  const plane = Math.ceil(((4 * TH + 4) * (4 * TW + 4)) / 4) * 4;
  return C * plane + nq * (C * 256 + 8) + 516;
}

/** Names of every kernel, used to check that a module exports the whole ABI. */
export const KERNEL_NAMES = [
  'gemm_f32', 'gemm_nt_dots_f32',
  'im2col_f32', 'col2im_f32',
  'conv_fwd_f32', 'conv_bwd_data_f32', 'conv_bwd_filter_f32', 'conv_bwd_bias_f32',
  'wino_filter_f32', 'wino_fwd_f32', 'wino_grad_sums_f32', 'wino_grad_filter_f32',
  'wino4_filter_f32', 'wino4_fwd_f32', 'wino4_grad_sums_f32', 'wino4_grad_filter_f32',
  'wino5_filter_f32', 'wino5_relu_pool_fwd_f32',
  'conv_relu_pool_fwd_f32',
  'maxpool_fwd_f32', 'maxpool_bwd_f32', 'avgpool_fwd_f32', 'avgpool_bwd_f32',
  'relu_fwd_f32', 'relu_bwd_f32', 'sigmoid_fwd_f32', 'sigmoid_bwd_f32',
  'bias_add_rows_f32', 'bias_add_channels_f32', 'bias_grad_rows_f32', 'bias_grad_channels_f32',
  'mul_f32', 'axpby_f32', 'fill_f32', 'count_nonfinite_f32',
  'softmax_f32', 'softmax_xent_fwd_f32', 'softmax_xent_bwd_f32',
  'bn_fwd_train_f32', 'bn_fwd_eval_f32', 'bn_bwd_f32',
  'sgd_f32', 'momentum_f32', 'nesterov_f32', 'adagrad_f32', 'rmsprop_f32', 'adam_f32',
] as const satisfies readonly (keyof Kernels)[];
