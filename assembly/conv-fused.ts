// conv-fused.ts — the inference convolution with its epilogue fused (shapes: src/backend/kernels.ts):
// y = maxpool(relu(conv(x, w) + b)), or relu(conv(x, w) + b) when the pool window is 1x1 stride 1.
//
// The GEMMs are those of conv_fwd_f32 (conv.ts: same groups of G = conv_group(N, OHW) images,
// gemm_f32 over the same rows and k; on the one-image path over chunks of the columns, which
// changes no element's sum, gemm.ts), so the convolution sums are bit for bit the same. Each
// GEMM result stays in the scratch block (in cache) and goes out through the epilogue: the
// full (N, FN, OH, OW) activation is never written. Pooling comes first, then bias and ReLU on the
// pooled value: float addition rounds monotonically and ReLU is monotone, so
// relu(max_i(v_i) + b) == max_i(relu(v_i + b)) exactly (a NaN in the window gives NaN both
// ways; ReLU maps -0 and +0 to +0, so the sign of a zero maximum does not matter), and the
// result equals Convolution -> Relu -> Pooling(max) computed apart. Without a bias, b = 0:
// adding +0 changes nothing that ReLU keeps. Split by images, a call gives the same bits.
import { gemm_f32 } from './gemm';
import { im2col_rows } from './im2col';
import { outDim } from './window';
import { conv_group, conv_ld } from './conv';

// GEMM columns per chunk of the one-image path: a whole image up to this width (with a
// small K, each GEMM call's packing of w and its tile set-up weigh on short chunks);
// a chunk's result, (FN, <= CHUNK_COLS) floats, stays in L2 for the epilogue
const CHUNK_COLS: i32 = 1024;

// @ts-ignore: decorator
@inline
function relu_v(v: v128): v128 {
  // ReLU as relu_fwd_f32 (activation.ts): x <= 0 -> 0, NaN passes through
  return v128.andnot(v, f32x4.le(v, f32x4.splat(0)));
}

// @ts-ignore: decorator
@inline
function relu_s(v: f32): f32 {
  return v <= 0 ? 0 : v;
}

function bias_relu(dst: usize, src: usize, n: i32, bias: f32): void {
  // dst: (n) = relu(src: (n) + bias); dst may equal src
  const bv = f32x4.splat(bias);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const o = <usize>i << 2;
    const a = v128.load(src + o);
    const c = v128.load(src + o, 16);
    v128.store(dst + o, relu_v(f32x4.add(a, bv)));
    v128.store(dst + o, relu_v(f32x4.add(c, bv)), 16);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, relu_s(load<f32>(src + o) + bias));
  }
}

function pool_bias_relu(src: usize, OH: i32, OW: i32, PK: i32, PS: i32, PP: i32, bias: f32, dst: usize, PH: i32, PW: i32): void {
  // src: (OH, OW) one conv output plane -> dst: (PH, PW) = relu(max over each PK x PK window + bias);
  // windows clipped to the plane (padding never wins)
  let j0 = 0;
  if (PK == 2 && PS == 2 && PP == 0 && PW >= 4) {
    // four outputs at a time from columns 2j .. 2j+7 of rows 2i, 2i+1 (inside: 2*PW <= OW, 2*PH <= OH).
    // pmax (one instruction, where max needs several for NaN and -0) drops a NaN in its second
    // operand, so the lanes' sums catch NaN and the plane is redone by the scalar scan then.
    const rowBytes = <usize>OW << 2;
    const bv = f32x4.splat(bias);
    const J = PW & ~3;
    let nan = f32x4.splat(0);
    for (let i = 0; i < PH; i++) {
      const r0 = src + <usize>(2 * i) * rowBytes;
      const r1 = r0 + rowBytes;
      const d = dst + (<usize>(i * PW) << 2);
      for (let j = 0; j < J; j += 4) {
        const o = <usize>(2 * j) << 2;
        const a0 = v128.load(r0 + o);
        const a1 = v128.load(r0 + o, 16);
        const c0 = v128.load(r1 + o);
        const c1 = v128.load(r1 + o, 16);
        const m0 = f32x4.pmax(a0, c0);
        const m1 = f32x4.pmax(a1, c1);
        const m = f32x4.pmax(v128.shuffle<f32>(m0, m1, 0, 2, 4, 6), v128.shuffle<f32>(m0, m1, 1, 3, 5, 7));
        const t = f32x4.add(f32x4.add(a0, c0), f32x4.add(a1, c1));
        nan = v128.or(nan, f32x4.ne(t, t));
        v128.store(d + (<usize>j << 2), relu_v(f32x4.add(m, bv)));
      }
    }
    j0 = v128.any_true(nan) ? 0 : J;
  }
  pool_bias_relu_scan(src, OH, OW, PK, PS, PP, bias, dst, PH, PW, j0);
}

