// The fused inference convolution by Winograd F(4x4, 5x5) against a naive direct definition in the
// same file: maxpool 2x2/2 (relu(conv5x5 + b)), one channel (SimpleConvNet's case: 28x28, every
// tile of an image used) and two channels with pad 2 and an odd pooled size (edge tiles, a quad of
// tiles over two tile rows); and conv_relu_pool_fwd_f32 gives the same values to float rounding.
import { wino5_filter_f32, wino5_relu_pool_fwd_f32 } from '../winograd5';
import { conv_relu_pool_fwd_f32 } from '../conv-fused';

function ptr<T>(a: StaticArray<T>): usize {
  return changetype<usize>(a);
}

function filled(n: i32, v: f32): StaticArray<f32> {
  const a = new StaticArray<f32>(n);
  for (let i = 0; i < n; i++) a[i] = v;
  return a;
}

function pseudo(n: i32, seed: i32, scale: f32): StaticArray<f32> {
  const a = new StaticArray<f32>(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = s * 1103515245 + 12345;
    a[i] = (<f32>((s >>> 8) & 0xffff) / 32768.0 - 1.0) * scale;
  }
  return a;
}

/** relu(max over the 2x2 window at pooled (i, j) of conv(x, w)[n][f] + b[f]), in f64. */
function naive(x: StaticArray<f32>, w: StaticArray<f32>, b: StaticArray<f32>, n: i32, C: i32, H: i32, W: i32,
  f: i32, pad: i32, i: i32, j: i32): f64 {
  let best = -Infinity;
  for (let r = 2 * i; r < 2 * i + 2; r++) {
    for (let s = 2 * j; s < 2 * j + 2; s++) {
      let acc: f64 = <f64>b[f];
      for (let c = 0; c < C; c++) {
        for (let kh = 0; kh < 5; kh++) {
          for (let kw = 0; kw < 5; kw++) {
            const ih = r - pad + kh, iw = s - pad + kw;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
            acc += <f64>w[((f * C + c) * 5 + kh) * 5 + kw] * <f64>x[((n * C + c) * H + ih) * W + iw];
          }
        }
      }
      best = max(best, acc);
    }
  }
  return max(best, 0);
}

/** Scratch floats of wino5_relu_pool_fwd_f32 (src/backend/kernels.ts wino5FwdScratch). */
function scratchFloats(C: i32, H: i32, W: i32, pad: i32): i32 {
  const PH = (H + 2 * pad - 4) >> 1, PW = (W + 2 * pad - 4) >> 1;
  const TH = (PH + 1) >> 1, TW = (PW + 1) >> 1, nq = (TH * TW + 3) >> 2;
  return C * (((4 * TH + 4) * (4 * TW + 4) + 3) & ~3) + nq * (C * 256 + 8) + 516;
}

function check(N: i32, C: i32, H: i32, W: i32, FN: i32, pad: i32): void {
  const PH = (H + 2 * pad - 4) >> 1, PW = (W + 2 * pad - 4) >> 1;
  const x = pseudo(N * C * H * W, 7, 1), w = pseudo(FN * C * 25, 8, 0.2), b = pseudo(FN, 9, 0.5);
  const u = filled(FN * C * 256, NaN);
  const y = filled(N * FN * PH * PW + 4, 1234.5);
  wino5_filter_f32(ptr(w), FN, C, ptr(u));
  wino5_relu_pool_fwd_f32(ptr(x), N, C, H, W, ptr(u), FN, pad, ptr(b), 1, ptr(y), ptr(filled(scratchFloats(C, H, W, pad), NaN)));
  for (let n = 0; n < N; n++) {
    for (let f = 0; f < FN; f++) {
      for (let i = 0; i < PH; i++) {
        for (let j = 0; j < PW; j++) {
          const got = y[((n * FN + f) * PH + i) * PW + j];
          expect<f64>(Math.abs(<f64>got - naive(x, w, b, n, C, H, W, f, pad, i, j))).toBeLessThan(1e-4);
        }
      }
    }
  }
  for (let k = 0; k < 4; k++) expect<f32>(y[N * FN * PH * PW + k]).toBe(1234.5); // nothing written past y
}

describe('wino5_relu_pool_fwd_f32', () => {
  it('matches the naive definition: 1 channel 28x28 (SimpleConvNet), 30 filters', () => {
    check(2, 1, 28, 28, 30, 0);
  });
  it('matches the naive definition: 2 channels 13x11, pad 2, odd pooled size 6x5 (edge tiles)', () => {
    check(3, 2, 13, 11, 3, 2);
  });
  it('agrees with conv_relu_pool_fwd_f32 on the same inputs', () => {
    const x = pseudo(784, 3, 1), w = pseudo(4 * 25, 4, 0.2), b = pseudo(4, 5, 0.5);
    const u = filled(4 * 256, NaN), yw = filled(4 * 144, NaN), yd = filled(4 * 144, NaN);
    wino5_filter_f32(ptr(w), 4, 1, ptr(u));
    wino5_relu_pool_fwd_f32(ptr(x), 1, 1, 28, 28, ptr(u), 4, 0, ptr(b), 1, ptr(yw), ptr(filled(scratchFloats(1, 28, 28, 0), NaN)));
    conv_relu_pool_fwd_f32(ptr(x), 1, 1, 28, 28, ptr(w), 4, 5, 5, 1, 1, 0, 0, ptr(b), 1, 2, 2, 0, ptr(yd), ptr(filled(30 * 576, NaN)));
    for (let i = 0; i < 4 * 144; i++) expect<f32>(Mathf.abs(yw[i] - yd[i])).toBeLessThan(1e-4);
  });
});
