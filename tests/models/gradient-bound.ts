// What float32 central differences allow between backprop and numericalGradient, for the
// gradient checks of the model tests (gradientCheck's maxAbsErr per parameter).
import { expect } from 'vitest';
import { NUMERICAL_GRADIENT_H } from '../../src/models/sequential.js';
import type { GradientCheckEntry } from '../../src/train/gradient-check.js';

/** Spacing of float32 values around v (the unit in the last place). */
export function ulp32(v: number): number {
  const a = Math.abs(v);
  return a < 2 ** -126 ? 2 ** -149 : 2 ** (Math.floor(Math.log2(a)) - 23);
}

/**
 * The largest |backprop - numeric| float32 allows per element at loss L and step h:
 *   bound = 3 ulp(L) / (2h) + h^2.
 * Noise: the loss is one float32 value, so L(v + h) - L(v - h) is known to about one
 * ulp(L) (each side rounded, and each forward pass rounding its intermediates a little
 * differently), which the quotient turns into ulp(L) / (2h): 6e-5 for L in [1, 2) at
 * h = 1e-3. Measured: at most 1.5 ulp(L) / (2h) on every network of the model tests, both
 * backends; 3 leaves a 2x margin. (ulp is taken at L * 1.01, in case the perturbed losses
 * cross a power of 2.)
 * Truncation: h^2 |L'''| / 6 per element, measured under 0.11 h^2 (at h = 1e-2, on the
 * parameters whose steps cross no ReLU kink); h^2 leaves a 9x margin and is 1e-6 at
 * h = 1e-3, under 2% of the noise term.
 * The old bounds (maxAbsErr < 2e-3, relErr < 1e-2) were 10x looser and let a gradient 2%
 * too large pass; 5% of a parameter's largest gradient element is 13-450 ulp(L) / (2h) on
 * these networks (4-150 times the bound), so a gradient off by 5% is caught.
 */
export function gradientBound(loss: number, h = NUMERICAL_GRADIENT_H): number {
  return (3 * ulp32(loss * 1.01)) / (2 * h) + h * h;
}

/**
 * Asserts maxAbsErr <= gradientBound(loss) for every parameter. relErr is not checked on its
 * own: with every element within the bound it cannot exceed sqrt(n) bound / (|g| + |n|).
 */
export function expectGradientsMatch(res: Record<string, GradientCheckEntry>, loss: number): void {
  expect(Number.isFinite(loss), `loss ${loss}`).toBe(true);
  const bound = gradientBound(loss);
  for (const [k, r] of Object.entries(res)) {
    expect(r.maxAbsErr, `${k}: max |backprop - numeric| (relErr ${r.relErr})`).toBeLessThanOrEqual(bound);
  }
}
