// activation.ts: small hand-checked cases for ReLU and sigmoid, forward and backward.
import { relu_fwd_f32, relu_bwd_f32, sigmoid_fwd_f32, sigmoid_bwd_f32 } from '../activation';
import { exp_f32x4, exp_f32 } from '../expf';

describe('relu_fwd_f32', () => {
  it('zeroes x <= 0 over 19 elements (16 + 3), in place', () => {
    const x = new StaticArray<f32>(20);
    for (let i = 0; i < 20; i++) x[i] = <f32>i - 9;
    relu_fwd_f32(changetype<usize>(x), changetype<usize>(x), 19);
    for (let i = 0; i < 19; i++) expect<f32>(x[i]).toBe(i <= 9 ? 0 : <f32>i - 9);
    expect<f32>(x[19]).toBe(10); // untouched
  });
  it('keeps NaN (the course masks x <= 0 only) and maps -0 to +0', () => {
    const x = new StaticArray<f32>(5);
    x[0] = NaN; x[1] = -0.0; x[2] = -Infinity; x[3] = Infinity; x[4] = NaN;
    const y = new StaticArray<f32>(5);
    relu_fwd_f32(changetype<usize>(x), changetype<usize>(y), 5);
    expect<bool>(isNaN(y[0])).toBe(true);
    expect<u32>(reinterpret<u32>(y[1])).toBe(0);
    expect<f32>(y[2]).toBe(0);
    expect<f32>(y[3]).toBe(Infinity);
    expect<bool>(isNaN(y[4])).toBe(true);
  });
});

describe('relu_bwd_f32', () => {
  it('passes dy where y > 0, dx == dy', () => {
    const y = new StaticArray<f32>(6);
    const d = new StaticArray<f32>(6);
    for (let i = 0; i < 6; i++) { y[i] = i % 2 == 0 ? 0 : <f32>i; d[i] = <f32>i + 10; }
    relu_bwd_f32(changetype<usize>(y), changetype<usize>(d), changetype<usize>(d), 6);
    const want: f32[] = [0, 11, 0, 13, 0, 15];
    for (let i = 0; i < 6; i++) expect<f32>(d[i]).toBe(want[i]);
  });
});

describe('sigmoid', () => {
  it('forward: sigmoid(0) = 0.5, sigmoid(ln 3) = 0.75, saturates at +-100', () => {
    const x = new StaticArray<f32>(5);
    x[0] = 0; x[1] = <f32>Math.log(3); x[2] = -<f32>Math.log(3); x[3] = 100; x[4] = -100;
    const y = new StaticArray<f32>(5);
    sigmoid_fwd_f32(changetype<usize>(x), changetype<usize>(y), 5);
    expect<f32>(y[0]).toBe(0.5);
    expect<f32>(y[1]).toBeCloseTo(0.75, 6);
    expect<f32>(y[2]).toBeCloseTo(0.25, 6);
    expect<f32>(y[3]).toBe(1);
    expect<f32>(y[4]).toBeCloseTo(0, 30);
  });
  it('backward: dx = dy * y * (1 - y) over 6 elements (4 + 2)', () => {
    const y = new StaticArray<f32>(6);
    const dy = new StaticArray<f32>(6);
    const dx = new StaticArray<f32>(6);
    for (let i = 0; i < 6; i++) { y[i] = <f32>i * 0.2; dy[i] = 2; }
    sigmoid_bwd_f32(changetype<usize>(y), changetype<usize>(dy), changetype<usize>(dx), 6);
    for (let i = 0; i < 6; i++) {
      const s = <f32>i * 0.2;
      expect<f32>(dx[i]).toBeCloseTo(2 * s * (1 - s), 6);
    }
  });
});

describe('expf (the helper behind sigmoid and softmax)', () => {
  it('is within 2e-7 relative of Math.exp on [-87.3, 88.3], and vector == scalar bit for bit', () => {
    let worst: f64 = 0;
    let mismatches = 0;
    const n = 20000;
    for (let i = 0; i <= n; i++) {
      const x: f32 = <f32>-87.3 + <f32>175.6 * <f32>i / <f32>n;
      const v = f32x4.extract_lane(exp_f32x4(f32x4.splat(x)), 0);
      if (reinterpret<u32>(v) != reinterpret<u32>(exp_f32(x))) mismatches++;
      const ref = Math.exp(<f64>x);
      worst = max(worst, Math.abs(<f64>v - ref) / ref);
    }
    expect<i32>(mismatches).toBe(0);
    expect<bool>(worst < 2e-7).toBe(true);
  });
  it('edge cases: NaN -> NaN, large -> Inf, very negative -> 0, exp(0) = 1, exp(1) = e', () => {
    expect<bool>(isNaN(exp_f32(NaN))).toBe(true);
    expect<bool>(isNaN(f32x4.extract_lane(exp_f32x4(f32x4.splat(NaN)), 0))).toBe(true);
    expect<f32>(exp_f32(100)).toBe(Infinity);
    expect<f32>(exp_f32(Infinity)).toBe(Infinity);
    expect<f32>(exp_f32(-100)).toBe(0);
    expect<f32>(exp_f32(-Infinity)).toBe(0);
    expect<f32>(f32x4.extract_lane(exp_f32x4(f32x4.splat(-Infinity)), 0)).toBe(0);
    expect<f32>(f32x4.extract_lane(exp_f32x4(f32x4.splat(Infinity)), 0)).toBe(Infinity);
    expect<f32>(exp_f32(0)).toBe(1);
    expect<f32>(exp_f32(1)).toBe(<f32>Math.E);
  });
});
