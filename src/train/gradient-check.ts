/**
 * Gradient check: backprop (net.gradient) against central differences
 * (net.numericalGradient) for every parameter.
 *   maxAbsErr = max_i |g_i - n_i|
 *   relErr    = ||g - n||_2 / (||g||_2 + ||n||_2)   (0 when both are zero)
 * The gradient is taken first, so a network with dropout compares both on the same
 * mask (numericalGradient reuses the mask of the last training forward).
 */
import type { Tensor } from '../tensor.js';
import type { Labels, Network } from '../models/sequential.js';

/** The agreement of backprop and numerical gradients for one parameter. */
export interface GradientCheckEntry {
  maxAbsErr: number;
  relErr: number;
}

/** Options of gradientCheck. */
export interface GradientCheckOptions {
  /** Step of the central differences (default: the model's, 1e-3 for float32). */
  h?: number;
}

/** Compares net.gradient with net.numericalGradient on a small batch, per parameter (the course's gradient_check). */
export function gradientCheck(net: Network, x: Tensor, t: Labels, options: GradientCheckOptions = {}): Record<string, GradientCheckEntry> {
  const grads = net.gradient(x, t);
  const backprop = Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, g.toArray()]));
  const numerical = options.h === undefined
    ? net.numericalGradient(x, t)
    : (net.numericalGradient as (x: Tensor, t: Labels, h: number) => Record<string, Tensor>).call(net, x, t, options.h);
  const out: Record<string, GradientCheckEntry> = {};
  for (const [name, g] of Object.entries(backprop)) {
    const n = numerical[name].data;
    let maxAbsErr = 0;
    let diff = 0;
    let ng = 0;
    let nn = 0;
    for (let i = 0; i < g.length; i++) {
      const d = Math.abs(g[i] - n[i]);
      if (!(d <= maxAbsErr)) maxAbsErr = Number.isNaN(d) ? Infinity : d;
      diff += d * d;
      ng += g[i] * g[i];
      nn += n[i] * n[i];
    }
    const denom = Math.sqrt(ng) + Math.sqrt(nn);
    out[name] = { maxAbsErr, relErr: denom === 0 ? (diff === 0 ? 0 : Infinity) : Math.sqrt(diff) / denom };
  }
  return out;
}
