// winograd-conv.ts — the Winograd convolutions' pipeline, for both tile sizes: m = 2, F(2x2, 3x3)
// (transforms in winograd.ts), and m = 4, F(4x4, 3x3) (winograd4.ts); P = (m + 2)^2 products per
// output tile and channel. Shapes, tile layout and scratch: src/backend/kernels.ts (wino_*,
// wino4_*, winoGeom / wino4Geom).
//
// Forward: per group of images, the input tiles of every channel (B^T d B) go into the P
// matrices v (C, tiles), P GEMMs give m = u v (FN, tiles), the output transform (A^T m A + bias)
// writes y. The input gradient is this forward of dy with the flipped filters.
// Filter-gradient sums: per group, the input tiles and z = A dY A^T (FN, tiles) of the output
// gradient, then P GEMMs add z v^T (FN, C) into the group's image partition: for m = 4 the input
// tiles are transformed with the channels in lanes into vt (tiles, C), so z vt is a plain GEMM
// (broadcast path); for m = 2 they are v (C, tiles) as above, and the products dot products.
//
// Groups: ng = ceil(N / G) of floor or ceil(N / ng) images (G = ceil(tiles-per-group target /
// tiles per image)): a thread's share of 13 images with G = 4 runs as 4+3+3+3, not 4+4+4+1 (a GEMM of one
// image's tiles is slower). The filter gradient's partitions depend on N only (part_start), so
// split calls are bit-identical to whole ones: an image's tiles go through the same transforms
// and GEMM columns whatever group it lands in (a GEMM element's summation order does not depend
// on the number of columns, gemm.ts), and a partition's sums are the same whichever call
// computes them.
import { GEMM_PACKED_MAX_K, gemm_f32, gemm_nt_dots_f32, gemm_pack_a, gemm_packed_f32, gemm_packed_floats } from './gemm';
import {
  WINO_COLS, WINO_PARTS, copy_row, grad_tiles, image_tiles, output_tiles, part_start, round4, wino_group, wino_ld,
  wino_plane_bytes,
} from './winograd';
import { WINO4_COLS, grad_tiles4, image_tiles4, image_tiles4_tc, output_tiles4 } from './winograd4';

/** First image of group q of ng over N images (balanced groups). */
// @ts-ignore: decorator
@inline
function group_start(q: i32, ng: i32, N: i32): i32 {
  return q * N / ng;
}

