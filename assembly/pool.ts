// pool.ts — max and average pooling over P = N*C independent planes (see src/backend/kernels.ts).
//
// Window of output (oh, ow): rows oh*strideH - padH + [0, KH), columns ow*strideW - padW + [0, KW),
// clipped to the plane; padding never takes part (max) or counts as zero (average, divisor KH*KW).
// Max pooling scans each window in row-major order and takes an element when it is greater
// than the best so far, so ties go to the first maximum; a NaN wins over any number and
// the first NaN stays (like NumPy's max/argmax), so NaN inputs propagate.
//
// SIMD: four adjacent outputs per f32x4 for windows fully inside the plane horizontally,
// when strideW is 1 (contiguous loads) or 2 (two loads, even/odd lanes shuffled apart;
// 2x2 stride 2, the common case, is fully unrolled). The max groups compare with plain
// f32x4.gt (same tie rule) and redo the group with the scalar scan if a NaN shows up.
// Border outputs (windows crossing the padding) take the scalar path.
// Summation / scan orders are the same as the JS twin's, so results are bit-identical.
import { outDim, firstInside, endInside } from './window';




/**
 * End (exclusive) of the outputs that the SIMD path may handle: windows fully inside the
 * row, and for strideW 2 with odd KW also the one extra element the paired loads read.
 */
// @ts-ignore: decorator
@inline
function simdEnd(W: i32, KW: i32, strideW: i32, padW: i32, OW: i32, lo: i32): i32 {
  if (strideW > 2) return lo;
  const reach = strideW == 2 ? (KW + 1) & ~1 : KW; // columns read per window
  const e = endInside(W, padW, reach - 1, strideW, OW);
  return e > lo ? e : lo;
}

// @ts-ignore: decorator
@inline
function maxWindow(x: usize, W: i32, ih0: i32, khLo: i32, khHi: i32, iw0: i32, KW: i32, y: usize, am: usize): void {
  // one output: max over x rows [ih0+khLo, ih0+khHi), columns [max(iw0,0), min(iw0+KW,W)) of a (H, W) plane
  const kwLo = iw0 < 0 ? -iw0 : 0;
  const kwHi = iw0 + KW > W ? W - iw0 : KW;
  let best = -Infinity as f32;
  let bi = kwLo < kwHi ? (ih0 + khLo) * W + iw0 + kwLo : -1; // an empty window (padW >= KW) has no argmax
  for (let kh = khLo; kh < khHi; kh++) {
    const rowIdx = (ih0 + kh) * W + iw0;
    for (let kw = kwLo; kw < kwHi; kw++) {
      const v = load<f32>(x + (<usize>(rowIdx + kw) << 2));
      // branch-free: greater, or the first NaN
      const take = i32(v > best) | (i32(v != v) & i32(best == best));
      best = select<f32>(v, best, take);
      bi = select<i32>(rowIdx + kw, bi, take);
    }
  }
  store<f32>(y, best);
  store<i32>(am, bi);
}

/**
 * The SIMD groups compare with a plain f32x4.gt (NaN never wins there) and add up the window
 * on the side; when a sum is NaN (a NaN in the window, or inf - inf) the four outputs are
 * redone by the scalar NaN-aware scan, so the result is always exactly the scalar one.
 */
function maxWindows4(x: usize, W: i32, ih0: i32, khLo: i32, khHi: i32, iw0: i32, strideW: i32, KW: i32, y: usize, am: usize): void {
  for (let j = 0; j < 4; j++) maxWindow(x, W, ih0, khLo, khHi, iw0 + j * strideW, KW, y + (<usize>j << 2), am + (<usize>j << 2));
}

