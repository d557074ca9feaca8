// winograd4.ts — Winograd F(4x4, 3x3) convolution: stride 1, 3x3 filters, pad 0..2, NCHW
// (shapes, tile layout and scratch: src/backend/kernels.ts, wino4_* and wino4Geom): its
// transforms; the pipeline that runs them (wino4_fwd_f32, wino4_grad_sums_f32) is winograd-conv.ts.
//
// Each 4x4 output tile is A^T [(G g G^T) . (B^T d B)] A of the 6x6 input tile d under it: 36
// products per tile and channel where F(2x2, 3x3) needs 64 for the same 16 outputs and the
// direct algorithm 144 multiply-adds. As in winograd.ts the products summed over channels are
// GEMMs, 36 of them, (FN, C) x (C, tiles); the transforms run on 4 tiles of a tile row at a time
// (f32x4 lanes), reading a zero-padded copy of each plane. The input gradient is the forward of
// dy with the flipped, transposed filters (wino4_filter_f32 with flip) and pad 2 - pad. The
// filter gradient is G^T [sum over tiles (A dY A^T) . (B^T d B)] G: 36 GEMMs (FN, tiles) x
// (tiles, C) over the image partitions, the input tiles transformed 4 channels at a time into
// row-major (tiles, C) matrices (image_tiles4_tc), then wino4_grad_filter_f32.
//
// Matrices (interpolation points 0, 1, -1, 2, -2 and infinity):
//   B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
//   G   = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
//   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
// Their coefficients (up to 5 in B^T, 8 in A^T) scale the rounding of the channel sums, so the
// results agree with the direct path to a few times F(2x2)'s rounding (tests/kernels/winograd4.test.ts).
import { WINO_PARTS, fill_plane, gv, put } from './winograd';

export const WINO4_COLS: i32 = 64; // target tiles per group (twin of WINO4_COLS in src/backend/kernels.ts)

/** Row i of U = q G^T from row i of q = G g: (G (q0, q1, q2)^T)[j] at o + j * plane, j = 0..5. */
// @ts-ignore: decorator
@inline
function g_row(o: usize, plane: usize, q0: f32, q1: f32, q2: f32): void {
  const s = q0 + q2;
  store<f32>(o, 0.25 * q0);
  store<f32>(o + plane, (s + q1) * <f32>(-1.0 / 6.0));
  store<f32>(o + 2 * plane, (s - q1) * <f32>(-1.0 / 6.0));
  const e = q0 * <f32>(1.0 / 24.0) + q2 * <f32>(1.0 / 6.0), h = q1 * <f32>(1.0 / 12.0);
  store<f32>(o + 3 * plane, e + h);
  store<f32>(o + 4 * plane, e - h);
  store<f32>(o + 5 * plane, q2);
}

/** g_row on 4 lanes (4 filters whose u entries are consecutive). */
// @ts-ignore: decorator
@inline
function g_row_v(o: usize, plane: usize, q0: v128, q1: v128, q2: v128): void {
  const s = f32x4.add(q0, q2);
  const sixth = f32x4.splat(<f32>(-1.0 / 6.0));
  v128.store(o, f32x4.mul(q0, f32x4.splat(0.25)));
  v128.store(o + plane, f32x4.mul(f32x4.add(s, q1), sixth));
  v128.store(o + 2 * plane, f32x4.mul(f32x4.sub(s, q1), sixth));
  const e = f32x4.add(f32x4.mul(q0, f32x4.splat(<f32>(1.0 / 24.0))), f32x4.mul(q2, f32x4.splat(<f32>(1.0 / 6.0))));
  const h = f32x4.mul(q1, f32x4.splat(<f32>(1.0 / 12.0)));
  v128.store(o + 3 * plane, f32x4.add(e, h));
  v128.store(o + 4 * plane, f32x4.sub(e, h));
  v128.store(o + 5 * plane, q2);
}

/** Tap k of the 4 filters at s, s + ls, s + 2ls, s + 3ls (9 floats each), in lanes. */
// @ts-ignore: decorator
@inline
function taps(s: usize, ls: usize, k: i32): v128 {
  const p = s + (<usize>k << 2);
  let v = v128.load32_zero(p);
  v = v128.load32_lane(p + ls, v, 1);
  v = v128.load32_lane(p + 2 * ls, v, 2);
  return v128.load32_lane(p + 3 * ls, v, 3);
}

