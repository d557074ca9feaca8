// winograd5.ts — the inference convolution 5x5, stride 1, pad 0..4, with bias, ReLU and a 2x2
// stride-2 max-pool fused, by Winograd F(4x4, 5x5) (shapes and scratch: src/backend/kernels.ts,
// wino5_* and wino5FwdScratch): y = maxpool(relu(conv(x, w) + b)), each 4x4 output tile four pool
// windows, so conv rows and columns the pool drops (an odd last one) are never stored.
//
// A tile's 16 outputs are A^T [(G g G^T) . (B^T d B)] A of the 8x8 input d under it: 64 products
// per tile and channel where the direct algorithm needs 400 multiply-adds. With few input channels
// (SimpleConvNet's one) the channel sums are too short to be GEMMs; instead each filter runs over
// the transformed tiles of an image (in L1), 4 tiles at a time (f32x4 lanes, the image's tiles in
// row-major order: a quad may span two tile rows): products, output transform, each window's max,
// bias and ReLU, with only the pooled values stored. Max first, then bias and ReLU, is exact
// (conv-fused.ts's head explains); a NaN among a window's 4 outputs gives NaN.
//
// Matrices (interpolation points 0, 1, -1, 2, -2, 1/2, -1/2 and infinity):
//   B^T = [1 0 -21/4 0 21/4 0 -1 0; 0 1 1 -17/4 -17/4 1 1 0; 0 -1 1 17/4 -17/4 -1 1 0;
//          0 1/2 1/4 -5/2 -5/4 2 1 0; 0 -1/2 1/4 5/2 -5/4 -2 1 0; 0 2 4 -5/2 -5 1/2 1 0;
//          0 -2 4 5/2 -5 -1/2 1 0; 0 -1 0 21/4 0 -21/4 0 1]
//   G   = [1 0 0 0 0; -2/9 (1 1 1 1 1); -2/9 (1 -1 1 -1 1); 1/90 1/45 2/45 4/45 8/45;
//          1/90 -1/45 2/45 -4/45 8/45; 32/45 16/45 8/45 4/45 2/45; 32/45 -16/45 8/45 -4/45 2/45; 0 0 0 0 1]
//   A^T = [1 1 1 1 1 1 1 0; 0 1 -1 2 -2 1/2 -1/2 0; 0 1 1 4 4 1/4 1/4 0; 0 1 -1 8 -8 1/8 -1/8 1]
// Their coefficients scale the roundings several times more than F(4x4, 3x3)'s
// (tests/kernels/winograd5.test.ts). Layouts: u (FN, C, 64) x 4 copies of S G g G^T S (at8 explains
// S) and a quad's transformed inputs (C, 64) x v128, entry k = 8 * column + row of the 8x8
// transformed tile (the output transform's first step runs down a column).
import { copy_row } from './winograd';

// the constants of the transforms, read as splat loads (constants in registers would crowd out
// the tiles' values; rebuilding a splat costs 3 instructions where a load costs 1): kc(K_2) = 2, ...
const KC: usize = memory.data<f32>([2, 0.5, 4, 0.25, 8, 5.25, 4.25, 1.25, 2.5]);
const K_2 = 0, K_HALF = 1, K_4 = 2, K_QUARTER = 3, K_8 = 4, K_21_4 = 5, K_17_4 = 6, K_5_4 = 7, K_5_2 = 8;

// @ts-ignore: decorator
@inline
function kc(i: i32): v128 {
  return v128.load32_splat(KC + (<usize>i << 2));
}

/** (S G s)[j] of the 5 values s0..s4 -> o + j * os, j = 0..7, S = diag(1, 1, 1, 1, 1, 1/8, 1/8, 1) (at8). */
// @ts-ignore: decorator
@inline
function g8(s0: f32, s1: f32, s2: f32, s3: f32, s4: f32, o: usize, os: usize): void {
  const e = s0 + s2 + s4, d = s1 + s3;
  const e3 = s0 * <f32>(1.0 / 90.0) + s2 * <f32>(2.0 / 45.0) + s4 * <f32>(8.0 / 45.0);
  const d3 = s1 * <f32>(1.0 / 45.0) + s3 * <f32>(4.0 / 45.0);
  const e5 = s0 * <f32>(4.0 / 45.0) + s2 * <f32>(1.0 / 45.0) + s4 * <f32>(1.0 / 180.0);
  const d5 = s1 * <f32>(2.0 / 45.0) + s3 * <f32>(1.0 / 90.0);
  store<f32>(o, s0);
  store<f32>(o + os, (e + d) * <f32>(-2.0 / 9.0));
  store<f32>(o + 2 * os, (e - d) * <f32>(-2.0 / 9.0));
  store<f32>(o + 3 * os, e3 + d3);
  store<f32>(o + 4 * os, e3 - d3);
  store<f32>(o + 5 * os, e5 + d5);
  store<f32>(o + 6 * os, e5 - d5);
  store<f32>(o + 7 * os, s4);
}

