/**
 * Instantiates a kernel module (build/kernels.<target>.wasm, embedded as bytes in the
 * bundle) against a memory owned by the TypeScript side.
 */
import { KERNEL_NAMES, type Kernels } from '../kernels.js';
import simdBytes from '../../../build/kernels.simd.wasm';

export interface KernelModule {
  kernels: Kernels;
  heapBase: number;
}

/** The plain-SIMD build's bytes (the default, bit-reproducible build). */
export const SIMD_WASM: Uint8Array<ArrayBuffer> = simdBytes;

/** Whether this engine accepts the plain-SIMD build. */
export function simdSupported(): boolean {
  return WebAssembly.validate(SIMD_WASM);
}

export function instantiateKernels(bytes: Uint8Array<ArrayBuffer>, memory: WebAssembly.Memory): KernelModule {
  const module = new WebAssembly.Module(bytes);
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const exports = instance.exports as Record<string, unknown>;
  for (const name of KERNEL_NAMES) {
    if (typeof exports[name] !== 'function') throw new Error(`kernel module does not export ${name}`);
  }
  const heapBase = (exports.heap_base as () => number)();
  return { kernels: exports as unknown as Kernels, heapBase };
}
