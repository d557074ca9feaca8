// winograd-conv.ts — plain-JS twin of assembly/winograd-conv.ts: the Winograd convolutions'
// pipeline for both tile sizes (F2_TILES of winograd.ts, F4_TILES of winograd4.ts), and the
// kernel family of all the Winograd kernels (the filter transforms re-exported).
import type { Heap } from './heap.js';
import type { Ptr, WinoGeom } from '../kernels.js';
import { winoPartStart, winoPlane } from '../kernels.js';
import { gemm_f32, gemm_nt_dots_f32 } from './gemm.js';
import { F2_TILES } from './winograd.js';
import { F4_TILES } from './winograd4.js';

export { wino_filter_f32, wino_grad_filter_f32 } from './winograd.js';
export { wino4_filter_f32, wino4_grad_filter_f32 } from './winograd4.js';

/** One tile size's transforms (float indices into the heap's f32 view). */
export interface WinoTiles {
  /** Output tile size (2 or 4) and products per tile, (m + 2)^2. */
  m: number;
  P: number;
  geom: (N: number, OH: number, OW: number) => WinoGeom;
  /** V[xi][t] = (B^T d B)[xi] of every tile t of the padded plane at p, at v + t (xi stride xs). */
  inputTiles(f32: Float32Array, p: number, wg: WinoGeom, v: number, xs: number): void;
  /** y plane yo (OH, OW) = A^T m A + bias of the tiles of the product matrices at m (xi stride xs). */
  outputTiles(f32: Float32Array, m: number, xs: number, wg: WinoGeom, OH: number, OW: number, bias: number, yo: number): void;
  /** Z[xi][t] = (A dY A^T)[xi] of the tiles of the output-gradient plane (m TH, Wd) at d (xi stride xs). */
  gradTiles(f32: Float32Array, d: number, wg: WinoGeom, Wd: number, z: number, xs: number): void;
}

/** Copies plane (H, W) at `src` into the padded plane (wg.Hp, wg.Wp) at `p`, offset by pad. */
function fillPlane(f32: Float32Array, src: number, H: number, W: number, pad: number, wg: WinoGeom, p: number): void {
  for (let r = 0; r < H; r++) {
    const s = src + r * W;
    f32.copyWithin(p + (r + pad) * wg.Wp + pad, s, s + W);
  }
}

/** The input tiles of image n's C planes of x: each padded at p, its tiles at V[xi][c][g * T + t]. */
function imageTiles(t: WinoTiles, f32: Float32Array, x: number, n: number, g: number, C: number, H: number, W: number,
  pad: number, wg: WinoGeom, p: number, v: number): void {
  for (let c = 0; c < C; c++) {
    fillPlane(f32, x + (n * C + c) * H * W, H, W, pad, wg, p);
    t.inputTiles(f32, p, wg, v + c * wg.ld + g * wg.T, winoPlane(C, wg.ld));
  }
}

/** First image of group q of ng over N images (balanced groups, as in the Wasm kernels). */
function groupStart(q: number, ng: number, N: number): number {
  return Math.floor((q * N) / ng);
}

/**
 * x: (N, C, H, W); u: (P, FN, C); b: (FN) if hasBias -> y: (N, FN, OH, OW), OH = H + 2*pad - 2;
 * scratch: the padded plane | v: (P, C, ld) | m: (P, FN, ld) (planes winoPlane apart).
 */
function forward(t: WinoTiles, h: Heap, x: Ptr, N: number, C: number, H: number, W: number, u: Ptr, FN: number, pad: number,
  b: Ptr, hasBias: number, y: Ptr, scratch: Ptr): void {
  const OH = H + 2 * pad - 2;
  const OW = W + 2 * pad - 2;
  if (N <= 0 || FN <= 0 || OH <= 0 || OW <= 0) return;
  const wg = t.geom(N, OH, OW);
  const f32 = h.f32;
  const p = scratch >> 2;
  const v = p + wg.planeFloats;
  const vxs = winoPlane(C, wg.ld), mxs = winoPlane(FN, wg.ld);
  const m = v + t.P * vxs;
  f32.fill(0, p, v);
  const ng = Math.ceil(N / wg.G);
  for (let q = 0; q < ng; q++) {
    const n0 = groupStart(q, ng, N);
    const g1 = groupStart(q + 1, ng, N) - n0;
    for (let g = 0; g < g1; g++) imageTiles(t, f32, x >> 2, n0 + g, g, C, H, W, pad, wg, p, v);
    // m[xi] (FN, g1*T) = u[xi] (FN, C) x v[xi] (C, g1*T)
    for (let xi = 0; xi < t.P; xi++) {
      gemm_f32(h, 0, 0, FN, g1 * wg.T, C, 1, u + xi * FN * C * 4, C, (v + xi * vxs) * 4, wg.ld,
        0, (m + xi * mxs) * 4, wg.ld);
    }
    for (let g = 0; g < g1; g++) {
      for (let f = 0; f < FN; f++) {
        t.outputTiles(f32, m + f * wg.ld + g * wg.T, mxs, wg, OH, OW, hasBias ? f32[(b >> 2) + f] : 0,
          (y >> 2) + ((n0 + g) * FN + f) * OH * OW);
      }
    }
  }
}

