// createBackend('wasm' | 'js'): the one way to get a Backend.
import { Backend, type BackendName } from './backend.js';
import { LinearMemory } from './memory.js';
import { createJsKernels } from './js/index.js';
import { KERNEL_BUILDS, buildSupported, instantiateKernels, kernelBuild, relaxedSimdSupported, simdSupported } from './wasm/load.js';
import { importedMemoryMinPages } from './wasm/binary.js';
import { KERNEL_NAMES } from './kernels.js';
import { WorkerPool } from './threads/pool.js';
import { createThreadedKernels } from './threads/kernels.js';
import { hardwareConcurrency, threadsUnavailableReason } from './threads/spawn.js';
import { WasmCnnError, describeValue } from '../errors.js';

/** Options of createBackend: threads, relaxed SIMD, initial memory. */
export interface BackendOptions {
  /** Initial memory in bytes (grows on demand). */
  initialBytes?: number;
  /**
   * Threads for the kernels (default 1 = run on the calling thread). More than 1 starts
   * threads - 1 workers on a shared memory (Node: worker_threads; browsers: Web Workers, in
   * a cross-origin isolated page, from inside a Web Worker). Where that is impossible the
   * backend runs on 1 thread and `features.threadsNote` says why. Results are bit-identical
   * for every thread count.
   */
  threads?: number;
  /**
   * The relaxed-SIMD kernels (f32x4.relaxed_madd in the GEMM micro-kernels): false (default:
   * plain SIMD, bit-reproducible across engines and CPUs), true (required: throws where the
   * engine rejects relaxed SIMD) or 'auto' (where WebAssembly.validate accepts it: Chromium;
   * Node 20 only with --experimental-wasm-relaxed-simd). `features.relaxedSimd` reports it.
   */
  relaxedSimd?: boolean | 'auto';
  /** Largest size of a shared (threads > 1) memory, in bytes (default 1 GiB). */
  maximumBytes?: number;
}

const PAGE = 65536;
/** The most a (32-bit) WebAssembly.Memory can hold: 65536 pages. */
const MAX_BYTES = 65536 * PAGE;
const OPTION_KEYS = ['initialBytes', 'threads', 'relaxedSimd', 'maximumBytes'];