// @ts-ignore: decorator
@inline
function maxGroup2x2s2(r0: usize, W: i32, rowIdx: i32, iw0: i32, y: usize, am: usize): bool {
  // outputs j = 0..3: max of rows r0, r0+W (both inside), columns iw0 + 2j + {0, 1} (inside); false if NaN seen
  const o = <usize>iw0 << 2;
  const r1 = r0 + (<usize>W << 2);
  const a0 = v128.load(r0 + o);
  const a1 = v128.load(r0 + o, 16);
  const b0 = v128.load(r1 + o);
  const b1 = v128.load(r1 + o, 16);
  const i0 = i32x4.add(i32x4.splat(rowIdx + iw0), i32x4(0, 2, 4, 6));
  // row-major window order (0,0) (0,1) (1,0) (1,1); strict > keeps the first maximum
  let best = v128.shuffle<f32>(a0, a1, 0, 2, 4, 6);
  let bidx = i0;
  let v = v128.shuffle<f32>(a0, a1, 1, 3, 5, 7);
  let m = f32x4.gt(v, best);
  let sum = f32x4.add(best, v);
  best = v128.bitselect(v, best, m);
  bidx = v128.bitselect(i32x4.add(i0, i32x4.splat(1)), bidx, m);
  v = v128.shuffle<f32>(b0, b1, 0, 2, 4, 6);
  m = f32x4.gt(v, best);
  sum = f32x4.add(sum, v);
  best = v128.bitselect(v, best, m);
  bidx = v128.bitselect(i32x4.add(i0, i32x4.splat(W)), bidx, m);
  v = v128.shuffle<f32>(b0, b1, 1, 3, 5, 7);
  m = f32x4.gt(v, best);
  sum = f32x4.add(sum, v);
  best = v128.bitselect(v, best, m);
  bidx = v128.bitselect(i32x4.add(i0, i32x4.splat(W + 1)), bidx, m);
  v128.store(y, best);
  v128.store(am, bidx);
  return !v128.any_true(f32x4.ne(sum, sum));
}

// @ts-ignore: decorator
@inline
function maxGroupS1(x: usize, W: i32, ih0: i32, khLo: i32, khHi: i32, iw0: i32, KW: i32, y: usize, am: usize): bool {
  // outputs j = 0..3: windows at columns iw0 + j + [0, KW) (inside), rows ih0 + [khLo, khHi); false if NaN seen
  const lanes = i32x4(0, 1, 2, 3);
  let best = f32x4.splat(-Infinity);
  let sum = f32x4.splat(0);
  let bidx = i32x4.add(i32x4.splat((ih0 + khLo) * W + iw0), lanes);
  for (let kh = khLo; kh < khHi; kh++) {
    const rowIdx = (ih0 + kh) * W + iw0;
    const row = x + (<usize>rowIdx << 2);
    let cidx = i32x4.add(i32x4.splat(rowIdx), lanes);
    for (let kw = 0; kw < KW; kw++) {
      const v = v128.load(row + (<usize>kw << 2));
      const m = f32x4.gt(v, best);
      sum = f32x4.add(sum, v);
      best = v128.bitselect(v, best, m);
      bidx = v128.bitselect(cidx, bidx, m);
      cidx = i32x4.add(cidx, i32x4.splat(1));
    }
  }
  v128.store(y, best);
  v128.store(am, bidx);
  return !v128.any_true(f32x4.ne(sum, sum));
}

// @ts-ignore: decorator
@inline
function maxGroupS2(x: usize, W: i32, ih0: i32, khLo: i32, khHi: i32, iw0: i32, KW: i32, y: usize, am: usize): bool {
  // outputs j = 0..3: windows at columns iw0 + 2j + [0, KW) (inside, plus one more column
  // when KW is odd), rows ih0 + [khLo, khHi); false if NaN seen
  const lanes = i32x4(0, 2, 4, 6);
  let best = f32x4.splat(-Infinity);
  let sum = f32x4.splat(0);
  let bidx = i32x4.add(i32x4.splat((ih0 + khLo) * W + iw0), lanes);
  for (let kh = khLo; kh < khHi; kh++) {
    const rowIdx = (ih0 + kh) * W + iw0;
    const row = x + (<usize>rowIdx << 2);
    const base = i32x4.add(i32x4.splat(rowIdx), lanes);
    for (let kw = 0; kw < KW; kw += 2) {
      const a = v128.load(row + (<usize>kw << 2));
      const b = v128.load(row + (<usize>kw << 2), 16);
      const ev = v128.shuffle<f32>(a, b, 0, 2, 4, 6);
      const cidx = i32x4.add(base, i32x4.splat(kw));
      let m = f32x4.gt(ev, best);
      sum = f32x4.add(sum, ev);
      best = v128.bitselect(ev, best, m);
      bidx = v128.bitselect(cidx, bidx, m);
      if (kw + 1 < KW) {
        const od = v128.shuffle<f32>(a, b, 1, 3, 5, 7);
        m = f32x4.gt(od, best);
        sum = f32x4.add(sum, od);
        best = v128.bitselect(od, best, m);
        bidx = v128.bitselect(i32x4.add(cidx, i32x4.splat(1)), bidx, m);
      }
    }
  }
  v128.store(y, best);
  v128.store(am, bidx);
  return !v128.any_true(f32x4.ne(sum, sum));
}