export function wino5_filter_f32(w: usize, FN: i32, C: i32, u: usize): void {
  // w: (FN, C, 5, 5) -> u: (FN, C, 64, 4) = S G g G^T S per (f, c) (S: g8's), entry 8 * column + row,
  // each float 4 times (the kernel multiplies by whole vectors: a splat load costs an address add more)
  for (let i = 0; i < FN * C; i++) {
    // the 64 floats into the first quarter of this (f, c)'s block, then spread from the back
    // (entry k's copies overwrite entries 4k..4k+3, already spread or k itself)
    const g = w + (<usize>(i * 25) << 2), o = u + (<usize>(i * 64) << 4);
    // row a of g G^T into entries 8j + a, j = 0..7 (rows 0..4 of each column)
    for (let a = 0; a < 5; a++) {
      const s = g + <usize>(a * 20);
      g8(load<f32>(s), load<f32>(s, 4), load<f32>(s, 8), load<f32>(s, 12), load<f32>(s, 16), o + (<usize>a << 2), 32);
    }
    // column j of g G^T (its 5 entries read before they are overwritten) -> column j of G g G^T
    for (let j = 0; j < 8; j++) {
      const s = o + <usize>(j * 32);
      g8(load<f32>(s), load<f32>(s, 4), load<f32>(s, 8), load<f32>(s, 12), load<f32>(s, 16), s, 4);
    }
    for (let k = 63; k >= 0; k--) v128.store(o + (<usize>k << 4), v128.load32_splat(o + (<usize>k << 2)));
  }
}

/** B^T d of 8 vectors d0..d7 (one column of 4 tiles, or a row's 8 columns) -> o + i * os, i = 0..7. */
// @ts-ignore: decorator
@inline
function bt8(d0: v128, d1: v128, d2: v128, d3: v128, d4: v128, d5: v128, d6: v128, d7: v128, o: usize, os: usize): void {
  v128.store(o, f32x4.add(f32x4.sub(d0, d6), f32x4.mul(kc(K_21_4), f32x4.sub(d4, d2))));
  v128.store(o + 7 * os, f32x4.add(f32x4.sub(d7, d1), f32x4.mul(kc(K_21_4), f32x4.sub(d3, d5))));
  let a = f32x4.sub(f32x4.add(d2, d6), f32x4.mul(kc(K_17_4), d4));
  let b = f32x4.sub(f32x4.add(d1, d5), f32x4.mul(kc(K_17_4), d3));
  v128.store(o + os, f32x4.add(a, b));
  v128.store(o + 2 * os, f32x4.sub(a, b));
  a = f32x4.sub(f32x4.add(d6, f32x4.mul(kc(K_QUARTER), d2)), f32x4.mul(kc(K_5_4), d4));
  b = f32x4.add(f32x4.sub(f32x4.mul(kc(K_HALF), d1), f32x4.mul(kc(K_5_2), d3)), f32x4.mul(kc(K_2), d5));
  v128.store(o + 3 * os, f32x4.add(a, b));
  v128.store(o + 4 * os, f32x4.sub(a, b));
  a = f32x4.add(d6, f32x4.mul(kc(K_4), f32x4.sub(d2, f32x4.mul(kc(K_5_4), d4)))); // d6 + 4 d2 - 5 d4
  b = f32x4.add(f32x4.sub(f32x4.mul(kc(K_2), d1), f32x4.mul(kc(K_5_2), d3)), f32x4.mul(kc(K_HALF), d5));
  v128.store(o + 5 * os, f32x4.add(a, b));
  v128.store(o + 6 * os, f32x4.sub(a, b));
}

