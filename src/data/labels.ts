/**
 * Class indices, the one place where they are made: from the labels a user gives (class
 * indices, or a one-hot (N, classes) tensor as in the course) and from a model's scores
 * (the argmax of each row, first maximum on ties as NumPy's argmax).
 */
import { ShapeError, WasmCnnError, describeValue } from '../errors.js';
import { Tensor, fmtShape } from '../tensor.js';

/** Class indices (one per sample), or a one-hot (N, classes) tensor as in the course. */
export type Labels = Int32Array | Uint8Array | Tensor;

export interface LabelCheck {
  /** Expected number of samples. */
  count?: number;
  /** Number of classes: indices must lie in [0, classes); a one-hot tensor must have this many columns. */
  classes?: number;
}

/**
 * The class indices of `t`, validated. Int32Array / Uint8Array come back as they are; an
 * array of numbers or a rank-1 tensor of integers becomes an Int32Array; a one-hot
 * (N, classes) tensor (exactly one 1 per row, zeros elsewhere) becomes the Int32Array of
 * its hot columns. Throws ShapeError / WasmCnnError naming `where`, the sample and the value.
 */
export function labelIndices(where: string, t: Labels | ArrayLike<number>, check: LabelCheck = {}): Int32Array | Uint8Array {
  const { count, classes } = check;
  let idx: Int32Array | Uint8Array;
  if (t instanceof Int32Array || t instanceof Uint8Array) idx = t;
  else if (t instanceof Tensor) {
    if (t.rank === 2) idx = oneHotIndices(where, t, count, classes);
    else if (t.rank === 1) idx = integers(where, t.data);
    else throw new ShapeError(`${where}: labels must be class indices (N) or one-hot (N, classes), got a tensor of shape ${fmtShape(t.shape)}`);
  } else if (t !== null && typeof t === 'object' && typeof (t as ArrayLike<number>).length === 'number') {
    idx = integers(where, t as ArrayLike<number>);
  } else {
    throw new WasmCnnError(`${where}: labels must be class indices (Int32Array or Uint8Array) or a one-hot Tensor, got ${describeValue(t)}`);
  }
  if (count !== undefined && idx.length !== count) throw new ShapeError(`${where}: ${idx.length} labels for ${count} inputs`);
  if (classes !== undefined) {
    for (let i = 0; i < idx.length; i++) {
      const v = idx[i];
      if (!(v >= 0 && v < classes)) {
        throw new WasmCnnError(`${where}: label ${v} at index ${i} is out of range: expected a class index in 0..${classes - 1}`);
      }
    }
  }
  return idx;
}

/** The argmax of each of the `n` rows of `scores` (n, classes), first maximum on ties, into `out` from `offset`. */
export function argmaxRows(scores: Float32Array, n: number, classes: number, out: Int32Array = new Int32Array(n), offset = 0): Int32Array {
  for (let i = 0; i < n; i++) {
    const o = i * classes;
    let best = 0;
    let bv = scores[o];
    for (let c = 1; c < classes; c++) {
      if (scores[o + c] > bv) {
        bv = scores[o + c];
        best = c;
      }
    }
    out[offset + i] = best;
  }
  return out;
}

function oneHotIndices(where: string, t: Tensor, count: number | undefined, classes: number | undefined): Int32Array {
  const [n, c] = t.shape;
  if ((classes !== undefined && c !== classes) || (count !== undefined && n !== count)) {
    throw new ShapeError(`${where}: one-hot labels must have shape (${count ?? n}, ${classes ?? c}) for ${count ?? n} inputs and ` +
      `${classes ?? c} classes, got ${fmtShape(t.shape)}`);
  }
  const d = t.data;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let hot = -1;
    for (let j = 0; j < c; j++) {
      const v = d[i * c + j];
      if (v === 1 && hot < 0) hot = j;
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

function integers(where: string, d: ArrayLike<number>): Int32Array {
  const out = new Int32Array(d.length);
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new WasmCnnError(`${where}: label ${describeValue(v)} at index ${i} is not a class index`);
    out[i] = v;
  }
  return out;
}
