/**
 * Max and average pooling over NCHW batches: each of the N*C planes independently.
 *   x: (N, C, H, W) -> y: (N, C, OH, OW); argmax (i32): (N, C, OH, OW) for max pooling
 */
import { ShapeError } from '../errors.js';
import { fmtShape, type Shape } from '../tensor.js';
import { outSize, checkWindowOptions } from './geometry.js';

export interface PoolGeom {
  N: number; C: number; H: number; W: number;
  KH: number; KW: number; strideH: number; strideW: number; padH: number; padW: number;
  OH: number; OW: number;
}

export function poolGeom(where: string, xShape: Shape, size: number, stride: number, pad: number): PoolGeom {
  checkWindowOptions(where, stride, pad, size);
  if (xShape.length !== 4) throw new ShapeError(`${where}: input must be 4-D (N, C, H, W), got ${fmtShape(xShape)}`);
  const [N, C, H, W] = xShape;
  if (pad >= size) throw new ShapeError(`${where}: pad ${pad} must be smaller than the window size ${size}`);
  const OH = outSize(H, size, stride, pad);
  const OW = outSize(W, size, stride, pad);
  if (OH < 1 || OW < 1) throw new ShapeError(`${where}: a ${size}x${size} window with pad ${pad} does not fit the ${H}x${W} input ${fmtShape(xShape)}`);
  return { N, C, H, W, KH: size, KW: size, strideH: stride, strideW: stride, padH: pad, padW: pad, OH, OW };
}