/** U = G g G^T of one filter at s (9 floats; rotated by 180 degrees when flip) into o + xi * plane. */
function filter_one(s: usize, flip: i32, o: usize, plane: usize): void {
  const rows: usize = plane * 6; // between rows i of U (xi = 6i + j)
  // rows a0.., b0.., c0.. of g; q = G g row by row, each row then through g_row
  const a0 = gv(s, flip, 0, 0), a1 = gv(s, flip, 0, 1), a2 = gv(s, flip, 0, 2);
  const b0 = gv(s, flip, 1, 0), b1 = gv(s, flip, 1, 1), b2 = gv(s, flip, 1, 2);
  const c0 = gv(s, flip, 2, 0), c1 = gv(s, flip, 2, 1), c2 = gv(s, flip, 2, 2);
  const s0 = a0 + c0, s1 = a1 + c1, s2 = a2 + c2;
  g_row(o, plane, 0.25 * a0, 0.25 * a1, 0.25 * a2);
  g_row(o + rows, plane, (s0 + b0) * <f32>(-1.0 / 6.0), (s1 + b1) * <f32>(-1.0 / 6.0), (s2 + b2) * <f32>(-1.0 / 6.0));
  g_row(o + 2 * rows, plane, (s0 - b0) * <f32>(-1.0 / 6.0), (s1 - b1) * <f32>(-1.0 / 6.0), (s2 - b2) * <f32>(-1.0 / 6.0));
  const e0 = a0 * <f32>(1.0 / 24.0) + c0 * <f32>(1.0 / 6.0), h0 = b0 * <f32>(1.0 / 12.0);
  const e1 = a1 * <f32>(1.0 / 24.0) + c1 * <f32>(1.0 / 6.0), h1 = b1 * <f32>(1.0 / 12.0);
  const e2 = a2 * <f32>(1.0 / 24.0) + c2 * <f32>(1.0 / 6.0), h2 = b2 * <f32>(1.0 / 12.0);
  g_row(o + 3 * rows, plane, e0 + h0, e1 + h1, e2 + h2);
  g_row(o + 4 * rows, plane, e0 - h0, e1 - h1, e2 - h2);
  g_row(o + 5 * rows, plane, c0, c1, c2);
}

/** filter_one for the 4 filters at s, s + ls, ... whose entries of U are consecutive floats at o. */
function filter_four(s: usize, ls: usize, flip: i32, o: usize, plane: usize): void {
  const rows: usize = plane * 6;
  const k0 = flip != 0 ? 8 : 0, dk = flip != 0 ? -1 : 1; // tap of g[a][b]: k0 + dk * (3a + b)
  const a0 = taps(s, ls, k0), a1 = taps(s, ls, k0 + dk), a2 = taps(s, ls, k0 + 2 * dk);
  const b0 = taps(s, ls, k0 + 3 * dk), b1 = taps(s, ls, k0 + 4 * dk), b2 = taps(s, ls, k0 + 5 * dk);
  const c0 = taps(s, ls, k0 + 6 * dk), c1 = taps(s, ls, k0 + 7 * dk), c2 = taps(s, ls, k0 + 8 * dk);
  const s0 = f32x4.add(a0, c0), s1 = f32x4.add(a1, c1), s2 = f32x4.add(a2, c2);
  const q = f32x4.splat(0.25), sixth = f32x4.splat(<f32>(-1.0 / 6.0));
  g_row_v(o, plane, f32x4.mul(a0, q), f32x4.mul(a1, q), f32x4.mul(a2, q));
  g_row_v(o + rows, plane, f32x4.mul(f32x4.add(s0, b0), sixth), f32x4.mul(f32x4.add(s1, b1), sixth), f32x4.mul(f32x4.add(s2, b2), sixth));
  g_row_v(o + 2 * rows, plane, f32x4.mul(f32x4.sub(s0, b0), sixth), f32x4.mul(f32x4.sub(s1, b1), sixth), f32x4.mul(f32x4.sub(s2, b2), sixth));
  const r24 = f32x4.splat(<f32>(1.0 / 24.0)), r6 = f32x4.splat(<f32>(1.0 / 6.0)), r12 = f32x4.splat(<f32>(1.0 / 12.0));
  const e0 = f32x4.add(f32x4.mul(a0, r24), f32x4.mul(c0, r6)), h0 = f32x4.mul(b0, r12);
  const e1 = f32x4.add(f32x4.mul(a1, r24), f32x4.mul(c1, r6)), h1 = f32x4.mul(b1, r12);
  const e2 = f32x4.add(f32x4.mul(a2, r24), f32x4.mul(c2, r6)), h2 = f32x4.mul(b2, r12);
  g_row_v(o + 3 * rows, plane, f32x4.add(e0, h0), f32x4.add(e1, h1), f32x4.add(e2, h2));
  g_row_v(o + 4 * rows, plane, f32x4.sub(e0, h0), f32x4.sub(e1, h1), f32x4.sub(e2, h2));
  g_row_v(o + 5 * rows, plane, c0, c1, c2);
}

