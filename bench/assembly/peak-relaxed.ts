// @ts-nocheck: AssemblyScript (v128, f32x4), compiled by scripts/build-wasm.mjs to build/peak.relaxed.wasm.
//
// The relaxed-SIMD twin of peak.ts: 12 independent chains of acc = relaxed_madd(acc, m, c)
// (a fused multiply-add where the engine has one), 96 FLOP per iteration, no memory
// traffic. Node 20 accepts relaxed SIMD only behind --experimental-wasm-relaxed-simd; the
// bench runs it in a child process with that flag and reports it beside the plain peak.

/** Sum of the four lanes (keeps every accumulator alive). */
function lanes(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

/** 12 chains of acc = relaxed_madd(acc, m, c), `iters` times; 96 FLOP per iteration. */
export function peak_f32x4_relaxed_madd(iters: i32, m: f32, c: f32): f32 {
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
    a0 = f32x4.relaxed_madd(a0, vm, vc);
    a1 = f32x4.relaxed_madd(a1, vm, vc);
    a2 = f32x4.relaxed_madd(a2, vm, vc);
    a3 = f32x4.relaxed_madd(a3, vm, vc);
    a4 = f32x4.relaxed_madd(a4, vm, vc);
    a5 = f32x4.relaxed_madd(a5, vm, vc);
    a6 = f32x4.relaxed_madd(a6, vm, vc);
    a7 = f32x4.relaxed_madd(a7, vm, vc);
    a8 = f32x4.relaxed_madd(a8, vm, vc);
    a9 = f32x4.relaxed_madd(a9, vm, vc);
    a10 = f32x4.relaxed_madd(a10, vm, vc);
    a11 = f32x4.relaxed_madd(a11, vm, vc);
  }
  return lanes(a0) + lanes(a1) + lanes(a2) + lanes(a3) + lanes(a4) + lanes(a5) + lanes(a6) + lanes(a7) + lanes(a8) + lanes(a9) + lanes(a10) + lanes(a11);
}
