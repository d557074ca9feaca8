// gradientCheck: per-parameter errors, small for correct backprop, large for a wrong one.
import { describe, it, expect } from 'vitest';
import { createBackend } from '../../src/backend/create.js';
import { gradientCheck } from '../../src/train/gradient-check.js';
import { tinyNet, randomInput } from './helpers.js';

describe('gradientCheck', () => {
  it('reports maxAbsErr and relErr per parameter and catches a wrong gradient', async () => {
    const b = await createBackend('js');
    const net = tinyNet(b);
    const x = randomInput([3, 1, 7, 7], 1);
    const t = new Int32Array([0, 1, 2]);
    const ok = gradientCheck(net, x, t);
    for (const r of Object.values(ok)) {
      expect(r.maxAbsErr).toBeGreaterThanOrEqual(0);
      expect(r.relErr).toBeLessThan(1e-2);
    }
    // a network whose backprop doubles W2's gradient
    const gradient = net.gradient.bind(net);
    net.gradient = (xx, tt) => {
      const g = gradient(xx, tt);
      b.kernels.axpby_f32(g.W2.ptr, g.W2.ptr, g.W2.size, 2, 0);
      return g;
    };
    const bad = gradientCheck(net, x, t);
    expect(bad.W2.relErr).toBeGreaterThan(0.3);
    expect(bad.W1.relErr).toBeLessThan(1e-2);
    // an explicit step is passed through
    const coarse = gradientCheck(tinyNet(b), x, t, { h: 1e-1 });
    expect(coarse.W1.maxAbsErr).toBeGreaterThan(ok.W1.maxAbsErr);
  });
});