export function wino4_filter_f32(w: usize, FN: i32, C: i32, flip: i32, u: usize): void {
  // w: (FN, C, 3, 3) -> u: (36, FN, C) = G g G^T per (f, c); flip: u: (36, C, FN), g rotated by 180 degrees
  const plane = <usize>(FN * C) << 2;
  // U's rows (f, or c when flipped) in order; 4 consecutive entries of a row (filters c..c+3 of
  // filter f, or f..f+3 of channel c) at a time, the last ones one by one
  const outer = flip != 0 ? C : FN, inner = flip != 0 ? FN : C;
  const ls: usize = flip != 0 ? <usize>(C * 9) << 2 : 36; // bytes between consecutive entries' filters in w
  for (let r = 0; r < outer; r++) {
    const o = u + (<usize>(r * inner) << 2);
    let i = 0;
    for (; i + 4 <= inner; i += 4) {
      const f = flip != 0 ? i : r, c = flip != 0 ? r : i;
      filter_four(w + (<usize>((f * C + c) * 9) << 2), ls, flip, o + (<usize>i << 2), plane);
    }
    for (; i < inner; i++) {
      const f = flip != 0 ? i : r, c = flip != 0 ? r : i;
      filter_one(w + (<usize>((f * C + c) * 9) << 2), flip, o + (<usize>i << 2), plane);
    }
  }
}

/**
 * B^T d of one column of 4 tiles (rows 0..5 of d in lanes): writes the 6 results at o, o + os, ...
 * (also the 1-D step along the rows, d B, applied to a row's 6 columns).
 */
// @ts-ignore: decorator
@inline
function bt6(d0: v128, d1: v128, d2: v128, d3: v128, d4: v128, d5: v128, o: usize, os: usize, n: i32): void {
  const four = f32x4.splat(4), five = f32x4.splat(5), two = f32x4.splat(2);
  const a = f32x4.sub(d4, f32x4.mul(four, d2)); // d4 - 4 d2
  const b = f32x4.sub(d3, f32x4.mul(four, d1)); // d3 - 4 d1
  const c = f32x4.sub(d4, d2);
  const e = f32x4.mul(two, f32x4.sub(d3, d1));
  put(o, f32x4.add(f32x4.sub(f32x4.mul(four, d0), f32x4.mul(five, d2)), d4), n);
  put(o + os, f32x4.add(a, b), n);
  put(o + 2 * os, f32x4.sub(a, b), n);
  put(o + 3 * os, f32x4.add(c, e), n);
  put(o + 4 * os, f32x4.sub(c, e), n);
  put(o + 5 * os, f32x4.add(f32x4.sub(f32x4.mul(four, d1), f32x4.mul(five, d3)), d5), n);
}

/**
 * v[xi][t] = (B^T d B)[xi] of every tile t = ti*TW + tj of the padded plane (., Wp) at p (tile
 * (ti, tj) reads rows 4ti..4ti+5, columns 4tj..4tj+5); xs: bytes between the xi planes of v;
 * tmp: 36 x 16 bytes of scratch (d B of the 6 rows of 4 tiles).
 */
