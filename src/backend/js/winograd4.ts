// winograd4.ts — plain-JS twins of assembly/winograd4.ts: Winograd F(4x4, 3x3) convolution
// (stride 1, 3x3 filters, pad 0..2; shapes, tile layout and scratch: src/backend/kernels.ts):
// the filter transforms and the tiles (F4_TILES) that winograd-conv.ts runs, scalar code over the
// same scratch layout as the Wasm kernels, float64 temporaries per tile.
// The filter gradient: dU = sum over tiles of Z .* V, Z = A dY A^T of the 4x4 output-gradient tile
// (A = (A^T)^T, 6x4), V = B^T d B as in the forward; dw = G^T dU G (G^T: 3x6).
//
// Matrices (Lavin & Gray, interpolation points 0, 1, -1, 2, -2, inf); xi = 6 * row + column of a
// 6x6 transformed tile:
//   B^T (6x6)                 G (6x3)                    A^T (4x6)
//   [4,  0, -5,  0, 1, 0]     [ 1/4,     0,    0]        [1, 1,  1, 1,  1, 0]
//   [0, -4, -4,  1, 1, 0]     [-1/6,  -1/6, -1/6]        [0, 1, -1, 2, -2, 0]
//   [0,  4, -4, -1, 1, 0]     [-1/6,   1/6, -1/6]        [0, 1,  1, 4,  4, 0]
//   [0, -2, -1,  2, 1, 0]     [1/24,  1/12,  1/6]        [0, 1, -1, 8, -8, 1]
//   [0,  2, -1, -2, 1, 0]     [1/24, -1/12,  1/6]
//   [0,  4,  0, -5, 0, 1]     [   0,     0,    1]
// so that A^T [(G g) .* (B^T d)] is the 4-output correlation of d (6) with g (3), and the 2-D
// output tile is A^T [(G g G^T) .* (B^T d B)] A.
import type { Heap } from './heap.js';
import type { Ptr } from '../kernels.js';
import { WINO_PARTS, wino4Geom, type WinoGeom } from '../kernels.js';
import type { WinoTiles } from './winograd-conv.js';

// per-tile temporaries, reused by every call (the kernels are synchronous)
const G9 = new Float64Array(9);
const Q18 = new Float64Array(18);
const D36 = new Float64Array(36);
const T36 = new Float64Array(36);
const R24 = new Float64Array(24);

/** G s of the 3 values s[o], s[o + st], s[o + 2st] -> t[to + k * ts], k < 6. */
function filterVec(s: Float64Array, o: number, st: number, t: Float64Array, to: number, ts: number): void {
  const g0 = s[o], g1 = s[o + st], g2 = s[o + 2 * st];
  t[to] = g0 / 4;
  t[to + ts] = -(g0 + g1 + g2) / 6;
  t[to + 2 * ts] = -(g0 - g1 + g2) / 6;
  t[to + 3 * ts] = g0 / 24 + g1 / 12 + g2 / 6;
  t[to + 4 * ts] = g0 / 24 - g1 / 12 + g2 / 6;
  t[to + 5 * ts] = g2;
}

/** B^T s of the 6 values s[o + k * st] -> t[to + k * ts], k < 6. */
function inputVec(s: Float64Array, o: number, st: number, t: Float64Array, to: number, ts: number): void {
  const d0 = s[o], d1 = s[o + st], d2 = s[o + 2 * st], d3 = s[o + 3 * st], d4 = s[o + 4 * st], d5 = s[o + 5 * st];
  t[to] = 4 * d0 - 5 * d2 + d4;
  t[to + ts] = -4 * d1 - 4 * d2 + d3 + d4;
  t[to + 2 * ts] = 4 * d1 - 4 * d2 - d3 + d4;
  t[to + 3 * ts] = -2 * d1 - d2 + 2 * d3 + d4;
  t[to + 4 * ts] = 2 * d1 - d2 - 2 * d3 + d4;
  t[to + 5 * ts] = 4 * d1 - 5 * d3 + d5;
}

