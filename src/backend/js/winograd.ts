// winograd.ts — plain-JS twins of assembly/winograd.ts: Winograd F(2x2, 3x3) convolution
// (stride 1, 3x3 filters, pad 0..2; shapes, tile layout and scratch: src/backend/kernels.ts):
// the filter transforms and the tiles (F2_TILES) that winograd-conv.ts runs, scalar code over
// the same scratch layout as the Wasm kernels.
import type { Heap } from './heap.js';
import type { Ptr } from '../kernels.js';
import { WINO_PARTS, winoGeom, type WinoGeom } from '../kernels.js';
import type { WinoTiles } from './winograd-conv.js';

// per-tile temporaries, reused by every call (the kernels are synchronous)
const G9 = new Float64Array(9);
const T16 = new Float64Array(16);
const R8 = new Float64Array(8);

/**
 * w: (FN, C, 3, 3) -> u: (16, FN, C), u[xi][f][c] = (G g G^T)[xi] of g = w[f][c];
 * flip != 0: u: (16, C, FN) of the filters of the input gradient, g[a][b] = w[f][c][2-a][2-b].
 */
export function wino_filter_f32(h: Heap, w: Ptr, FN: number, C: number, flip: number, u: Ptr): void {
  const f32 = h.f32;
  const plane = FN * C;
  const g = G9;
  for (let f = 0; f < FN; f++) {
    for (let c = 0; c < C; c++) {
      const src = (w >> 2) + (f * C + c) * 9;
      for (let i = 0; i < 9; i++) g[i] = f32[src + (flip ? 8 - i : i)];
      const dst = (u >> 2) + (flip ? c * FN + f : f * C + c);
      // q = G g (4x3), then U = q G^T (4x4)
      for (let i = 0; i < 4; i++) {
        let q0: number, q1: number, q2: number;
        if (i === 0) { q0 = g[0]; q1 = g[1]; q2 = g[2]; }
        else if (i === 3) { q0 = g[6]; q1 = g[7]; q2 = g[8]; }
        else {
          const s = i === 1 ? 1 : -1;
          q0 = Math.fround(0.5 * (g[0] + s * g[3] + g[6]));
          q1 = Math.fround(0.5 * (g[1] + s * g[4] + g[7]));
          q2 = Math.fround(0.5 * (g[2] + s * g[5] + g[8]));
        }
        f32[dst + (i * 4) * plane] = q0;
        f32[dst + (i * 4 + 1) * plane] = 0.5 * (q0 + q1 + q2);
        f32[dst + (i * 4 + 2) * plane] = 0.5 * (q0 - q1 + q2);
        f32[dst + (i * 4 + 3) * plane] = q2;
      }
    }
  }
}

/** V[xi][row][col0 + t] = (B^T d B)[xi] for every tile t of the padded plane at p; xi stride `xs`. */
function inputTiles(f32: Float32Array, p: number, wg: WinoGeom, v: number, xs: number): void {
  const Wp = wg.Wp;
  for (let ti = 0; ti < wg.TH; ti++) {
    for (let tj = 0; tj < wg.TW; tj++) {
      const base = p + 2 * ti * Wp + 2 * tj;
      const t = T16;
      for (let r = 0; r < 4; r++) {
        const d = base + r * Wp;
        t[r * 4] = f32[d] - f32[d + 2];
        t[r * 4 + 1] = f32[d + 1] + f32[d + 2];
        t[r * 4 + 2] = f32[d + 2] - f32[d + 1];
        t[r * 4 + 3] = f32[d + 1] - f32[d + 3];
      }
      const o = v + ti * wg.TW + tj;
      for (let k = 0; k < 4; k++) {
        f32[o + k * xs] = t[k] - t[8 + k];
        f32[o + (4 + k) * xs] = t[4 + k] + t[8 + k];
        f32[o + (8 + k) * xs] = t[8 + k] - t[4 + k];
        f32[o + (12 + k) * xs] = t[4 + k] - t[12 + k];
      }
    }
  }
}



