// gemm.ts — C = alpha * op(A) * op(B) + beta * C, f32, row-major (shapes: src/backend/kernels.ts).
// Plain f32x4 mul + add through `madd` (f32x4.relaxed_madd in the relaxed builds only).
// Tiles keep at most ~11 accumulators: V8 gives Wasm 15 XMM registers on x64.
//
// | path      | taken for                            | micro-kernel   | packing                          |
// |-----------|--------------------------------------|----------------|----------------------------------|
// | broadcast | gemm_f32, N > 12 or N <= 8           | micro_5x8_simd | op(A) blocks (MC x KC) -> PACK_A; |
// |           |   (edges: micro_4x8, micro_1x8,      |                | op(B) in place, or panels PACK_B  |
// |           |   micro_5x4)                         |                | when transposed or ldb % 1 KiB    |
// | narrow    | gemm_f32, 8 < N <= 12 (e.g. classes) | micro_3x12_simd| op(A) in place; op(B) as (kc, 12) |
// | dot       | gemm_nt_dots_f32, K >= DOT_MIN_K     | dot_5x2_simd   | none: rows and columns are runs  |
// |           |   (conv weight gradient: few cols)   |                | of k; shorter k -> gemm_f32       |
//
// Edges: a 4-row tile runs micro_4x8 straight into C; a 4-column edge is read in place by
// micro_5x4 (when no 1- or 2-row tile of the block needs 8 columns); other edges are packed with
// zero padding and computed into TILE. Only the valid part is written (`merge_tile`,
// `store_cols`), so nothing outside A, B or C is read or written.
//
// Summation order (the invariant the thread splitters rely on): on the broadcast and narrow
// paths each element of C is one accumulator lane summed over k in order, in k-blocks of KC,
// except the one or two rows left after the last full 5-row tile, which micro_1x8_simd sums
// with even and odd k apart; the dot path adds 4 interleaved partial sums. The order depends
// only on the entry point, the transposes, K and whether the row is such a leftover row —
// not on N or on the rows a block shares — so a call split into row shares at multiples of
// MR or into column shares (src/backend/threads/kernels.ts) is bit-identical to the whole
// call. The JS twin sums in another order: results agree to float rounding, not bit for bit.
//
// beta == 0 never reads C (NaN in C does not leak). alpha == 0 or K == 0 only scales C.
// Scratch: packing buffers are found through per-instance globals; they start at a static
// block, and in the threads build each worker's instance gets its own (`gemm_set_scratch`,
// sized by `gemm_scratch_bytes`), so threads sharing one memory never share scratch.

const MR: i32 = 5;   // rows of the broadcast micro-tile
const NR: i32 = 8;   // columns of the broadcast micro-tile (2 x f32x4)
const KC: i32 = 256; // k-block of the broadcast path
const MC: i32 = 40;  // rows of op(A) per packed block (8 panels): 40 * 256 * 4 = 40 KiB
// (MC is bounded by the 1 initial page of static data that asconfig.json declares; see PACK_A.)
const NRN: i32 = 12; // columns of the narrow path's tile (3 x f32x4); its tile has 3 rows
const DOT_MIN_K: i32 = 32; // gemm_nt_dots_f32 with a shorter k: gemm_f32, see the header
const KCD: i32 = 512; // k-block of the dot path: 5 A rows + 2 B rows = 14 KiB, in L1
const NCD_BYTES: i32 = 192 * 1024; // op(B) columns per dot block: nc * kc * 4 <= this (L2)

// Static scratch (kernels never allocate). Lands below __heap_base, which the TS memory
// plan starts after. PACK_A: (MC/MR panels) x (KC, MR); PACK_B: (KC, NR); TILE: (MR, NR).
// Never assumed to be zero: every cell is written before it is read. Without
// --zeroFilledMemory these zero bytes are stored in the .wasm file (~49 KiB).
const PACK_A_BYTES: usize = MC * KC * 4;
const PACK_B_BYTES: usize = KC * NR * 4;
const TILE_BYTES: usize = MR * NR * 4;
let PACK_A: usize = memory.data(<i32>PACK_A_BYTES, 64);
let PACK_B: usize = memory.data(<i32>PACK_B_BYTES, 64);
let TILE: usize = memory.data(<i32>TILE_BYTES, 64);

/** Bytes of the scratch block one instance needs (see gemm_set_scratch). */
export function gemm_scratch_bytes(): i32 {
  return <i32>(PACK_A_BYTES + PACK_B_BYTES + TILE_BYTES);
}

/** Points this instance's packing buffers at `ptr` (gemm_scratch_bytes() bytes, 64-byte aligned). */
export function gemm_set_scratch(ptr: usize): void {
  // ptr: (gemm_scratch_bytes()) bytes = PACK_A | PACK_B | TILE
  PACK_A = ptr;
  PACK_B = ptr + PACK_A_BYTES;
  TILE = PACK_B + PACK_B_BYTES;
}

/** c + a * b per lane: relaxed_madd in the relaxed-SIMD builds, mul then add otherwise. */
// @ts-ignore: decorator
@inline
function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

