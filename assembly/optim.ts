// optim.ts — the course's optimizer update rules, in place over n floats.
// Shapes: p (params), g (grads) and the state buffers v / h / m are all (n).
// f32x4 main loops with explicit scalar tails; the formulas are those of src/backend/kernels.ts.

export function sgd_f32(p: usize, g: usize, n: i32, lr: f32): void {
  // p, g: (n); p -= lr * g
  const lv = f32x4.splat(lr);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const o = <usize>i << 2;
    const r0 = f32x4.sub(v128.load(p + o), f32x4.mul(lv, v128.load(g + o)));
    const r1 = f32x4.sub(v128.load(p + o, 16), f32x4.mul(lv, v128.load(g + o, 16)));
    v128.store(p + o, r0);
    v128.store(p + o, r1, 16);
  }
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    v128.store(p + o, f32x4.sub(v128.load(p + o), f32x4.mul(lv, v128.load(g + o))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(p + o, load<f32>(p + o) - lr * load<f32>(g + o));
  }
}

export function momentum_f32(p: usize, g: usize, v: usize, n: i32, lr: f32, momentum: f32): void {
  // p, g, v: (n); v = momentum * v - lr * g; p += v
  const lv = f32x4.splat(lr), mv = f32x4.splat(momentum);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const nv = f32x4.sub(f32x4.mul(mv, v128.load(v + o)), f32x4.mul(lv, v128.load(g + o)));
    v128.store(v + o, nv);
    v128.store(p + o, f32x4.add(v128.load(p + o), nv));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const nv = momentum * load<f32>(v + o) - lr * load<f32>(g + o);
    store<f32>(v + o, nv);
    store<f32>(p + o, load<f32>(p + o) + nv);
  }
}

export function nesterov_f32(p: usize, g: usize, v: usize, n: i32, lr: f32, momentum: f32): void {
  // p, g, v: (n); v = momentum * v - lr * g; p += momentum * momentum * v - (1 + momentum) * lr * g
  const mm: f32 = momentum * momentum;
  const c: f32 = (<f32>1 + momentum) * lr;
  const lv = f32x4.splat(lr), mv = f32x4.splat(momentum), mmv = f32x4.splat(mm), cv = f32x4.splat(c);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const gg = v128.load(g + o);
    const nv = f32x4.sub(f32x4.mul(mv, v128.load(v + o)), f32x4.mul(lv, gg));
    v128.store(v + o, nv);
    v128.store(p + o, f32x4.add(v128.load(p + o), f32x4.sub(f32x4.mul(mmv, nv), f32x4.mul(cv, gg))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const gg = load<f32>(g + o);
    const nv = momentum * load<f32>(v + o) - lr * gg;
    store<f32>(v + o, nv);
    store<f32>(p + o, load<f32>(p + o) + (mm * nv - c * gg));
  }
}

export function adagrad_f32(p: usize, g: usize, h: usize, n: i32, lr: f32): void {
  // p, g, h: (n); h += g * g; p -= lr * g / (sqrt(h) + 1e-7)
  const lv = f32x4.splat(lr), ev = f32x4.splat(1e-7);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const gg = v128.load(g + o);
    const hh = f32x4.add(v128.load(h + o), f32x4.mul(gg, gg));
    v128.store(h + o, hh);
    v128.store(p + o, f32x4.sub(v128.load(p + o), f32x4.div(f32x4.mul(lv, gg), f32x4.add(f32x4.sqrt(hh), ev))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const gg = load<f32>(g + o);
    const hh = load<f32>(h + o) + gg * gg;
    store<f32>(h + o, hh);
    store<f32>(p + o, load<f32>(p + o) - lr * gg / (Mathf.sqrt(hh) + <f32>1e-7));
  }
}

export function rmsprop_f32(p: usize, g: usize, h: usize, n: i32, lr: f32, decay: f32): void {
  // p, g, h: (n); h = decay * h + (1 - decay) * g * g; p -= lr * g / (sqrt(h) + 1e-7)
  const od: f32 = <f32>1 - decay;
  const lv = f32x4.splat(lr), dv = f32x4.splat(decay), odv = f32x4.splat(od), ev = f32x4.splat(1e-7);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const gg = v128.load(g + o);
    const hh = f32x4.add(f32x4.mul(dv, v128.load(h + o)), f32x4.mul(f32x4.mul(odv, gg), gg));
    v128.store(h + o, hh);
    v128.store(p + o, f32x4.sub(v128.load(p + o), f32x4.div(f32x4.mul(lv, gg), f32x4.add(f32x4.sqrt(hh), ev))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const gg = load<f32>(g + o);
    const hh = decay * load<f32>(h + o) + od * gg * gg;
    store<f32>(h + o, hh);
    store<f32>(p + o, load<f32>(p + o) - lr * gg / (Mathf.sqrt(hh) + <f32>1e-7));
  }
}

export function adam_f32(p: usize, g: usize, m: usize, v: usize, n: i32, lrt: f32, beta1: f32, beta2: f32): void {
  // p, g, m, v: (n); m += (1 - beta1) * (g - m); v += (1 - beta2) * (g * g - v); p -= lrt * m / (sqrt(v) + 1e-7)
  const b1: f32 = <f32>1 - beta1, b2: f32 = <f32>1 - beta2;
  const lv = f32x4.splat(lrt), b1v = f32x4.splat(b1), b2v = f32x4.splat(b2), ev = f32x4.splat(1e-7);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const gg = v128.load(g + o);
    let mm = v128.load(m + o);
    let vv = v128.load(v + o);
    mm = f32x4.add(mm, f32x4.mul(b1v, f32x4.sub(gg, mm)));
    vv = f32x4.add(vv, f32x4.mul(b2v, f32x4.sub(f32x4.mul(gg, gg), vv)));
    v128.store(m + o, mm);
    v128.store(v + o, vv);
    v128.store(p + o, f32x4.sub(v128.load(p + o), f32x4.div(f32x4.mul(lv, mm), f32x4.add(f32x4.sqrt(vv), ev))));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const gg = load<f32>(g + o);
    let mm = load<f32>(m + o);
    let vv = load<f32>(v + o);
    mm += b1 * (gg - mm);
    vv += b2 * (gg * gg - vv);
    store<f32>(m + o, mm);
    store<f32>(v + o, vv);
    store<f32>(p + o, load<f32>(p + o) - lrt * mm / (Mathf.sqrt(vv) + <f32>1e-7));
  }
}
