/**
 * Max and average pooling over NCHW batches: each of the N*C planes independently.
 *   x: (N, C, H, W) -> y: (N, C, OH, OW); argmax (i32): (N, C, OH, OW) for max pooling
 */
import type { Backend } from '../backend/backend.js';
import { ShapeError, WasmCnnError, describeValue } from '../errors.js';
import { fmtShape, type Shape, type Tensor } from '../tensor.js';
import { checkBackendArg, checkOptionsArg, checkTensorArg, runOnDevice } from './on-device.js';
import { outSize, checkWindowOptions } from '../geometry.js';

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

/** Options of maxPool / avgPool. */
export interface PoolOptions {
  /** Window size (size x size). */
  size: number;
  /** Step of the window; default the window size. */
  stride?: number;
  /** Padding on every side; default 0 (max pooling ignores it, average pooling counts it as zeros). */
  pad?: number;
}

/** Max pooling: x (N, C, H, W) -> a new host tensor (N, C, OH, OW), the maximum of each window. */
export function maxPool(backend: Backend, x: Tensor, opts: PoolOptions): Tensor {
  const g = checkPool('maxPool', backend, x, opts);
  return runOnDevice(backend, [g.N, g.C, g.OH, g.OW], (y, s) => {
    backend.kernels.maxpool_fwd_f32(s.input(x).ptr, g.N * g.C, g.H, g.W, g.KH, g.KW, g.strideH, g.strideW, g.padH, g.padW,
      y.ptr, s.alloc(y.size));
  });
}

/** Average pooling: x (N, C, H, W) -> a new host tensor (N, C, OH, OW), the mean of each window (padding counts as zeros). */
export function avgPool(backend: Backend, x: Tensor, opts: PoolOptions): Tensor {
  const g = checkPool('avgPool', backend, x, opts);
  return runOnDevice(backend, [g.N, g.C, g.OH, g.OW], (y, s) => {
    backend.kernels.avgpool_fwd_f32(s.input(x).ptr, g.N * g.C, g.H, g.W, g.KH, g.KW, g.strideH, g.strideW, g.padH, g.padW, y.ptr);
  });
}

function checkPool(where: string, backend: Backend, x: Tensor, opts: PoolOptions): PoolGeom {
  checkBackendArg(where, backend);
  checkTensorArg(where, 'x', x);
  if (typeof opts !== 'object' || opts === null) {
    throw new WasmCnnError(`${where}: options { size, stride?, pad? } are required, got ${describeValue(opts)}`);
  }
  checkOptionsArg(where, opts, ['size', 'stride', 'pad']);
  return poolGeom(where, x.shape, opts.size, opts.stride ?? opts.size, opts.pad ?? 0);
}