/**
 * x: (N, C, H, W); dy: (N, FN, OH, OW) -> sums: (WINO_PARTS, P, FN, C), partitions p0 <= p < p1
 * overwritten with the sum over the groups of partition p (winoPartStart), in order, of Z_xi V_xi^T
 * (zeros for an empty one, and for all of them when N, OH or OW <= 0); scratch: the padded plane |
 * the dy plane (m TH, m TWq) | v: (P, C, ld) | z: (P, FN, ld) (planes winoPlane apart).
 */
function gradSums(t: WinoTiles, h: Heap, x: Ptr, dy: Ptr, N: number, C: number, H: number, W: number, FN: number,
  pad: number, p0: number, p1: number, sums: Ptr, scratch: Ptr): void {
  if (FN <= 0 || C <= 0 || p1 <= p0) return;
  const OH = H + 2 * pad - 2;
  const OW = W + 2 * pad - 2;
  const f32 = h.f32;
  const part = t.P * FN * C;
  if (N <= 0 || OH <= 0 || OW <= 0) {
    f32.fill(0, (sums >> 2) + p0 * part, (sums >> 2) + p1 * part);
    return;
  }
  const wg = t.geom(N, OH, OW);
  const ng = Math.ceil(N / wg.G);
  const p = scratch >> 2;
  const d = p + wg.planeFloats;
  const v = d + wg.dyPlaneFloats;
  const vxs = winoPlane(C, wg.ld), zxs = winoPlane(FN, wg.ld);
  const z = v + t.P * vxs;
  f32.fill(0, p, v);
  const Wd = t.m * wg.TWq;
  for (let pi = p0; pi < p1; pi++) {
    const s = (sums >> 2) + pi * part;
    const q0 = winoPartStart(pi, ng), q1 = winoPartStart(pi + 1, ng);
    if (q1 === q0) f32.fill(0, s, s + part);
    for (let q = q0; q < q1; q++) {
      const n0 = groupStart(q, ng, N);
      const g1 = groupStart(q + 1, ng, N) - n0;
      for (let g = 0; g < g1; g++) {
        imageTiles(t, f32, x >> 2, n0 + g, g, C, H, W, pad, wg, p, v);
        for (let f = 0; f < FN; f++) {
          const src = (dy >> 2) + ((n0 + g) * FN + f) * OH * OW;
          for (let r = 0; r < OH; r++) f32.copyWithin(d + r * Wd, src + r * OW, src + (r + 1) * OW);
          t.gradTiles(f32, d, wg, Wd, z + f * wg.ld + g * wg.T, zxs);
        }
      }
      // sums[pi][xi] (FN, C) (+)= z[xi] (FN, g1*T) x v[xi] (C, g1*T)^T
      for (let xi = 0; xi < t.P; xi++) {
        gemm_nt_dots_f32(h, FN, C, g1 * wg.T, 1, (z + xi * zxs) * 4, wg.ld, (v + xi * vxs) * 4, wg.ld,
          q === q0 ? 0 : 1, (s + xi * FN * C) * 4, C);
      }
    }
  }
}

export function wino_fwd_f32(h: Heap, x: Ptr, N: number, C: number, H: number, W: number, u: Ptr, FN: number, pad: number,
  b: Ptr, hasBias: number, y: Ptr, scratch: Ptr): void {
  forward(F2_TILES, h, x, N, C, H, W, u, FN, pad, b, hasBias, y, scratch);
}

export function wino4_fwd_f32(h: Heap, x: Ptr, N: number, C: number, H: number, W: number, u: Ptr, FN: number, pad: number,
  b: Ptr, hasBias: number, y: Ptr, scratch: Ptr): void {
  forward(F4_TILES, h, x, N, C, H, W, u, FN, pad, b, hasBias, y, scratch);
}

export function wino_grad_sums_f32(h: Heap, x: Ptr, dy: Ptr, N: number, C: number, H: number, W: number, FN: number,
  pad: number, p0: number, p1: number, sums: Ptr, scratch: Ptr): void {
  gradSums(F2_TILES, h, x, dy, N, C, H, W, FN, pad, p0, p1, sums, scratch);
}

export function wino4_grad_sums_f32(h: Heap, x: Ptr, dy: Ptr, N: number, C: number, H: number, W: number, FN: number,
  pad: number, p0: number, p1: number, sums: Ptr, scratch: Ptr): void {
  gradSums(F4_TILES, h, x, dy, N, C, H, W, FN, pad, p0, p1, sums, scratch);
}
