// gradientCheck: per-parameter errors within the float32 bound (gradient-bound.ts) for
// correct backprop, and beyond it for wrong ones: every parameter's gradient 5% too large,
// a weight gradient transposed, one doubled.
import { beforeAll, describe, it, expect } from 'vitest';
import { createBackend } from '../../src/backend/create.js';
import type { Backend } from '../../src/backend/backend.js';
import type { SimpleConvNet } from '../../src/models/index.js';
import type { Tensor } from '../../src/tensor.js';
import { gradientCheck } from '../../src/train/gradient-check.js';
import { BACKENDS } from '../helpers/harness.js';
import { expectGradientsMatch, gradientBound } from './gradient-bound.js';
import { tinyNet, randomInput } from './helpers.js';

const x = randomInput([3, 1, 7, 7], 1);
const t = new Int32Array([0, 1, 2]);

/** `net` with its backprop changed by `wrong` (applied to the gradient tensors gradient() returns). */
function withWrongGradient(net: SimpleConvNet, wrong: (g: Record<string, Tensor>) => void): SimpleConvNet {
  const gradient = net.gradient.bind(net);
  net.gradient = (xx, tt) => {
    const g = gradient(xx, tt);
    wrong(g);
    return g;
  };
  return net;
}

/** Replaces a (rows, cols) gradient's values by those of its transpose (cols, rows), row-major. */
function transposeInPlace(g: Tensor): void {
  const [rows, cols] = g.shape;
  const a = g.toArray();
  const d = g.data;
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) d[j * rows + i] = a[i * cols + j];
}

describe.each(BACKENDS)('gradientCheck on %s', (name) => {
  let b: Backend;
  beforeAll(async () => {
    b = await createBackend(name);
  });

  it('reports maxAbsErr and relErr per parameter, within the float32 bound for correct backprop', () => {
    const net = tinyNet(b);
    const ok = gradientCheck(net, x, t);
    expect(Object.keys(ok)).toEqual(['W1', 'b1', 'W2', 'b2', 'W3', 'b3']);
    expectGradientsMatch(ok, net.lastLoss);
    // an explicit step is passed through: h = 0.1 crosses ReLU kinks, far beyond the bound
    const coarse = gradientCheck(tinyNet(b), x, t, { h: 1e-1 });
    expect(coarse.W1.maxAbsErr).toBeGreaterThan(10 * gradientBound(net.lastLoss));
  });

  it('catches each parameter gradient 5% too large, and only that one', () => {
    for (const k of ['W1', 'b1', 'W2', 'b2', 'W3', 'b3']) {
      const net = withWrongGradient(tinyNet(b), (g) => b.kernels.axpby_f32(g[k].ptr, g[k].ptr, g[k].size, 1.05, 0));
      const res = gradientCheck(net, x, t);
      const bound = gradientBound(net.lastLoss);
      for (const [p, r] of Object.entries(res)) {
        if (p === k) expect(r.maxAbsErr, `${k} * 1.05 is caught`).toBeGreaterThan(bound);
        else expect(r.maxAbsErr, `${p} still passes when ${k} is wrong`).toBeLessThanOrEqual(bound);
      }
    }
  });

  it('catches a transposed weight gradient (W2: 12x5, W3: 5x4) and a doubled one', () => {
    for (const k of ['W2', 'W3']) {
      const net = withWrongGradient(tinyNet(b), (g) => transposeInPlace(g[k]));
      const res = gradientCheck(net, x, t);
      expect(res[k].maxAbsErr, `${k} transposed is caught`).toBeGreaterThan(gradientBound(net.lastLoss));
      expect(res.W1.maxAbsErr).toBeLessThanOrEqual(gradientBound(net.lastLoss));
    }
    const doubled = withWrongGradient(tinyNet(b), (g) => b.kernels.axpby_f32(g.W2.ptr, g.W2.ptr, g.W2.size, 2, 0));
    const res = gradientCheck(doubled, x, t);
    expect(res.W2.relErr).toBeGreaterThan(0.3); // |2g - g| / (|2g| + |g|) = 1/3
    expect(res.W2.maxAbsErr).toBeGreaterThan(gradientBound(doubled.lastLoss));
  });
});