function input_tiles4(p: usize, TH: i32, TW: i32, Wp: i32, v: usize, xs: usize, tmp: usize): void {
  const wp4 = <usize>Wp << 2;
  for (let ti = 0; ti < TH; ti++) {
    const rowp = p + <usize>(4 * ti) * wp4;
    for (let tj = 0; tj < TW; tj += 4) {
      // d B for each of the 6 rows: columns 4tj + 4l + k (tile l in lane l, k = 0..5) are lanes
      // of the 20 floats from column 4tj: a 4x4 transpose gives k = 0..3, a lane shift k = 4, 5
      let q = rowp + (<usize>(4 * tj) << 2);
      for (let r = 0; r < 6; r++) {
        const a0 = v128.load(q), a1 = v128.load(q, 16), a2 = v128.load(q, 32), a3 = v128.load(q, 48), a4 = v128.load(q, 64);
        const t0 = i32x4.shuffle(a0, a1, 0, 4, 1, 5), t1 = i32x4.shuffle(a2, a3, 0, 4, 1, 5);
        const t2 = i32x4.shuffle(a0, a1, 2, 6, 3, 7), t3 = i32x4.shuffle(a2, a3, 2, 6, 3, 7);
        const d0 = i32x4.shuffle(t0, t1, 0, 1, 4, 5), d1 = i32x4.shuffle(t0, t1, 2, 3, 6, 7);
        const d2 = i32x4.shuffle(t2, t3, 0, 1, 4, 5), d3 = i32x4.shuffle(t2, t3, 2, 3, 6, 7);
        const d4 = i32x4.shuffle(d0, a4, 1, 2, 3, 4), d5 = i32x4.shuffle(d1, a4, 1, 2, 3, 5);
        bt6(d0, d1, d2, d3, d4, d5, tmp + (<usize>(r * 6) << 4), 16, 4); // tmp[r][j]
        q += wp4;
      }
      // B^T (d B): column j of the 6 rows -> rows i of the result, xi = 6i + j
      const n = TW - tj;
      const o = v + (<usize>(ti * TW + tj) << 2);
      for (let j = 0; j < 6; j++) {
        const c = tmp + (<usize>j << 4);
        bt6(v128.load(c), v128.load(c, 96), v128.load(c, 192), v128.load(c, 288), v128.load(c, 384), v128.load(c, 480),
          o + <usize>j * xs, 6 * xs, n);
      }
    }
  }
}

/**
 * The input tiles of one image: each of its C planes (H, W) at img goes into the zero-bordered
 * plane p (fill_plane), then its tiles into v + c * ld4 (input_tiles4); v: the image's first
 * column of the (36, C, ld) tile matrices, xs: bytes between their xi planes.
 */
export function image_tiles4(img: usize, C: i32, H: i32, W: i32, pad: i32, Wp: i32, p: usize, TH: i32, TW: i32,
  v: usize, ld4: usize, xs: usize, tmp: usize): void {
  const planeBytes = <usize>(H * W) << 2;
  for (let c = 0; c < C; c++) {
    fill_plane(img + <usize>c * planeBytes, H, W, pad, Wp, p);
    input_tiles4(p, TH, TW, Wp, v + <usize>c * ld4, xs, tmp);
  }
}

/**
 * The input tiles of one image with its channels in lanes, for the filter gradient:
 * vt[xi][t][c] = (B^T d B)[xi] of tile t = ti*TW + tj of channel c, from the C planes (H, W) at
 * img, 4 channels at a time (so each tile's C values are a row of the (tiles, C) matrices and the
 * gradient's products are a plain GEMM). p: 4 zero-bordered planes (., Wp), ps bytes apart;
 * vt: the image's first tile row (C floats per row); xs: bytes between the xi planes of vt;
 * tmp: 36 x 16 bytes of scratch.
 */