function forward(m: i32, x: usize, N: i32, C: i32, H: i32, W: i32, u: usize, FN: i32, pad: i32,
  b: usize, hasBias: i32, y: usize, scratch: usize): void {
  // x: (N, C, H, W); u: (P, FN, C); b: (FN) if hasBias -> y: (N, FN, OH, OW), OH = H + 2*pad - 2;
  // scratch: padded plane (Hp, Wp) | v: (P, C, ld) | mt: (P, FN, ld) (planes wino_plane_bytes
  // apart) | m = 2: 4 spare floats, m = 4: tmp, 36 x 4 floats | up: u packed for the GEMMs,
  // P x gemm_packed_floats(FN, C)
  const OH = H + 2 * pad - 2;
  const OW = W + 2 * pad - 2;
  if (N <= 0 || FN <= 0 || OH <= 0 || OW <= 0) return;
  const P = (m + 2) * (m + 2);
  const TH = (OH + m - 1) / m, TW = (OW + m - 1) / m;
  const TWq = round4(TW);
  const T = TH * TW;
  const G = wino_group(N, T, m == 2 ? WINO_COLS : WINO4_COLS);
  const ld = wino_ld(G * T);
  const Hp = m * TH + 2, Wp = m * TWq + m;
  const p = scratch;
  const v = p + (<usize>round4(Hp * Wp) << 2);
  const vxs = wino_plane_bytes(C, ld);
  const mxs = wino_plane_bytes(FN, ld);
  const mt = v + <usize>P * vxs;
  const tmp = mt + <usize>P * mxs;
  const up = tmp + (m == 2 ? 16 : 576);
  const upBytes = <usize>gemm_packed_floats(FN, C) << 2;
  const packed = C <= GEMM_PACKED_MAX_K;
  memory.fill(p, 0, <usize>(Hp * Wp) << 2);
  const ld4 = <usize>ld << 2;
  const planeBytes = <usize>(H * W) << 2;
  const outBytes = <usize>(OH * OW) << 2;
  const ub = <usize>(FN * C) << 2;
  if (packed) for (let xi = 0; xi < P; xi++) gemm_pack_a(u + <usize>xi * ub, C, FN, C, up + <usize>xi * upBytes);
  const ng = (N + G - 1) / G;
  for (let q = 0; q < ng; q++) {
    const n0 = group_start(q, ng, N);
    const g1 = group_start(q + 1, ng, N) - n0;
    for (let g = 0; g < g1; g++) {
      const img = x + <usize>((n0 + g) * C) * planeBytes, vg = v + (<usize>(g * T) << 2);
      if (m == 2) image_tiles(img, C, H, W, pad, Wp, p, TH, TW, vg, ld4, vxs);
      else image_tiles4(img, C, H, W, pad, Wp, p, TH, TW, vg, ld4, vxs, tmp);
    }
    for (let xi = 0; xi < P; xi++) {
      const vx = v + <usize>xi * vxs, mx = mt + <usize>xi * mxs;
      if (packed) gemm_packed_f32(FN, g1 * T, C, up + <usize>xi * upBytes, vx, ld, mx, ld);
      else gemm_f32(0, 0, FN, g1 * T, C, 1, u + <usize>xi * ub, C, vx, ld, 0, mx, ld);
    }
    for (let g = 0; g < g1; g++) {
      for (let f = 0; f < FN; f++) {
        const bias: f32 = hasBias != 0 ? load<f32>(b + (<usize>f << 2)) : 0;
        const mg = mt + <usize>f * ld4 + (<usize>(g * T) << 2), yf = y + <usize>((n0 + g) * FN + f) * outBytes;
        if (m == 2) output_tiles(mg, mxs, TH, TW, OH, OW, bias, yf);
        else output_tiles4(mg, mxs, TH, TW, OH, OW, bias, yf, tmp);
      }
    }
  }
}