/**
 * v: 64 x v128 = B^T d B of 4 tiles in lanes, tile l's 8x8 input from q + ql (ql: 4 byte offsets
 * at ofs), rows wp4 bytes apart; tmp: 64 x 16 bytes (d B of the 8 rows).
 */
function input_quad(q: usize, ofs: usize, wp4: usize, v: usize, tmp: usize): void {
  let p0 = q + <usize>load<i32>(ofs), p1 = q + <usize>load<i32>(ofs, 4);
  let p2 = q + <usize>load<i32>(ofs, 8), p3 = q + <usize>load<i32>(ofs, 12);
  for (let r = 0; r < 8; r++) {
    // row r of the 4 tiles: columns 0..3 and 4..7 of each, transposed so that column j is a vector
    const a0 = v128.load(p0), a1 = v128.load(p1), a2 = v128.load(p2), a3 = v128.load(p3);
    const b0 = v128.load(p0, 16), b1 = v128.load(p1, 16), b2 = v128.load(p2, 16), b3 = v128.load(p3, 16);
    const s0 = i32x4.shuffle(a0, a1, 0, 4, 1, 5), s1 = i32x4.shuffle(a2, a3, 0, 4, 1, 5);
    const s2 = i32x4.shuffle(a0, a1, 2, 6, 3, 7), s3 = i32x4.shuffle(a2, a3, 2, 6, 3, 7);
    const t0 = i32x4.shuffle(b0, b1, 0, 4, 1, 5), t1 = i32x4.shuffle(b2, b3, 0, 4, 1, 5);
    const t2 = i32x4.shuffle(b0, b1, 2, 6, 3, 7), t3 = i32x4.shuffle(b2, b3, 2, 6, 3, 7);
    bt8(i32x4.shuffle(s0, s1, 0, 1, 4, 5), i32x4.shuffle(s0, s1, 2, 3, 6, 7),
      i32x4.shuffle(s2, s3, 0, 1, 4, 5), i32x4.shuffle(s2, s3, 2, 3, 6, 7),
      i32x4.shuffle(t0, t1, 0, 1, 4, 5), i32x4.shuffle(t0, t1, 2, 3, 6, 7),
      i32x4.shuffle(t2, t3, 0, 1, 4, 5), i32x4.shuffle(t2, t3, 2, 3, 6, 7), tmp + <usize>(r * 128), 16); // tmp[r][j]
    p0 += wp4; p1 += wp4; p2 += wp4; p3 += wp4;
  }
  for (let j = 0; j < 8; j++) {
    const c = tmp + (<usize>j << 4);
    bt8(v128.load(c), v128.load(c, 128), v128.load(c, 256), v128.load(c, 384), v128.load(c, 512), v128.load(c, 640),
      v128.load(c, 768), v128.load(c, 896), v + <usize>(j * 128), 16); // v[8j + i] = (B^T d B)[i][j]
  }
}

/**
 * A^T m of 8 vectors -> o + r * os, r = 0..3, with m5 and m6 scaled by 1/8 (wino5_filter_f32 folds
 * it into u, in both directions, exactly), which turns the coefficients of the (1/2, -1/2) pair
 * from 1, 1/2, 1/4, 1/8 into 8, 4, 2, 1 and the doublings into additions:
 *   o0 = m0 + s1 + s2 + 8 s3,  o1 = d1 + 2 (d2 + 2 d3),  o2 = s1 + 2 (2 s2 + s3),  o3 = d1 + 8 d2 + d3 + m7
 * (s1 = m1 + m2, d1 = m1 - m2, s2, d2 of m3, m4 and s3, d3 of m5, m6). Stores, not register
 * results: the engine schedules pure arithmetic late, and values held across calls would stretch the
 * live ranges of their loads past the 15 XMM registers; a store must follow the arithmetic that feeds it.
 */
