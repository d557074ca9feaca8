// winograd5.ts — plain-JS twins of assembly/winograd5.ts: the inference convolution 5x5, stride
// 1, pad 0..4, with bias, ReLU and a 2x2 stride-2 max-pool fused, by Winograd F(4x4, 5x5), each
// 4x4 output tile four pool windows (shapes and layouts: src/backend/kernels.ts, wino5_*). Scalar
// code with float64 temporaries: an image's transformed tiles are kept in a module buffer (the
// kernels are synchronous), so the scratch argument is not used.
//
// Matrices (interpolation points 0, 1, -1, 2, -2, 1/2, -1/2, inf): assembly/winograd5.ts's head.
import type { Heap } from './heap.js';
import type { Ptr } from '../kernels.js';

const fround = Math.fround;
const G25 = new Float64Array(25);
const R64 = new Float64Array(64);
const D64 = new Float64Array(64);
const T64 = new Float64Array(64);
const Y16 = new Float64Array(16);
let tiles = new Float64Array(0); // an image's B^T d B: (TH * TW, C, 64)

/** S G s of the 5 values s[o + k * st] -> t[to + k * ts], k < 8 (S = diag(1, 1, 1, 1, 1, 1/8, 1/8, 1): the Wasm file's at8). */
function filterVec(s: Float64Array, o: number, st: number, t: Float64Array, to: number, ts: number): void {
  const s0 = s[o], s1 = s[o + st], s2 = s[o + 2 * st], s3 = s[o + 3 * st], s4 = s[o + 4 * st];
  t[to] = s0;
  t[to + ts] = (-2 / 9) * (s0 + s1 + s2 + s3 + s4);
  t[to + 2 * ts] = (-2 / 9) * (s0 - s1 + s2 - s3 + s4);
  t[to + 3 * ts] = (s0 + 2 * s1 + 4 * s2 + 8 * s3 + 16 * s4) / 90;
  t[to + 4 * ts] = (s0 - 2 * s1 + 4 * s2 - 8 * s3 + 16 * s4) / 90;
  t[to + 5 * ts] = (32 * s0 + 16 * s1 + 8 * s2 + 4 * s3 + 2 * s4) / 360;
  t[to + 6 * ts] = (32 * s0 - 16 * s1 + 8 * s2 - 4 * s3 + 2 * s4) / 360;
  t[to + 7 * ts] = s4;
}

/** B^T s of the 8 values s[o + k * st] -> t[to + k * ts], k < 8. */
function inputVec(s: Float64Array, o: number, st: number, t: Float64Array, to: number, ts: number): void {
  const d0 = s[o], d1 = s[o + st], d2 = s[o + 2 * st], d3 = s[o + 3 * st];
  const d4 = s[o + 4 * st], d5 = s[o + 5 * st], d6 = s[o + 6 * st], d7 = s[o + 7 * st];
  t[to] = d0 - d6 + 5.25 * (d4 - d2);
  t[to + ts] = d1 + d2 - 4.25 * (d3 + d4) + d5 + d6;
  t[to + 2 * ts] = -d1 + d2 + 4.25 * (d3 - d4) - d5 + d6;
  t[to + 3 * ts] = 0.5 * d1 + 0.25 * d2 - 2.5 * d3 - 1.25 * d4 + 2 * d5 + d6;
  t[to + 4 * ts] = -0.5 * d1 + 0.25 * d2 + 2.5 * d3 - 1.25 * d4 - 2 * d5 + d6;
  t[to + 5 * ts] = 2 * d1 + 4 * d2 - 2.5 * d3 - 5 * d4 + 0.5 * d5 + d6;
  t[to + 6 * ts] = -2 * d1 + 4 * d2 + 2.5 * d3 - 5 * d4 - 0.5 * d5 + d6;
  t[to + 7 * ts] = d7 - d1 + 5.25 * (d3 - d5);
}

/** A^T S^-1 s of the 8 values s[o + k * st] -> t[to + k * ts], k < 4 (s5, s6 carry S's 1/8). */
function outputVec(s: Float64Array, o: number, st: number, t: Float64Array, to: number, ts: number): void {
  const m0 = s[o], m1 = s[o + st], m2 = s[o + 2 * st], m3 = s[o + 3 * st];
  const m4 = s[o + 4 * st], m5 = s[o + 5 * st], m6 = s[o + 6 * st], m7 = s[o + 7 * st];
  t[to] = m0 + m1 + m2 + m3 + m4 + 8 * (m5 + m6);
  t[to + ts] = m1 - m2 + 2 * (m3 - m4) + 4 * (m5 - m6);
  t[to + 2 * ts] = m1 + m2 + 4 * (m3 + m4) + 2 * (m5 + m6);
  t[to + 3 * ts] = m1 - m2 + 8 * (m3 - m4) + (m5 - m6) + m7;
}

