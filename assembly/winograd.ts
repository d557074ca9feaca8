// winograd.ts — Winograd F(2x2, 3x3) convolution: stride 1, 3x3 filters, pad 0..2, NCHW
// (shapes, tile layout and scratch: src/backend/kernels.ts, wino_* and winoGeom): its transforms
// and the helpers both tile sizes share; the pipeline that runs them (wino_fwd_f32,
// wino_grad_sums_f32) is winograd-conv.ts.
//
// Each 2x2 output tile is A^T [(G g G^T) . (B^T d B)] A of the 4x4 input tile d under it: 16
// products per tile and channel instead of 36 multiply-adds. The products summed over channels
// are 16 GEMMs, (FN, C) x (C, tiles), over groups of images; the input and output transforms
// run on 4 tiles of a tile row at a time (f32x4 lanes), reading a zero-padded copy of each
// plane, so no transform tests bounds. The input gradient is the forward of dy with the
// flipped, transposed filters (wino_filter_f32 with flip) and pad 2 - pad. The filter gradient
// is G^T [sum over tiles (A dY A^T) . (B^T d B)] G, the sums being 16 GEMMs (FN, tiles) x
// (tiles, C) accumulated over the groups of each of WINO_PARTS image partitions in order
// (partitions depend on N only); wino_grad_filter_f32 adds the partitions in order and applies
// G^T . G.
export const WINO_COLS: i32 = 256; // target tiles per group (twin of WINO_COLS in src/backend/kernels.ts)
export const WINO_PARTS: i32 = 4; // image partitions of the filter gradient (twin of WINO_PARTS in src/backend/kernels.ts)

/**
 * Images per group of at least `cols` target tiles (WINO_COLS here): ceil(cols / T), at most N
 * (winoGeom's G); a group of 2 images of 49 tiles beats one of 49 for cols = 64.
 */
export function wino_group(N: i32, T: i32, cols: i32): i32 {
  const t = max(T, 1);
  let g = (cols + t - 1) / t;
  if (g > N) g = N;
  return g < 1 ? 1 : g;
}

/**
 * Row stride of the tile matrices: G*T floats, 4 more when that is a multiple of 32 (so that the
 * 16 xi planes, rows * ld floats apart, do not all map to the same L1 sets). Twin of winoGeom's ld.
 */
export function wino_ld(c: i32): i32 {
  return (c & 31) == 0 ? c + 4 : c;
}

/**
 * Bytes between the xi planes of a (rows, ld) tile matrix: rows * ld floats rounded up to an odd
 * number of 64-byte lines, so the 16 or 36 planes a transform reads or writes for one tile fall
 * in distinct L1 sets (a plane of 12 KiB, FN = 64 by 48 tiles, put all 36 in one set and made
 * F(4x4)'s forward 1.5x slower). Twin of winoPlane in src/backend/kernels.ts.
 */
export function wino_plane_bytes(rows: i32, ld: i32): usize {
  let lines = (rows * ld + 15) >> 4;
  if ((lines & 1) == 0) lines++;
  return <usize>lines << 6;
}

// @ts-ignore: decorator
@inline
export function round4(n: i32): i32 {
  return (n + 3) & ~3;
}

export function wino_filter_f32(w: usize, FN: i32, C: i32, flip: i32, u: usize): void {
  // w: (FN, C, 3, 3) -> u: (16, FN, C) = G g G^T per (f, c); flip: u: (16, C, FN), g rotated by 180 degrees
  const plane = <usize>(FN * C) << 2;
  for (let f = 0; f < FN; f++) {
    for (let c = 0; c < C; c++) {
      const s = w + (<usize>((f * C + c) * 9) << 2);
      const dst = u + (<usize>(flip != 0 ? c * FN + f : f * C + c) << 2);
      for (let i = 0; i < 4; i++) {
        // row i of q = G g (4x3); rows of g read backwards when flipped
        let q0: f32, q1: f32, q2: f32;
        if (i == 0 || i == 3) {
          const r = i == 0 ? 0 : 2;
          q0 = gv(s, flip, r, 0); q1 = gv(s, flip, r, 1); q2 = gv(s, flip, r, 2);
        } else {
          const sg: f32 = i == 1 ? 1 : -1;
          q0 = 0.5 * (gv(s, flip, 0, 0) + sg * gv(s, flip, 1, 0) + gv(s, flip, 2, 0));
          q1 = 0.5 * (gv(s, flip, 0, 1) + sg * gv(s, flip, 1, 1) + gv(s, flip, 2, 1));
          q2 = 0.5 * (gv(s, flip, 0, 2) + sg * gv(s, flip, 1, 2) + gv(s, flip, 2, 2));
        }
        const o = dst + <usize>(i * 4) * plane;
        store<f32>(o, q0);
        store<f32>(o + plane, 0.5 * (q0 + q1 + q2));
        store<f32>(o + 2 * plane, 0.5 * (q0 - q1 + q2));
        store<f32>(o + 3 * plane, q2);
      }
    }
  }
}