/** x: (P, H, W) -> y: (P, OH, OW), argmax (i32): (P, OH, OW) index h*W+w within the plane. */
export function maxpool_fwd_f32(x: usize, P: i32, H: i32, W: i32, KH: i32, KW: i32, strideH: i32, strideW: i32, padH: i32, padW: i32, y: usize, argmax: usize): void {
  const OH = outDim(H, KH, strideH, padH);
  const OW = outDim(W, KW, strideW, padW);
  if (P <= 0 || OH <= 0 || OW <= 0) return;
  // outputs [owIn, owSimd) go four at a time through a SIMD group; a last, partial group is
  // redone as the four outputs ending at owSimd (overlapping the previous group: same values)
  const owIn = firstInside(padW, 0, strideW, OW);
  const owSimd = simdEnd(W, KW, strideW, padW, OW, owIn);
  const simdN = owSimd - owIn >= 4 ? owSimd - owIn : 0;
  const planeBytes = <usize>(H * W) << 2;
  const rowBytes = <usize>OW << 2;
  let xp = x;
  let yr = y;
  let ar = argmax;
  for (let p = 0; p < P; p++, xp += planeBytes) {
    for (let oh = 0; oh < OH; oh++, yr += rowBytes, ar += rowBytes) {
      const ih0 = oh * strideH - padH;
      const khLo = ih0 < 0 ? -ih0 : 0;
      const khHi = ih0 + KH > H ? H - ih0 : KH;
      if (khLo >= khHi) {
        // only possible when padH >= KH (the ops never allow it): no element, no argmax
        for (let ow = 0; ow < OW; ow++) {
          store<f32>(yr + (<usize>ow << 2), -Infinity);
          store<i32>(ar + (<usize>ow << 2), -1);
        }
        continue;
      }
      const simdLo = simdN > 0 ? owIn : OW;
      for (let ow = 0; ow < simdLo; ow++) {
        maxWindow(xp, W, ih0, khLo, khHi, ow * strideW - padW, KW, yr + (<usize>ow << 2), ar + (<usize>ow << 2));
      }
      if (simdN == 0) continue;
      for (let k = 0; k < simdN; k += 4) {
        const ow = k + 4 <= simdN ? owIn + k : owSimd - 4;
        const iw0 = ow * strideW - padW;
        const yo = yr + (<usize>ow << 2);
        const ao = ar + (<usize>ow << 2);
        let ok: bool;
        if (strideW == 1) ok = maxGroupS1(xp, W, ih0, khLo, khHi, iw0, KW, yo, ao);
        else if (KW == 2 && khHi - khLo == 2) ok = maxGroup2x2s2(xp + (<usize>((ih0 + khLo) * W) << 2), W, (ih0 + khLo) * W, iw0, yo, ao);
        else ok = maxGroupS2(xp, W, ih0, khLo, khHi, iw0, KW, yo, ao);
        if (!ok) maxWindows4(xp, W, ih0, khLo, khHi, iw0, strideW, KW, yo, ao);
      }
      for (let ow = owSimd; ow < OW; ow++) {
        maxWindow(xp, W, ih0, khLo, khHi, ow * strideW - padW, KW, yr + (<usize>ow << 2), ar + (<usize>ow << 2));
      }
    }
  }
}

