// loss.ts — row-wise softmax and softmax + cross-entropy (forward and backward).
// Shapes: see src/backend/kernels.ts. Labels are i32 class indices; a label outside
// [0, C) is not silently skipped: its row's loss term (and its dx row) become NaN.
import { exp_f32x4, exp_f32 } from './expf';

/** y[0..C) = softmax(x[0..C)), stable: exp(x - max) / sum. y may equal x. */
// @ts-ignore: decorator
@inline function softmax_row(x: usize, y: usize, C: i32): void {
  // x, y: (C)
  // 1) row max (f32x4 lanes, then the tail); NaN propagates
  let j = 0;
  let m: f32 = -Infinity;
  if (C >= 4) {
    let mv = v128.load(x);
    for (j = 4; j + 4 <= C; j += 4) mv = f32x4.max(mv, v128.load(x + (<usize>j << 2)));
    m = max(max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
  }
  for (; j < C; j++) m = max(m, load<f32>(x + (<usize>j << 2)));
  // 2) e = exp(x - max) (expf.ts: vector lanes and tail give identical values), summed
  const mv = f32x4.splat(m);
  let sv = f32x4.splat(0);
  j = 0;
  for (; j + 4 <= C; j += 4) {
    const o = <usize>j << 2;
    const e = exp_f32x4(f32x4.sub(v128.load(x + o), mv));
    v128.store(y + o, e);
    sv = f32x4.add(sv, e);
  }
  let s: f32 = (f32x4.extract_lane(sv, 0) + f32x4.extract_lane(sv, 1)) + (f32x4.extract_lane(sv, 2) + f32x4.extract_lane(sv, 3));
  for (; j < C; j++) {
    const o = <usize>j << 2;
    const e = exp_f32(load<f32>(x + o) - m);
    store<f32>(y + o, e);
    s += e;
  }
  // 3) normalise
  sv = f32x4.splat(s);
  j = 0;
  for (; j + 4 <= C; j += 4) {
    const o = <usize>j << 2;
    v128.store(y + o, f32x4.div(v128.load(y + o), sv));
  }
  for (; j < C; j++) {
    const o = <usize>j << 2;
    store<f32>(y + o, load<f32>(y + o) / s);
  }
}

export function softmax_f32(x: usize, y: usize, N: i32, C: i32): void {
  // x, y: (N, C); y may equal x
  const rowBytes = <usize>C << 2;
  for (let i = 0; i < N; i++) softmax_row(x + <usize>i * rowBytes, y + <usize>i * rowBytes, C);
}

export function softmax_xent_fwd_f32(x: usize, labels: usize, y: usize, N: i32, C: i32): f32 {
  // x (logits): (N, C), labels (i32): (N) -> y: (N, C); returns -sum_i log(y[i, t_i] + 1e-7) / N (0 when N == 0)
  const rowBytes = <usize>C << 2;
  let loss: f64 = 0;
  for (let i = 0; i < N; i++) {
    const yr = y + <usize>i * rowBytes;
    softmax_row(x + <usize>i * rowBytes, yr, C);
    const t = load<i32>(labels + (<usize>i << 2));
    loss -= <u32>t < <u32>C ? Math.log(<f64>load<f32>(yr + (<usize>t << 2)) + 1e-7) : NaN;
  }
  return N > 0 ? <f32>(loss / <f64>N) : 0;
}

export function softmax_xent_bwd_f32(y: usize, labels: usize, dx: usize, N: i32, C: i32): void {
  // y (probabilities): (N, C), labels (i32): (N) -> dx: (N, C) = (y - onehot(t)) / N; dx may equal y
  if (N <= 0) return;
  const rowBytes = <usize>C << 2;
  const inv: f32 = <f32>1 / <f32>N;
  const iv = f32x4.splat(inv);
  for (let r = 0; r < N; r++) {
    const yr = y + <usize>r * rowBytes;
    const dr = dx + <usize>r * rowBytes;
    const t = load<i32>(labels + (<usize>r << 2));
    const valid = <u32>t < <u32>C;
    const yt: f32 = valid ? load<f32>(yr + (<usize>t << 2)) : NaN; // read before dx (may alias y) is written
    let j = 0;
    for (; j + 4 <= C; j += 4) {
      const o = <usize>j << 2;
      v128.store(dr + o, f32x4.mul(v128.load(yr + o), iv));
    }
    for (; j < C; j++) {
      const o = <usize>j << 2;
      store<f32>(dr + o, load<f32>(yr + o) * inv);
    }
    if (valid) store<f32>(dr + (<usize>t << 2), (yt - 1) * inv);
    else for (j = 0; j < C; j++) store<f32>(dr + (<usize>j << 2), NaN);
  }
}
