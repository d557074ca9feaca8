/**
 * Labels as the course takes them: class indices (one per sample) or a one-hot
 * (N, classes) tensor. Both become class indices, validated against the batch size
 * and the number of classes, then go to a reusable i32 device buffer for the kernels.
 */
import { ShapeError, WasmCnnError } from '../errors.js';
import { Tensor, fmtShape } from '../tensor.js';
import type { DeviceBuffer } from './buffer.js';
import type { Labels } from '../models/network.js';

export type { Labels };

/**
 * Class indices for `n` samples of `classes` classes. Index arrays are returned as they
 * are (after checking); a one-hot tensor becomes a new Int32Array of its row argmaxes.
 * Throws ShapeError / WasmCnnError naming `where`.
 */
export function labelIndices(where: string, t: Labels | ArrayLike<number>, n: number, classes: number): ArrayLike<number> {
  if (t instanceof Tensor) {
    if (t.rank === 1) return checkIndices(where, t.data, n, classes);
    if (t.rank !== 2 || t.shape[0] !== n || t.shape[1] !== classes) {
      throw new ShapeError(`${where}: one-hot labels must have shape (${n}, ${classes}) for ${n} inputs and ${classes} classes, got ${fmtShape(t.shape)}`);
    }
    const d = t.data;
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      let hot = -1;
      for (let c = 0; c < classes; c++) {
        const v = d[i * classes + c];
        if (v === 1 && hot < 0) hot = c;
        else if (v !== 0) {
          hot = -2;
          break;
        }
      }
      if (hot < 0) throw new WasmCnnError(`${where}: row ${i} of the one-hot labels is not one-hot (it needs a single 1 and zeros elsewhere)`);
      out[i] = hot;
    }
    return out;
  }
  if (t === null || typeof t !== 'object' || typeof (t as ArrayLike<number>).length !== 'number') {
    throw new WasmCnnError(`${where}: labels must be class indices (Int32Array or Uint8Array) or a one-hot Tensor, got ${t === null ? 'null' : typeof t}`);
  }
  return checkIndices(where, t, n, classes);
}

function checkIndices(where: string, t: ArrayLike<number>, n: number, classes: number): ArrayLike<number> {
  if (t.length !== n) throw new ShapeError(`${where}: ${t.length} labels for ${n} inputs`);
  for (let i = 0; i < n; i++) {
    const v = t[i];
    if (!Number.isInteger(v) || v < 0 || v >= classes) {
      throw new WasmCnnError(`${where}: label ${v} at index ${i} is out of range: expected a class index in 0..${classes - 1}`);
    }
  }
  return t;
}

/** Writes class indices into `buf` as i32; returns its byte pointer. */
export function writeLabels(buf: DeviceBuffer, indices: ArrayLike<number>): number {
  const ptr = buf.reserve(indices.length);
  buf.i32(indices.length).set(indices);
  return ptr;
}
