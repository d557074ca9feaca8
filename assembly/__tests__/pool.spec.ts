// Hand-checked pooling cases. argmax is h*W + w within the plane; ties go to the first maximum.
import { maxpool_fwd_f32, maxpool_bwd_f32, avgpool_fwd_f32, avgpool_bwd_f32 } from '../pool';

function ptr<T>(a: StaticArray<T>): usize {
  return changetype<usize>(a);
}

function f32s(v: f32[]): StaticArray<f32> {
  const a = new StaticArray<f32>(v.length);
  for (let i = 0; i < v.length; i++) a[i] = v[i];
  return a;
}

function filled(n: i32, v: f32): StaticArray<f32> {
  const a = new StaticArray<f32>(n);
  for (let i = 0; i < n; i++) a[i] = v;
  return a;
}

// 4x4 plane; 2x2 windows: {1,3,4,2} {2,1,0,1} {5,5,5,0} {1,1,2,2}
const X: f32[] = [1, 3, 2, 1, 4, 2, 0, 1, 5, 5, 1, 1, 5, 0, 2, 2];

describe('maxpool_fwd_f32 / maxpool_bwd_f32', () => {
  it('2x2 stride 2: maxima, argmax, ties to the first', () => {
    const x = f32s(X);
    const y = filled(4, NaN);
    const am = new StaticArray<i32>(4);
    maxpool_fwd_f32(ptr(x), 1, 4, 4, 2, 2, 2, 2, 0, 0, ptr(y), ptr(am));
    expect<f32>(y[0]).toBe(4);
    expect<f32>(y[1]).toBe(2);
    expect<f32>(y[2]).toBe(5);
    expect<f32>(y[3]).toBe(2);
    expect<i32>(am[0]).toBe(4);
    expect<i32>(am[1]).toBe(2);
    expect<i32>(am[2]).toBe(8);
    expect<i32>(am[3]).toBe(14);

    const dy = f32s([1, 2, 3, 4]);
    const dx = filled(16, NaN);
    maxpool_bwd_f32(ptr(dy), ptr(am), 1, 4, 4, 2, 2, 2, 2, 0, 0, ptr(dx));
    for (let i = 0; i < 16; i++) {
      const want: f32 = i == 4 ? 1 : i == 2 ? 2 : i == 8 ? 3 : i == 14 ? 4 : 0;
      expect<f32>(dx[i]).toBe(want);
    }
  });

  it('padding never wins: pad 1 over a negative 2x2 plane', () => {
    const x = f32s([-1, -2, -3, -4]);
    const y = filled(4, NaN);
    const am = new StaticArray<i32>(4);
    maxpool_fwd_f32(ptr(x), 1, 2, 2, 2, 2, 2, 2, 1, 1, ptr(y), ptr(am));
    for (let i = 0; i < 4; i++) {
      expect<f32>(y[i]).toBe(x[i]);
      expect<i32>(am[i]).toBe(i);
    }
  });

  it('two planes, SIMD-wide rows (2x2 stride 2 over 2x8): argmax is per plane', () => {
    const x = new StaticArray<f32>(32);
    for (let i = 0; i < 32; i++) x[i] = <f32>(i % 16); // both planes 0..15: max at the bottom-right of each window
    const y = filled(8, NaN);
    const am = new StaticArray<i32>(8);
    maxpool_fwd_f32(ptr(x), 2, 2, 8, 2, 2, 2, 2, 0, 0, ptr(y), ptr(am));
    for (let p = 0; p < 2; p++) {
      for (let w = 0; w < 4; w++) {
        expect<f32>(y[p * 4 + w]).toBe(<f32>(w * 2 + 9));
        expect<i32>(am[p * 4 + w]).toBe(9 + 2 * w);
      }
    }
  });
});

describe('avgpool_fwd_f32 / avgpool_bwd_f32', () => {
  it('2x2 stride 2: window means', () => {
    const x = f32s(X);
    const y = filled(4, NaN);
    avgpool_fwd_f32(ptr(x), 1, 4, 4, 2, 2, 2, 2, 0, 0, ptr(y));
    expect<f32>(y[0]).toBe(2.5);
    expect<f32>(y[1]).toBe(1);
    expect<f32>(y[2]).toBe(3.75);
    expect<f32>(y[3]).toBe(1.5);
  });

  it('padding counts as zero (divisor is the full window)', () => {
    const x = f32s([4, 8, 12, 16]);
    const y = filled(4, NaN);
    avgpool_fwd_f32(ptr(x), 1, 2, 2, 2, 2, 2, 2, 1, 1, ptr(y));
    for (let i = 0; i < 4; i++) expect<f32>(y[i]).toBe(x[i] / 4);
  });

  it('backward spreads dy / 4 over each window', () => {
    const dy = f32s([4, 8, 12, 16]);
    const dx = filled(16, NaN);
    avgpool_bwd_f32(ptr(dy), 1, 4, 4, 2, 2, 2, 2, 0, 0, ptr(dx));
    for (let h = 0; h < 4; h++) {
      for (let w = 0; w < 4; w++) expect<f32>(dx[h * 4 + w]).toBe(<f32>((h >> 1) * 2 + (w >> 1) + 1));
    }
  });
});
