// optim.ts — plain-JS twins of assembly/optim.ts: the course's update rules, in place over n floats.
// p (params), g (grads) and the state buffers v / h / m are all (n).
import type { Heap } from './heap.js';
import type { Ptr } from '../kernels.js';

/** p -= lr * g */
export function sgd_f32(heap: Heap, p: Ptr, g: Ptr, n: number, lr: number): void {
  const f = heap.f32;
  const pi = p >> 2, gi = g >> 2;
  for (let i = 0; i < n; i++) f[pi + i] -= lr * f[gi + i];
}

/** v = momentum * v - lr * g; p += v */
export function momentum_f32(heap: Heap, p: Ptr, g: Ptr, v: Ptr, n: number, lr: number, momentum: number): void {
  const f = heap.f32;
  const pi = p >> 2, gi = g >> 2, vi = v >> 2;
  for (let i = 0; i < n; i++) {
    const nv = Math.fround(momentum * f[vi + i] - lr * f[gi + i]);
    f[vi + i] = nv;
    f[pi + i] += nv;
  }
}

/** v = momentum * v - lr * g; p += momentum * momentum * v - (1 + momentum) * lr * g */
export function nesterov_f32(heap: Heap, p: Ptr, g: Ptr, v: Ptr, n: number, lr: number, momentum: number): void {
  const f = heap.f32;
  const pi = p >> 2, gi = g >> 2, vi = v >> 2;
  const mm = momentum * momentum, c = (1 + momentum) * lr;
  for (let i = 0; i < n; i++) {
    const gg = f[gi + i];
    const nv = Math.fround(momentum * f[vi + i] - lr * gg);
    f[vi + i] = nv;
    f[pi + i] += mm * nv - c * gg;
  }
}

/** h += g * g; p -= lr * g / (sqrt(h) + 1e-7) */
export function adagrad_f32(heap: Heap, p: Ptr, g: Ptr, h: Ptr, n: number, lr: number): void {
  const f = heap.f32;
  const pi = p >> 2, gi = g >> 2, hi = h >> 2;
  for (let i = 0; i < n; i++) {
    const gg = f[gi + i];
    const hh = Math.fround(f[hi + i] + gg * gg);
    f[hi + i] = hh;
    f[pi + i] -= lr * gg / (Math.sqrt(hh) + 1e-7);
  }
}

/** h = decay * h + (1 - decay) * g * g; p -= lr * g / (sqrt(h) + 1e-7) */
export function rmsprop_f32(heap: Heap, p: Ptr, g: Ptr, h: Ptr, n: number, lr: number, decay: number): void {
  const f = heap.f32;
  const pi = p >> 2, gi = g >> 2, hi = h >> 2;
  const od = 1 - decay;
  for (let i = 0; i < n; i++) {
    const gg = f[gi + i];
    const hh = Math.fround(decay * f[hi + i] + od * gg * gg);
    f[hi + i] = hh;
    f[pi + i] -= lr * gg / (Math.sqrt(hh) + 1e-7);
  }
}

/** m += (1 - beta1) * (g - m); v += (1 - beta2) * (g * g - v); p -= lrt * m / (sqrt(v) + 1e-7) */
export function adam_f32(heap: Heap, p: Ptr, g: Ptr, m: Ptr, v: Ptr, n: number, lrt: number, beta1: number, beta2: number): void {
  const f = heap.f32;
  const pi = p >> 2, gi = g >> 2, mi = m >> 2, vi = v >> 2;
  const b1 = 1 - beta1, b2 = 1 - beta2;
  for (let i = 0; i < n; i++) {
    const gg = f[gi + i];
    let mm = f[mi + i];
    let vv = f[vi + i];
    mm = Math.fround(mm + b1 * (gg - mm));
    vv = Math.fround(vv + b2 * (gg * gg - vv));
    f[mi + i] = mm;
    f[vi + i] = vv;
    f[pi + i] -= lrt * mm / (Math.sqrt(vv) + 1e-7);
  }
}