function grad_sums(m: i32, x: usize, dy: usize, N: i32, C: i32, H: i32, W: i32, FN: i32, pad: i32,
  p0: i32, p1: i32, sums: usize, scratch: usize): void {
  // x: (N, C, H, W); dy: (N, FN, OH, OW) -> sums: (WINO_PARTS, P, FN, C), partitions p0..p1-1:
  // sums[p][xi] = sum over the groups of partition p, in order, of Z_xi V_xi^T (zeros if empty);
  // scratch: padded planes (Hp, Wp), m = 2: 1, m = 4: 4 | dy plane (m TH, m TWq) | v: m = 2:
  // (P, C, ld), m = 4: (P, tiles, C) | z: (P, FN, ld) (planes wino_plane_bytes apart) | m = 4:
  // tmp, 36 x 4 floats
  if (FN <= 0 || C <= 0 || p1 <= p0) return;
  const P = (m + 2) * (m + 2);
  const axs = <usize>(FN * C) << 2;
  const OH = H + 2 * pad - 2;
  const OW = W + 2 * pad - 2;
  if (N <= 0 || OH <= 0 || OW <= 0) {
    memory.fill(sums + <usize>(p0 * P) * axs, 0, <usize>((p1 - p0) * P) * axs);
    return;
  }
  const TH = (OH + m - 1) / m, TW = (OW + m - 1) / m;
  const TWq = round4(TW);
  const T = TH * TW;
  const G = wino_group(N, T, m == 2 ? WINO_COLS : WINO4_COLS);
  const ng = (N + G - 1) / G;
  const ld = wino_ld(G * T);
  const Hp = m * TH + 2, Wp = m * TWq + m, Wd = m * TWq;
  const p = scratch;
  const ps = <usize>round4(Hp * Wp) << 2;
  const d = p + (m == 2 ? ps : 4 * ps);
  const v = d + (<usize>(m * TH * Wd) << 2);
  const vxs = wino_plane_bytes(C, ld);
  const zxs = wino_plane_bytes(FN, ld);
  const z = v + <usize>P * vxs;
  const tmp = z + <usize>P * zxs;
  memory.fill(p, 0, v - p);
  const ld4 = <usize>ld << 2;
  const planeBytes = <usize>(H * W) << 2;
  const outBytes = <usize>(OH * OW) << 2;
  const owBytes = <usize>OW << 2;
  const whole = OH % m == 0 && OW % m == 0;
  for (let part = p0; part < p1; part++) {
    const s = sums + <usize>(part * P) * axs;
    const q0 = part_start(part, ng), q1 = part_start(part + 1, ng);
    if (q1 == q0) memory.fill(s, 0, <usize>P * axs);
    for (let q = q0; q < q1; q++) {
      const n0 = group_start(q, ng, N);
      const g1 = group_start(q + 1, ng, N) - n0;
      for (let g = 0; g < g1; g++) {
        const col = <usize>(g * T) << 2;
        const img = x + <usize>((n0 + g) * C) * planeBytes;
        if (m == 2) image_tiles(img, C, H, W, pad, Wp, p, TH, TW, v + col, ld4, vxs);
        else image_tiles4_tc(img, C, H, W, pad, Wp, p, ps, TH, TW, v + col * <usize>C, vxs, tmp);
        for (let f = 0; f < FN; f++) {
          const src = dy + <usize>((n0 + g) * FN + f) * outBytes;
          const zf = z + <usize>f * ld4 + col;
          if (whole && (n0 + g < N - 1 || f < FN - 1)) {
            // tiles cover the plane exactly: read it in place (a quad's empty lanes read past the
            // row, at most 12 floats past the plane, which another plane of dy follows)
            if (m == 2) grad_tiles(src, TH, TW, OW, zf, zxs);
            else grad_tiles4(src, TH, TW, OW, zf, zxs, tmp);
            continue;
          }
          for (let r = 0; r < OH; r++) copy_row(d + (<usize>(r * Wd) << 2), src + <usize>r * owBytes, OW);
          if (m == 2) grad_tiles(d, TH, TW, Wd, zf, zxs);
          else grad_tiles4(d, TH, TW, Wd, zf, zxs, tmp);
        }
      }
      const beta: f32 = q == q0 ? 0 : 1;
      for (let xi = 0; xi < P; xi++) {
        const zx = z + <usize>xi * zxs, vx = v + <usize>xi * vxs, sx = s + <usize>xi * axs;
        // m = 2: dot products over the tiles; m = 4: (FN, tiles) x (tiles, C), the tiles' rows of v
        if (m == 2) gemm_nt_dots_f32(FN, C, g1 * T, 1, zx, ld, vx, ld, beta, sx, C);
        else gemm_f32(0, 0, FN, C, g1 * T, 1, zx, ld, vx, C, beta, sx, C);
      }
    }
  }
}

export function wino_fwd_f32(x: usize, N: i32, C: i32, H: i32, W: i32, u: usize, FN: i32, pad: i32,
  b: usize, hasBias: i32, y: usize, scratch: usize): void {
  forward(2, x, N, C, H, W, u, FN, pad, b, hasBias, y, scratch);
}

export function wino4_fwd_f32(x: usize, N: i32, C: i32, H: i32, W: i32, u: usize, FN: i32, pad: i32,
  b: usize, hasBias: i32, y: usize, scratch: usize): void {
  forward(4, x, N, C, H, W, u, FN, pad, b, hasBias, y, scratch);
}

export function wino_grad_sums_f32(x: usize, dy: usize, N: i32, C: i32, H: i32, W: i32, FN: i32, pad: i32,
  p0: i32, p1: i32, sums: usize, scratch: usize): void {
  grad_sums(2, x, dy, N, C, H, W, FN, pad, p0, p1, sums, scratch);
}

export function wino4_grad_sums_f32(x: usize, dy: usize, N: i32, C: i32, H: i32, W: i32, FN: i32, pad: i32,
  p0: i32, p1: i32, sums: usize, scratch: usize): void {
  grad_sums(4, x, dy, N, C, H, W, FN, pad, p0, p1, sums, scratch);
}