/** dy: (P, OH, OW), argmax (i32): (P, OH, OW) -> dx: (P, H, W) overwritten: zeros, then dx[argmax] += dy (argmax -1: skipped). */
export function maxpool_bwd_f32(dy: usize, argmax: usize, P: i32, H: i32, W: i32, KH: i32, KW: i32, strideH: i32, strideW: i32, padH: i32, padW: i32, dx: usize): void {
  const OH = outDim(H, KH, strideH, padH);
  const OW = outDim(W, KW, strideW, padW);
  if (P <= 0 || H <= 0 || W <= 0) return;
  const planeBytes = <usize>(H * W) << 2;
  if (OH <= 0 || OW <= 0) {
    memory.fill(dx, 0, planeBytes * <usize>P);
    return;
  }
  const n = OH * OW;
  let gp = dy;
  let ap = argmax;
  let xp = dx;
  for (let p = 0; p < P; p++, xp += planeBytes) {
    memory.fill(xp, 0, planeBytes); // plane by plane: the scatter below hits it while it is in cache
    for (let i = 0; i < n; i++, gp += 4, ap += 4) {
      const a = load<i32>(ap);
      if (a < 0) continue; // empty window
      const d = xp + (<usize>a << 2);
      store<f32>(d, load<f32>(d) + load<f32>(gp));
    }
  }
}

// @ts-ignore: decorator
@inline
function sumWindow(x: usize, W: i32, ih0: i32, khLo: i32, khHi: i32, iw0: i32, KW: i32): f32 {
  // sum over x rows [ih0+khLo, ih0+khHi), columns [max(iw0,0), min(iw0+KW,W)), row-major
  const kwLo = iw0 < 0 ? -iw0 : 0;
  const kwHi = iw0 + KW > W ? W - iw0 : KW;
  let s: f32 = 0;
  for (let kh = khLo; kh < khHi; kh++) {
    const row = x + (<usize>((ih0 + kh) * W + iw0) << 2);
    for (let kw = kwLo; kw < kwHi; kw++) s += load<f32>(row + (<usize>kw << 2));
  }
  return s;
}

/** x: (P, H, W) -> y: (P, OH, OW) = window sums / (KH*KW); padding counts as zeros. */
export function avgpool_fwd_f32(x: usize, P: i32, H: i32, W: i32, KH: i32, KW: i32, strideH: i32, strideW: i32, padH: i32, padW: i32, y: usize): void {
  const OH = outDim(H, KH, strideH, padH);
  const OW = outDim(W, KW, strideW, padW);
  if (P <= 0 || OH <= 0 || OW <= 0) return;
  const owIn = firstInside(padW, 0, strideW, OW);
  const owSimd = simdEnd(W, KW, strideW, padW, OW, owIn);
  const planeBytes = <usize>(H * W) << 2;
  const div = <f32>(KH * KW);
  const divv = f32x4.splat(div);
  let xp = x;
  let yp = y;
  for (let p = 0; p < P; p++, xp += planeBytes) {
    for (let oh = 0; oh < OH; oh++) {
      const ih0 = oh * strideH - padH;
      const khLo = ih0 < 0 ? -ih0 : 0;
      const khHi = ih0 + KH > H ? H - ih0 : KH;
      let ow = 0;
      for (; ow < owIn; ow++, yp += 4) store<f32>(yp, sumWindow(xp, W, ih0, khLo, khHi, ow * strideW - padW, KW) / div);
      if (strideW == 1) {
        for (; ow + 4 <= owSimd; ow += 4, yp += 16) {
          let s = f32x4.splat(0);
          for (let kh = khLo; kh < khHi; kh++) {
            const row = xp + (<usize>((ih0 + kh) * W + ow - padW) << 2);
            for (let kw = 0; kw < KW; kw++) s = f32x4.add(s, v128.load(row + (<usize>kw << 2)));
          }
          v128.store(yp, f32x4.div(s, divv));
        }
      } else if (strideW == 2) {
        for (; ow + 4 <= owSimd; ow += 4, yp += 16) {
          let s = f32x4.splat(0);
          for (let kh = khLo; kh < khHi; kh++) {
            const row = xp + (<usize>((ih0 + kh) * W + ow * 2 - padW) << 2);
            for (let kw = 0; kw < KW; kw += 2) {
              const a = v128.load(row + (<usize>kw << 2));
              const b = v128.load(row + (<usize>kw << 2), 16);
              s = f32x4.add(s, v128.shuffle<f32>(a, b, 0, 2, 4, 6));
              if (kw + 1 < KW) s = f32x4.add(s, v128.shuffle<f32>(a, b, 1, 3, 5, 7));
            }
          }
          v128.store(yp, f32x4.div(s, divv));
        }
      }
      for (; ow < OW; ow++, yp += 4) store<f32>(yp, sumWindow(xp, W, ih0, khLo, khHi, ow * strideW - padW, KW) / div);
    }
  }
}

