// activation.ts — ReLU and sigmoid, forward and backward, over flat f32 buffers.
// Streaming f32x4 loops with explicit scalar tails; shapes: see src/backend/kernels.ts.
import { exp_f32x4, exp_f32 } from './expf';

// ReLU follows the course's mask (x <= 0 -> 0): NaN passes through, so it stays visible.
export function relu_fwd_f32(x: usize, y: usize, n: i32): void {
  // x, y: (n); y may equal x
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = <usize>i << 2;
    const a0 = v128.load(x + o), a1 = v128.load(x + o, 16), a2 = v128.load(x + o, 32), a3 = v128.load(x + o, 48);
    v128.store(y + o, v128.andnot(a0, f32x4.le(a0, zero)));
    v128.store(y + o, v128.andnot(a1, f32x4.le(a1, zero)), 16);
    v128.store(y + o, v128.andnot(a2, f32x4.le(a2, zero)), 32);
    v128.store(y + o, v128.andnot(a3, f32x4.le(a3, zero)), 48);
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const a = v128.load(x + o);
    v128.store(y + o, v128.andnot(a, f32x4.le(a, zero)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const a = load<f32>(x + o);
    store<f32>(y + o, a <= 0 ? 0 : a);
  }
}

export function relu_bwd_f32(y: usize, dy: usize, dx: usize, n: i32): void {
  // y (forward output), dy, dx: (n); dx = y > 0 ? dy : 0; dx may equal dy
  const zero = f32x4.splat(0);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = <usize>i << 2;
    const m0 = f32x4.gt(v128.load(y + o), zero), m1 = f32x4.gt(v128.load(y + o, 16), zero);
    const m2 = f32x4.gt(v128.load(y + o, 32), zero), m3 = f32x4.gt(v128.load(y + o, 48), zero);
    const d0 = v128.load(dy + o), d1 = v128.load(dy + o, 16), d2 = v128.load(dy + o, 32), d3 = v128.load(dy + o, 48);
    v128.store(dx + o, v128.and(d0, m0));
    v128.store(dx + o, v128.and(d1, m1), 16);
    v128.store(dx + o, v128.and(d2, m2), 32);
    v128.store(dx + o, v128.and(d3, m3), 48);
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(dx + o, v128.and(v128.load(dy + o), f32x4.gt(v128.load(y + o), zero)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(dx + o, load<f32>(y + o) > 0 ? load<f32>(dy + o) : 0);
  }
}

export function sigmoid_fwd_f32(x: usize, y: usize, n: i32): void {
  // x, y: (n); y = 1 / (1 + exp(-x)); y may equal x. exp: the f32x4 Cephes expf of expf.ts.
  const one = f32x4.splat(1);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const o = <usize>i << 2;
    const e0 = exp_f32x4(f32x4.neg(v128.load(x + o)));
    const e1 = exp_f32x4(f32x4.neg(v128.load(x + o, 16)));
    v128.store(y + o, f32x4.div(one, f32x4.add(one, e0)));
    v128.store(y + o, f32x4.div(one, f32x4.add(one, e1)), 16);
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.div(one, f32x4.add(one, exp_f32x4(f32x4.neg(v128.load(x + o))))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, <f32>1 / (<f32>1 + exp_f32(-load<f32>(x + o))));
  }
}

export function sigmoid_bwd_f32(y: usize, dy: usize, dx: usize, n: i32): void {
  // y (forward output), dy, dx: (n); dx = dy * y * (1 - y); dx may equal dy
  const one = f32x4.splat(1);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const s = v128.load(y + o);
    v128.store(dx + o, f32x4.mul(f32x4.mul(v128.load(dy + o), s), f32x4.sub(one, s)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const s = load<f32>(y + o);
    store<f32>(dx + o, load<f32>(dy + o) * s * (<f32>1 - s));
  }
}
