// @ts-nocheck: AssemblyScript (v128, f32x4), compiled by scripts/build-wasm.mjs twice: with SIMD to
// build/peak.wasm and with relaxed SIMD to build/peak.relaxed.wasm; the root tsconfig includes bench/**.
//
// The Wasm SIMD peak of this machine, one thread: 12 independent f32x4 accumulators, each
// updated acc = acc * m + c (one f32x4.mul and one f32x4.add, 8 FLOP) per iteration, with
// no memory traffic at all. 12 chains hide the mul->add latency (Zen 3: 3 + 3 cycles, two
// FP mul and two FP add pipes), and 12 accumulators + 2 constants fit the 16 xmm registers
// of x86-64. With m < 1 every chain converges to c / (1 - m): no overflow, no denormals.
// FLOP per call = iters * 12 * 4 lanes * 2. The return value is a checksum (so nothing is
// dead code). The bench times this and shows every GEMM figure as a percentage of it.

/** Sum of the four lanes (keeps every accumulator alive). */
function lanes(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

/**
 * acc * m + c per lane: f32x4.relaxed_madd (fused where the engine can) in the relaxed-SIMD
 * build, one f32x4.mul and one f32x4.add otherwise (as in assembly/gemm.ts).
 */
// @ts-ignore: decorator
@inline
function madd(acc: v128, m: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(acc, m, c);
  return f32x4.add(f32x4.mul(acc, m), c);
}

/** 12 chains of acc = madd(acc, m, c), `iters` times; 96 FLOP per iteration. */
export function peak_f32x4(iters: i32, m: f32, c: f32): f32 {
  const vm = f32x4.splat(m);
  const vc = f32x4.splat(c);
  let a0 = f32x4.splat(<f32>0 * 0.01);
  let a1 = f32x4.splat(<f32>1 * 0.01);
  let a2 = f32x4.splat(<f32>2 * 0.01);
  let a3 = f32x4.splat(<f32>3 * 0.01);
  let a4 = f32x4.splat(<f32>4 * 0.01);
  let a5 = f32x4.splat(<f32>5 * 0.01);
  let a6 = f32x4.splat(<f32>6 * 0.01);
  let a7 = f32x4.splat(<f32>7 * 0.01);
  let a8 = f32x4.splat(<f32>8 * 0.01);
  let a9 = f32x4.splat(<f32>9 * 0.01);
  let a10 = f32x4.splat(<f32>10 * 0.01);
  let a11 = f32x4.splat(<f32>11 * 0.01);
  for (let i = 0; i < iters; i++) {
    a0 = madd(a0, vm, vc);
    a1 = madd(a1, vm, vc);
    a2 = madd(a2, vm, vc);
    a3 = madd(a3, vm, vc);
    a4 = madd(a4, vm, vc);
    a5 = madd(a5, vm, vc);
    a6 = madd(a6, vm, vc);
    a7 = madd(a7, vm, vc);
    a8 = madd(a8, vm, vc);
    a9 = madd(a9, vm, vc);
    a10 = madd(a10, vm, vc);
    a11 = madd(a11, vm, vc);
  }
  return lanes(a0) + lanes(a1) + lanes(a2) + lanes(a3) + lanes(a4) + lanes(a5) + lanes(a6) + lanes(a7) + lanes(a8) + lanes(a9) + lanes(a10) + lanes(a11);
}

/** FLOP per iteration of peak_f32x4. */
export const FLOP_PER_ITER: i32 = 96;
