// im2col.ts — im2col / col2im for one image, Caffe layout (see src/backend/kernels.ts).
//
// Row r = (c*KH + kh)*KW + kw of col holds, for every output position (oh, ow), the
// input value x[c, oh*strideH - padH + kh, ow*strideW - padW + kw] (0 outside x).
// For a fixed kw the output columns whose input column lies inside x form one
// contiguous range [owLo, owHi), so every (row, oh) splits into: zeros (left padding),
// a gather run (contiguous for stride 1, every 2nd element for stride 2), zeros
// (right padding). Rows with ih outside x are all zeros. No per-element bounds checks.
//
// Floating point: im2col only copies; col2im adds each col element into x once, in the
// order (c, kh, kw, oh, ow), exactly as the JS twin does, so both are bit-identical.
import { outDim, firstInside, endInside } from './window';




// @ts-ignore: decorator
@inline
function zeroRun(dst: usize, n: i32): void {
  // dst: (n) f32 = 0
  const z = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), z);
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), 0);
}

// @ts-ignore: decorator
@inline
function copyRun(dst: usize, src: usize, n: i32): void {
  // dst: (n) = src: (n); no overlap
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const o = <usize>i << 2;
    const a = v128.load(src + o);
    const b = v128.load(src + o, 16);
    v128.store(dst + o, a);
    v128.store(dst + o, b, 16);
  }
  for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), v128.load(src + (<usize>i << 2)));
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>i << 2)));
}

// @ts-ignore: decorator
@inline
function copyRunStride2(dst: usize, src: usize, n: i32, safe: i32): void {
  // dst: (n) = src[0], src[2], ..., src[2n-2]; src[2n-1] is read only for i < safe (vector groups)
  let i = 0;
  for (; i + 4 <= safe; i += 4) {
    const s = src + (<usize>i << 3);
    const a = v128.load(s);
    const b = v128.load(s, 16);
    v128.store(dst + (<usize>i << 2), v128.shuffle<f32>(a, b, 0, 2, 4, 6));
  }
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>i << 3)));
}

// @ts-ignore: decorator
@inline
function addRun(dst: usize, src: usize, n: i32): void {
  // dst: (n) += src: (n)
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dst + o, f32x4.add(v128.load(dst + o), v128.load(src + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dst + o, load<f32>(dst + o) + load<f32>(src + o));
  }
}

/** x: (C, H, W) -> col: (C*KH*KW, OH*OW); OH = (H + 2*padH - KH) / strideH + 1, OW likewise. */
export function im2col_f32(x: usize, C: i32, H: i32, W: i32, KH: i32, KW: i32, strideH: i32, strideW: i32, padH: i32, padW: i32, col: usize): void {
  im2col_rows(x, C, H, W, KH, KW, strideH, strideW, padH, padW, 0, C * KH * KW, col,
    outDim(H, KH, strideH, padH) * outDim(W, KW, strideW, padW));
}

/**
 * Rows [r0, r1) of the im2col matrix of one image (row r = (c*KH + kh)*KW + kw), the rows
 * the batched conv_bwd_filter_f32 kernel needs for its share of the filter gradient; each
 * row of OH*OW values starts ld floats after the previous one (ld >= OH*OW; the batched
 * forward puts several images side by side in one matrix).
 */