function pool_bias_relu_scan(src: usize, OH: i32, OW: i32, PK: i32, PS: i32, PP: i32, bias: f32, dst: usize, PH: i32, PW: i32, j0: i32): void {
  // as pool_bias_relu, one output at a time, columns j0 .. PW-1 of every row; NaN-aware scan
  const rowBytes = <usize>OW << 2;
  for (let i = 0; i < PH; i++) {
    const d = dst + (<usize>(i * PW) << 2);
    const h0 = i * PS - PP;
    const hLo = max(h0, 0);
    const hHi = min(h0 + PK, OH);
    for (let j = j0; j < PW; j++) {
      const w0 = j * PS - PP;
      const wLo = max(w0, 0);
      const wHi = min(w0 + PK, OW);
      let best = -Infinity as f32;
      for (let h = hLo; h < hHi; h++) {
        const row = src + <usize>h * rowBytes;
        for (let w = wLo; w < wHi; w++) {
          const v = load<f32>(row + (<usize>w << 2));
          // f32.max: a NaN wins and stays; max(-0, +0) may be either zero, which ReLU maps to +0
          best = max<f32>(best, v);
        }
      }
      store<f32>(d + (<usize>j << 2), relu_s(best + bias));
    }
  }
}

export function conv_relu_pool_fwd_f32(x: usize, N: i32, C: i32, H: i32, W: i32, w: usize, FN: i32, KH: i32, KW: i32,
  strideH: i32, strideW: i32, padH: i32, padW: i32, b: usize, hasBias: i32, PK: i32, PS: i32, PP: i32, y: usize, col: usize): void {
  // x: (N, C, H, W); w: (FN, C*KH*KW); b: (FN) if hasBias; y: (N, FN, PH, PW) with PH = outDim(OH, PK, PS, PP);
  // col: (C*KH*KW + FN, ld) scratch = a group's im2col matrix, then its GEMM result (as conv_fwd_f32)
  const OH = outDim(H, KH, strideH, padH);
  const OW = outDim(W, KW, strideW, padW);
  if (N <= 0 || FN <= 0 || OH <= 0 || OW <= 0) return;
  const PH = outDim(OH, PK, PS, PP);
  const PW = outDim(OW, PK, PS, PP);
  if (PH <= 0 || PW <= 0) return;
  const identity = PK == 1 && PS == 1;
  const CKK = C * KH * KW;
  const OHW = OH * OW;
  const G = conv_group(N, OHW);
  const ld = conv_ld(G, OHW);
  const yt = col + (<usize>CKK * <usize>ld << 2);
  const xStride = <usize>(C * H * W) << 2;
  const pBytes = <usize>(PH * PW) << 2; // one output plane
  const yStride = <usize>FN * pBytes;
  const imgBytes = <usize>OHW << 2;
  // One image per GEMM and windows that tile the rows (no pooling, or stride = window, no pad):
  // the GEMM runs in chunks of whole windows' rows, each chunk's result still in cache when the
  // epilogue reads it; conv rows no window covers (an odd last row) are not computed at all.
  const rowCols = identity ? OW : PK * OW; // GEMM columns per output row
  const chunked = G == 1 && (identity || (PS == PK && PP == 0));
  const rowsPerChunk = max(1, CHUNK_COLS / rowCols);
  for (let n0 = 0; n0 < N; n0 += G) {
    const g1 = min(G, N - n0);
    for (let g = 0; g < g1; g++) {
      im2col_rows(x + <usize>(n0 + g) * xStride, C, H, W, KH, KW, strideH, strideW, padH, padW, 0, CKK,
        col + <usize>g * imgBytes, ld);
    }
    if (chunked) {
      const yn = y + <usize>n0 * yStride;
      for (let i0 = 0; i0 < PH; i0 += rowsPerChunk) {
        const rows = min(rowsPerChunk, PH - i0);
        const c0 = <usize>(i0 * rowCols) << 2;
        const nc = rows * rowCols;
        if (identity) {
          // y rows i0 .. i0+rows-1 of every plane = w * col[:, those columns], then bias + ReLU in place
          gemm_f32(0, 0, FN, nc, CKK, 1, w, CKK, col + c0, ld, 0, yn + c0, OHW);
          for (let f = 0; f < FN; f++) {
            const d = yn + <usize>f * pBytes + c0;
            bias_relu(d, d, nc, hasBias != 0 ? load<f32>(b + (<usize>f << 2)) : 0);
          }
        } else {
          // yt (FN, nc) = the conv rows of pooled rows i0 .. i0+rows-1; pooled into y
          gemm_f32(0, 0, FN, nc, CKK, 1, w, CKK, col + c0, ld, 0, yt, nc);
          for (let f = 0; f < FN; f++) {
            pool_bias_relu(yt + (<usize>(f * nc) << 2), rows * PK, OW, PK, PK, 0, hasBias != 0 ? load<f32>(b + (<usize>f << 2)) : 0,
              yn + <usize>f * pBytes + (<usize>(i0 * PW) << 2), rows, PW);
          }
        }
      }
      continue;
    }
    // the group's result yt (FN, g1*OHW), row stride ld, then each image's planes through the epilogue
    gemm_f32(0, 0, FN, g1 * OHW, CKK, 1, w, CKK, col, ld, 0, yt, ld);
    const ldBytes = <usize>ld << 2;
    for (let g = 0; g < g1; g++) {
      const yn = y + <usize>(n0 + g) * yStride;
      const src = yt + <usize>g * imgBytes;
      for (let f = 0; f < FN; f++) {
        const bias: f32 = hasBias != 0 ? load<f32>(b + (<usize>f << 2)) : 0;
        const s = src + <usize>f * ldBytes;
        if (identity) bias_relu(yn + <usize>f * pBytes, s, OHW, bias);
        else pool_bias_relu(s, OH, OW, PK, PS, PP, bias, yn + <usize>f * pBytes, PH, PW);
      }
    }
  }
}