/** A^T s of the 6 values s[o + k * st] -> t[to + k * ts], k < 4. */
function outputVec(s: Float64Array, o: number, st: number, t: Float64Array, to: number, ts: number): void {
  const m0 = s[o], m1 = s[o + st], m2 = s[o + 2 * st], m3 = s[o + 3 * st], m4 = s[o + 4 * st], m5 = s[o + 5 * st];
  t[to] = m0 + m1 + m2 + m3 + m4;
  t[to + ts] = m1 - m2 + 2 * (m3 - m4);
  t[to + 2 * ts] = m1 + m2 + 4 * (m3 + m4);
  t[to + 3 * ts] = m1 - m2 + 8 * (m3 - m4) + m5;
}

/** A s of the 4 values s[o + k * st] -> t[to + k * ts], k < 6 (A: rows (1,0,0,0), (1,1,1,1), (1,-1,1,-1), (1,2,4,8), (1,-2,4,-8), (0,0,0,1)). */
function gradVec(s: Float64Array, o: number, st: number, t: Float64Array, to: number, ts: number): void {
  const y0 = s[o], y1 = s[o + st], y2 = s[o + 2 * st], y3 = s[o + 3 * st];
  t[to] = y0;
  t[to + ts] = y0 + y1 + y2 + y3;
  t[to + 2 * ts] = y0 - y1 + y2 - y3;
  t[to + 3 * ts] = y0 + 2 * y1 + 4 * y2 + 8 * y3;
  t[to + 4 * ts] = y0 - 2 * y1 + 4 * y2 - 8 * y3;
  t[to + 5 * ts] = y3;
}

/** G^T s of the 6 values s[o + k * st] -> t[to + k * ts], k < 3. */
function filterGradVec(s: Float64Array, o: number, st: number, t: Float64Array, to: number, ts: number): void {
  const s0 = s[o], s1 = s[o + st], s2 = s[o + 2 * st], s3 = s[o + 3 * st], s4 = s[o + 4 * st], s5 = s[o + 5 * st];
  t[to] = s0 / 4 - (s1 + s2) / 6 + (s3 + s4) / 24;
  t[to + ts] = (s2 - s1) / 6 + (s3 - s4) / 12;
  t[to + 2 * ts] = (s3 + s4 - s1 - s2) / 6 + s5;
}

/**
 * w: (FN, C, 3, 3) -> u: (36, FN, C), u[xi][f][c] = (G g G^T)[xi] of g = w[f][c];
 * flip != 0: u: (36, C, FN) of the filters of the input gradient, g[a][b] = w[f][c][2-a][2-b].
 */
export function wino4_filter_f32(h: Heap, w: Ptr, FN: number, C: number, flip: number, u: Ptr): void {
  const f32 = h.f32;
  const plane = FN * C;
  const g = G9, q = Q18, t = T36;
  for (let f = 0; f < FN; f++) {
    for (let c = 0; c < C; c++) {
      const src = (w >> 2) + (f * C + c) * 9;
      for (let i = 0; i < 9; i++) g[i] = f32[src + (flip ? 8 - i : i)];
      // q = G g (6x3), column by column; then U = q G^T (6x6), row by row
      for (let b = 0; b < 3; b++) filterVec(g, b, 3, q, b, 3);
      for (let i = 0; i < 6; i++) filterVec(q, 3 * i, 1, t, 6 * i, 1);
      const dst = (u >> 2) + (flip ? c * FN + f : f * C + c);
      for (let xi = 0; xi < 36; xi++) f32[dst + xi * plane] = t[xi];
    }
  }
}

/**
 * V[xi][row][col0 + t] = (B^T d B)[xi] for every tile t of the padded plane at p (d: the 6x6 floats at
 * rows 4ti.., columns 4tj..); xi stride `xs`.
 */
function inputTiles(f32: Float32Array, p: number, wg: WinoGeom, v: number, xs: number): void {
  const Wp = wg.Wp;
  const d = D36, t = T36;
  for (let ti = 0; ti < wg.TH; ti++) {
    for (let tj = 0; tj < wg.TW; tj++) {
      const base = p + 4 * ti * Wp + 4 * tj;
      for (let r = 0; r < 6; r++) {
        for (let k = 0; k < 6; k++) d[r * 6 + k] = f32[base + r * Wp + k];
      }
      // t = d B (each row r: B^T d[r]), then V = B^T t (each column k)
      for (let r = 0; r < 6; r++) inputVec(d, 6 * r, 1, t, 6 * r, 1);
      for (let k = 0; k < 6; k++) inputVec(t, k, 6, d, k, 6);
      const o = v + ti * wg.TW + tj;
      for (let xi = 0; xi < 36; xi++) f32[o + xi * xs] = d[xi];
    }
  }
}