export function image_tiles4_tc(img: usize, C: i32, H: i32, W: i32, pad: i32, Wp: i32, p: usize, ps: usize,
  TH: i32, TW: i32, vt: usize, xs: usize, tmp: usize): void {
  const planeBytes = <usize>(H * W) << 2;
  const wp4 = <usize>Wp << 2;
  const c4 = <usize>C << 2;
  for (let c0 = 0; c0 < C; c0 += 4) {
    const nc = min(4, C - c0);
    for (let l = 0; l < nc; l++) fill_plane(img + <usize>(c0 + l) * planeBytes, H, W, pad, Wp, p + <usize>l * ps);
    // lanes past nc repeat the last channel (their results are not stored)
    const p1 = p + <usize>min(1, nc - 1) * ps, p2 = p + <usize>min(2, nc - 1) * ps, p3 = p + <usize>min(3, nc - 1) * ps;
    for (let ti = 0; ti < TH; ti++) {
      for (let tj = 0; tj < TW; tj++) {
        // d B for each of the 6 rows: 8 floats of the row in each channel's plane, transposed
        // (columns k = 0..3, then 4 and 5, channel l in lane l)
        const q = <usize>(4 * ti) * wp4 + (<usize>tj << 4);
        let q0 = p + q, q1 = p1 + q, q2 = p2 + q, q3 = p3 + q;
        for (let r = 0; r < 6; r++) {
          const a0 = v128.load(q0), a1 = v128.load(q1), a2 = v128.load(q2), a3 = v128.load(q3);
          const t0 = i32x4.shuffle(a0, a1, 0, 4, 1, 5), t1 = i32x4.shuffle(a2, a3, 0, 4, 1, 5);
          const t2 = i32x4.shuffle(a0, a1, 2, 6, 3, 7), t3 = i32x4.shuffle(a2, a3, 2, 6, 3, 7);
          const e0 = i32x4.shuffle(v128.load(q0, 16), v128.load(q1, 16), 0, 4, 1, 5);
          const e1 = i32x4.shuffle(v128.load(q2, 16), v128.load(q3, 16), 0, 4, 1, 5);
          bt6(i32x4.shuffle(t0, t1, 0, 1, 4, 5), i32x4.shuffle(t0, t1, 2, 3, 6, 7),
            i32x4.shuffle(t2, t3, 0, 1, 4, 5), i32x4.shuffle(t2, t3, 2, 3, 6, 7),
            i32x4.shuffle(e0, e1, 0, 1, 4, 5), i32x4.shuffle(e0, e1, 2, 3, 6, 7), tmp + (<usize>(r * 6) << 4), 16, 4);
          q0 += wp4;
          q1 += wp4;
          q2 += wp4;
          q3 += wp4;
        }
        // B^T (d B): column j of the 6 rows -> rows i of the result, xi = 6i + j
        const o = vt + <usize>(ti * TW + tj) * c4 + (<usize>c0 << 2);
        for (let j = 0; j < 6; j++) {
          const c = tmp + (<usize>j << 4);
          bt6(v128.load(c), v128.load(c, 96), v128.load(c, 192), v128.load(c, 288), v128.load(c, 384), v128.load(c, 480),
            o + <usize>j * xs, 6 * xs, nc);
        }
      }
    }
  }
}

/** A^T m of one column of 4 tiles (m0..m5 in lanes) -> the 4 results at o, o + 16, o + 32, o + 48. */
// @ts-ignore: decorator
@inline
function at4(m0: v128, m1: v128, m2: v128, m3: v128, m4: v128, m5: v128, o: usize): void {
  const s12 = f32x4.add(m1, m2), d12 = f32x4.sub(m1, m2);
  const s34 = f32x4.add(m3, m4), d34 = f32x4.sub(m3, m4);
  v128.store(o, f32x4.add(f32x4.add(m0, s12), s34));
  v128.store(o, f32x4.add(d12, f32x4.mul(f32x4.splat(2), d34)), 16);
  v128.store(o, f32x4.add(s12, f32x4.mul(f32x4.splat(4), s34)), 32);
  v128.store(o, f32x4.add(f32x4.add(d12, f32x4.mul(f32x4.splat(8), d34)), m5), 48);
}

/**
 * y (OH, OW) = A^T m A + bias of every tile t = ti*TW + tj, m[xi][t] at m + xi * xs bytes; reads up
 * to 3 floats past the last tile of the last xi plane (into tmp, which follows m in the scratch);
 * tmp: 24 x 16 bytes of scratch (A^T m of 4 tiles).
 */
