/** The network every end-to-end measurement builds (bench/e2e.ts, step.ts, scaling.ts). */
import type { Backend } from '../src/backend/backend.js';
import { SimpleConvNet } from '../src/models/index.js';

/** The course's SimpleConvNet: conv 30x5x5 - relu - pool 2x2 - affine 100 - relu - affine 10; std 0.01, seed 42. */
export function benchNet(backend: Backend): SimpleConvNet {
  return new SimpleConvNet({
    backend, inputDim: [1, 28, 28],
    convParam: { filterNum: 30, filterSize: 5, pad: 0, stride: 1 },
    hiddenSize: 100, outputSize: 10, weightInitStd: 0.01, seed: 42,
  });
}
