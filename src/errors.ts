/** Every error the library raises on bad input is a WasmCnnError (or a subclass). */
export class WasmCnnError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A tensor or option has the wrong shape, size or value. The message names the op or layer. */
export class ShapeError extends WasmCnnError {}

/** A file (IDX, safetensors, PNG) is malformed. The message says what is wrong and at which byte. */
export class FormatError extends WasmCnnError {}

/** Training produced NaN or Infinity. */
export class DivergenceError extends WasmCnnError {}

/**
 * A short description of a value for error messages ("what was given"): numbers as
 * written (NaN, Infinity, -1), strings quoted, arrays and plain objects as short JSON,
 * other objects by their class name (Float32Array, ArrayBuffer, ...).
 */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'symbol') return v.toString();
  const ctor = (v as { constructor?: { name?: unknown } }).constructor;
  const cls = typeof ctor?.name === 'string' && ctor.name !== '' ? ctor.name : 'object';
  if (Array.isArray(v) || cls === 'Object') {
    let s: string;
    try {
      s = JSON.stringify(v, (_k, x) => (typeof x === 'number' && !Number.isFinite(x) ? String(x) : x)) ?? cls;
    } catch {
      s = cls;
    }
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
  }
  return cls;
}