/** A backend: 'wasm' (SIMD WebAssembly kernels, the default) or 'js' (the plain-JavaScript reference kernels, same results to float rounding). */
export async function createBackend(name: BackendName = 'wasm', options: BackendOptions = {}): Promise<Backend> {
  if (typeof options !== 'object' || options === null) {
    throw new WasmCnnError(`createBackend: options must be an object, got ${describeValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.includes(key)) throw new WasmCnnError(`createBackend: unknown option "${key}"; valid options are ${OPTION_KEYS.join(', ')}`);
  }
  const initialBytes = options.initialBytes ?? 4 * PAGE;
  if (typeof initialBytes !== 'number' || !Number.isInteger(initialBytes) || initialBytes < 0 || initialBytes > MAX_BYTES) {
    throw new WasmCnnError(`createBackend: initialBytes must be a non-negative integer of at most ${MAX_BYTES} (4 GiB, the Wasm memory limit), got ${describeValue(initialBytes)}`);
  }
  const pages = Math.max(1, Math.ceil(initialBytes / PAGE));
  const maximumBytes = options.maximumBytes;
  if (maximumBytes !== undefined && !(typeof maximumBytes === 'number' && maximumBytes > 0 && maximumBytes <= MAX_BYTES)) {
    throw new WasmCnnError(`createBackend: maximumBytes must be a positive number of at most ${MAX_BYTES} (4 GiB), got ${describeValue(maximumBytes)}`);
  }
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) {
    throw new WasmCnnError(`createBackend: threads must be a positive integer, got ${threads}`);
  }
  const relaxedOpt = options.relaxedSimd ?? false;
  if (relaxedOpt !== true && relaxedOpt !== false && relaxedOpt !== 'auto') {
    throw new WasmCnnError(`createBackend: relaxedSimd must be true, false or 'auto', got ${JSON.stringify(relaxedOpt)}`);
  }
  if (name === 'wasm') {
    if (!simdSupported()) throw new WasmCnnError('createBackend: this engine does not support WebAssembly SIMD; use the "js" backend');
    let relaxed = false;
    let relaxedSimdNote: string | undefined;
    if (relaxedOpt !== false) {
      relaxed = relaxedSimdSupported();
      if (!relaxed) {
        const why = 'this engine rejects relaxed SIMD (Node 20 accepts it only with --experimental-wasm-relaxed-simd)';
        if (relaxedOpt === true) throw new WasmCnnError(`createBackend: relaxedSimd: true, but ${why}; pass relaxedSimd: 'auto' or false`);
        relaxedSimdNote = `${why}; using the plain-SIMD kernels`;
      }
    }
    let threadsNote: string | undefined;
    if (threads > 1) {
      const why = threadsUnavailableReason() ?? (buildSupported(kernelBuild(relaxed, true)) ? null : 'this engine rejects the shared-memory (threads) kernel build');
      if (why) threadsNote = `running on 1 thread instead of ${threads}: ${why}`;
      else return createThreadedWasm(pages, threads, relaxed, relaxedSimdNote, maximumBytes);
    }
    const bytes = KERNEL_BUILDS[kernelBuild(relaxed, false)];
    const memory = new WebAssembly.Memory({ initial: Math.max(pages, importedMemoryMinPages(bytes)) });
    const { kernels, heapBase } = instantiateKernels(await WebAssembly.compile(bytes), memory);
    return new Backend('wasm', new LinearMemory(memory, heapBase), kernels,
      features(relaxed, 1, threadsNote, relaxedSimdNote));
  }
  if (name === 'js') {
    const memory = new WebAssembly.Memory({ initial: pages });
    const threadsNote = threads > 1 ? `running on 1 thread instead of ${threads}: the js backend is single-threaded` : undefined;
    return new Backend('js', new LinearMemory(memory, 0), createJsKernels(memory),
      { simd: false, relaxedSimd: false, threads: 1, ...(threadsNote ? { threadsNote } : {}) });
  }
  throw new WasmCnnError(`createBackend: unknown backend ${JSON.stringify(name)}; expected "wasm" or "js"`);
}

function features(relaxed: boolean, threads: number, threadsNote?: string, relaxedSimdNote?: string) {
  return {
    simd: true, relaxedSimd: relaxed, threads,
    ...(threadsNote ? { threadsNote } : {}),
    ...(relaxedSimdNote ? { relaxedSimdNote } : {}),
  };
}

/** A Wasm backend on a shared memory with threads - 1 kernel workers. */
async function createThreadedWasm(pages: number, threads: number, relaxed: boolean, relaxedSimdNote: string | undefined,
  maximumBytes: number | undefined): Promise<Backend> {
  const bytes = KERNEL_BUILDS[kernelBuild(relaxed, true)];
  const initial = Math.max(pages, importedMemoryMinPages(bytes));
  const maximum = Math.min(65536, Math.max(initial, Math.ceil((maximumBytes ?? 2 ** 30) / PAGE)));
  const memory = new WebAssembly.Memory({ initial, maximum, shared: true });
  const module = await WebAssembly.compile(bytes);
  const { kernels, heapBase, exports } = instantiateKernels(module, memory);
  const linear = new LinearMemory(memory, heapBase);
  // each worker's instance gets GEMM packing scratch of its own (the calling thread's
  // instance keeps the module's static block)
  const scratchBytes = (exports.gemm_scratch_bytes as () => number)();
  const scratch = Array.from({ length: threads - 1 }, () => linear.alloc(scratchBytes));
  // polling for jobs only pays when every thread has a CPU of its own
  const cpus = await hardwareConcurrency();
  const pool = await WorkerPool.start({ module, memory, workers: threads - 1, scratch, names: KERNEL_NAMES, spin: cpus === undefined || threads <= cpus });
  const threaded = createThreadedKernels(kernels, pool, linear, threads);
  return new Backend('wasm', linear, threaded, features(relaxed, threads, undefined, relaxedSimdNote), () => pool.dispose());
}