export function gemm_f32(transA: i32, transB: i32, M: i32, N: i32, K: i32, alpha: f32, A: usize, lda: i32,
  B: usize, ldb: i32, beta: f32, C: usize, ldc: i32): void {
  // A: (M, K) or (K, M) if transA, row stride lda; B: (K, N) or (N, K) if transB, row stride ldb; C: (M, N), row stride ldc
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || alpha == 0) {
    scale_c(M, N, beta, C, ldc);
    return;
  }
  if (N > NR && N <= NRN) gemm_narrow(transA != 0, transB != 0, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  else gemm_broadcast(transA != 0, transB != 0, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

/**
 * C = alpha * A * B^T + beta * C by dot products (the dot path) when k is long enough,
 * else gemm_f32: for few columns over a long k, e.g. the convolution's weight gradient.
 */
export function gemm_nt_dots_f32(M: i32, N: i32, K: i32, alpha: f32, A: usize, lda: i32, B: usize, ldb: i32,
  beta: f32, C: usize, ldc: i32): void {
  // A: (M, K) row stride lda; B: (N, K) row stride ldb; C: (M, N) row stride ldc
  if (K < DOT_MIN_K || M <= 0 || N <= 0 || alpha == 0) {
    gemm_f32(0, 1, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  gemm_dot(M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

/** C: (M, N) = beta * C; beta == 0 writes zeros without reading C. */
function scale_c(M: i32, N: i32, beta: f32, C: usize, ldc: i32): void {
  // C: (M, N), row stride ldc
  const ldc4 = <usize>ldc << 2;
  const vb = f32x4.splat(beta);
  for (let i = 0; i < M; i++) {
    const row = C + <usize>i * ldc4;
    let j = 0;
    if (beta == 0) {
      for (; j + 4 <= N; j += 4) v128.store(row + (<usize>j << 2), f32x4.splat(0));
      for (; j < N; j++) store<f32>(row + (<usize>j << 2), 0);
    } else {
      for (; j + 4 <= N; j += 4) {
        const p = row + (<usize>j << 2);
        v128.store(p, f32x4.mul(v128.load(p), vb));
      }
      for (; j < N; j++) {
        const p = row + (<usize>j << 2);
        store<f32>(p, load<f32>(p) * beta);
      }
    }
  }
}

// ---- broadcast path ------------------------------------------------------------------

function gemm_broadcast(transA: bool, transB: bool, M: i32, N: i32, K: i32, alpha: f32, A: usize, lda: i32,
  B: usize, ldb: i32, beta: f32, C: usize, ldc: i32): void {
  // op(A): (M, K), op(B): (K, N), C: (M, N); A/B/C row strides lda/ldb/ldc (elements)
  const lda4 = <usize>lda << 2;
  const ldb4 = <usize>ldb << 2;
  const ldc4 = <usize>ldc << 2;
  const directB = direct_b(transB, ldb4, K);
  for (let pc = 0; pc < K; pc += KC) {
    const kc = min(KC, K - pc);
    const bb: f32 = pc == 0 ? beta : 1;
    // rows per packed A block: MC at a full k-block, more when kc is short (PACK_A is kept
    // full), so op(B) panels are packed once per ceil(M / mcb) row blocks instead of M / MC
    const mcb = (MC * KC / kc) / MR * MR;
    for (let ic = 0; ic < M; ic += mcb) {
      const mc = min(mcb, M - ic);
      if (transA) pack_a_cols(A + <usize>pc * lda4 + (<usize>ic << 2), lda4, mc, kc, PACK_A);
      else pack_a_rows(A + <usize>ic * lda4 + (<usize>pc << 2), lda4, mc, kc, PACK_A);
      block_times_b(PACK_A, mc, kc, transB, directB, B, ldb4, pc, N, C + <usize>ic * ldc4, ldc4, alpha, bb);
    }
  }
}

/** Whether op(B)'s k-rows are read in place: not transposed, and a stride that does not alias a few L1 sets. */
// @ts-ignore: decorator
@inline
function direct_b(transB: bool, ldb4: usize, K: i32): bool {
  return !transB && ((ldb4 & 1023) != 0 || K <= 64);
}

/**
 * C rows (mc, N) at c0 (+)= one packed row block of op(A) (mc rows, kc k-columns: panels at pa0)
 * times op(B)'s k-rows pc .. pc + kc - 1, by 8-column blocks of op(B), in place or packed.
 */
function block_times_b(pa0: usize, mc: i32, kc: i32, transB: bool, directB: bool, B: usize, ldb4: usize, pc: i32,
  N: i32, c0: usize, ldc4: usize, alpha: f32, bb: f32): void {
  for (let jc = 0; jc < N; jc += NR) {
    const nr = min(NR, N - jc);
    let pb: usize;
    let bs: usize;
    // in place: full column blocks, and 4-column edges when every row tile reads only those
    // 4 (micro_5x4_simd, mr > 2: the block's last tile has mc % MR rows, or MR)
    if (directB && (nr == NR || (nr == 4 && (mc % MR == 0 || mc % MR > 2)))) {
      pb = B + <usize>pc * ldb4 + (<usize>jc << 2);
      bs = ldb4;
    } else {
      if (transB) pack_b_cols(B + <usize>jc * ldb4 + (<usize>pc << 2), ldb4, nr, kc, PACK_B);
      else pack_b_rows(B + <usize>pc * ldb4 + (<usize>jc << 2), ldb4, nr, kc, PACK_B);
      pb = PACK_B;
      bs = <usize>NR << 2;
    }
    for (let ir = 0; ir < mc; ir += MR) {
      const mr = min(MR, mc - ir);
      const pa = pa0 + <usize>(ir * kc) * 4; // panel ir/MR starts at (ir/MR) * kc * MR floats
      const c = c0 + <usize>ir * ldc4 + (<usize>jc << 2);
      if (mr == MR && nr == NR) {
        micro_5x8_simd(kc, pa, <usize>MR << 2, pb, bs, c, ldc4, alpha, bb);
      } else if (mr == 4 && nr == NR) {
        micro_4x8_simd(kc, pa, <usize>MR << 2, pb, bs, c, ldc4, alpha, bb);
      } else if (mr <= 2) {
        // one or two rows: a row at a time beats a tile that is 60-80% zero padding
        for (let r = 0; r < mr; r++) {
          const cr = c + <usize>r * ldc4;
          if (nr == NR) {
            micro_1x8_simd(kc, pa + (<usize>r << 2), <usize>MR << 2, pb, bs, cr, alpha, bb);
          } else {
            micro_1x8_simd(kc, pa + (<usize>r << 2), <usize>MR << 2, pb, bs, TILE, 1, 0);
            merge_tile(TILE, 1, nr, cr, ldc4, alpha, bb);
          }
        }
      } else if (nr <= 4) {
        micro_5x4_simd(kc, pa, <usize>MR << 2, pb, bs, c, ldc4, mr, nr, alpha, bb);
      } else {
        micro_5x8_simd(kc, pa, <usize>MR << 2, pb, bs, TILE, <usize>NR << 2, 1, 0);
        merge_tile(TILE, mr, nr, c, ldc4, alpha, bb);
      }
    }
  }
}

// ---- pre-packed A (the Winograd products: one A for many B) --------------------------------

/** Largest K of gemm_pack_a / gemm_packed_f32 (one k-block). */
export const GEMM_PACKED_MAX_K: i32 = KC;

/** Floats of gemm_pack_a's panels for an (M, K) matrix. */
export function gemm_packed_floats(M: i32, K: i32): i32 {
  return (M + MR - 1) / MR * MR * K;
}

/** Packs A: (M, K) row-major, row stride lda, K <= GEMM_PACKED_MAX_K, into dst (gemm_packed_floats(M, K) floats). */
export function gemm_pack_a(A: usize, lda: i32, M: i32, K: i32, dst: usize): void {
  pack_a_rows(A, <usize>lda << 2, M, K, dst);
}

/**
 * C = A * B with A packed by gemm_pack_a: B: (K, N) row stride ldb, C: (M, N) row stride ldc,
 * overwritten. The broadcast path without its per-call packing of A, bit for bit the same.
 */
export function gemm_packed_f32(M: i32, N: i32, K: i32, pa: usize, B: usize, ldb: i32, C: usize, ldc: i32): void {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    scale_c(M, N, 0, C, ldc);
    return;
  }
  const ldb4 = <usize>ldb << 2;
  block_times_b(pa, M, K, false, direct_b(false, ldb4, K), B, ldb4, 0, N, C, <usize>ldc << 2, 1, 0);
}

/** Packs mc rows x kc columns of a row-major op(A) into panels of MR rows, k-major, zero padded. */
function pack_a_rows(src: usize, lda4: usize, mc: i32, kc: i32, dst: usize): void {
  // src: (mc, kc) with row stride lda4 bytes; dst: (ceil(mc/MR), kc, MR)
  const panelBytes = <usize>(kc * MR) << 2;
  let i = 0;
  for (; i + MR <= mc; i += MR) {
    const s0 = src + <usize>i * lda4;
    const s1 = s0 + lda4;
    const s2 = s1 + lda4;
    const s3 = s2 + lda4;
    const s4 = s3 + lda4;
    let d = dst + <usize>(i / MR) * panelBytes;
    let k = 0;
    for (; k + 4 <= kc; k += 4) {
      const o = <usize>k << 2;
      const v0 = v128.load(s0 + o);
      const v1 = v128.load(s1 + o);
      const v2 = v128.load(s2 + o);
      const v3 = v128.load(s3 + o);
      const v4 = v128.load(s4 + o);
      const t0 = i32x4.shuffle(v0, v1, 0, 4, 1, 5);
      const t1 = i32x4.shuffle(v2, v3, 0, 4, 1, 5);
      const t2 = i32x4.shuffle(v0, v1, 2, 6, 3, 7);
      const t3 = i32x4.shuffle(v2, v3, 2, 6, 3, 7);
      v128.store(d, i32x4.shuffle(t0, t1, 0, 1, 4, 5));
      v128.store32_lane(d, v4, 0, 16);
      v128.store(d, i32x4.shuffle(t0, t1, 2, 3, 6, 7), 20);
      v128.store32_lane(d, v4, 1, 36);
      v128.store(d, i32x4.shuffle(t2, t3, 0, 1, 4, 5), 40);
      v128.store32_lane(d, v4, 2, 56);
      v128.store(d, i32x4.shuffle(t2, t3, 2, 3, 6, 7), 60);
      v128.store32_lane(d, v4, 3, 76);
      d += 80;
    }
    for (; k < kc; k++) {
      const o = <usize>k << 2;
      store<f32>(d, load<f32>(s0 + o));
      store<f32>(d, load<f32>(s1 + o), 4);
      store<f32>(d, load<f32>(s2 + o), 8);
      store<f32>(d, load<f32>(s3 + o), 12);
      store<f32>(d, load<f32>(s4 + o), 16);
      d += 20;
    }
  }
  if (i < mc) {
    // the last rows - i < MR rows, zeros below them: the same 4-k steps with zero vectors
    const rows = mc - i;
    const z = f32x4.splat(0);
    const s0 = src + <usize>i * lda4;
    const s1 = s0 + (rows > 1 ? lda4 : 0);
    const s2 = s1 + (rows > 2 ? lda4 : 0);
    const s3 = s2 + (rows > 3 ? lda4 : 0);
    let d = dst + <usize>(i / MR) * panelBytes;
    let k = 0;
    for (; k + 4 <= kc; k += 4) {
      const o = <usize>k << 2;
      const v0 = v128.load(s0 + o);
      const v1 = rows > 1 ? v128.load(s1 + o) : z;
      const v2 = rows > 2 ? v128.load(s2 + o) : z;
      const v3 = rows > 3 ? v128.load(s3 + o) : z;
      const t0 = i32x4.shuffle(v0, v1, 0, 4, 1, 5);
      const t1 = i32x4.shuffle(v2, v3, 0, 4, 1, 5);
      const t2 = i32x4.shuffle(v0, v1, 2, 6, 3, 7);
      const t3 = i32x4.shuffle(v2, v3, 2, 6, 3, 7);
      v128.store(d, i32x4.shuffle(t0, t1, 0, 1, 4, 5));
      store<f32>(d, 0, 16);
      v128.store(d, i32x4.shuffle(t0, t1, 2, 3, 6, 7), 20);
      store<f32>(d, 0, 36);
      v128.store(d, i32x4.shuffle(t2, t3, 0, 1, 4, 5), 40);
      store<f32>(d, 0, 56);
      v128.store(d, i32x4.shuffle(t2, t3, 2, 3, 6, 7), 60);
      store<f32>(d, 0, 76);
      d += 80;
    }
    for (; k < kc; k++) {
      const o = <usize>k << 2;
      store<f32>(d, load<f32>(s0 + o));
      store<f32>(d, rows > 1 ? load<f32>(s1 + o) : 0, 4);
      store<f32>(d, rows > 2 ? load<f32>(s2 + o) : 0, 8);
      store<f32>(d, rows > 3 ? load<f32>(s3 + o) : 0, 12);
      store<f32>(d, 0, 16);
      d += 20;
    }
  }
}

/** Packs mc columns x kc k-rows of a transposed A (op(A) = src^T) into panels of MR rows, k-major, zero padded. */
function pack_a_cols(src: usize, lda4: usize, mc: i32, kc: i32, dst: usize): void {
  // src: (kc, mc) with row stride lda4 bytes; dst: (ceil(mc/MR), kc, MR)
  const panelBytes = <usize>(kc * MR) << 2;
  let i = 0;
  for (; i + MR <= mc; i += MR) {
    let s = src + (<usize>i << 2);
    let d = dst + <usize>(i / MR) * panelBytes;
    for (let k = 0; k < kc; k++) {
      v128.store(d, v128.load(s));
      store<f32>(d, load<f32>(s, 16), 16);
      s += lda4;
      d += 20;
    }
  }
  if (i < mc) {
    const rows = mc - i;
    let s = src + (<usize>i << 2);
    let d = dst + <usize>(i / MR) * panelBytes;
    for (let k = 0; k < kc; k++) {
      for (let r = 0; r < MR; r++) store<f32>(d + (<usize>r << 2), r < rows ? load<f32>(s + (<usize>r << 2)) : 0);
      s += lda4;
      d += 20;
    }
  }
}

/** Packs kc k-rows x nr (<= NR) columns of a non-transposed B, zero padded to NR. */
function pack_b_rows(src: usize, ldb4: usize, nr: i32, kc: i32, dst: usize): void {
  // src: (kc, nr) with row stride ldb4 bytes; dst: (kc, NR)
  let s = src;
  let d = dst;
  if (nr == NR) {
    for (let k = 0; k < kc; k++) {
      v128.store(d, v128.load(s));
      v128.store(d, v128.load(s, 16), 16);
      s += ldb4;
      d += 32;
    }
  } else if (nr <= 4) {
    const z = f32x4.splat(0);
    for (let k = 0; k < kc; k++) {
      v128.store(d, load_cols(s, nr));
      v128.store(d, z, 16);
      s += ldb4;
      d += 32;
    }
  } else {
    for (let k = 0; k < kc; k++) {
      v128.store(d, v128.load(s));
      v128.store(d, load_cols(s + 16, nr - 4), 16);
      s += ldb4;
      d += 32;
    }
  }
}

/** Packs nr (<= NR) rows x kc columns of a transposed B (op(B) = B^T) as (kc, NR), zero padded. */
function pack_b_cols(src: usize, ldb4: usize, nr: i32, kc: i32, dst: usize): void {
  // src: (nr, kc) with row stride ldb4 bytes; dst: (kc, NR)
  if (nr == NR) {
    const s0 = src;
    const s1 = s0 + ldb4;
    const s2 = s1 + ldb4;
    const s3 = s2 + ldb4;
    const s4 = s3 + ldb4;
    const s5 = s4 + ldb4;
    const s6 = s5 + ldb4;
    const s7 = s6 + ldb4;
    let d = dst;
    let k = 0;
    for (; k + 4 <= kc; k += 4) {
      const o = <usize>k << 2;
      let v0 = v128.load(s0 + o);
      let v1 = v128.load(s1 + o);
      let v2 = v128.load(s2 + o);
      let v3 = v128.load(s3 + o);
      let t0 = i32x4.shuffle(v0, v1, 0, 4, 1, 5);
      let t1 = i32x4.shuffle(v2, v3, 0, 4, 1, 5);
      let t2 = i32x4.shuffle(v0, v1, 2, 6, 3, 7);
      let t3 = i32x4.shuffle(v2, v3, 2, 6, 3, 7);
      v128.store(d, i32x4.shuffle(t0, t1, 0, 1, 4, 5));
      v128.store(d, i32x4.shuffle(t0, t1, 2, 3, 6, 7), 32);
      v128.store(d, i32x4.shuffle(t2, t3, 0, 1, 4, 5), 64);
      v128.store(d, i32x4.shuffle(t2, t3, 2, 3, 6, 7), 96);
      v0 = v128.load(s4 + o);
      v1 = v128.load(s5 + o);
      v2 = v128.load(s6 + o);
      v3 = v128.load(s7 + o);
      t0 = i32x4.shuffle(v0, v1, 0, 4, 1, 5);
      t1 = i32x4.shuffle(v2, v3, 0, 4, 1, 5);
      t2 = i32x4.shuffle(v0, v1, 2, 6, 3, 7);
      t3 = i32x4.shuffle(v2, v3, 2, 6, 3, 7);
      v128.store(d, i32x4.shuffle(t0, t1, 0, 1, 4, 5), 16);
      v128.store(d, i32x4.shuffle(t0, t1, 2, 3, 6, 7), 48);
      v128.store(d, i32x4.shuffle(t2, t3, 0, 1, 4, 5), 80);
      v128.store(d, i32x4.shuffle(t2, t3, 2, 3, 6, 7), 112);
      d += 128;
    }
    for (; k < kc; k++) {
      const o = <usize>k << 2;
      store<f32>(d, load<f32>(s0 + o));
      store<f32>(d, load<f32>(s1 + o), 4);
      store<f32>(d, load<f32>(s2 + o), 8);
      store<f32>(d, load<f32>(s3 + o), 12);
      store<f32>(d, load<f32>(s4 + o), 16);
      store<f32>(d, load<f32>(s5 + o), 20);
      store<f32>(d, load<f32>(s6 + o), 24);
      store<f32>(d, load<f32>(s7 + o), 28);
      d += 32;
    }
  } else {
    pack_b_cols_scalar(src, ldb4, nr, kc, dst, NR);
  }
}

/** Packs n (<= width) rows x kc columns of a transposed B as (kc, width), zero padded, a value at a time (edges). */
function pack_b_cols_scalar(src: usize, ldb4: usize, n: i32, kc: i32, dst: usize, width: i32): void {
  // src: (n, kc) with row stride ldb4 bytes; dst: (kc, width)
  const ds = <usize>width << 2;
  for (let j = 0; j < width; j++) {
    const s = src + <usize>j * ldb4;
    let d = dst + (<usize>j << 2);
    if (j < n) {
      for (let k = 0; k < kc; k++) { store<f32>(d, load<f32>(s + (<usize>k << 2))); d += ds; }
    } else {
      for (let k = 0; k < kc; k++) { store<f32>(d, 0); d += ds; }
    }
  }
}

/**
 * The 5x8 register tile: C = alpha * sum_k a_k b_k^T + beta * C (beta == 0: C not read).
 * Row k of the A panel is 5 floats at pa + k*as, row k of the B panel 8 floats at pb + k*bs.
 */
function micro_5x8_simd(kc: i32, pa: usize, as: usize, pb: usize, bs: usize, c: usize, ldc4: usize,
  alpha: f32, beta: f32): void {
  // a panel: (kc, 5) with k-stride as bytes; b panel: (kc, 8) with k-stride bs bytes; c: (5, 8) with row stride ldc4 bytes
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00;
  let c21 = c00, c30 = c00, c31 = c00, c40 = c00, c41 = c00;
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = madd(a, b0, c00);
    c01 = madd(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = madd(a, b0, c10);
    c11 = madd(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = madd(a, b0, c20);
    c21 = madd(a, b1, c21);
    a = v128.load32_splat(pa, 12);
    c30 = madd(a, b0, c30);
    c31 = madd(a, b1, c31);
    a = v128.load32_splat(pa, 16);
    c40 = madd(a, b0, c40);
    c41 = madd(a, b1, c41);
    pa += as;
    pb += bs;
  }
  // The accumulators are consumed in reverse order (row 4 first): with the natural order
  // V8 (TurboFan, Node 20) hoists all 7 loads of an iteration to the top of the loop body,
  // needs 17 XMM registers and spills two accumulators, halving the speed.
  const va = f32x4.splat(alpha);
  const c1 = c + ldc4;
  const c2 = c1 + ldc4;
  const c3 = c2 + ldc4;
  const c4 = c3 + ldc4;
  if (beta == 0) {
    v128.store(c4, f32x4.mul(c41, va), 16);
    v128.store(c4, f32x4.mul(c40, va));
    v128.store(c3, f32x4.mul(c31, va), 16);
    v128.store(c3, f32x4.mul(c30, va));
    v128.store(c2, f32x4.mul(c21, va), 16);
    v128.store(c2, f32x4.mul(c20, va));
    v128.store(c1, f32x4.mul(c11, va), 16);
    v128.store(c1, f32x4.mul(c10, va));
    v128.store(c, f32x4.mul(c01, va), 16);
    v128.store(c, f32x4.mul(c00, va));
  } else {
    const vb = f32x4.splat(beta);
    v128.store(c4, f32x4.add(f32x4.mul(c41, va), f32x4.mul(v128.load(c4, 16), vb)), 16);
    v128.store(c4, f32x4.add(f32x4.mul(c40, va), f32x4.mul(v128.load(c4), vb)));
    v128.store(c3, f32x4.add(f32x4.mul(c31, va), f32x4.mul(v128.load(c3, 16), vb)), 16);
    v128.store(c3, f32x4.add(f32x4.mul(c30, va), f32x4.mul(v128.load(c3), vb)));
    v128.store(c2, f32x4.add(f32x4.mul(c21, va), f32x4.mul(v128.load(c2, 16), vb)), 16);
    v128.store(c2, f32x4.add(f32x4.mul(c20, va), f32x4.mul(v128.load(c2), vb)));
    v128.store(c1, f32x4.add(f32x4.mul(c11, va), f32x4.mul(v128.load(c1, 16), vb)), 16);
    v128.store(c1, f32x4.add(f32x4.mul(c10, va), f32x4.mul(v128.load(c1), vb)));
    v128.store(c, f32x4.add(f32x4.mul(c01, va), f32x4.mul(v128.load(c, 16), vb)), 16);
    v128.store(c, f32x4.add(f32x4.mul(c00, va), f32x4.mul(v128.load(c), vb)));
  }
}

/** The first 4 rows of the 5x8 tile (a 4-row edge): C = alpha * sum_k a_k b_k^T + beta * C (beta == 0: C not read). */
function micro_4x8_simd(kc: i32, pa: usize, as: usize, pb: usize, bs: usize, c: usize, ldc4: usize,
  alpha: f32, beta: f32): void {
  // a panel: (kc, 5) with k-stride as bytes, rows 0..3 used; b panel: (kc, 8) with k-stride bs bytes; c: (4, 8) with row stride ldc4 bytes
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00;
  let c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = madd(a, b0, c00);
    c01 = madd(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = madd(a, b0, c10);
    c11 = madd(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = madd(a, b0, c20);
    c21 = madd(a, b1, c21);
    a = v128.load32_splat(pa, 12);
    c30 = madd(a, b0, c30);
    c31 = madd(a, b1, c31);
    pa += as;
    pb += bs;
  }
  const va = f32x4.splat(alpha);
  const vb = f32x4.splat(beta);
  const z = f32x4.splat(0);
  const c1 = c + ldc4;
  const c2 = c1 + ldc4;
  const c3 = c2 + ldc4;
  v128.store(c3, scaled(c31, va, beta == 0 ? z : v128.load(c3, 16), vb, beta), 16);
  v128.store(c3, scaled(c30, va, beta == 0 ? z : v128.load(c3), vb, beta));
  v128.store(c2, scaled(c21, va, beta == 0 ? z : v128.load(c2, 16), vb, beta), 16);
  v128.store(c2, scaled(c20, va, beta == 0 ? z : v128.load(c2), vb, beta));
  v128.store(c1, scaled(c11, va, beta == 0 ? z : v128.load(c1, 16), vb, beta), 16);
  v128.store(c1, scaled(c10, va, beta == 0 ? z : v128.load(c1), vb, beta));
  v128.store(c, scaled(c01, va, beta == 0 ? z : v128.load(c, 16), vb, beta), 16);
  v128.store(c, scaled(c00, va, beta == 0 ? z : v128.load(c), vb, beta));
}

/** One row of the 5x8 tile: c = alpha * sum_k a_k b_k + beta * c (beta == 0: c not read). */
function micro_1x8_simd(kc: i32, pa: usize, as: usize, pb: usize, bs: usize, c: usize, alpha: f32, beta: f32): void {
  // a: (kc) with k-stride as bytes; b panel: (kc, 8) with k-stride bs bytes; c: (8)
  let s0 = f32x4.splat(0), s1 = s0, t0 = s0, t1 = s0; // even and odd k: 4 independent chains
  let k = 0;
  for (; k + 2 <= kc; k += 2) {
    let a = v128.load32_splat(pa);
    s0 = madd(a, v128.load(pb), s0);
    s1 = madd(a, v128.load(pb, 16), s1);
    a = v128.load32_splat(pa + as);
    t0 = madd(a, v128.load(pb + bs), t0);
    t1 = madd(a, v128.load(pb + bs, 16), t1);
    pa += as << 1;
    pb += bs << 1;
  }
  if (k < kc) {
    const a = v128.load32_splat(pa);
    s0 = madd(a, v128.load(pb), s0);
    s1 = madd(a, v128.load(pb, 16), s1);
  }
  const va = f32x4.splat(alpha);
  let r1 = f32x4.mul(f32x4.add(s1, t1), va);
  let r0 = f32x4.mul(f32x4.add(s0, t0), va);
  if (beta != 0) {
    const vb = f32x4.splat(beta);
    r1 = madd(v128.load(c, 16), vb, r1);
    r0 = madd(v128.load(c), vb, r0);
  }
  v128.store(c, r1, 16);
  v128.store(c, r0);
}

/**
 * The left half of the 5x8 tile, for a column edge of nr <= 4: C = alpha * sum_k a_k b_k^T + beta * C
 * on the first mr (3..5) rows and nr (1..4) columns, written in place (nothing else of C is touched).
 */
function micro_5x4_simd(kc: i32, pa: usize, as: usize, pb: usize, bs: usize, c: usize, ldc4: usize,
  mr: i32, nr: i32, alpha: f32, beta: f32): void {
  // a panel: (kc, 5) with k-stride as bytes; b panel: (kc, >= 4) with k-stride bs bytes; c: (mr, nr) with row stride ldc4 bytes
  let c0 = f32x4.splat(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0;
  for (let k = 0; k < kc; k++) {
    const b = v128.load(pb);
    c0 = madd(v128.load32_splat(pa), b, c0);
    c1 = madd(v128.load32_splat(pa, 4), b, c1);
    c2 = madd(v128.load32_splat(pa, 8), b, c2);
    c3 = madd(v128.load32_splat(pa, 12), b, c3);
    c4 = madd(v128.load32_splat(pa, 16), b, c4);
    pa += as;
    pb += bs;
  }
  const va = f32x4.splat(alpha);
  const vb = f32x4.splat(beta);
  const z = f32x4.splat(0);
  const c1p = c + ldc4;
  const c2p = c1p + ldc4;
  const c3p = c2p + ldc4;
  const c4p = c3p + ldc4;
  if (mr > 4) store_cols(c4p, scaled(c4, va, beta == 0 ? z : load_cols(c4p, nr), vb, beta), nr);
  if (mr > 3) store_cols(c3p, scaled(c3, va, beta == 0 ? z : load_cols(c3p, nr), vb, beta), nr);
  store_cols(c2p, scaled(c2, va, beta == 0 ? z : load_cols(c2p, nr), vb, beta), nr);
  store_cols(c1p, scaled(c1, va, beta == 0 ? z : load_cols(c1p, nr), vb, beta), nr);
  store_cols(c, scaled(c0, va, beta == 0 ? z : load_cols(c, nr), vb, beta), nr);
}

/** Writes the valid mr x nr corner of a full 5x8 tile into C. */
function merge_tile(t: usize, mr: i32, nr: i32, c: usize, ldc4: usize, alpha: f32, beta: f32): void {
  // t: (5, 8) dense; c: (mr, nr) with row stride ldc4 bytes
  for (let i = 0; i < mr; i++) {
    const ti = t + (<usize>(i * NR) << 2);
    const ci = c + <usize>i * ldc4;
    for (let j = 0; j < nr; j++) {
      const o = <usize>j << 2;
      const v = alpha * load<f32>(ti + o);
      store<f32>(ci + o, beta == 0 ? v : v + beta * load<f32>(ci + o));
    }
  }
}

// ---- narrow path (8 < N <= 12: e.g. the 10 classes of a classifier's last layer) ----------

function gemm_narrow(transA: bool, transB: bool, M: i32, N: i32, K: i32, alpha: f32, A: usize, lda: i32,
  B: usize, ldb: i32, beta: f32, C: usize, ldc: i32): void {
  // op(A): (M, K), read in place; op(B): (K, N) with 8 < N <= 12, packed per k-block as (kc, 12); C: (M, N)
  const lda4 = <usize>lda << 2;
  const ldb4 = <usize>ldb << 2;
  const ldc4 = <usize>ldc << 2;
  const ars: usize = transA ? 4 : lda4; // op(A)[i][k] at A + i * ars + k * aks
  const aks: usize = transA ? lda4 : 4;
  const bs: usize = <usize>NRN << 2;
  // The broadcast path sums the 1 or 2 rows left after its 5-row tiles in another order
  // (micro_1x8_simd); those rows take the same kernel here, so every element of C is summed
  // in the same order whichever path a thread's share of a split call takes.
  const edge = M % MR <= 2 ? M % MR : 0;
  const mt = M - edge;
  const pb = PACK_A; // A is not packed here: its buffer holds the op(B) panel
  for (let pc = 0; pc < K; pc += KC) {
    const kc = min(KC, K - pc);
    const bb: f32 = pc == 0 ? beta : 1;
    if (transB) pack_b_cols_scalar(B + (<usize>pc << 2), ldb4, N, kc, pb, NRN);
    else pack_b_narrow_rows(B + <usize>pc * ldb4, ldb4, N, kc, pb);
    const a = A + <usize>pc * aks;
    for (let i = 0; i < mt; i += 3) {
      micro_3x12_simd(kc, a + <usize>i * ars, ars, aks, min(3, mt - i), pb, C + <usize>i * ldc4, ldc4, N - 8, alpha, bb);
    }
    for (let i = mt; i < M; i++) {
      const ai = a + <usize>i * ars;
      const ci = C + <usize>i * ldc4;
      micro_1x8_simd(kc, ai, aks, pb, bs, ci, alpha, bb);
      // columns 8..15 of the 12-wide panel: lanes 12..15 read the next k-row (or, for the
      // last one, 16 bytes of scratch past the panel) and are dropped by merge_tile
      micro_1x8_simd(kc, ai, aks, pb + 32, bs, TILE, 1, 0);
      merge_tile(TILE, 1, N - 8, ci + 32, ldc4, alpha, bb);
    }
  }
}

/** Packs kc k-rows x n (8 < n <= 12) columns of a non-transposed B as (kc, 12), zero padded. */
function pack_b_narrow_rows(src: usize, ldb4: usize, n: i32, kc: i32, dst: usize): void {
  // src: (kc, n) with row stride ldb4 bytes; dst: (kc, 12)
  const tail = n - 8;
  let s = src;
  let d = dst;
  for (let k = 0; k < kc; k++) {
    v128.store(d, v128.load(s));
    v128.store(d, v128.load(s, 16), 16);
    v128.store(d, load_cols(s + 32, tail), 32);
    s += ldb4;
    d += <usize>NRN << 2;
  }
}

/** Lanes 0..n-1 (1 <= n <= 4) of 4 floats at p, zeros above; nothing past p + 4n is read. */
// @ts-ignore: decorator
@inline
function load_cols(p: usize, n: i32): v128 {
  if (n == 4) return v128.load(p);
  if (n == 3) return v128.load32_lane(p, v128.load64_zero(p), 2, 8);
  if (n == 2) return v128.load64_zero(p);
  return v128.load32_zero(p);
}

/** Stores lanes 0..n-1 (1 <= n <= 4) of v at p; nothing past p + 4n is written. */
// @ts-ignore: decorator
@inline
function store_cols(p: usize, v: v128, n: i32): void {
  if (n == 4) v128.store(p, v);
  else if (n == 1) v128.store32_lane(p, v, 0);
  else {
    v128.store64_lane(p, v, 0);
    if (n == 3) v128.store32_lane(p, v, 2, 8);
  }
}

/** alpha * acc + beta * c (beta == 0: c not read), the epilogue of micro_5x8_simd for one vector. */
// @ts-ignore: decorator
@inline
function scaled(acc: v128, va: v128, c: v128, vb: v128, beta: f32): v128 {
  return beta == 0 ? f32x4.mul(acc, va) : f32x4.add(f32x4.mul(acc, va), f32x4.mul(c, vb));
}

/**
 * The 3x12 register tile of the narrow path: C = alpha * sum_k a_k b_k^T + beta * C, for the
 * first mr (1..3) rows and the first 8 + nt (nt = 1..4) columns. Every element is one
 * accumulator lane summed over k in order, as in micro_5x8_simd.
 */
function micro_3x12_simd(kc: i32, pa: usize, ars: usize, aks: usize, mr: i32, pb: usize, c: usize, ldc4: usize,
  nt: i32, alpha: f32, beta: f32): void {
  // a: (mr, kc), op(A)[r][k] at pa + r*ars + k*aks bytes; b panel: (kc, 12) dense; c: (mr, 8 + nt) with row stride ldc4 bytes
  // rows >= mr read row 0 again (never outside A) and are not stored
  let p0 = pa;
  let p1 = mr > 1 ? pa + ars : pa;
  let p2 = mr > 2 ? p1 + ars : pa;
  let c00 = f32x4.splat(0), c01 = c00, c02 = c00, c10 = c00, c11 = c00;
  let c12 = c00, c20 = c00, c21 = c00, c22 = c00;
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    const b2 = v128.load(pb, 32);
    let a = v128.load32_splat(p0);
    c00 = madd(a, b0, c00);
    c01 = madd(a, b1, c01);
    c02 = madd(a, b2, c02);
    a = v128.load32_splat(p1);
    c10 = madd(a, b0, c10);
    c11 = madd(a, b1, c11);
    c12 = madd(a, b2, c12);
    a = v128.load32_splat(p2);
    c20 = madd(a, b0, c20);
    c21 = madd(a, b1, c21);
    c22 = madd(a, b2, c22);
    p0 += aks;
    p1 += aks;
    p2 += aks;
    pb += <usize>NRN << 2;
  }
  // last row first (see micro_5x8_simd)
  const va = f32x4.splat(alpha);
  const vb = f32x4.splat(beta);
  const z = f32x4.splat(0);
  if (mr > 2) {
    const c2 = c + (ldc4 << 1);
    store_cols(c2 + 32, scaled(c22, va, beta == 0 ? z : load_cols(c2 + 32, nt), vb, beta), nt);
    v128.store(c2, scaled(c21, va, beta == 0 ? z : v128.load(c2, 16), vb, beta), 16);
    v128.store(c2, scaled(c20, va, beta == 0 ? z : v128.load(c2), vb, beta));
  }
  if (mr > 1) {
    const c1 = c + ldc4;
    store_cols(c1 + 32, scaled(c12, va, beta == 0 ? z : load_cols(c1 + 32, nt), vb, beta), nt);
    v128.store(c1, scaled(c11, va, beta == 0 ? z : v128.load(c1, 16), vb, beta), 16);
    v128.store(c1, scaled(c10, va, beta == 0 ? z : v128.load(c1), vb, beta));
  }
  store_cols(c + 32, scaled(c02, va, beta == 0 ? z : load_cols(c + 32, nt), vb, beta), nt);
  v128.store(c, scaled(c01, va, beta == 0 ? z : v128.load(c, 16), vb, beta), 16);
  v128.store(c, scaled(c00, va, beta == 0 ? z : v128.load(c), vb, beta));
}

// ---- dot path (A not transposed, B transposed) -------------------------------------------

function gemm_dot(M: i32, N: i32, K: i32, alpha: f32, A: usize, lda: i32, B: usize, ldb: i32,
  beta: f32, C: usize, ldc: i32): void {
  // A: (M, K) row stride lda; B: (N, K) row stride ldb (op(B) = B^T); C: (M, N) row stride ldc
  const lda4 = <usize>lda << 2;
  const ldb4 = <usize>ldb << 2;
  const ldc4 = <usize>ldc << 2;
  for (let pc = 0; pc < K; pc += KCD) {
    const kc = min(KCD, K - pc);
    const bb: f32 = pc == 0 ? beta : 1;
    let ncd = (NCD_BYTES / (kc << 2)) & ~1;
    if (ncd < 2) ncd = 2;
    for (let jc = 0; jc < N; jc += ncd) {
      const jend = min(N, jc + ncd);
      for (let i = 0; i < M; i += MR) {
        const mr = min(MR, M - i);
        const a = A + <usize>i * lda4 + (<usize>pc << 2);
        const crow = C + <usize>i * ldc4;
        if (mr == MR) {
          let j = jc;
          for (; j + 2 <= jend; j += 2) {
            dot_5x2_simd(kc, a, lda4, B + <usize>j * ldb4 + (<usize>pc << 2), ldb4, crow + (<usize>j << 2), ldc4, alpha, bb);
          }
          if (j < jend) dot_5x1_simd(kc, a, lda4, B + <usize>j * ldb4 + (<usize>pc << 2), crow + (<usize>j << 2), ldc4, alpha, bb);
        } else {
          for (let r = 0; r < mr; r++) {
            const ar = a + <usize>r * lda4;
            const cr = crow + <usize>r * ldc4;
            let j = jc;
            for (; j + 2 <= jend; j += 2) {
              dot_1x2_simd(kc, ar, B + <usize>j * ldb4 + (<usize>pc << 2), ldb4, cr + (<usize>j << 2), alpha, bb);
            }
            if (j < jend) {
              const s = dot_1x1_simd(kc, ar, B + <usize>j * ldb4 + (<usize>pc << 2));
              const cp = cr + (<usize>j << 2);
              store<f32>(cp, bb == 0 ? alpha * s : alpha * s + bb * load<f32>(cp));
            }
          }
        }
      }
    }
  }
}

/** Horizontal sums of 4 vectors: [sum(v0), sum(v1), sum(v2), sum(v3)]. */
// @ts-ignore: decorator
@inline
function hsum4(v0: v128, v1: v128, v2: v128, v3: v128): v128 {
  const u01 = f32x4.add(i32x4.shuffle(v0, v1, 0, 4, 1, 5), i32x4.shuffle(v0, v1, 2, 6, 3, 7));
  const u23 = f32x4.add(i32x4.shuffle(v2, v3, 0, 4, 1, 5), i32x4.shuffle(v2, v3, 2, 6, 3, 7));
  return f32x4.add(i32x4.shuffle(u01, u23, 0, 1, 4, 5), i32x4.shuffle(u01, u23, 2, 3, 6, 7));
}

/** Horizontal sums of 2 vectors in lanes 0 and 1: [sum(v0), sum(v1), ...]. */
// @ts-ignore: decorator
@inline
function hsum2(v0: v128, v1: v128): v128 {
  const u = f32x4.add(i32x4.shuffle(v0, v1, 0, 4, 1, 5), i32x4.shuffle(v0, v1, 2, 6, 3, 7));
  return f32x4.add(u, i32x4.shuffle(u, u, 2, 3, 0, 1));
}

/** Stores lanes 0,1 of v into c[0..1] as alpha * v + beta * c (beta == 0: c not read). */
// @ts-ignore: decorator
@inline
function store_pair(c: usize, v: v128, alpha: f32, beta: f32): void {
  let r = f32x4.mul(v, f32x4.splat(alpha));
  if (beta != 0) r = madd(v128.load64_zero(c), f32x4.splat(beta), r);
  v128.store64_lane(c, r, 0);
}

/** 5x2 block of dot products over k: C[r][j] = alpha * sum_k a[r][k] * b[j][k] + beta * C[r][j]. */
function dot_5x2_simd(kc: i32, a: usize, lda4: usize, b: usize, ldb4: usize, c: usize, ldc4: usize,
  alpha: f32, beta: f32): void {
  // a: (5, kc) with row stride lda4 bytes; b: (2, kc) with row stride ldb4 bytes; c: (5, 2) with row stride ldc4 bytes
  let a0 = a;
  let a1 = a0 + lda4;
  let a2 = a1 + lda4;
  let a3 = a2 + lda4;
  let a4 = a3 + lda4;
  let b0 = b;
  let b1 = b + ldb4;
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00;
  let c21 = c00, c30 = c00, c31 = c00, c40 = c00, c41 = c00;
  let k = 0;
  for (; k + 4 <= kc; k += 4) {
    const vb0 = v128.load(b0);
    const vb1 = v128.load(b1);
    let va = v128.load(a0);
    c00 = madd(va, vb0, c00);
    c01 = madd(va, vb1, c01);
    va = v128.load(a1);
    c10 = madd(va, vb0, c10);
    c11 = madd(va, vb1, c11);
    va = v128.load(a2);
    c20 = madd(va, vb0, c20);
    c21 = madd(va, vb1, c21);
    va = v128.load(a3);
    c30 = madd(va, vb0, c30);
    c31 = madd(va, vb1, c31);
    va = v128.load(a4);
    c40 = madd(va, vb0, c40);
    c41 = madd(va, vb1, c41);
    a0 += 16; a1 += 16; a2 += 16; a3 += 16; a4 += 16; b0 += 16; b1 += 16;
  }
  for (; k < kc; k++) {
    const vb0 = v128.load32_zero(b0);
    const vb1 = v128.load32_zero(b1);
    let va = v128.load32_zero(a0);
    c00 = madd(va, vb0, c00);
    c01 = madd(va, vb1, c01);
    va = v128.load32_zero(a1);
    c10 = madd(va, vb0, c10);
    c11 = madd(va, vb1, c11);
    va = v128.load32_zero(a2);
    c20 = madd(va, vb0, c20);
    c21 = madd(va, vb1, c21);
    va = v128.load32_zero(a3);
    c30 = madd(va, vb0, c30);
    c31 = madd(va, vb1, c31);
    va = v128.load32_zero(a4);
    c40 = madd(va, vb0, c40);
    c41 = madd(va, vb1, c41);
    a0 += 4; a1 += 4; a2 += 4; a3 += 4; a4 += 4; b0 += 4; b1 += 4;
  }
  // h01 = [c00 c01 c10 c11], h23 = [c20 c21 c30 c31], h4 = [c40 c41 . .]; consumed from the
  // last row up (see micro_5x8_simd: the natural order makes V8 spill in the loop).
  const va = f32x4.splat(alpha);
  let h4 = f32x4.mul(hsum2(c40, c41), va);
  let h23 = f32x4.mul(hsum4(c20, c21, c30, c31), va);
  let h01 = f32x4.mul(hsum4(c00, c01, c10, c11), va);
  const c1 = c + ldc4;
  const c2 = c1 + ldc4;
  const c3 = c2 + ldc4;
  const c4 = c3 + ldc4;
  if (beta != 0) {
    const vb = f32x4.splat(beta);
    h4 = madd(v128.load64_zero(c4), vb, h4);
    h23 = madd(v128.load64_lane(c3, v128.load64_zero(c2), 1), vb, h23);
    h01 = madd(v128.load64_lane(c1, v128.load64_zero(c), 1), vb, h01);
  }
  v128.store64_lane(c4, h4, 0);
  v128.store64_lane(c3, h23, 1);
  v128.store64_lane(c2, h23, 0);
  v128.store64_lane(c1, h01, 1);
  v128.store64_lane(c, h01, 0);
}

/** 5x1 column of dot products (the odd last column of the dot path). */
function dot_5x1_simd(kc: i32, a: usize, lda4: usize, b: usize, c: usize, ldc4: usize, alpha: f32, beta: f32): void {
  // a: (5, kc) with row stride lda4 bytes; b: (kc); c: (5, 1) with row stride ldc4 bytes
  let a0 = a;
  let a1 = a0 + lda4;
  let a2 = a1 + lda4;
  let a3 = a2 + lda4;
  let a4 = a3 + lda4;
  let b0 = b;
  let c0 = f32x4.splat(0), c1 = c0, c2 = c0, c3 = c0, c4 = c0;
  let k = 0;
  for (; k + 4 <= kc; k += 4) {
    const vb = v128.load(b0);
    c0 = madd(v128.load(a0), vb, c0);
    c1 = madd(v128.load(a1), vb, c1);
    c2 = madd(v128.load(a2), vb, c2);
    c3 = madd(v128.load(a3), vb, c3);
    c4 = madd(v128.load(a4), vb, c4);
    a0 += 16; a1 += 16; a2 += 16; a3 += 16; a4 += 16; b0 += 16;
  }
  for (; k < kc; k++) {
    const vb = v128.load32_zero(b0);
    c0 = madd(v128.load32_zero(a0), vb, c0);
    c1 = madd(v128.load32_zero(a1), vb, c1);
    c2 = madd(v128.load32_zero(a2), vb, c2);
    c3 = madd(v128.load32_zero(a3), vb, c3);
    c4 = madd(v128.load32_zero(a4), vb, c4);
    a0 += 4; a1 += 4; a2 += 4; a3 += 4; a4 += 4; b0 += 4;
  }
  const h = f32x4.mul(hsum4(c0, c1, c2, c3), f32x4.splat(alpha));
  const h4 = alpha * f32x4.extract_lane(hsum2(c4, c4), 0);
  let p = c;
  for (let r = 0; r < 5; r++) {
    let v: f32 = r == 0 ? f32x4.extract_lane(h, 0) : r == 1 ? f32x4.extract_lane(h, 1)
      : r == 2 ? f32x4.extract_lane(h, 2) : r == 3 ? f32x4.extract_lane(h, 3) : h4;
    if (beta != 0) v += beta * load<f32>(p);
    store<f32>(p, v);
    p += ldc4;
  }
}

/** 1x2 row of dot products (the last MR-partial rows of the dot path). */
function dot_1x2_simd(kc: i32, a: usize, b: usize, ldb4: usize, c: usize, alpha: f32, beta: f32): void {
  // a: (kc); b: (2, kc) with row stride ldb4 bytes; c: (2)
  let b0 = b;
  let b1 = b + ldb4;
  let p = a;
  let s0 = f32x4.splat(0), s1 = s0, t0 = s0, t1 = s0;
  let k = 0;
  for (; k + 8 <= kc; k += 8) {
    let va = v128.load(p);
    s0 = madd(va, v128.load(b0), s0);
    s1 = madd(va, v128.load(b1), s1);
    va = v128.load(p, 16);
    t0 = madd(va, v128.load(b0, 16), t0);
    t1 = madd(va, v128.load(b1, 16), t1);
    p += 32; b0 += 32; b1 += 32;
  }
  for (; k + 4 <= kc; k += 4) {
    const va = v128.load(p);
    s0 = madd(va, v128.load(b0), s0);
    s1 = madd(va, v128.load(b1), s1);
    p += 16; b0 += 16; b1 += 16;
  }
  for (; k < kc; k++) {
    const va = v128.load32_zero(p);
    s0 = madd(va, v128.load32_zero(b0), s0);
    s1 = madd(va, v128.load32_zero(b1), s1);
    p += 4; b0 += 4; b1 += 4;
  }
  store_pair(c, hsum2(f32x4.add(s0, t0), f32x4.add(s1, t1)), alpha, beta);
}

/** One dot product over k: sum_k a[k] * b[k]. */
function dot_1x1_simd(kc: i32, a: usize, b: usize): f32 {
  // a: (kc); b: (kc)
  let s = f32x4.splat(0);
  let t = s;
  let k = 0;
  let pa = a;
  let pb = b;
  for (; k + 8 <= kc; k += 8) {
    s = madd(v128.load(pa), v128.load(pb), s);
    t = madd(v128.load(pa, 16), v128.load(pb, 16), t);
    pa += 32; pb += 32;
  }
  for (; k + 4 <= kc; k += 4) {
    s = madd(v128.load(pa), v128.load(pb), s);
    pa += 16; pb += 16;
  }
  for (; k < kc; k++) {
    s = madd(v128.load32_zero(pa), v128.load32_zero(pb), s);
    pa += 4; pb += 4;
  }
  return f32x4.extract_lane(hsum2(f32x4.add(s, t), s), 0);
}
