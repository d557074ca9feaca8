// elementwise.ts — streaming element-wise kernels over flat f32 buffers.
// Shapes: see src/backend/kernels.ts. f32x4 main loops, explicit scalar tails.

export function mul_f32(a: usize, b: usize, y: usize, n: i32): void {
  // a, b, y: (n); y = a * b; y may equal a or b
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = <usize>i << 2;
    const r0 = f32x4.mul(v128.load(a + o), v128.load(b + o));
    const r1 = f32x4.mul(v128.load(a + o, 16), v128.load(b + o, 16));
    const r2 = f32x4.mul(v128.load(a + o, 32), v128.load(b + o, 32));
    const r3 = f32x4.mul(v128.load(a + o, 48), v128.load(b + o, 48));
    v128.store(y + o, r0);
    v128.store(y + o, r1, 16);
    v128.store(y + o, r2, 32);
    v128.store(y + o, r3, 48);
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.mul(v128.load(a + o), v128.load(b + o)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, load<f32>(a + o) * load<f32>(b + o));
  }
}

export function axpby_f32(x: usize, y: usize, n: i32, a: f32, b: f32): void {
  // x, y: (n); y = a * x + b * y. As in BLAS, b == 0 means y is not read (garbage/NaN in y does not leak).
  if (b == 0) {
    const av = f32x4.splat(a);
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 2;
      v128.store(y + o, f32x4.mul(av, v128.load(x + o)));
    }
    for (; i < n; i++) {
      const o = <usize>i << 2;
      store<f32>(y + o, a * load<f32>(x + o));
    }
    return;
  }
  const av = f32x4.splat(a), bv = f32x4.splat(b);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = <usize>i << 2;
    const r0 = f32x4.add(f32x4.mul(av, v128.load(x + o)), f32x4.mul(bv, v128.load(y + o)));
    const r1 = f32x4.add(f32x4.mul(av, v128.load(x + o, 16)), f32x4.mul(bv, v128.load(y + o, 16)));
    const r2 = f32x4.add(f32x4.mul(av, v128.load(x + o, 32)), f32x4.mul(bv, v128.load(y + o, 32)));
    const r3 = f32x4.add(f32x4.mul(av, v128.load(x + o, 48)), f32x4.mul(bv, v128.load(y + o, 48)));
    v128.store(y + o, r0);
    v128.store(y + o, r1, 16);
    v128.store(y + o, r2, 32);
    v128.store(y + o, r3, 48);
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(y + o, f32x4.add(f32x4.mul(av, v128.load(x + o)), f32x4.mul(bv, v128.load(y + o))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(y + o, a * load<f32>(x + o) + b * load<f32>(y + o));
  }
}

export function fill_f32(y: usize, n: i32, v: f32): void {
  // y: (n) = v
  const vv = f32x4.splat(v);
  let i = 0;
  for (; i + 16 <= n; i += 16) {
    const o = y + (<usize>i << 2);
    v128.store(o, vv);
    v128.store(o, vv, 16);
    v128.store(o, vv, 32);
    v128.store(o, vv, 48);
  }
  for (; i + 4 <= n; i += 4) v128.store(y + (<usize>i << 2), vv);
  for (; i < n; i++) store<f32>(y + (<usize>i << 2), v);
}

export function count_nonfinite_f32(x: usize, n: i32): i32 {
  // x: (n) -> number of NaN / +-Infinity elements (all exponent bits set)
  const expMask = i32x4.splat(0x7f800000);
  let c0 = i32x4.splat(0), c1 = i32x4.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const o = <usize>i << 2;
    // a lane of eq() is -1 where the exponent is all ones; subtracting counts it
    c0 = i32x4.sub(c0, i32x4.eq(v128.and(v128.load(x + o), expMask), expMask));
    c1 = i32x4.sub(c1, i32x4.eq(v128.and(v128.load(x + o, 16), expMask), expMask));
  }
  for (; i + 4 <= n; i += 4) {
    c0 = i32x4.sub(c0, i32x4.eq(v128.and(v128.load(x + (<usize>i << 2)), expMask), expMask));
  }
  const c = i32x4.add(c0, c1);
  let count = i32x4.extract_lane(c, 0) + i32x4.extract_lane(c, 1) + i32x4.extract_lane(c, 2) + i32x4.extract_lane(c, 3);
  for (; i < n; i++) {
    if ((load<u32>(x + (<usize>i << 2)) & 0x7f800000) == 0x7f800000) count++;
  }
  return count;
}
