// expf.ts — exp(x) on f32x4 lanes and a scalar twin that performs the same f32 operations in
// the same order, so a value gets the same result whether it lands in a vector or in a tail.
// Cephes expf: n = round(x / ln 2), r = x - n ln 2 (ln 2 split in two for exactness),
// exp(r) by a degree-7 polynomial, then scaled by 2^n built in the exponent bits.
// Accuracy: under 2e-7 relative error for x in [-87.3, 88.3] (checked against Math.exp);
// x > 88.3762626 gives +Infinity, x < -87.3365448 gives 0, NaN gives NaN.
// Not re-exported by index.ts: an internal helper of activation.ts and loss.ts.

// @ts-ignore: decorator
@inline const EXP_HI: f32 = 88.3762626647949;
// @ts-ignore: decorator
@inline const EXP_LO: f32 = -87.3365447504019;
// @ts-ignore: decorator
@inline const LOG2E: f32 = 1.44269504088896341;
// @ts-ignore: decorator
@inline const LN2_HI: f32 = 0.693359375;
// @ts-ignore: decorator
@inline const LN2_LO: f32 = -2.12194440e-4;
// @ts-ignore: decorator
@inline const P0: f32 = 1.9875691500e-4;
// @ts-ignore: decorator
@inline const P1: f32 = 1.3981999507e-3;
// @ts-ignore: decorator
@inline const P2: f32 = 8.3334519073e-3;
// @ts-ignore: decorator
@inline const P3: f32 = 4.1665795894e-2;
// @ts-ignore: decorator
@inline const P4: f32 = 1.6666665459e-1;
// @ts-ignore: decorator
@inline const P5: f32 = 5.0000001201e-1;

/** exp of each lane. */
// @ts-ignore: decorator
@inline export function exp_f32x4(x: v128): v128 {
  const hi = f32x4.splat(EXP_HI), lo = f32x4.splat(EXP_LO);
  const big = f32x4.gt(x, hi);
  const small = f32x4.lt(x, lo);
  const c = f32x4.min(f32x4.max(x, lo), hi); // NaN stays NaN (f32x4.min/max propagate it)
  const n = f32x4.nearest(f32x4.mul(c, f32x4.splat(LOG2E)));
  let r = f32x4.sub(c, f32x4.mul(n, f32x4.splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(LN2_LO)));
  const r2 = f32x4.mul(r, r);
  let p = f32x4.add(f32x4.mul(f32x4.splat(P0), r), f32x4.splat(P1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P4));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(P5));
  p = f32x4.add(f32x4.add(f32x4.mul(p, r2), r), f32x4.splat(1));
  // 2^n for n in [-126, 127]: (n + 127) << 23 as f32 bits
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  let y = f32x4.mul(p, scale);
  y = v128.bitselect(f32x4.splat(Infinity), y, big);
  return v128.andnot(y, small);
}

/** exp(x), the same operations as exp_f32x4 on one lane. */
// @ts-ignore: decorator
@inline export function exp_f32(x: f32): f32 {
  if (x > EXP_HI) return Infinity;
  if (x < EXP_LO) return 0;
  // here x is in range or NaN
  const n = nearest<f32>(x * LOG2E);
  let r = x - n * LN2_HI;
  r = r - n * LN2_LO;
  const r2 = r * r;
  let p = P0 * r + P1;
  p = p * r + P2;
  p = p * r + P3;
  p = p * r + P4;
  p = p * r + P5;
  p = (p * r2 + r) + 1;
  return p * reinterpret<f32>((<i32>n + 127) << 23);
}
