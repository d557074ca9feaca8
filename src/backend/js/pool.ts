// pool.ts — plain-JS twins of assembly/pool.ts (P = N*C planes; shapes: src/backend/kernels.ts).
//
// Windows are clipped to the plane once per output (no per-element bounds checks).
// Max: row-major scan, strict "greater" so ties go to the first maximum; a NaN wins over
// any number and the first NaN stays, so NaN inputs propagate (like NumPy's max/argmax).
// Average: f32 sums in row-major window order divided by KH*KW, exactly as the Wasm
// kernel computes them, so both backends give bit-identical results.
import type { Heap } from './heap.js';
import type { Ptr } from '../kernels.js';
import { outSize } from '../../geometry.js';

const fround = Math.fround;

/** x: (P, H, W) -> y: (P, OH, OW), argmax (i32): (P, OH, OW) index h*W+w within the plane. */
export function maxpool_fwd_f32(heap: Heap, x: Ptr, P: number, H: number, W: number, KH: number, KW: number,
  strideH: number, strideW: number, padH: number, padW: number, y: Ptr, argmax: Ptr): void {
  const OH = outSize(H, KH, strideH, padH);
  const OW = outSize(W, KW, strideW, padW);
  if (P <= 0 || OH <= 0 || OW <= 0) return;
  const f = heap.f32;
  const ia = heap.i32;
  if (KH === 2 && KW === 2 && strideH === 2 && strideW === 2 && padH === 0 && padW === 0) {
    maxpool2x2s2(f, ia, x >> 2, P, H, W, OH, OW, y >> 2, argmax >> 2);
    return;
  }
  const HW = H * W;
  let o = y >> 2;
  let a = argmax >> 2;
  for (let p = 0; p < P; p++) {
    const plane = (x >> 2) + p * HW;
    for (let oh = 0; oh < OH; oh++) {
      const ih0 = oh * strideH - padH;
      const khLo = ih0 < 0 ? -ih0 : 0;
      const khHi = ih0 + KH > H ? H - ih0 : KH;
      for (let ow = 0; ow < OW; ow++, o++, a++) {
        const iw0 = ow * strideW - padW;
        const kwLo = iw0 < 0 ? -iw0 : 0;
        const kwHi = iw0 + KW > W ? W - iw0 : KW;
        let best = -Infinity;
        // an empty window (only when pad >= window, which the ops never allow) has no argmax
        let bi = khLo < khHi && kwLo < kwHi ? (ih0 + khLo) * W + iw0 + kwLo : -1;
        for (let kh = khLo; kh < khHi; kh++) {
          const r = (ih0 + kh) * W + iw0;
          for (let kw = kwLo; kw < kwHi; kw++) {
            const v = f[plane + r + kw];
            if (v > best || (v !== v && best === best)) {
              best = v;
              bi = r + kw;
            }
          }
        }
        f[o] = best;
        ia[a] = bi;
      }
    }
  }
}

/** The common 2x2 stride 2 unpadded window, unrolled; same scan order and NaN rule as the general loop. */
function maxpool2x2s2(f: Float32Array, ia: Int32Array, xi: number, P: number, H: number, W: number,
  OH: number, OW: number, o: number, a: number): void {
  const HW = H * W;
  for (let p = 0; p < P; p++) {
    const plane = xi + p * HW;
    for (let oh = 0; oh < OH; oh++) {
      const r = 2 * oh * W; // index of the window's top-left corner in the plane
      for (let ow = 0; ow < OW; ow++, o++, a++) {
        const i = r + 2 * ow;
        let best = f[plane + i];
        let bi = i;
        let v = f[plane + i + 1];
        if (v > best || (v !== v && best === best)) { best = v; bi = i + 1; }
        v = f[plane + i + W];
        if (v > best || (v !== v && best === best)) { best = v; bi = i + W; }
        v = f[plane + i + W + 1];
        if (v > best || (v !== v && best === best)) { best = v; bi = i + W + 1; }
        f[o] = best;
        ia[a] = bi;
      }
    }
  }
}

