/**
 * How the user-facing ops (conv2d, maxPool, avgPool, matmul) use device memory: inputs not on
 * the backend are copied in, the output and every scratch block are allocated for the one
 * call, and the result leaves as an ordinary host tensor (a garbage-collected Float32Array).
 * Everything allocated is released before the op returns, even when it throws, so a loop
 * that never calls dispose() keeps the Wasm memory flat.
 */
import { Backend } from '../backend/backend.js';
import { WasmCnnError, describeValue } from '../errors.js';
import { Tensor, checkTensorArg, shapeSize, type Shape } from '../tensor.js';

/** Checks the `backend` argument of an op. */
export function checkBackendArg(where: string, backend: unknown): asserts backend is Backend {
  if (!(backend instanceof Backend)) throw new WasmCnnError(`${where}: the first argument must be a Backend from createBackend(), got ${describeValue(backend)}`);
}

/** Checks an op's options argument. */
export function checkOptionsArg(where: string, opts: unknown, valid: readonly string[]): void {
  if (typeof opts !== 'object' || opts === null) throw new WasmCnnError(`${where}: options must be an object, got ${describeValue(opts)}`);
  for (const key of Object.keys(opts)) {
    if (!valid.includes(key)) throw new WasmCnnError(`${where}: unknown option "${key}"; valid options are ${valid.join(', ')}`);
  }
}

export { checkTensorArg };

/** Scratch of one op call: device blocks released together by `run`. */
export interface Scratch {
  /** `t` on the device (itself when it already lives there). */
  input(t: Tensor): Tensor;
  /** A device block of `floats` 4-byte values. */
  alloc(floats: number): number;
}

/**
 * Runs `body` with device copies of its inputs and a device output of `outShape`, then
 * returns the output as a new host tensor. Every device block of the call is released.
 */
export function runOnDevice(backend: Backend, outShape: Shape, body: (out: Tensor, scratch: Scratch) => void): Tensor {
  const blocks: number[] = [];
  const temps: Tensor[] = [];
  const scratch: Scratch = {
    input: (t) => {
      if (t.memory === backend.memory) return t;
      const d = backend.tensor(t.data, t.shape);
      temps.push(d);
      return d;
    },
    alloc: (floats) => {
      const ptr = backend.memory.alloc(Math.max(floats, 1) * 4);
      blocks.push(ptr);
      return ptr;
    },
  };
  const out = backend.empty(outShape);
  try {
    body(out, scratch);
    return Tensor.host(shapeSize(outShape) > 0 ? out.toArray() : new Float32Array(0), outShape);
  } finally {
    out.dispose();
    for (const t of temps) t.dispose();
    for (const p of blocks) backend.memory.release(p);
  }
}