export function im2col_rows(x: usize, C: i32, H: i32, W: i32, KH: i32, KW: i32, strideH: i32, strideW: i32,
  padH: i32, padW: i32, r0: i32, r1: i32, col: usize, ld: i32): void {
  // x: (C, H, W) -> col: (r1 - r0, OH*OW) with row stride ld = rows r0..r1-1 of the (C*KH*KW, OH*OW) matrix
  const OH = outDim(H, KH, strideH, padH);
  const OW = outDim(W, KW, strideW, padW);
  if (C <= 0 || OH <= 0 || OW <= 0 || r1 <= r0) return;
  const HW = <usize>(H * W) << 2;
  const rowStride = <usize>ld << 2;
  for (let r = r0; r < r1; r++) {
    let dst = col + <usize>(r - r0) * rowStride;
    const kw = r % KW;
    const kh = (r / KW) % KH;
    const plane = x + <usize>(r / (KW * KH)) * HW;
    const ohLo = firstInside(padH, kh, strideH, OH);
    const ohHi = max(endInside(H, padH, kh, strideH, OH), ohLo);
    const owLo = firstInside(padW, kw, strideW, OW);
    const owHi = max(endInside(W, padW, kw, strideW, OW), owLo);
    const run = owHi - owLo;
    const tail = OW - owHi;
    // rows above the image
    if (ohLo > 0) {
      zeroRun(dst, ohLo * OW);
      dst += <usize>(ohLo * OW) << 2;
    }
    const iw0 = owLo * strideW - padW + kw;
    let src = plane + (<usize>((ohLo * strideH - padH + kh) * W + iw0) << 2);
    const srcStep = <usize>(strideH * W) << 2;
    if (strideW == 1) {
      if (owLo == 0 && tail == 0) {
        for (let oh = ohLo; oh < ohHi; oh++, src += srcStep) {
          copyRun(dst, src, run);
          dst += <usize>OW << 2;
        }
      } else {
        for (let oh = ohLo; oh < ohHi; oh++, src += srcStep) {
          zeroRun(dst, owLo);
          copyRun(dst + (<usize>owLo << 2), src, run);
          zeroRun(dst + (<usize>owHi << 2), tail);
          dst += <usize>OW << 2;
        }
      }
    } else if (strideW == 2) {
      // vector groups may read one element past the last one used: keep that read inside the row
      let safe = (W - iw0) >> 1; // outputs i with src[2i+1] inside the row
      if (safe > run) safe = run;
      for (let oh = ohLo; oh < ohHi; oh++, src += srcStep) {
        zeroRun(dst, owLo);
        copyRunStride2(dst + (<usize>owLo << 2), src, run, safe);
        zeroRun(dst + (<usize>owHi << 2), tail);
        dst += <usize>OW << 2;
      }
    } else {
      const step = <usize>strideW << 2;
      for (let oh = ohLo; oh < ohHi; oh++, src += srcStep) {
        zeroRun(dst, owLo);
        let d = dst + (<usize>owLo << 2);
        let s = src;
        for (let i = 0; i < run; i++, d += 4, s += step) store<f32>(d, load<f32>(s));
        zeroRun(dst + (<usize>owHi << 2), tail);
        dst += <usize>OW << 2;
      }
    }
    // rows below the image
    if (ohHi < OH) {
      zeroRun(dst, (OH - ohHi) * OW);
      dst += <usize>((OH - ohHi) * OW) << 2;
    }
  }
}

/** col: (C*KH*KW, OH*OW) -> x: (C, H, W), overwritten with the sum of all overlapping patches. */
export function col2im_f32(col: usize, C: i32, H: i32, W: i32, KH: i32, KW: i32, strideH: i32, strideW: i32, padH: i32, padW: i32, x: usize): void {
  col2im_ld(col, outDim(H, KH, strideH, padH) * outDim(W, KW, strideW, padW), C, H, W, KH, KW, strideH, strideW, padH, padW, x);
}

/** col2im_f32 of a col matrix whose rows start ld floats apart (ld >= OH*OW). */
export function col2im_ld(col: usize, ld: i32, C: i32, H: i32, W: i32, KH: i32, KW: i32, strideH: i32, strideW: i32,
  padH: i32, padW: i32, x: usize): void {
  // col: (C*KH*KW, OH*OW) with row stride ld -> x: (C, H, W) overwritten
  const OH = outDim(H, KH, strideH, padH);
  const OW = outDim(W, KW, strideW, padW);
  if (C <= 0 || H <= 0 || W <= 0) return;
  const HW = <usize>(H * W) << 2;
  if (OH <= 0 || OW <= 0) {
    memory.fill(x, 0, HW * <usize>C);
    return;
  }
  let srcRow = col;
  let plane = x;
  const rowBytes = <usize>ld << 2;
  for (let c = 0; c < C; c++, plane += HW) {
    memory.fill(plane, 0, HW); // channel by channel: accumulated into while it is in cache
    for (let kh = 0; kh < KH; kh++) {
      const ohLo = firstInside(padH, kh, strideH, OH);
      const ohHi = max(endInside(H, padH, kh, strideH, OH), ohLo);
      for (let kw = 0; kw < KW; kw++, srcRow += rowBytes) {
        const owLo = firstInside(padW, kw, strideW, OW);
        const owHi = max(endInside(W, padW, kw, strideW, OW), owLo);
        const run = owHi - owLo;
        if (run <= 0) continue;
        const iw0 = owLo * strideW - padW + kw;
        let dst = plane + (<usize>((ohLo * strideH - padH + kh) * W + iw0) << 2);
        const dstStep = <usize>(strideH * W) << 2;
        let src = srcRow + (<usize>(ohLo * OW + owLo) << 2);
        const srcStep = <usize>OW << 2;
        if (strideW == 1) {
          for (let oh = ohLo; oh < ohHi; oh++, src += srcStep, dst += dstStep) addRun(dst, src, run);
        } else {
          const step = <usize>strideW << 2;
          for (let oh = ohLo; oh < ohHi; oh++, src += srcStep, dst += dstStep) {
            let d = dst;
            let s = src;
            for (let i = 0; i < run; i++, d += step, s += 4) store<f32>(d, load<f32>(d) + load<f32>(s));
          }
        }
      }
    }
  }
}