/** y plane yo (OH, OW) = A^T m A + bias of every tile t of the product matrices at m (xi stride xs). */
function outputTiles(f32: Float32Array, m: number, xs: number, wg: WinoGeom, OH: number, OW: number, bias: number, yo: number): void {
  const mt = D36, a = R24;
  for (let ti = 0; ti < wg.TH; ti++) {
    for (let tj = 0; tj < wg.TW; tj++) {
      const o = m + ti * wg.TW + tj;
      for (let xi = 0; xi < 36; xi++) mt[xi] = f32[o + xi * xs];
      // a = A^T mt (4x6, each column k), then the tile = a A (4x4, each row i)
      for (let k = 0; k < 6; k++) outputVec(mt, k, 6, a, k, 6);
      for (let i = 0; i < 4; i++) outputVec(a, 6 * i, 1, mt, 4 * i, 1);
      const r = 4 * ti, c = 4 * tj;
      for (let i = 0; i < 4 && r + i < OH; i++) {
        const row = yo + (r + i) * OW + c;
        for (let j = 0; j < 4 && c + j < OW; j++) f32[row + j] = mt[4 * i + j] + bias;
      }
    }
  }
}

/**
 * Z[xi][row][col0 + t] = (A dY A^T)[xi] for every tile t of the output-gradient plane (4TH, Wd) at d
 * (dY: the 4x4 floats at rows 4ti.., columns 4tj..; zeros past OH, OW); xi stride `xs`.
 */
function gradTiles(f32: Float32Array, d: number, wg: WinoGeom, Wd: number, z: number, xs: number): void {
  const dt = T36, r = R24;
  for (let ti = 0; ti < wg.TH; ti++) {
    for (let tj = 0; tj < wg.TW; tj++) {
      const base = d + 4 * ti * Wd + 4 * tj;
      for (let i = 0; i < 4; i++) {
        for (let k = 0; k < 4; k++) dt[i * 4 + k] = f32[base + i * Wd + k];
      }
      // r = dY A^T (4x6, each row i: A dY[i]), then Z = A r (6x6, each column j)
      for (let i = 0; i < 4; i++) gradVec(dt, 4 * i, 1, r, 6 * i, 1);
      for (let j = 0; j < 6; j++) gradVec(r, j, 6, dt, j, 6);
      const o = z + ti * wg.TW + tj;
      for (let xi = 0; xi < 36; xi++) f32[o + xi * xs] = dt[xi];
    }
  }
}


/** The F(4x4, 3x3) tiles, for the pipeline of winograd-conv.ts. */
export const F4_TILES: WinoTiles = { m: 4, P: 36, geom: wino4Geom, inputTiles, outputTiles, gradTiles };

/**
 * sums: (WINO_PARTS, 36, FN, C) of wino4_grad_sums_f32 -> dw: (FN, C, 3, 3) = G^T acc G, acc = the
 * partitions added in order into sums[0] (clobbered).
 */
export function wino4_grad_filter_f32(h: Heap, sums: Ptr, FN: number, C: number, dw: Ptr): void {
  const f32 = h.f32;
  const acc = sums >> 2;
  const xs = FN * C;
  for (let pi = 1; pi < WINO_PARTS; pi++) {
    const s = acc + pi * 36 * xs;
    for (let i = 0; i < 36 * xs; i++) f32[acc + i] += f32[s + i];
  }
  const a = D36, t = Q18, r = G9;
  for (let f = 0; f < FN; f++) {
    for (let c = 0; c < C; c++) {
      const o = acc + f * C + c;
      for (let xi = 0; xi < 36; xi++) a[xi] = f32[o + xi * xs];
      // t = G^T a (3x6, each column j), then dw = t G (3x3, each row i: G^T t[i])
      for (let j = 0; j < 6; j++) filterGradVec(a, j, 6, t, j, 6);
      for (let i = 0; i < 3; i++) filterGradVec(t, 6 * i, 1, r, 3 * i, 1);
      const out = (dw >> 2) + (f * C + c) * 9;
      for (let k = 0; k < 9; k++) f32[out + k] = r[k];
    }
  }
}
