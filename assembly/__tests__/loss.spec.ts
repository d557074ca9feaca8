// loss.ts: small hand-checked softmax / cross-entropy cases (the course's 1e-7 delta).
import { softmax_f32, softmax_xent_fwd_f32, softmax_xent_bwd_f32 } from '../loss';

describe('softmax_f32', () => {
  it('[0, ln 3] -> [0.25, 0.75]; [1000, 1000, 1000, 1000, 1000] -> 0.2 each (no overflow)', () => {
    const a = new StaticArray<f32>(2);
    a[1] = <f32>Math.log(3);
    softmax_f32(changetype<usize>(a), changetype<usize>(a), 1, 2);
    expect<f32>(a[0]).toBeCloseTo(0.25, 6);
    expect<f32>(a[1]).toBeCloseTo(0.75, 6);
    const b = new StaticArray<f32>(5);
    const y = new StaticArray<f32>(5);
    for (let i = 0; i < 5; i++) b[i] = 1000;
    softmax_f32(changetype<usize>(b), changetype<usize>(y), 1, 5);
    for (let i = 0; i < 5; i++) expect<f32>(y[i]).toBeCloseTo(0.2, 6);
  });
});

describe('softmax_xent', () => {
  it('forward: two rows of 10 equal logits -> loss -log(0.1 + 1e-7)', () => {
    const x = new StaticArray<f32>(20);
    const t = new StaticArray<i32>(2);
    const y = new StaticArray<f32>(20);
    t[0] = 0; t[1] = 9;
    const loss = softmax_xent_fwd_f32(changetype<usize>(x), changetype<usize>(t), changetype<usize>(y), 2, 10);
    expect<f32>(loss).toBeCloseTo(<f32>-Math.log(0.1 + 1e-7), 6);
    expect<f32>(y[19]).toBeCloseTo(0.1, 7);
  });
  it('forward: a bad label gives NaN', () => {
    const x = new StaticArray<f32>(3);
    const t = new StaticArray<i32>(1);
    const y = new StaticArray<f32>(3);
    t[0] = 3;
    expect<bool>(isNaN(softmax_xent_fwd_f32(changetype<usize>(x), changetype<usize>(t), changetype<usize>(y), 1, 3))).toBe(true);
  });
  it('backward: dx = (y - onehot) / N, in place', () => {
    const y = new StaticArray<f32>(6);
    const t = new StaticArray<i32>(2);
    y[0] = 0.5; y[1] = 0.25; y[2] = 0.25; y[3] = 0.1; y[4] = 0.2; y[5] = 0.7;
    t[0] = 0; t[1] = 2;
    softmax_xent_bwd_f32(changetype<usize>(y), changetype<usize>(t), changetype<usize>(y), 2, 3);
    const want: f32[] = [-0.25, 0.125, 0.125, 0.05, 0.1, -0.15];
    for (let i = 0; i < 6; i++) expect<f32>(y[i]).toBeCloseTo(want[i], 6);
  });
});
