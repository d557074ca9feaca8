/**
 * Matrix product of 2-D tensors with the backend's GEMM:
 *   op(a): (M, K), op(b): (K, N) -> c: (M, N), op transposing when the option says so.
 */
import type { Backend } from '../backend/backend.js';
import { ShapeError, WasmCnnError, describeValue } from '../errors.js';
import { fmtShape, type Tensor } from '../tensor.js';
import { checkBackendArg, checkOptionsArg, checkTensorArg, runOnDevice } from './on-device.js';

/** Options of matmul. */
export interface MatmulOptions {
  /** Use a transposed; default false. */
  transA?: boolean;
  /** Use b transposed; default false. */
  transB?: boolean;
}

/** op(a) * op(b) for 2-D tensors, as a new host tensor (M, N). Inputs may live on the host or on `backend`. */
export function matmul(backend: Backend, a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  const where = 'matmul';
  checkBackendArg(where, backend);
  checkTensorArg(where, 'a', a);
  checkTensorArg(where, 'b', b);
  checkOptionsArg(where, opts, ['transA', 'transB']);
  for (const k of ['transA', 'transB'] as const) {
    if (opts[k] !== undefined && typeof opts[k] !== 'boolean') throw new WasmCnnError(`${where}: ${k} must be a boolean, got ${describeValue(opts[k])}`);
  }
  if (a.rank !== 2 || b.rank !== 2) {
    throw new ShapeError(`${where}: both operands must be 2-D, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  }
  const transA = opts.transA ?? false;
  const transB = opts.transB ?? false;
  const [M, K] = transA ? [a.shape[1], a.shape[0]] : [a.shape[0], a.shape[1]];
  const [KB, N] = transB ? [b.shape[1], b.shape[0]] : [b.shape[0], b.shape[1]];
  if (K !== KB) {
    throw new ShapeError(`${where}: inner sizes differ: op(a) is (${M}, ${K}) and op(b) is (${KB}, ${N}) ` +
      `(a ${fmtShape(a.shape)}${transA ? ' transposed' : ''}, b ${fmtShape(b.shape)}${transB ? ' transposed' : ''})`);
  }
  return runOnDevice(backend, [M, N], (c, s) => {
    backend.kernels.gemm_f32(+transA, +transB, M, N, K, 1, s.input(a).ptr, a.shape[1], s.input(b).ptr, b.shape[1], 0, c.ptr, N);
  });
}
