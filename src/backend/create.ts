// createBackend('wasm' | 'js'): the one way to get a Backend.
import { Backend, type BackendName } from './backend.js';
import { LinearMemory } from './memory.js';
import { createJsKernels } from './js/index.js';
import { instantiateKernels, simdSupported, SIMD_WASM } from './wasm/load.js';
import { importedMemoryMinPages } from './wasm/binary.js';
import { WasmCnnError } from '../errors.js';

export interface BackendOptions {
  /** Initial memory in bytes (grows on demand). */
  initialBytes?: number;
  /** Threads for the kernels (1 = run on the calling thread). */
  threads?: number;
}

const PAGE = 65536;

export async function createBackend(name: BackendName = 'wasm', options: BackendOptions = {}): Promise<Backend> {
  const pages = Math.max(1, Math.ceil((options.initialBytes ?? 4 * PAGE) / PAGE));
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) {
    throw new WasmCnnError(`createBackend: threads must be a positive integer, got ${threads}`);
  }
  const threadsNote = threads > 1 ? `multi-threaded kernels are not built yet; running on 1 thread instead of ${threads}` : undefined;
  if (name === 'wasm') {
    if (!simdSupported()) throw new WasmCnnError('createBackend: this engine does not support WebAssembly SIMD; use the "js" backend');
    const memory = new WebAssembly.Memory({ initial: Math.max(pages, importedMemoryMinPages(SIMD_WASM)) });
    const { kernels, heapBase } = instantiateKernels(SIMD_WASM, memory);
    return new Backend('wasm', new LinearMemory(memory, heapBase), kernels,
      { simd: true, relaxedSimd: false, threads: 1, threadsNote });
  }
  if (name === 'js') {
    const memory = new WebAssembly.Memory({ initial: pages });
    return new Backend('js', new LinearMemory(memory, 0), createJsKernels(memory),
      { simd: false, relaxedSimd: false, threads: 1, threadsNote });
  }
  throw new WasmCnnError(`createBackend: unknown backend ${JSON.stringify(name)}; expected "wasm" or "js"`);
}