export function output_tiles4(m: usize, xs: usize, TH: i32, TW: i32, OH: i32, OW: i32, bias: f32, y: usize, tmp: usize): void {
  const bv = f32x4.splat(bias);
  const ow4 = <usize>OW << 2;
  for (let ti = 0; ti < TH; ti++) {
    for (let tj = 0; tj < TW; tj += 4) {
      const o = m + (<usize>(ti * TW + tj) << 2);
      // A^T m: column j of the 6x6 -> tmp[j][0..3]
      for (let j = 0; j < 6; j++) {
        const c = o + <usize>j * xs;
        at4(v128.load(c), v128.load(c + 6 * xs), v128.load(c + 12 * xs), v128.load(c + 18 * xs),
          v128.load(c + 24 * xs), v128.load(c + 30 * xs), tmp + (<usize>j << 6));
      }
      // (A^T m) A: row i -> y row 4ti + i, columns 4(tj + l) .. 4(tj + l) + 3 of tile l
      const n = min(4, TW - tj);
      const c0 = 4 * tj;
      for (let i = 0; i < 4; i++) {
        const r = 4 * ti + i;
        if (r >= OH) break;
        // (A^T m)[i] A: columns c = 0..3 of the 4 tiles (lanes), from tmp[j][i], j = 0..5
        const e = tmp + (<usize>i << 4);
        const m0 = v128.load(e), m5 = v128.load(e, 320);
        const s12 = f32x4.add(v128.load(e, 64), v128.load(e, 128)), d12 = f32x4.sub(v128.load(e, 64), v128.load(e, 128));
        const s34 = f32x4.add(v128.load(e, 192), v128.load(e, 256)), d34 = f32x4.sub(v128.load(e, 192), v128.load(e, 256));
        const y0 = f32x4.add(f32x4.add(f32x4.add(m0, s12), s34), bv);
        const y1 = f32x4.add(f32x4.add(d12, f32x4.mul(f32x4.splat(2), d34)), bv);
        const y2 = f32x4.add(f32x4.add(s12, f32x4.mul(f32x4.splat(4), s34)), bv);
        const y3 = f32x4.add(f32x4.add(f32x4.add(d12, f32x4.mul(f32x4.splat(8), d34)), m5), bv);
        // transposed: lane = column of one tile
        const t0 = i32x4.shuffle(y0, y1, 0, 4, 1, 5), t1 = i32x4.shuffle(y2, y3, 0, 4, 1, 5);
        const t2 = i32x4.shuffle(y0, y1, 2, 6, 3, 7), t3 = i32x4.shuffle(y2, y3, 2, 6, 3, 7);
        const row = y + <usize>r * ow4 + (<usize>c0 << 2);
        const w0 = i32x4.shuffle(t0, t1, 0, 1, 4, 5), w1 = i32x4.shuffle(t0, t1, 2, 3, 6, 7);
        const w2 = i32x4.shuffle(t2, t3, 0, 1, 4, 5), w3 = i32x4.shuffle(t2, t3, 2, 3, 6, 7);
        if (n == 4 && c0 + 16 <= OW) {
          v128.store(row, w0);
          v128.store(row, w1, 16);
          v128.store(row, w2, 32);
          v128.store(row, w3, 48);
        } else {
          // tile l has OW - c0 - 4l >= 1 columns left in the row (put stores at most 4)
          put(row, w0, OW - c0);
          if (n > 1) put(row + 16, w1, OW - c0 - 4);
          if (n > 2) put(row + 32, w2, OW - c0 - 8);
          if (n > 3) put(row + 48, w3, OW - c0 - 12);
        }
      }
    }
  }
}


/** A y of one column of 4 tiles (y0..y3 in lanes): the 6 results at o, o + os, ..., 4 lanes or n. */
// @ts-ignore: decorator
@inline
function a6(y0: v128, y1: v128, y2: v128, y3: v128, o: usize, os: usize, n: i32): void {
  const e = f32x4.add(y0, y2), h = f32x4.add(y1, y3);
  const e2 = f32x4.add(y0, f32x4.mul(f32x4.splat(4), y2));
  const h2 = f32x4.add(f32x4.mul(f32x4.splat(2), y1), f32x4.mul(f32x4.splat(8), y3));
  put(o, y0, n);
  put(o + os, f32x4.add(e, h), n);
  put(o + 2 * os, f32x4.sub(e, h), n);
  put(o + 3 * os, f32x4.add(e2, h2), n);
  put(o + 4 * os, f32x4.sub(e2, h2), n);
  put(o + 5 * os, y3, n);
}

/**
 * z[xi][t] = (A dY A^T)[xi] of every 4x4 tile t = ti*TW + tj of the output-gradient plane
 * (4*TH, Wd) at d (zeros past OH, OW); xs: bytes between the xi planes of z; tmp: 24 x 16 bytes.
 */