// @ts-ignore: decorator
@inline
function at8(m0: v128, m1: v128, m2: v128, m3: v128, m4: v128, m5: v128, m6: v128, m7: v128, o: usize, os: usize): void {
  const eight = kc(K_8);
  const s1 = f32x4.add(m1, m2), s2 = f32x4.add(m3, m4), s3 = f32x4.add(m5, m6);
  v128.store(o, f32x4.add(f32x4.add(m0, s1), f32x4.add(s2, f32x4.mul(eight, s3))));
  let t = f32x4.add(f32x4.add(s2, s2), s3);
  v128.store(o + 2 * os, f32x4.add(s1, f32x4.add(t, t)));
  const d1 = f32x4.sub(m1, m2), d2 = f32x4.sub(m3, m4), d3 = f32x4.sub(m5, m6);
  t = f32x4.add(d2, f32x4.add(d3, d3));
  v128.store(o + os, f32x4.add(d1, f32x4.add(t, t)));
  v128.store(o + 3 * os, f32x4.add(f32x4.add(d1, f32x4.mul(eight, d2)), f32x4.add(d3, m7)));
}

/**
 * Column j of A^T M into slots + 16 (8 r + j), r = 0..3, from its 8 entries (8 x v128 at mc; one
 * channel, direct: times the 8 vectors of u at uc; more: the channel sums).
 */
// @ts-ignore: decorator
@inline
function column(direct: bool, mc: usize, uc: usize, slot: usize): void {
  let m0 = v128.load(mc), m1 = v128.load(mc, 16), m2 = v128.load(mc, 32), m3 = v128.load(mc, 48);
  let m4 = v128.load(mc, 64), m5 = v128.load(mc, 80), m6 = v128.load(mc, 96), m7 = v128.load(mc, 112);
  if (direct) {
    m0 = f32x4.mul(m0, v128.load(uc)); m1 = f32x4.mul(m1, v128.load(uc, 16));
    m2 = f32x4.mul(m2, v128.load(uc, 32)); m3 = f32x4.mul(m3, v128.load(uc, 48));
    m4 = f32x4.mul(m4, v128.load(uc, 64)); m5 = f32x4.mul(m5, v128.load(uc, 80));
    m6 = f32x4.mul(m6, v128.load(uc, 96)); m7 = f32x4.mul(m7, v128.load(uc, 112));
  }
  at8(m0, m1, m2, m3, m4, m5, m6, m7, slot, 128);
}

/** A^T M of a quad (8 columns; m, u as column's) into slots. */
// @ts-ignore: decorator
@inline
function columns(direct: bool, m: usize, u: usize, slots: usize): void {
  column(direct, m, u, slots);
  column(direct, m + 128, u + 128, slots + 16);
  column(direct, m + 256, u + 256, slots + 32);
  column(direct, m + 384, u + 384, slots + 48);
  column(direct, m + 512, u + 512, slots + 64);
  column(direct, m + 640, u + 640, slots + 80);
  column(direct, m + 768, u + 768, slots + 96);
  column(direct, m + 896, u + 896, slots + 112);
}

/** Row r of Y = (A^T M) A from the 8 slots at s -> 4 x v128 at o. */
// @ts-ignore: decorator
@inline
function row(s: usize, o: usize): void {
  at8(v128.load(s), v128.load(s, 16), v128.load(s, 32), v128.load(s, 48), v128.load(s, 64), v128.load(s, 80),
    v128.load(s, 96), v128.load(s, 112), o, 16);
}

/** relu(max of the 2x2 window y (row stride 64 bytes) + bias), NaN where one of them is NaN. */
// @ts-ignore: decorator
@inline
function pool(y: usize, bias: v128): v128 {
  const a = v128.load(y), b = v128.load(y, 16), c = v128.load(y, 64), d = v128.load(y, 80);
  // pmax keeps its first operand when either is NaN; the lanes' NaN masks (all ones: a NaN) catch the rest
  const nan = v128.or(v128.or(f32x4.ne(a, a), f32x4.ne(b, b)), v128.or(f32x4.ne(c, c), f32x4.ne(d, d)));
  const r = f32x4.add(f32x4.pmax(f32x4.pmax(a, b), f32x4.pmax(c, d)), bias);
  return v128.or(v128.andnot(r, f32x4.le(r, f32x4.splat(0))), nan); // ReLU as relu_fwd_f32: x <= 0 -> 0
}

/** mt: 64 x v128 = sum over the C channels of u[c][k] * v[c][k] (v: (C, 64) v128, u: (C, 64, 4) floats). */
function channel_sums(v: usize, ub: usize, C: i32, mt: usize): void {
  for (let k = 0; k < 64; k++) {
    const vk = v + (<usize>k << 4), uk = ub + (<usize>k << 4);
    let s = f32x4.mul(v128.load(uk), v128.load(vk));
    for (let c = 1; c < C; c++) {
      const o = <usize>c << 10;
      s = f32x4.add(s, f32x4.mul(v128.load(uk + o), v128.load(vk + o)));
    }
    v128.store(mt + (<usize>k << 4), s);
  }
}

