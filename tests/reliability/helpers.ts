// Shared helpers of the reliability suites: error expectations, tiny models, byte helpers.
import { expect } from 'vitest';
import { WasmCnnError } from '../../src/errors.js';
import type { Backend } from '../../src/backend/backend.js';
import { SimpleConvNet, type SimpleConvNetOptions } from '../../src/models/index.js';
import type { Tensor } from '../../src/tensor.js';

export type ErrorClass = new (...args: never[]) => Error;

/** What `f` threw (awaiting it when it returns a promise); fails when it did not throw. */
export async function thrown(f: () => unknown): Promise<unknown> {
  try {
    await f();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error, but the call returned normally');
}

/** What a synchronous `f` threw; fails when it did not throw. */
export function thrownSync(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error, but the call returned normally');
}

/** Describes an error for assertion messages. */
export function describeError(e: unknown): string {
  if (e instanceof Error) return `${e.constructor.name}: ${e.message}`;
  return `a non-Error value ${String(e)}`;
}

/**
 * Asserts that `e` is the library's own error (WasmCnnError or the given subclass) and
 * that its message matches every pattern.
 */
export function expectLibError(e: unknown, cls: ErrorClass = WasmCnnError, ...patterns: RegExp[]): asserts e is WasmCnnError {
  if (!(e instanceof cls) || !(e instanceof WasmCnnError)) {
    throw new Error(`expected ${cls.name}, got ${describeError(e)}${e instanceof Error && e.stack ? `\n${e.stack}` : ''}`);
  }
  for (const p of patterns) expect(e.message, `message of ${cls.name}`).toMatch(p);
}

/** The tiny SimpleConvNet of the reliability tests: 1x7x7 input, 3 filters 3x3 (odd 5x5 conv output), hidden 5, 4 classes. */
export function tinyNet(backend: Backend, over: Partial<SimpleConvNetOptions> = {}): SimpleConvNet {
  return new SimpleConvNet({
    backend, inputDim: [1, 7, 7], convParam: { filterNum: 3, filterSize: 3, pad: 0, stride: 1 },
    hiddenSize: 5, outputSize: 4, weightInitStd: 0.3, seed: 7, ...over,
  });
}

/** Copies of every parameter's values. */
export function paramValues(net: { params: Record<string, Tensor> }): Record<string, Float32Array> {
  return Object.fromEntries(Object.entries(net.params).map(([k, t]) => [k, t.toArray()]));
}

/** The raw bytes of every parameter, concatenated in the model's order: byte-identical means identical. */
export function paramBytes(net: { params: Record<string, Tensor> }): Uint8Array {
  const parts = Object.values(net.params).map((t) => {
    const d = t.toArray();
    return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
  });
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Bitwise equality of two float arrays. */
export function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) return false;
  return true;
}

/** Deterministic pseudo-random floats in [0, 1) (mulberry32). */
export function uniform(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  return out;
}

/** A fixed-seed run of fast-check: the seed is printed on failure and the run is repeatable. */
export const FUZZ_SEED = 0x5eed_2026;