export function grad_tiles4(d: usize, TH: i32, TW: i32, Wd: i32, z: usize, xs: usize, tmp: usize): void {
  const wd4 = <usize>Wd << 2;
  for (let ti = 0; ti < TH; ti++) {
    for (let tj = 0; tj < TW; tj += 4) {
      // dY A^T for each of the 4 rows: columns 4tj + 4l + k of tile l, k = 0..3, by a 4x4 transpose
      let q = d + <usize>(4 * ti) * wd4 + (<usize>(4 * tj) << 2);
      for (let r = 0; r < 4; r++) {
        const a0 = v128.load(q), a1 = v128.load(q, 16), a2 = v128.load(q, 32), a3 = v128.load(q, 48);
        const t0 = i32x4.shuffle(a0, a1, 0, 4, 1, 5), t1 = i32x4.shuffle(a2, a3, 0, 4, 1, 5);
        const t2 = i32x4.shuffle(a0, a1, 2, 6, 3, 7), t3 = i32x4.shuffle(a2, a3, 2, 6, 3, 7);
        a6(i32x4.shuffle(t0, t1, 0, 1, 4, 5), i32x4.shuffle(t0, t1, 2, 3, 6, 7),
          i32x4.shuffle(t2, t3, 0, 1, 4, 5), i32x4.shuffle(t2, t3, 2, 3, 6, 7), tmp + (<usize>(r * 6) << 4), 16, 4);
        q += wd4;
      }
      // A (dY A^T): column j of the 4 rows -> rows i of Z, xi = 6i + j
      const n = TW - tj;
      const o = z + (<usize>(ti * TW + tj) << 2);
      for (let j = 0; j < 6; j++) {
        const c = tmp + (<usize>j << 4);
        a6(v128.load(c), v128.load(c, 96), v128.load(c, 192), v128.load(c, 288), o + <usize>j * xs, 6 * xs, n);
      }
    }
  }
}


/** (G^T s)[a] of 6 values s0..s5 (a = 0..2: rows (1/4, -1/6, -1/6, 1/24, 1/24, 0), (0, -1/6, 1/6, 1/12, -1/12, 0), (0, -1/6, -1/6, 1/6, 1/6, 1)). */
// @ts-ignore: decorator
@inline
function gt3(a: i32, s0: f32, s1: f32, s2: f32, s3: f32, s4: f32, s5: f32): f32 {
  if (a == 0) return 0.25 * s0 - (s1 + s2) * <f32>(1.0 / 6.0) + (s3 + s4) * <f32>(1.0 / 24.0);
  if (a == 1) return (s2 - s1) * <f32>(1.0 / 6.0) + (s3 - s4) * <f32>(1.0 / 12.0);
  return (s3 + s4 - s1 - s2) * <f32>(1.0 / 6.0) + s5;
}

/** gt3 on 4 lanes. */
// @ts-ignore: decorator
@inline
function gt3v(a: i32, s0: v128, s1: v128, s2: v128, s3: v128, s4: v128, s5: v128): v128 {
  if (a == 0) {
    return f32x4.add(f32x4.sub(f32x4.mul(s0, f32x4.splat(0.25)), f32x4.mul(f32x4.add(s1, s2), f32x4.splat(<f32>(1.0 / 6.0)))),
      f32x4.mul(f32x4.add(s3, s4), f32x4.splat(<f32>(1.0 / 24.0))));
  }
  if (a == 1) {
    return f32x4.add(f32x4.mul(f32x4.sub(s2, s1), f32x4.splat(<f32>(1.0 / 6.0))), f32x4.mul(f32x4.sub(s3, s4), f32x4.splat(<f32>(1.0 / 12.0))));
  }
  return f32x4.add(f32x4.mul(f32x4.sub(f32x4.add(s3, s4), f32x4.add(s1, s2)), f32x4.splat(<f32>(1.0 / 6.0))), s5);
}

/** Stores lane l of v at p + 36 l bytes (the same tap of 4 consecutive filters of dw). */
// @ts-ignore: decorator
@inline
function put_taps(p: usize, v: v128): void {
  store<f32>(p, f32x4.extract_lane(v, 0));
  store<f32>(p, f32x4.extract_lane(v, 1), 36);
  store<f32>(p, f32x4.extract_lane(v, 2), 72);
  store<f32>(p, f32x4.extract_lane(v, 3), 108);
}

