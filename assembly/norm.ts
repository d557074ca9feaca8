// norm.ts — batch normalization over the rows of x: (N, D), as in the course's BatchNormalization.
// Shapes: see src/backend/kernels.ts. Statistics are per column, so the kernels walk column
// blocks of 4 (one f32x4 register) down the rows, keeping per-column values in registers;
// the last D % 4 columns take the scalar path. Variance is biased (divided by N), two-pass,
// with the mean taken relative to the first row (shifted sums) for f32 accuracy.

export function bn_fwd_train_f32(x: usize, N: i32, D: i32, gamma: usize, beta: usize, eps: f32,
  mean: usize, variance: usize, xhat: usize, y: usize): void {
  // x: (N, D); gamma, beta: (D) -> mean, variance: (D); xhat, y: (N, D)
  const rowBytes = <usize>D << 2;
  const nf = <f32>N;
  const nv = f32x4.splat(nf);
  const ev = f32x4.splat(eps);
  const one = f32x4.splat(1);
  let j = 0;
  for (; j + 4 <= D; j += 4) {
    const cj = <usize>j << 2;
    // mean = x[0] + sum(x - x[0]) / N: the shift keeps f32 sums accurate when |mean| >> std
    const sh = N > 0 ? v128.load(x + cj) : f32x4.splat(0);
    let s = f32x4.splat(0);
    let p = x + cj;
    for (let r = 0; r < N; r++) { s = f32x4.add(s, f32x4.sub(v128.load(p), sh)); p += rowBytes; }
    const mu = f32x4.add(sh, f32x4.div(s, nv));
    let q = f32x4.splat(0);
    p = x + cj;
    for (let r = 0; r < N; r++) { const d = f32x4.sub(v128.load(p), mu); q = f32x4.add(q, f32x4.mul(d, d)); p += rowBytes; }
    const va = f32x4.div(q, nv);
    v128.store(mean + cj, mu);
    v128.store(variance + cj, va);
    const inv = f32x4.div(one, f32x4.sqrt(f32x4.add(va, ev)));
    const g = v128.load(gamma + cj), b = v128.load(beta + cj);
    let o = cj;
    for (let r = 0; r < N; r++) {
      const xh = f32x4.mul(f32x4.sub(v128.load(x + o), mu), inv);
      v128.store(xhat + o, xh);
      v128.store(y + o, f32x4.add(f32x4.mul(g, xh), b));
      o += rowBytes;
    }
  }
  for (; j < D; j++) {
    const cj = <usize>j << 2;
    const sh: f32 = N > 0 ? load<f32>(x + cj) : 0;
    let s: f32 = 0;
    let p = x + cj;
    for (let r = 0; r < N; r++) { s += load<f32>(p) - sh; p += rowBytes; }
    const mu = sh + s / nf;
    let q: f32 = 0;
    p = x + cj;
    for (let r = 0; r < N; r++) { const d = load<f32>(p) - mu; q += d * d; p += rowBytes; }
    const va = q / nf;
    store<f32>(mean + cj, mu);
    store<f32>(variance + cj, va);
    const inv = <f32>1 / Mathf.sqrt(va + eps);
    const g = load<f32>(gamma + cj), b = load<f32>(beta + cj);
    let o = cj;
    for (let r = 0; r < N; r++) {
      const xh = (load<f32>(x + o) - mu) * inv;
      store<f32>(xhat + o, xh);
      store<f32>(y + o, g * xh + b);
      o += rowBytes;
    }
  }
}

export function bn_fwd_eval_f32(x: usize, N: i32, D: i32, gamma: usize, beta: usize, eps: f32,
  runMean: usize, runVar: usize, y: usize): void {
  // x: (N, D); gamma, beta, runMean, runVar: (D) -> y: (N, D) = (x - runMean) * (gamma / sqrt(runVar + eps)) + beta; y may equal x
  const rowBytes = <usize>D << 2;
  const ev = f32x4.splat(eps);
  let j = 0;
  for (; j + 4 <= D; j += 4) {
    const cj = <usize>j << 2;
    const mu = v128.load(runMean + cj);
    const sc = f32x4.div(v128.load(gamma + cj), f32x4.sqrt(f32x4.add(v128.load(runVar + cj), ev)));
    const b = v128.load(beta + cj);
    let o = cj;
    for (let r = 0; r < N; r++) {
      v128.store(y + o, f32x4.add(f32x4.mul(f32x4.sub(v128.load(x + o), mu), sc), b));
      o += rowBytes;
    }
  }
  for (; j < D; j++) {
    const cj = <usize>j << 2;
    const mu = load<f32>(runMean + cj);
    const sc = load<f32>(gamma + cj) / Mathf.sqrt(load<f32>(runVar + cj) + eps);
    const b = load<f32>(beta + cj);
    let o = cj;
    for (let r = 0; r < N; r++) {
      store<f32>(y + o, (load<f32>(x + o) - mu) * sc + b);
      o += rowBytes;
    }
  }
}

export function bn_bwd_f32(dy: usize, xhat: usize, variance: usize, gamma: usize, N: i32, D: i32, eps: f32,
  dgamma: usize, dbeta: usize, dx: usize): void {
  // dy, xhat: (N, D); variance, gamma: (D) -> dgamma, dbeta: (D); dx: (N, D); dx may equal dy
  // dx = gamma / (N * sqrt(var + eps)) * (N * dy - dbeta - xhat * dgamma)  (the course's chain, simplified)
  const rowBytes = <usize>D << 2;
  const nf = <f32>N;
  const nv = f32x4.splat(nf);
  const ev = f32x4.splat(eps);
  let j = 0;
  for (; j + 4 <= D; j += 4) {
    const cj = <usize>j << 2;
    let sb = f32x4.splat(0), sg = f32x4.splat(0);
    let o = cj;
    for (let r = 0; r < N; r++) {
      const d = v128.load(dy + o);
      sb = f32x4.add(sb, d);
      sg = f32x4.add(sg, f32x4.mul(d, v128.load(xhat + o)));
      o += rowBytes;
    }
    v128.store(dbeta + cj, sb);
    v128.store(dgamma + cj, sg);
    const k = f32x4.div(v128.load(gamma + cj), f32x4.mul(nv, f32x4.sqrt(f32x4.add(v128.load(variance + cj), ev))));
    o = cj;
    for (let r = 0; r < N; r++) {
      const t = f32x4.sub(f32x4.sub(f32x4.mul(nv, v128.load(dy + o)), sb), f32x4.mul(v128.load(xhat + o), sg));
      v128.store(dx + o, f32x4.mul(k, t));
      o += rowBytes;
    }
  }
  for (; j < D; j++) {
    const cj = <usize>j << 2;
    let sb: f32 = 0, sg: f32 = 0;
    let o = cj;
    for (let r = 0; r < N; r++) {
      const d = load<f32>(dy + o);
      sb += d;
      sg += d * load<f32>(xhat + o);
      o += rowBytes;
    }
    store<f32>(dbeta + cj, sb);
    store<f32>(dgamma + cj, sg);
    const k = load<f32>(gamma + cj) / (nf * Mathf.sqrt(load<f32>(variance + cj) + eps));
    o = cj;
    for (let r = 0; r < N; r++) {
      store<f32>(dx + o, k * ((nf * load<f32>(dy + o) - sb) - load<f32>(xhat + o) * sg));
      o += rowBytes;
    }
  }
}
