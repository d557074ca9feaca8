// Shared by the PyTorch layout tests (pytorch-layout.test.ts, pytorch-torch.test.ts).
import type { LayerSpec, Sequential } from '../../src/models/index.js';
import { Random } from '../../src/random.js';

/** A Sequential with every layer kind the layout maps: BatchNormalization on images and on vectors, avg pooling, dropouts of 0.3 and 0.2. */
export const MIXED_LAYERS: LayerSpec[] = [
  { type: 'Convolution', filterNum: 4, filterSize: 3, pad: 1 }, { type: 'BatchNormalization' }, { type: 'Relu' },
  { type: 'Pooling', size: 3, stride: 2, pad: 1, mode: 'avg' }, { type: 'Dropout', ratio: 0.3 },
  { type: 'Convolution', filterNum: 6, filterSize: 3 }, { type: 'Sigmoid' }, { type: 'Pooling', size: 2 },
  { type: 'Affine', outputSize: 20 }, { type: 'BatchNormalization', momentum: 0.8, eps: 1e-5 }, { type: 'Relu' },
  { type: 'Dropout', ratio: 0.2 }, { type: 'Affine', outputSize: 10 },
];

/** Random values in every parameter and running statistic (biases and BN statistics are not trivial). */
export function randomize(net: Sequential, seed: number): void {
  const rng = new Random(seed);
  const values: Record<string, Float32Array> = {};
  for (const [name, t] of Object.entries({ ...net.params, ...net.buffers })) {
    const v = new Float32Array(t.size);
    if (name.startsWith('W')) v.set(t.data);
    else if (name.startsWith('runningVar') || name.startsWith('gamma')) for (let i = 0; i < v.length; i++) v[i] = 0.5 + rng.next();
    else for (let i = 0; i < v.length; i++) v[i] = (rng.next() - 0.5) * 0.4;
    values[name] = v;
  }
  net.setParams(values);
}
