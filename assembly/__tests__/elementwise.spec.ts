// elementwise.ts: small hand-checked cases, lengths that exercise the 16-wide, 4-wide and scalar paths.
import { mul_f32, axpby_f32, fill_f32, count_nonfinite_f32 } from '../elementwise';

function ramp(n: i32, start: f32, step: f32): StaticArray<f32> {
  const a = new StaticArray<f32>(n);
  for (let i = 0; i < n; i++) a[i] = start + <f32>i * step;
  return a;
}

describe('mul_f32', () => {
  it('multiplies 23 elements (16 + 4 + 3) and stops at n', () => {
    const a = ramp(24, 1, 1);
    const b = ramp(24, 0.5, 0);
    const y = new StaticArray<f32>(24);
    y[23] = 99;
    mul_f32(changetype<usize>(a), changetype<usize>(b), changetype<usize>(y), 23);
    for (let i = 0; i < 23; i++) expect<f32>(y[i]).toBe((<f32>i + 1) * 0.5);
    expect<f32>(y[23]).toBe(99);
  });
  it('works in place (y == a)', () => {
    const a = ramp(7, -3, 1);
    mul_f32(changetype<usize>(a), changetype<usize>(a), changetype<usize>(a), 7);
    const want: f32[] = [9, 4, 1, 0, 1, 4, 9];
    for (let i = 0; i < 7; i++) expect<f32>(a[i]).toBe(want[i]);
  });
});

describe('axpby_f32', () => {
  it('y = 2 x + 0.5 y over 9 elements', () => {
    const x = ramp(9, 0, 1);
    const y = ramp(9, 10, 0);
    axpby_f32(changetype<usize>(x), changetype<usize>(y), 9, 2, 0.5);
    for (let i = 0; i < 9; i++) expect<f32>(y[i]).toBe(<f32>i * 2 + 5);
  });
  it('b == 0 ignores NaN in y', () => {
    const x = ramp(5, 1, 1);
    const y = new StaticArray<f32>(5);
    for (let i = 0; i < 5; i++) y[i] = NaN;
    axpby_f32(changetype<usize>(x), changetype<usize>(y), 5, -1, 0);
    for (let i = 0; i < 5; i++) expect<f32>(y[i]).toBe(-(<f32>i + 1));
  });
});

describe('fill_f32', () => {
  it('fills 21 of 22 cells', () => {
    const y = new StaticArray<f32>(22);
    fill_f32(changetype<usize>(y), 21, 2.5);
    for (let i = 0; i < 21; i++) expect<f32>(y[i]).toBe(2.5);
    expect<f32>(y[21]).toBe(0);
  });
  it('n == 0 writes nothing', () => {
    const y = new StaticArray<f32>(4);
    fill_f32(changetype<usize>(y), 0, 7);
    expect<f32>(y[0]).toBe(0);
  });
});

describe('count_nonfinite_f32', () => {
  it('counts NaN and +-Inf in the vector and the scalar parts, not past n', () => {
    const x = ramp(14, -1e38, 1e37);
    x[0] = NaN;
    x[5] = Infinity;
    x[9] = -Infinity;
    x[12] = NaN; // scalar tail (n = 13: 8 + 4 + 1)
    x[13] = NaN; // past n
    expect<i32>(count_nonfinite_f32(changetype<usize>(x), 13)).toBe(4);
    expect<i32>(count_nonfinite_f32(changetype<usize>(x), 0)).toBe(0);
    expect<i32>(count_nonfinite_f32(changetype<usize>(x), 12)).toBe(3);
  });
  it('the largest finite value and denormals are finite', () => {
    const x = new StaticArray<f32>(3);
    x[0] = f32.MAX_VALUE;
    x[1] = -f32.MIN_VALUE;
    x[2] = -0.0;
    expect<i32>(count_nonfinite_f32(changetype<usize>(x), 3)).toBe(0);
  });
});
