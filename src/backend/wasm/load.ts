/**
 * The kernel modules (build/kernels.<target>.wasm, embedded as bytes in the bundle; targets
 * in asconfig.json) and instantiating one against a memory owned by the TypeScript side.
 *
 *   simd             plain f32x4, the default: bit-reproducible everywhere
 *   relaxed          GEMM micro-kernels with f32x4.relaxed_madd (FMA where the CPU has it)
 *   threads          plain SIMD on a shared memory (the threads runtime, src/backend/threads/)
 *   relaxed-threads  both
 */
import { KERNEL_NAMES, type Kernels } from '../kernels.js';
import simdBytes from '../../../build/kernels.simd.wasm';
import relaxedBytes from '../../../build/kernels.relaxed.wasm';
import threadsBytes from '../../../build/kernels.threads.wasm';
import relaxedThreadsBytes from '../../../build/kernels.relaxed-threads.wasm';

export type KernelBuild = 'simd' | 'relaxed' | 'threads' | 'relaxed-threads';

export const KERNEL_BUILDS: Readonly<Record<KernelBuild, Uint8Array<ArrayBuffer>>> = {
  simd: simdBytes,
  relaxed: relaxedBytes,
  threads: threadsBytes,
  'relaxed-threads': relaxedThreadsBytes,
};

/** The plain-SIMD build's bytes (the default, bit-reproducible build). */
export const SIMD_WASM: Uint8Array<ArrayBuffer> = simdBytes;

/** The build for a combination of features. */
export function kernelBuild(relaxed: boolean, threads: boolean): KernelBuild {
  return threads ? (relaxed ? 'relaxed-threads' : 'threads') : relaxed ? 'relaxed' : 'simd';
}

const validated = new Map<KernelBuild, boolean>();

/** Whether this engine accepts a build (WebAssembly.validate; cached). */
export function buildSupported(build: KernelBuild): boolean {
  let ok = validated.get(build);
  if (ok === undefined) {
    try {
      ok = WebAssembly.validate(KERNEL_BUILDS[build]);
    } catch {
      ok = false;
    }
    validated.set(build, ok);
  }
  return ok;
}

/** Whether this engine accepts the plain-SIMD build. */
export function simdSupported(): boolean {
  return buildSupported('simd');
}

/** Whether this engine accepts relaxed SIMD (Chromium does; Node 20 only with --experimental-wasm-relaxed-simd). */
export function relaxedSimdSupported(): boolean {
  return buildSupported('relaxed');
}

export interface KernelModule {
  kernels: Kernels;
  heapBase: number;
  /** All exports (gemm_scratch_bytes, gemm_set_scratch, ...). */
  exports: Record<string, unknown>;
}

export function instantiateKernels(source: Uint8Array<ArrayBuffer> | WebAssembly.Module, memory: WebAssembly.Memory): KernelModule {
  const module = source instanceof WebAssembly.Module ? source : new WebAssembly.Module(source);
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const exports = instance.exports as Record<string, unknown>;
  for (const name of KERNEL_NAMES) {
    if (typeof exports[name] !== 'function') throw new Error(`kernel module does not export ${name}`);
  }
  const heapBase = (exports.heap_base as () => number)();
  return { kernels: exports as unknown as Kernels, heapBase, exports };
}