/** w: (FN, C, 5, 5) -> u: (FN, C, 64, 4), u[f][c][8j + i][0..3] = (S G g G^T S)[i][j] of g = w[f][c] (4 copies, the Wasm layout). */
export function wino5_filter_f32(h: Heap, w: Ptr, FN: number, C: number, u: Ptr): void {
  const f32 = h.f32;
  const g = G25, r = R64;
  for (let i = 0; i < FN * C; i++) {
    for (let k = 0; k < 25; k++) g[k] = f32[(w >> 2) + i * 25 + k];
    // r = g G^T (5x8) row by row, into r[8j + a]; then each column j of it through G
    for (let a = 0; a < 5; a++) filterVec(g, 5 * a, 1, r, a, 8);
    const o = (u >> 2) + i * 256;
    for (let j = 0; j < 8; j++) {
      filterVec(r, 8 * j, 1, T64, 0, 1);
      for (let k = 0; k < 8; k++) f32.fill(T64[k], o + 4 * (8 * j + k), o + 4 * (8 * j + k) + 4);
    }
  }
}

/**
 * x: (N, C, H, W); u: (FN, C, 64, 4); b: (FN) if hasBias -> y: (N, FN, PH, PW) = maxpool 2x2/2 of
 * relu(conv(x, w) + b) for the 5x5 filters w behind u, PH = floor((H + 2 pad - 4) / 2), PW likewise.
 */
export function wino5_relu_pool_fwd_f32(h: Heap, x: Ptr, N: number, C: number, H: number, W: number, u: Ptr, FN: number,
  pad: number, b: Ptr, hasBias: number, y: Ptr, _scratch: Ptr): void {
  const PH = Math.floor((H + 2 * pad - 4) / 2), PW = Math.floor((W + 2 * pad - 4) / 2);
  if (N <= 0 || FN <= 0 || PH <= 0 || PW <= 0) return;
  const f32 = h.f32;
  const TH = Math.ceil(PH / 2), TW = Math.ceil(PW / 2), T = TH * TW;
  if (tiles.length < T * C * 64) tiles = new Float64Array(T * C * 64);
  const d = D64, t = T64, m = R64, yt = Y16;
  for (let n = 0; n < N; n++) {
    // the transformed input tiles of the image: tile (i, j) reads rows 4i - pad .., columns 4j - pad ..
    for (let c = 0; c < C; c++) {
      const plane = (x >> 2) + (n * C + c) * H * W;
      for (let tile = 0; tile < T; tile++) {
        const i = Math.floor(tile / TW), j = tile % TW;
        for (let a = 0; a < 8; a++) {
          const r = 4 * i - pad + a;
          for (let q = 0; q < 8; q++) {
            const s = 4 * j - pad + q;
            d[8 * a + q] = r >= 0 && r < H && s >= 0 && s < W ? f32[plane + r * W + s] : 0;
          }
        }
        // d B row by row into t[8a + j'], then B^T (d B) column by column into entries 8j' + i'
        for (let a = 0; a < 8; a++) inputVec(d, 8 * a, 1, t, 8 * a, 1);
        const o = (tile * C + c) * 64;
        for (let q = 0; q < 8; q++) inputVec(t, q, 8, tiles, o + 8 * q, 1);
      }
    }
    for (let f = 0; f < FN; f++) {
      const bias = hasBias ? f32[(b >> 2) + f] : 0;
      const uf = (u >> 2) + f * C * 256;
      const yo = (y >> 2) + (n * FN + f) * PH * PW;
      for (let tile = 0; tile < T; tile++) {
        for (let k = 0; k < 64; k++) {
          let s = 0;
          for (let c = 0; c < C; c++) s += f32[uf + 4 * (c * 64 + k)] * tiles[(tile * C + c) * 64 + k];
          m[k] = s;
        }
        // A^T down each column j into t[4j + r], then across each row r: the 4x4 outputs yt[4r + c]
        for (let j = 0; j < 8; j++) outputVec(m, 8 * j, 1, t, 4 * j, 1);
        for (let r = 0; r < 4; r++) outputVec(t, r, 4, yt, 4 * r, 1);
        const i = Math.floor(tile / TW), j = tile % TW;
        for (let pi = 0; pi < 2 && 2 * i + pi < PH; pi++) {
          for (let pj = 0; pj < 2 && 2 * j + pj < PW; pj++) {
            const k = 8 * pi + 2 * pj;
            let best = Math.max(yt[k], yt[k + 1], yt[k + 4], yt[k + 5]); // NaN if any is NaN
            best = fround(fround(best) + bias);
            f32[yo + (2 * i + pi) * PW + 2 * j + pj] = best <= 0 ? 0 : best;
          }
        }
      }
    }
  }
}
