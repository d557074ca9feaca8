// optim.ts: one or two hand-checked steps of each of the course's update rules.
import { sgd_f32, momentum_f32, nesterov_f32, adagrad_f32, rmsprop_f32, adam_f32 } from '../optim';

function filled(n: i32, v: f32): StaticArray<f32> {
  const a = new StaticArray<f32>(n);
  for (let i = 0; i < n; i++) a[i] = v;
  return a;
}

describe('sgd / momentum / nesterov', () => {
  it('sgd: p -= lr * g over 5 elements (4 + 1)', () => {
    const p = filled(5, 1);
    const g = filled(5, 2);
    sgd_f32(changetype<usize>(p), changetype<usize>(g), 5, 0.25);
    for (let i = 0; i < 5; i++) expect<f32>(p[i]).toBe(0.5);
  });
  it('momentum: two steps with v carried', () => {
    const p = filled(5, 1);
    const g = filled(5, 1);
    const v = filled(5, 0);
    momentum_f32(changetype<usize>(p), changetype<usize>(g), changetype<usize>(v), 5, 0.5, 0.5);
    momentum_f32(changetype<usize>(p), changetype<usize>(g), changetype<usize>(v), 5, 0.5, 0.5);
    // v: -0.5, then -0.75; p: 0.5, then -0.25
    for (let i = 0; i < 5; i++) {
      expect<f32>(v[i]).toBe(-0.75);
      expect<f32>(p[i]).toBe(-0.25);
    }
  });
  it('nesterov: p += m^2 v - (1 + m) lr g', () => {
    const p = filled(6, 1);
    const g = filled(6, 1);
    const v = filled(6, 0);
    nesterov_f32(changetype<usize>(p), changetype<usize>(g), changetype<usize>(v), 6, 0.5, 0.5);
    // v = -0.5; p = 1 + 0.25 * -0.5 - 1.5 * 0.5 = 0.125
    for (let i = 0; i < 6; i++) {
      expect<f32>(v[i]).toBe(-0.5);
      expect<f32>(p[i]).toBe(0.125);
    }
  });
});

describe('adagrad / rmsprop / adam', () => {
  it('adagrad: h = g^2, p -= lr * g / (|g| + 1e-7)', () => {
    const p = filled(7, 0);
    const g = filled(7, 4);
    const h = filled(7, 0);
    adagrad_f32(changetype<usize>(p), changetype<usize>(g), changetype<usize>(h), 7, 0.1);
    for (let i = 0; i < 7; i++) {
      expect<f32>(h[i]).toBe(16);
      expect<f32>(p[i]).toBeCloseTo(-0.1, 6);
    }
  });
  it('rmsprop: h = 0.9 * 1 + 0.1 * 4 = 1.3', () => {
    const p = filled(3, 0);
    const g = filled(3, 2);
    const h = filled(3, 1);
    rmsprop_f32(changetype<usize>(p), changetype<usize>(g), changetype<usize>(h), 3, 0.01, 0.9);
    for (let i = 0; i < 3; i++) {
      expect<f32>(h[i]).toBeCloseTo(1.3, 6);
      expect<f32>(p[i]).toBeCloseTo(<f32>(-0.02 / (Math.sqrt(1.3) + 1e-7)), 6);
    }
  });
  it('adam: the first step from zero state moves p by lr * sign(g)', () => {
    const p = filled(5, 0);
    const g = filled(5, -3);
    const m = filled(5, 0);
    const v = filled(5, 0);
    const lrt = <f32>(0.001 * Math.sqrt(1 - 0.999) / (1 - 0.9));
    adam_f32(changetype<usize>(p), changetype<usize>(g), changetype<usize>(m), changetype<usize>(v), 5, lrt, 0.9, 0.999);
    for (let i = 0; i < 5; i++) {
      expect<f32>(m[i]).toBeCloseTo(-0.3, 6);
      expect<f32>(v[i]).toBeCloseTo(0.009, 6);
      expect<f32>(p[i]).toBeCloseTo(0.001, 6);
    }
  });
});
