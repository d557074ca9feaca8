// Batched conv kernels: the course's worked example, and a split filter gradient (column
// ranges, as the threads runtime calls it) equal bit for bit to the unsplit one.
import { conv_fwd_f32, conv_bwd_filter_f32, conv_bwd_bias_f32 } from '../conv';

function ptr<T>(a: StaticArray<T>): usize {
  return changetype<usize>(a);
}

function filled(n: i32, v: f32): StaticArray<f32> {
  const a = new StaticArray<f32>(n);
  for (let i = 0; i < n; i++) a[i] = v;
  return a;
}

function pseudo(n: i32, seed: i32): StaticArray<f32> {
  const a = new StaticArray<f32>(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = s * 1103515245 + 12345;
    a[i] = <f32>((s >>> 8) & 0xffff) / 32768.0 - 1.0;
  }
  return a;
}

describe('conv_fwd_f32', () => {
  it("the course's 4x4 input and 3x3 filter give [[15, 16], [6, 15]] + bias 3", () => {
    const x: StaticArray<f32> = [1, 2, 3, 0, 0, 1, 2, 3, 3, 0, 1, 2, 2, 3, 0, 1];
    const w: StaticArray<f32> = [2, 0, 1, 0, 1, 2, 1, 0, 2];
    const b: StaticArray<f32> = [3];
    const y = filled(4, NaN);
    const col = filled((9 + 1) * 4, NaN); // (CKK + FN) x (1 image's 4 columns): see conv_ld
    conv_fwd_f32(ptr(x), 1, 1, 4, 4, ptr(w), 1, 3, 3, 1, 1, 0, 0, ptr(b), 1, ptr(y), ptr(col));
    expect<f32>(y[0]).toBe(18);
    expect<f32>(y[1]).toBe(19);
    expect<f32>(y[2]).toBe(9);
    expect<f32>(y[3]).toBe(18);
  });
});

describe('conv_bwd_filter_f32 / conv_bwd_bias_f32', () => {
  it('column and channel ranges give the same bits as one call over everything', () => {
    // x: (3, 2, 9, 9), w: (7, 2, 3, 3) -> dy: (3, 7, 7, 7); CKK = 18, OHW = 49
    const x = pseudo(3 * 2 * 81, 1);
    const dy = pseudo(3 * 7 * 49, 2);
    const whole = filled(7 * 18, NaN);
    const split = filled(7 * 18, NaN);
    // all 3 images in one group (conv_group): im2col rows (18, 147), sums (7, 18), dy side by side (7, 147)
    const col = filled(18 * 147 + 7 * 18 + 7 * 147, NaN);
    conv_bwd_filter_f32(ptr(x), ptr(dy), 3, 2, 9, 9, 7, 3, 3, 1, 1, 0, 0, 0, 18, ptr(whole), ptr(col));
    conv_bwd_filter_f32(ptr(x), ptr(dy), 3, 2, 9, 9, 7, 3, 3, 1, 1, 0, 0, 0, 6, ptr(split), ptr(col));
    conv_bwd_filter_f32(ptr(x), ptr(dy), 3, 2, 9, 9, 7, 3, 3, 1, 1, 0, 0, 6, 12, ptr(split), ptr(col));
    conv_bwd_filter_f32(ptr(x), ptr(dy), 3, 2, 9, 9, 7, 3, 3, 1, 1, 0, 0, 12, 18, ptr(split), ptr(col));
    for (let i = 0; i < 7 * 18; i++) expect<u32>(reinterpret<u32>(split[i])).toBe(reinterpret<u32>(whole[i]));

    const dbWhole = filled(7, NaN);
    const dbSplit = filled(7, NaN);
    conv_bwd_bias_f32(ptr(dy), 3, 7, 49, 0, 7, ptr(dbWhole));
    conv_bwd_bias_f32(ptr(dy), 3, 7, 49, 0, 3, ptr(dbSplit));
    conv_bwd_bias_f32(ptr(dy), 3, 7, 49, 3, 7, ptr(dbSplit));
    for (let i = 0; i < 7; i++) expect<u32>(reinterpret<u32>(dbSplit[i])).toBe(reinterpret<u32>(dbWhole[i]));
  });
});
