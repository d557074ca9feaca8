// The Winograd path through the public op: conv2d on 8 channels (convAlgo picks Winograd)
// agrees with the definition. (The layer's gradients by Winograd are checked against central
// differences in tests/layers/layers.test.ts, the kernels in tests/kernels/winograd.test.ts.)
import { beforeAll, describe, expect, it } from 'vitest';
import { createBackend } from '../src/backend/create.js';
import type { Backend } from '../src/backend/backend.js';
import { convAlgo, convGeom } from '../src/ops/conv.js';
import { conv2d } from '../src/ops/index.js';
import { BACKENDS, randomF32 } from './helpers/harness.js';
import { tensor } from '../src/tensor.js';

describe.each(BACKENDS)('Winograd convolutions on %s', (name) => {
  let b: Backend;
  beforeAll(async () => {
    b = await createBackend(name);
  });

  it('conv2d by Winograd agrees with the definition', () => {
    expect(convAlgo(convGeom('conv2d', [2, 8, 9, 9], [5, 8, 3, 3], 1, 1))).toBe('winograd');
    const xs = tensor(randomF32(2 * 8 * 9 * 9, 11), [2, 8, 9, 9]);
    const w = tensor(randomF32(5 * 8 * 9, 12), [5, 8, 3, 3]);
    const bias = tensor(randomF32(5, 13), [5]);
    const y = conv2d(b, xs, w, bias, { pad: 1 }).data;
    for (const [n, f, oh, ow] of [[0, 0, 0, 0], [1, 4, 8, 8], [1, 2, 3, 7], [0, 3, 8, 0]]) {
      let s = bias.data[f], a = Math.abs(s);
      for (let c = 0; c < 8; c++) for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) {
        const ih = oh + i - 1, iw = ow + j - 1;
        if (ih < 0 || ih >= 9 || iw < 0 || iw >= 9) continue;
        const term = w.data[((f * 8 + c) * 3 + i) * 3 + j] * xs.data[((n * 8 + c) * 9 + ih) * 9 + iw];
        s += term;
        a += Math.abs(term);
      }
      expect(Math.abs(y[((n * 5 + f) * 9 + oh) * 9 + ow] - s)).toBeLessThanOrEqual(4 * 81 * 2 ** -23 * a);
    }
  });
});
