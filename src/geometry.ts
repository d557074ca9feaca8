// Output sizes of sliding windows (convolution, pooling), with floor division as the
// course's formula (H + 2*pad - K) / stride + 1 means, so odd sizes work.
import { ShapeError } from './errors.js';

export function outSize(size: number, kernel: number, stride: number, pad: number): number {
  return Math.floor((size + 2 * pad - kernel) / stride) + 1;
}

export function checkWindowOptions(where: string, stride: number, pad: number, size?: number): void {
  // the window size first: a pooling stride defaults to it
  if (size !== undefined && (!Number.isInteger(size) || size < 1)) {
    throw new ShapeError(`${where}: window size must be a positive integer, got ${size}`);
  }
  if (!Number.isInteger(stride) || stride < 1) throw new ShapeError(`${where}: stride must be a positive integer, got ${stride}`);
  if (!Number.isInteger(pad) || pad < 0) throw new ShapeError(`${where}: pad must be a non-negative integer, got ${pad}`);
}