/** dy: (P, OH, OW), argmax (i32): (P, OH, OW) -> dx: (P, H, W) overwritten: zeros, then dx[argmax] += dy (argmax -1: skipped). */
export function maxpool_bwd_f32(heap: Heap, dy: Ptr, argmax: Ptr, P: number, H: number, W: number, KH: number, KW: number,
  strideH: number, strideW: number, padH: number, padW: number, dx: Ptr): void {
  const OH = outSize(H, KH, strideH, padH);
  const OW = outSize(W, KW, strideW, padW);
  if (P <= 0 || H <= 0 || W <= 0) return;
  const f = heap.f32;
  const ia = heap.i32;
  const HW = H * W;
  if (OH <= 0 || OW <= 0) {
    f.fill(0, dx >> 2, (dx >> 2) + P * HW);
    return;
  }
  const n = OH * OW;
  let g = dy >> 2;
  let a = argmax >> 2;
  for (let p = 0; p < P; p++) {
    const plane = (dx >> 2) + p * HW;
    f.fill(0, plane, plane + HW); // plane by plane: scattered into while it is in cache
    for (let e = g + n; g < e; g++, a++) {
      const i = ia[a];
      if (i >= 0) f[plane + i] += f[g];
    }
  }
}

/** x: (P, H, W) -> y: (P, OH, OW) = window sums / (KH*KW); padding counts as zeros. */
export function avgpool_fwd_f32(heap: Heap, x: Ptr, P: number, H: number, W: number, KH: number, KW: number,
  strideH: number, strideW: number, padH: number, padW: number, y: Ptr): void {
  const OH = outSize(H, KH, strideH, padH);
  const OW = outSize(W, KW, strideW, padW);
  if (P <= 0 || OH <= 0 || OW <= 0) return;
  const f = heap.f32;
  const HW = H * W;
  const div = KH * KW;
  let o = y >> 2;
  for (let p = 0; p < P; p++) {
    const plane = (x >> 2) + p * HW;
    for (let oh = 0; oh < OH; oh++) {
      const ih0 = oh * strideH - padH;
      const khLo = ih0 < 0 ? -ih0 : 0;
      const khHi = ih0 + KH > H ? H - ih0 : KH;
      for (let ow = 0; ow < OW; ow++, o++) {
        const iw0 = ow * strideW - padW;
        const kwLo = iw0 < 0 ? -iw0 : 0;
        const kwHi = iw0 + KW > W ? W - iw0 : KW;
        let s = 0;
        for (let kh = khLo; kh < khHi; kh++) {
          const r = plane + (ih0 + kh) * W + iw0;
          for (let kw = kwLo; kw < kwHi; kw++) s = fround(s + f[r + kw]);
        }
        f[o] = s / div;
      }
    }
  }
}

/** dy: (P, OH, OW) -> dx: (P, H, W) overwritten: every window element gets dy / (KH*KW), summed over windows. */
export function avgpool_bwd_f32(heap: Heap, dy: Ptr, P: number, H: number, W: number, KH: number, KW: number,
  strideH: number, strideW: number, padH: number, padW: number, dx: Ptr): void {
  const OH = outSize(H, KH, strideH, padH);
  const OW = outSize(W, KW, strideW, padW);
  if (P <= 0 || H <= 0 || W <= 0) return;
  const f = heap.f32;
  const HW = H * W;
  if (OH <= 0 || OW <= 0) {
    f.fill(0, dx >> 2, (dx >> 2) + P * HW);
    return;
  }
  const div = KH * KW;
  let gi = dy >> 2;
  for (let p = 0; p < P; p++) {
    const plane = (dx >> 2) + p * HW;
    f.fill(0, plane, plane + HW); // plane by plane: scattered into while it is in cache
    for (let oh = 0; oh < OH; oh++) {
      const ih0 = oh * strideH - padH;
      const khLo = ih0 < 0 ? -ih0 : 0;
      const khHi = ih0 + KH > H ? H - ih0 : KH;
      for (let ow = 0; ow < OW; ow++, gi++) {
        const g = fround(f[gi] / div);
        const iw0 = ow * strideW - padW;
        const kwLo = iw0 < 0 ? -iw0 : 0;
        const kwHi = iw0 + KW > W ? W - iw0 : KW;
        for (let kh = khLo; kh < khHi; kh++) {
          const r = plane + (ih0 + kh) * W + iw0;
          for (let kw = kwLo; kw < kwHi; kw++) f[r + kw] += g;
        }
      }
    }
  }
}