export function wino4_grad_filter_f32(sums: usize, FN: i32, C: i32, dw: usize): void {
  // sums: (WINO_PARTS, 36, FN, C) -> dw: (FN, C, 3, 3) = G^T acc G per (f, c), acc = the partitions
  // added in order into sums[0] (so sums is clobbered)
  const axs = <usize>(FN * C) << 2;
  const n: usize = axs * 36;
  for (let part = 1; part < WINO_PARTS; part++) {
    const s = sums + <usize>part * n;
    let i: usize = 0;
    for (; i + 16 <= n; i += 16) v128.store(sums + i, f32x4.add(v128.load(sums + i), v128.load(s + i)));
    for (; i < n; i += 4) store<f32>(sums + i, load<f32>(sums + i) + load<f32>(s + i));
  }
  // dw = G^T acc G per filter: t = G^T acc (3x6), then row a of t G = G^T applied to row a of t;
  // 4 filters (f, c..c+3) at a time in f32x4 lanes, the last C % 4 one at a time
  const rows = axs * 6; // between rows of acc (xi = 6i + j)
  for (let f = 0; f < FN; f++) {
    let c = 0;
    for (; c + 4 <= C; c += 4) {
      const o = sums + (<usize>(f * C + c) << 2);
      let t00 = f32x4.splat(0), t01 = t00, t02 = t00, t03 = t00, t04 = t00, t05 = t00;
      let t10 = t00, t11 = t00, t12 = t00, t13 = t00, t14 = t00, t15 = t00;
      let t20 = t00, t21 = t00, t22 = t00, t23 = t00, t24 = t00, t25 = t00;
      for (let j = 0; j < 6; j++) {
        const e = o + <usize>j * axs;
        const s0 = v128.load(e), s1 = v128.load(e + rows), s2 = v128.load(e + 2 * rows);
        const s3 = v128.load(e + 3 * rows), s4 = v128.load(e + 4 * rows), s5 = v128.load(e + 5 * rows);
        const u0 = gt3v(0, s0, s1, s2, s3, s4, s5), u1 = gt3v(1, s0, s1, s2, s3, s4, s5), u2 = gt3v(2, s0, s1, s2, s3, s4, s5);
        if (j == 0) { t00 = u0; t10 = u1; t20 = u2; } else if (j == 1) { t01 = u0; t11 = u1; t21 = u2; }
        else if (j == 2) { t02 = u0; t12 = u1; t22 = u2; } else if (j == 3) { t03 = u0; t13 = u1; t23 = u2; }
        else if (j == 4) { t04 = u0; t14 = u1; t24 = u2; } else { t05 = u0; t15 = u1; t25 = u2; }
      }
      const out = dw + (<usize>((f * C + c) * 9) << 2);
      put_taps(out, gt3v(0, t00, t01, t02, t03, t04, t05));
      put_taps(out + 4, gt3v(1, t00, t01, t02, t03, t04, t05));
      put_taps(out + 8, gt3v(2, t00, t01, t02, t03, t04, t05));
      put_taps(out + 12, gt3v(0, t10, t11, t12, t13, t14, t15));
      put_taps(out + 16, gt3v(1, t10, t11, t12, t13, t14, t15));
      put_taps(out + 20, gt3v(2, t10, t11, t12, t13, t14, t15));
      put_taps(out + 24, gt3v(0, t20, t21, t22, t23, t24, t25));
      put_taps(out + 28, gt3v(1, t20, t21, t22, t23, t24, t25));
      put_taps(out + 32, gt3v(2, t20, t21, t22, t23, t24, t25));
    }
    for (; c < C; c++) {
      const o = sums + (<usize>(f * C + c) << 2);
      const out = dw + (<usize>((f * C + c) * 9) << 2);
      for (let a = 0; a < 3; a++) {
        // t[a][j] = (G^T acc[.][j])[a], column j of acc: o + j * axs + i * rows
        let t0: f32 = 0, t1: f32 = 0, t2: f32 = 0, t3: f32 = 0, t4: f32 = 0, t5: f32 = 0;
        for (let j = 0; j < 6; j++) {
          const e = o + <usize>j * axs;
          const tj = gt3(a, load<f32>(e), load<f32>(e + rows), load<f32>(e + 2 * rows), load<f32>(e + 3 * rows),
            load<f32>(e + 4 * rows), load<f32>(e + 5 * rows));
          if (j == 0) t0 = tj; else if (j == 1) t1 = tj; else if (j == 2) t2 = tj;
          else if (j == 3) t3 = tj; else if (j == 4) t4 = tj; else t5 = tj;
        }
        const e = out + (<usize>(a * 3) << 2);
        store<f32>(e, gt3(0, t0, t1, t2, t3, t4, t5));
        store<f32>(e, gt3(1, t0, t1, t2, t3, t4, t5), 4);
        store<f32>(e, gt3(2, t0, t1, t2, t3, t4, t5), 8);
      }
    }
  }
}
