// Shared helpers for the model tests.
import type { Backend } from '../../src/backend/backend.js';
import { SimpleConvNet, type SimpleConvNetOptions } from '../../src/models/index.js';
import { tensor, type Tensor } from '../../src/tensor.js';
import { randomF32 } from '../helpers/harness.js';

/** The tiny SimpleConvNet of these tests: 1x7x7 input, 3 filters 3x3 (odd 5x5 conv output), hidden 5, 4 classes. */
export function tinyNet(backend: Backend, over: Partial<SimpleConvNetOptions> = {}): SimpleConvNet {
  return new SimpleConvNet({
    backend, inputDim: [1, 7, 7], convParam: { filterNum: 3, filterSize: 3, pad: 0, stride: 1 },
    hiddenSize: 5, outputSize: 4, weightInitStd: 0.3, seed: 7, ...over,
  });
}

export function randomInput(shape: number[], seed: number): Tensor {
  return tensor(randomF32(shape.reduce((a, b) => a * b, 1), seed), shape);
}

export function paramsOf(net: { params: Record<string, Tensor> }): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(net.params).map(([k, t]) => [k, t.toArray()]));
}

export function oneHot(t: ArrayLike<number>, classes: number): Tensor {
  const d = new Float32Array(t.length * classes);
  for (let i = 0; i < t.length; i++) d[i * classes + t[i]] = 1;
  return tensor(d, [t.length, classes]);
}

/** Bitwise equality of two float arrays (NaN payloads and -0 included). */
export function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return ua.every((v, i) => v === ub[i]);
}