/**
 * The 4 pooled values of each of 4 tiles (p: 4 x v128, pooled (0,0), (0,1), (1,0), (1,1) of the tiles
 * in lanes) into the output plane yf: tile l at float offset load<i32>(tq + 8l) with flags
 * load<i32>(tq + 8l + 4): bit 0 = a second pooled column, bit 1 = a second pooled row, -1 = no tile;
 * full: every flag is 3.
 */
function store_quad(p: usize, yf: usize, tq: usize, rowBytes: usize, full: bool): void {
  // transpose: tile l's (p00, p01, p10, p11) in one vector
  const a = v128.load(p), b = v128.load(p, 16), c = v128.load(p, 32), d = v128.load(p, 48);
  const s0 = i32x4.shuffle(a, b, 0, 4, 1, 5), s1 = i32x4.shuffle(c, d, 0, 4, 1, 5);
  const s2 = i32x4.shuffle(a, b, 2, 6, 3, 7), s3 = i32x4.shuffle(c, d, 2, 6, 3, 7);
  const w0 = i32x4.shuffle(s0, s1, 0, 1, 4, 5), w1 = i32x4.shuffle(s0, s1, 2, 3, 6, 7);
  const w2 = i32x4.shuffle(s2, s3, 0, 1, 4, 5), w3 = i32x4.shuffle(s2, s3, 2, 3, 6, 7);
  if (full) {
    // 4 tiles, each with 2 pooled rows and columns
    let o = yf + (<usize>load<i32>(tq) << 2);
    v128.store64_lane(o, w0, 0); v128.store64_lane(o + rowBytes, w0, 1);
    o = yf + (<usize>load<i32>(tq, 8) << 2);
    v128.store64_lane(o, w1, 0); v128.store64_lane(o + rowBytes, w1, 1);
    o = yf + (<usize>load<i32>(tq, 16) << 2);
    v128.store64_lane(o, w2, 0); v128.store64_lane(o + rowBytes, w2, 1);
    o = yf + (<usize>load<i32>(tq, 24) << 2);
    v128.store64_lane(o, w3, 0); v128.store64_lane(o + rowBytes, w3, 1);
    return;
  }
  v128.store(p, w0);
  v128.store(p, w1, 16);
  v128.store(p, w2, 32);
  v128.store(p, w3, 48);
  for (let l = 0; l < 4; l++) {
    const flags = load<i32>(tq + (<usize>l << 3), 4);
    if (flags < 0) break;
    const o = yf + (<usize>load<i32>(tq + (<usize>l << 3)) << 2), t = p + (<usize>l << 4);
    store<f32>(o, load<f32>(t));
    if (flags & 1) store<f32>(o, load<f32>(t, 4), 4);
    if (flags & 2) {
      store<f32>(o + rowBytes, load<f32>(t, 8));
      if (flags & 1) store<f32>(o + rowBytes, load<f32>(t, 12), 4);
    }
  }
}