/** y plane yo (OH, OW) = A^T m A + bias of every tile t of the product matrices at m (xi stride xs). */
function outputTiles(f32: Float32Array, m: number, xs: number, wg: WinoGeom, OH: number, OW: number, bias: number, yo: number): void {
  const a = R8;
  for (let ti = 0; ti < wg.TH; ti++) {
    for (let tj = 0; tj < wg.TW; tj++) {
      const o = m + ti * wg.TW + tj;
      for (let k = 0; k < 4; k++) {
        const m0 = f32[o + k * xs], m1 = f32[o + (4 + k) * xs], m2 = f32[o + (8 + k) * xs], m3 = f32[o + (12 + k) * xs];
        a[k] = m0 + m1 + m2;
        a[4 + k] = m1 - m2 - m3;
      }
      const r = 2 * ti, c = 2 * tj;
      for (let i = 0; i < 2 && r + i < OH; i++) {
        const row = yo + (r + i) * OW + c;
        f32[row] = a[i * 4] + a[i * 4 + 1] + a[i * 4 + 2] + bias;
        if (c + 1 < OW) f32[row + 1] = a[i * 4 + 1] - a[i * 4 + 2] - a[i * 4 + 3] + bias;
      }
    }
  }
}

/**
 * Z[xi][row][col0 + t] = (A dY A^T)[xi] for every tile t of the output-gradient plane (2TH, Wd) at d
 * (zeros past OH, OW); xi stride `xs`.
 */
function gradTiles(f32: Float32Array, d: number, wg: WinoGeom, Wd: number, z: number, xs: number): void {
  const R = R8;
  for (let ti = 0; ti < wg.TH; ti++) {
    for (let tj = 0; tj < wg.TW; tj++) {
      const t0 = d + 2 * ti * Wd + 2 * tj;
      const d00 = f32[t0], d01 = f32[t0 + 1], d10 = f32[t0 + Wd], d11 = f32[t0 + Wd + 1];
      // R = A dY (4x2), then Z = R A^T (4x4)
      R[0] = d00; R[1] = d01; R[2] = d00 + d10; R[3] = d01 + d11;
      R[4] = d00 - d10; R[5] = d01 - d11; R[6] = -d10; R[7] = -d11;
      const o = z + ti * wg.TW + tj;
      for (let i = 0; i < 4; i++) {
        const r0 = R[2 * i], r1 = R[2 * i + 1];
        f32[o + (i * 4) * xs] = r0;
        f32[o + (i * 4 + 1) * xs] = r0 + r1;
        f32[o + (i * 4 + 2) * xs] = r0 - r1;
        f32[o + (i * 4 + 3) * xs] = -r1;
      }
    }
  }
}

/** The F(2x2, 3x3) tiles, for the pipeline of winograd-conv.ts. */
export const F2_TILES: WinoTiles = { m: 2, P: 16, geom: winoGeom, inputTiles, outputTiles, gradTiles };

/**
 * sums: (WINO_PARTS, 16, FN, C) of wino_grad_sums_f32 -> dw: (FN, C, 3, 3) = G^T acc G, acc = the
 * partitions added in order into sums[0] (clobbered).
 */
export function wino_grad_filter_f32(h: Heap, sums: Ptr, FN: number, C: number, dw: Ptr): void {
  const f32 = h.f32;
  const acc = sums >> 2;
  const xs = FN * C;
  for (let pi = 1; pi < WINO_PARTS; pi++) {
    const s = acc + pi * 16 * xs;
    for (let i = 0; i < 16 * xs; i++) f32[acc + i] += f32[s + i];
  }
  for (let f = 0; f < FN; f++) {
    for (let c = 0; c < C; c++) {
      const o = acc + f * C + c;
      // T = G^T acc (3x4), then dw = T G (3x3)
      const t = T16;
      for (let j = 0; j < 4; j++) {
        const a0 = f32[o + j * xs], a1 = f32[o + (4 + j) * xs], a2 = f32[o + (8 + j) * xs], a3 = f32[o + (12 + j) * xs];
        t[j] = a0 + 0.5 * (a1 + a2);
        t[4 + j] = 0.5 * (a1 - a2);
        t[8 + j] = 0.5 * (a1 + a2) + a3;
      }
      const out = (dw >> 2) + (f * C + c) * 9;
      for (let a = 0; a < 3; a++) {
        f32[out + a * 3] = t[a * 4] + 0.5 * (t[a * 4 + 1] + t[a * 4 + 2]);
        f32[out + a * 3 + 1] = 0.5 * (t[a * 4 + 1] - t[a * 4 + 2]);
        f32[out + a * 3 + 2] = 0.5 * (t[a * 4 + 1] + t[a * 4 + 2]) + t[a * 4 + 3];
      }
    }
  }
}