/** g[a][b] of the filter at s (3x3), or of its 180-degree rotation when flip != 0. */
// @ts-ignore: decorator
@inline
export function gv(s: usize, flip: i32, a: i32, b: i32): f32 {
  const i = flip != 0 ? 8 - (a * 3 + b) : a * 3 + b;
  return load<f32>(s + (<usize>i << 2));
}

// @ts-ignore: decorator
@inline
function evens(a: v128, b: v128): v128 {
  return v128.shuffle<f32>(a, b, 0, 2, 4, 6);
}

// @ts-ignore: decorator
@inline
function odds(a: v128, b: v128): v128 {
  return v128.shuffle<f32>(a, b, 1, 3, 5, 7);
}

/** Stores the first n lanes of v at p: all four when n >= 4 (a tile quad's clipped tail stores fewer). */
// @ts-ignore: decorator
@inline
export function put(p: usize, v: v128, n: i32): void {
  if (n >= 4) {
    v128.store(p, v);
    return;
  }
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (n > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (n > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

/**
 * Copies n floats from src to dst (the ranges do not overlap), 4 at a time: rows of a plane are
 * short (8-28 floats here), where memory.copy's call into the engine costs more than the copy.
 */
// @ts-ignore: decorator
@inline
export function copy_row(dst: usize, src: usize, n: i32): void {
  const bytes = <usize>n << 2;
  let o: usize = 0;
  for (; o + 16 <= bytes; o += 16) v128.store(dst + o, v128.load(src + o));
  for (; o < bytes; o += 4) store<f32>(dst + o, load<f32>(src + o));
}

/** Copies the plane (H, W) at src into the zero-bordered plane (., Wp) at p, offset by pad rows and columns. */
export function fill_plane(src: usize, H: i32, W: i32, pad: i32, Wp: i32, p: usize): void {
  const rowBytes = <usize>W << 2;
  for (let r = 0; r < H; r++) {
    copy_row(p + (<usize>((r + pad) * Wp + pad) << 2), src + <usize>r * rowBytes, W);
  }
}

/**
 * The input tiles of one image: for each of its C planes (H, W) at img, the plane goes into
 * the zero-bordered plane p (fill_plane), then its tiles into v + c * ld4 (input_tiles);
 * v: the image's first column of the (16, C, ld) tile matrices, xs: bytes between their xi planes.
 */
export function image_tiles(img: usize, C: i32, H: i32, W: i32, pad: i32, Wp: i32, p: usize, TH: i32, TW: i32,
  v: usize, ld4: usize, xs: usize): void {
  const planeBytes = <usize>(H * W) << 2;
  for (let c = 0; c < C; c++) {
    fill_plane(img + <usize>c * planeBytes, H, W, pad, Wp, p);
    input_tiles(p, TH, TW, Wp, v + <usize>c * ld4, xs);
  }
}

/**
 * v[xi][t] = (B^T d B)[xi] of every tile t = ti*TW + tj of the padded plane (., Wp) at p (tile
 * (ti, tj) reads rows 2ti..2ti+3, columns 2tj..2tj+3); xs: bytes between the xi planes of v.
 */
function input_tiles(p: usize, TH: i32, TW: i32, Wp: i32, v: usize, xs: usize): void {
  const wp4 = <usize>Wp << 2;
  for (let ti = 0; ti < TH; ti++) {
    const rowp = p + <usize>(2 * ti) * wp4;
    for (let tj = 0; tj < TW; tj += 4) {
      const n = TW - tj;
      // t = d B for the 4 rows r of the tiles (columns 0..3 of each tile in d0..d3)
      let q = rowp + (<usize>(2 * tj) << 2);
      let a = v128.load(q), b = v128.load(q, 16), a2 = v128.load(q, 8), b2 = v128.load(q, 24);
      let d0 = evens(a, b), d1 = odds(a, b), d2 = evens(a2, b2), d3 = odds(a2, b2);
      const t00 = f32x4.sub(d0, d2), t01 = f32x4.add(d1, d2), t02 = f32x4.sub(d2, d1), t03 = f32x4.sub(d1, d3);
      q += wp4;
      a = v128.load(q); b = v128.load(q, 16); a2 = v128.load(q, 8); b2 = v128.load(q, 24);
      d0 = evens(a, b); d1 = odds(a, b); d2 = evens(a2, b2); d3 = odds(a2, b2);
      const t10 = f32x4.sub(d0, d2), t11 = f32x4.add(d1, d2), t12 = f32x4.sub(d2, d1), t13 = f32x4.sub(d1, d3);
      q += wp4;
      a = v128.load(q); b = v128.load(q, 16); a2 = v128.load(q, 8); b2 = v128.load(q, 24);
      d0 = evens(a, b); d1 = odds(a, b); d2 = evens(a2, b2); d3 = odds(a2, b2);
      const t20 = f32x4.sub(d0, d2), t21 = f32x4.add(d1, d2), t22 = f32x4.sub(d2, d1), t23 = f32x4.sub(d1, d3);
      q += wp4;
      a = v128.load(q); b = v128.load(q, 16); a2 = v128.load(q, 8); b2 = v128.load(q, 24);
      d0 = evens(a, b); d1 = odds(a, b); d2 = evens(a2, b2); d3 = odds(a2, b2);
      const t30 = f32x4.sub(d0, d2), t31 = f32x4.add(d1, d2), t32 = f32x4.sub(d2, d1), t33 = f32x4.sub(d1, d3);
      // v = B^T t
      const o = v + (<usize>(ti * TW + tj) << 2);
      put(o, f32x4.sub(t00, t20), n);
      put(o + xs, f32x4.sub(t01, t21), n);
      put(o + 2 * xs, f32x4.sub(t02, t22), n);
      put(o + 3 * xs, f32x4.sub(t03, t23), n);
      put(o + 4 * xs, f32x4.add(t10, t20), n);
      put(o + 5 * xs, f32x4.add(t11, t21), n);
      put(o + 6 * xs, f32x4.add(t12, t22), n);
      put(o + 7 * xs, f32x4.add(t13, t23), n);
      put(o + 8 * xs, f32x4.sub(t20, t10), n);
      put(o + 9 * xs, f32x4.sub(t21, t11), n);
      put(o + 10 * xs, f32x4.sub(t22, t12), n);
      put(o + 11 * xs, f32x4.sub(t23, t13), n);
      put(o + 12 * xs, f32x4.sub(t10, t30), n);
      put(o + 13 * xs, f32x4.sub(t11, t31), n);
      put(o + 14 * xs, f32x4.sub(t12, t32), n);
      put(o + 15 * xs, f32x4.sub(t13, t33), n);
    }
  }
}

/** Writes the 2x2 outputs of one tile (y00 y01 / y10 y11) at row r, column c of y (OH, OW), clipped. */
// @ts-ignore: decorator
@inline
function put_tile(y: usize, OH: i32, OW: i32, r: i32, c: i32, y00: f32, y01: f32, y10: f32, y11: f32): void {
  const o = y + (<usize>(r * OW + c) << 2);
  store<f32>(o, y00);
  if (c + 1 < OW) store<f32>(o, y01, 4);
  if (r + 1 < OH) {
    const o1 = o + (<usize>OW << 2);
    store<f32>(o1, y10);
    if (c + 1 < OW) store<f32>(o1, y11, 4);
  }
}

/**
 * y (OH, OW) = A^T m A + bias of every tile t = ti*TW + tj, m[xi][t] at m + xi * xs bytes. Reads up
 * to 3 floats past the last tile of the last xi plane (the scratch keeps 4 spare floats).
 */
export function output_tiles(m: usize, xs: usize, TH: i32, TW: i32, OH: i32, OW: i32, bias: f32, y: usize): void {
  const bv = f32x4.splat(bias);
  for (let ti = 0; ti < TH; ti++) {
    const r = 2 * ti;
    for (let tj = 0; tj < TW; tj += 4) {
      const o = m + (<usize>(ti * TW + tj) << 2);
      // a = A^T m (2x4), column k from m[k], m[4 + k], m[8 + k], m[12 + k]
      let m0 = v128.load(o), m1 = v128.load(o + 4 * xs), m2 = v128.load(o + 8 * xs), m3 = v128.load(o + 12 * xs);
      const a00 = f32x4.add(f32x4.add(m0, m1), m2), a10 = f32x4.sub(f32x4.sub(m1, m2), m3);
      m0 = v128.load(o + xs); m1 = v128.load(o + 5 * xs); m2 = v128.load(o + 9 * xs); m3 = v128.load(o + 13 * xs);
      const a01 = f32x4.add(f32x4.add(m0, m1), m2), a11 = f32x4.sub(f32x4.sub(m1, m2), m3);
      m0 = v128.load(o + 2 * xs); m1 = v128.load(o + 6 * xs); m2 = v128.load(o + 10 * xs); m3 = v128.load(o + 14 * xs);
      const a02 = f32x4.add(f32x4.add(m0, m1), m2), a12 = f32x4.sub(f32x4.sub(m1, m2), m3);
      m0 = v128.load(o + 3 * xs); m1 = v128.load(o + 7 * xs); m2 = v128.load(o + 11 * xs); m3 = v128.load(o + 15 * xs);
      const a03 = f32x4.add(f32x4.add(m0, m1), m2), a13 = f32x4.sub(f32x4.sub(m1, m2), m3);
      // y = a A (2x2) + bias
      const y00 = f32x4.add(f32x4.add(f32x4.add(a00, a01), a02), bv);
      const y01 = f32x4.add(f32x4.sub(f32x4.sub(a01, a02), a03), bv);
      const y10 = f32x4.add(f32x4.add(f32x4.add(a10, a11), a12), bv);
      const y11 = f32x4.add(f32x4.sub(f32x4.sub(a11, a12), a13), bv);
      const c = 2 * tj;
      if (tj + 4 <= TW && c + 8 <= OW && r + 1 < OH) {
        const row = y + (<usize>(r * OW + c) << 2);
        v128.store(row, v128.shuffle<f32>(y00, y01, 0, 4, 1, 5));
        v128.store(row, v128.shuffle<f32>(y00, y01, 2, 6, 3, 7), 16);
        const row1 = row + (<usize>OW << 2);
        v128.store(row1, v128.shuffle<f32>(y10, y11, 0, 4, 1, 5));
        v128.store(row1, v128.shuffle<f32>(y10, y11, 2, 6, 3, 7), 16);
        continue;
      }
      const n = min(4, TW - tj);
      put_tile(y, OH, OW, r, c, f32x4.extract_lane(y00, 0), f32x4.extract_lane(y01, 0), f32x4.extract_lane(y10, 0), f32x4.extract_lane(y11, 0));
      if (n > 1) put_tile(y, OH, OW, r, c + 2, f32x4.extract_lane(y00, 1), f32x4.extract_lane(y01, 1), f32x4.extract_lane(y10, 1), f32x4.extract_lane(y11, 1));
      if (n > 2) put_tile(y, OH, OW, r, c + 4, f32x4.extract_lane(y00, 2), f32x4.extract_lane(y01, 2), f32x4.extract_lane(y10, 2), f32x4.extract_lane(y11, 2));
      if (n > 3) put_tile(y, OH, OW, r, c + 6, f32x4.extract_lane(y00, 3), f32x4.extract_lane(y01, 3), f32x4.extract_lane(y10, 3), f32x4.extract_lane(y11, 3));
    }
  }
}


/**
 * z[xi][t] = (A dY A^T)[xi] of every 2x2 tile t = ti*TW + tj of the output-gradient plane
 * (2*TH, Wd) at d (zeros past OH, OW); xs: bytes between the xi planes of z.
 */
export function grad_tiles(d: usize, TH: i32, TW: i32, Wd: i32, z: usize, xs: usize): void {
  const wd4 = <usize>Wd << 2;
  for (let ti = 0; ti < TH; ti++) {
    const rowp = d + <usize>(2 * ti) * wd4;
    for (let tj = 0; tj < TW; tj += 4) {
      const n = TW - tj;
      const q = rowp + (<usize>(2 * tj) << 2);
      let a = v128.load(q), b = v128.load(q, 16);
      const p0 = evens(a, b), p1 = odds(a, b);
      a = v128.load(q + wd4); b = v128.load(q + wd4, 16);
      const r0 = evens(a, b), r1 = odds(a, b);
      // rows of R = A dY (4x2): (p0, p1), (p0 + r0, p1 + r1), (p0 - r0, p1 - r1), (-r0, -r1)
      const o = z + (<usize>(ti * TW + tj) << 2);
      grad_row(o, xs, n, p0, p1);
      grad_row(o + 4 * xs, xs, n, f32x4.add(p0, r0), f32x4.add(p1, r1));
      grad_row(o + 8 * xs, xs, n, f32x4.sub(p0, r0), f32x4.sub(p1, r1));
      grad_row(o + 12 * xs, xs, n, f32x4.neg(r0), f32x4.neg(r1));
    }
  }
}

/** One row of Z = R A^T: (e0, e0 + e1, e0 - e1, -e1) into 4 consecutive xi planes. */
// @ts-ignore: decorator
@inline
function grad_row(o: usize, xs: usize, n: i32, e0: v128, e1: v128): void {
  put(o, e0, n);
  put(o + xs, f32x4.add(e0, e1), n);
  put(o + 2 * xs, f32x4.sub(e0, e1), n);
  put(o + 3 * xs, f32x4.neg(e1), n);
}

/** First group of image partition p of ng groups: partitions depend on N only (WINO_PARTS). */
// @ts-ignore: decorator
@inline
export function part_start(p: i32, ng: i32): i32 {
  return (p * ng) / WINO_PARTS;
}


export function wino_grad_filter_f32(sums: usize, FN: i32, C: i32, dw: usize): void {
  // sums: (WINO_PARTS, 16, FN, C) -> dw: (FN, C, 3, 3) = G^T acc G per (f, c), acc = the partitions
  // added in order into sums[0] (so sums is clobbered)
  const axs = <usize>(FN * C) << 2;
  const n: usize = axs << 4;
  for (let part = 1; part < WINO_PARTS; part++) {
    const s = sums + <usize>part * n;
    let i: usize = 0;
    for (; i + 16 <= n; i += 16) v128.store(sums + i, f32x4.add(v128.load(sums + i), v128.load(s + i)));
    for (; i < n; i += 4) store<f32>(sums + i, load<f32>(sums + i) + load<f32>(s + i));
  }
  // dw = G^T acc G per filter: t = G^T acc (3x4), then t G (3x3)
  for (let f = 0; f < FN; f++) {
    for (let c = 0; c < C; c++) {
      const o = sums + (<usize>(f * C + c) << 2);
      const out = dw + (<usize>((f * C + c) * 9) << 2);
      for (let a = 0; a < 3; a++) {
        // row a of G^T: (1, .5, .5, 0), (0, .5, -.5, 0), (0, .5, .5, 1)
        const t0 = gt_row(o, axs, a, 0), t1 = gt_row(o, axs, a, 1), t2 = gt_row(o, axs, a, 2), t3 = gt_row(o, axs, a, 3);
        const e = out + (<usize>(a * 3) << 2);
        store<f32>(e, t0 + 0.5 * (t1 + t2));
        store<f32>(e, 0.5 * (t1 - t2), 4);
        store<f32>(e, 0.5 * (t1 + t2) + t3, 8);
      }
    }
  }
}

/** (G^T acc)[a][j] of the 4x4 sums at o (xi plane stride axs bytes). */
// @ts-ignore: decorator
@inline
function gt_row(o: usize, axs: usize, a: i32, j: i32): f32 {
  const a0 = load<f32>(o + <usize>j * axs), a1 = load<f32>(o + <usize>(4 + j) * axs);
  const a2 = load<f32>(o + <usize>(8 + j) * axs), a3 = load<f32>(o + <usize>(12 + j) * axs);
  if (a == 0) return a0 + 0.5 * (a1 + a2);
  if (a == 1) return 0.5 * (a1 - a2);
  return 0.5 * (a1 + a2) + a3;
}