export function wino5_relu_pool_fwd_f32(x: usize, N: i32, C: i32, H: i32, W: i32, u: usize, FN: i32, pad: i32,
  b: usize, hasBias: i32, y: usize, scratch: usize): void {
  // x: (N, C, H, W); u: (FN, C, 64, 4) (wino5_filter_f32); b: (FN) if hasBias -> y: (N, FN, PH, PW),
  // PH = OH / 2, PW = OW / 2 (floor), OH = H + 2*pad - 4, OW likewise; untouched when N, FN, PH
  // or PW <= 0. scratch (wino5FwdScratch floats): C padded planes (Hp, Wp) | v: (nq, C, 64) v128 |
  // tiles: (nq, 4) x (offset, flags) i32 | tmp: 64 v128 | mt: 64 v128 | 4 floats
  const OH = H + 2 * pad - 4, OW = W + 2 * pad - 4;
  const PH = OH >> 1, PW = OW >> 1;
  if (N <= 0 || FN <= 0 || OH < 2 || OW < 2) return;
  const TH = (PH + 1) >> 1, TW = (PW + 1) >> 1, T = TH * TW, nq = (T + 3) >> 2;
  // tile (i, j) reads padded rows 4i..4i+7, columns 4j..4j+7
  const Hp = 4 * TH + 4, Wp = 4 * TW + 4;
  const planeBytes = <usize>((Hp * Wp + 3) & ~3) << 2;
  const quadBytes = <usize>C << 10; // one quad's v: (C, 64) v128
  const p = scratch;
  const v = p + <usize>C * planeBytes;
  const tiles = v + <usize>nq * quadBytes;
  const tmp = tiles + (<usize>nq << 5);
  const mt = tmp + 1024;
  const zero = mt + 1024; // the bias without one
  store<f32>(zero, 0);
  // each quad's tiles: output offset (floats) and flags; a quad's lanes without a tile (flags -1)
  // transform its first tile's input again (computed, never stored)
  const wp4 = <usize>Wp << 2;
  for (let t = 0; t < nq * 4; t++) {
    const e = tiles + (<usize>t << 3);
    if (t >= T) {
      store<i32>(e, 0); store<i32>(e, -1, 4);
      continue;
    }
    const ti = t / TW, tj = t - ti * TW;
    store<i32>(e, 2 * ti * PW + 2 * tj);
    store<i32>(e, (2 * tj + 1 < PW ? 1 : 0) | (2 * ti + 1 < PH ? 2 : 0), 4);
  }
  // the border stays zero: every image writes the same interior (rows and columns no tile reads are left out)
  memory.fill(p, 0, <usize>C * planeBytes);
  const rows = min(H, Hp - pad), cols = min(W, Wp - pad);
  const inPlane = <usize>(H * W) << 2, outPlane = <usize>(PH * PW) << 2, rowBytes = <usize>PW << 2;
  const uf = <usize>C << 10; // bytes of one filter's u
  const ofs = mt; // a quad's 4 input offsets (bytes), while its tiles are transformed
  const slots = tmp, ys = tmp + 512, pooled = tmp + 768;
  for (let n = 0; n < N; n++) {
    const img = x + <usize>(n * C) * inPlane;
    for (let c = 0; c < C; c++) {
      const src = img + <usize>c * inPlane, dst = p + <usize>c * planeBytes + (<usize>(pad * Wp + pad) << 2);
      for (let r = 0; r < rows; r++) copy_row(dst + <usize>r * wp4, src + (<usize>(r * W) << 2), cols);
    }
    for (let q = 0; q < nq; q++) {
      for (let l = 0; l < 4; l++) {
        const t = 4 * q + l < T ? 4 * q + l : 4 * q;
        const ti = t / TW, tj = t - ti * TW;
        store<i32>(ofs + (<usize>l << 2), <i32>((<usize>(4 * ti) * wp4) + (<usize>(4 * tj) << 2)));
      }
      for (let c = 0; c < C; c++) input_quad(p + <usize>c * planeBytes, ofs, wp4, v + <usize>q * quadBytes + (<usize>c << 10), tmp);
    }
    const yn = y + <usize>(n * FN) * outPlane;
    for (let f = 0; f < FN; f++) {
      const bias = v128.load32_splat(hasBias != 0 ? b + (<usize>f << 2) : zero);
      const ub = u + <usize>f * uf, yf = yn + <usize>f * outPlane;
      for (let q = 0; q < nq; q++) {
        const vq = v + <usize>q * quadBytes;
        if (C == 1) {
          columns(true, vq, ub, slots);
        } else {
          channel_sums(vq, ub, C, mt);
          columns(false, mt, ub, slots);
        }
        for (let r = 0; r < 4; r++) row(slots + <usize>(r * 128), ys + (<usize>r << 6));
        v128.store(pooled, pool(ys, bias));
        v128.store(pooled, pool(ys + 32, bias), 16);
        v128.store(pooled, pool(ys + 128, bias), 32);
        v128.store(pooled, pool(ys + 160, bias), 48);
        const tq = tiles + (<usize>q << 5);
        // flags are -1..3: 12 when all four are 3
        store_quad(pooled, yf, tq, rowBytes, load<i32>(tq, 4) + load<i32>(tq, 12) + load<i32>(tq, 20) + load<i32>(tq, 28) == 12);
      }
    }
  }
}