/** dy: (P, OH, OW) -> dx: (P, H, W) overwritten: every window element gets dy / (KH*KW), summed over windows. */
export function avgpool_bwd_f32(dy: usize, P: i32, H: i32, W: i32, KH: i32, KW: i32, strideH: i32, strideW: i32, padH: i32, padW: i32, dx: usize): void {
  // Each dx element receives its terms in output order (oh, ow), in every path, as in the JS twin.
  const OH = outDim(H, KH, strideH, padH);
  const OW = outDim(W, KW, strideW, padW);
  if (P <= 0 || H <= 0 || W <= 0) return;
  const planeBytes = <usize>(H * W) << 2;
  if (OH <= 0 || OW <= 0) {
    memory.fill(dx, 0, planeBytes * <usize>P);
    return;
  }
  const div = <f32>(KH * KW);
  const divv = f32x4.splat(div);
  // 2-wide stride-2 windows do not overlap horizontally: four outputs spread over eight columns
  const owIn = firstInside(padW, 0, strideW, OW);
  const owSimd = strideW == 2 && KW == 2 ? max(endInside(W, padW, 1, 2, OW), owIn) : owIn;
  let gp = dy;
  let xp = dx;
  for (let p = 0; p < P; p++, xp += planeBytes) {
    memory.fill(xp, 0, planeBytes); // plane by plane: the scatter below hits it while it is in cache
    for (let oh = 0; oh < OH; oh++, gp += <usize>OW << 2) {
      const ih0 = oh * strideH - padH;
      const khLo = ih0 < 0 ? -ih0 : 0;
      const khHi = ih0 + KH > H ? H - ih0 : KH;
      for (let ow = 0; ow < OW; ow++) {
        if (ow == owIn && owSimd > owIn) {
          for (; ow + 4 <= owSimd; ow += 4) {
            const g = f32x4.div(v128.load(gp + (<usize>ow << 2)), divv);
            const lo = v128.shuffle<f32>(g, g, 0, 0, 1, 1);
            const hi = v128.shuffle<f32>(g, g, 2, 2, 3, 3);
            for (let kh = khLo; kh < khHi; kh++) {
              const d = xp + (<usize>((ih0 + kh) * W + ow * 2 - padW) << 2);
              v128.store(d, f32x4.add(v128.load(d), lo));
              v128.store(d, f32x4.add(v128.load(d, 16), hi), 16);
            }
          }
          if (ow >= OW) break;
        }
        const g = load<f32>(gp + (<usize>ow << 2)) / div;
        const iw0 = ow * strideW - padW;
        const kwLo = iw0 < 0 ? -iw0 : 0;
        const kwHi = iw0 + KW > W ? W - iw0 : KW;
        for (let kh = khLo; kh < khHi; kh++) {
          const row = xp + (<usize>((ih0 + kh) * W + iw0) << 2);
          for (let kw = kwLo; kw < kwHi; kw++) {
            const d = row + (<usize>kw << 2);
            store<f32>(d, load<f32>(d) + g);
          }
        }
      }
    }
  }
}
