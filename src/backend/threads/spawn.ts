/**
 * Where threads can run, and starting one kernel worker: worker_threads in Node, a Web
 * Worker from a Blob URL in browsers. The worker is a small classic script with no imports
 * (protocol.ts: WORKER_SOURCE), so it needs no file next to the bundle: the same code works
 * from build/dist (Node ESM), from build/browser/wasm-cnn.js (one file) and from any bundler.
 * In browsers the page's Content-Security-Policy must allow `worker-src blob:` (or not
 * restrict workers at all).
 */
import { WORKER_SOURCE } from './protocol.js';

/** The parts of a worker the pool uses, the same for Node and browsers. */
export interface WorkerHandle {
  postMessage(message: unknown): void;
  /** Stops the worker; resolves once it has stopped. */
  terminate(): Promise<void>;
  onMessage(cb: (message: unknown) => void): void;
  /** An uncaught error or a failed load. */
  onError(cb: (err: Error) => void): void;
  /** The worker ended (Node: its exit code). */
  onExit(cb: (code: number) => void): void;
}

interface NodeWorker {
  postMessage(m: unknown): void;
  terminate(): Promise<number>;
  unref(): void;
  on(ev: string, cb: (...a: never[]) => void): void;
}
type NodeWorkerCtor = new (src: string, opts: { eval: true; name?: string }) => NodeWorker;

const isNode = (): boolean =>
  typeof process !== 'undefined' && typeof process.versions?.node === 'string' && typeof (globalThis as { window?: unknown }).window === 'undefined';

/** In a browser: whether this is a worker (where Atomics.wait is allowed), not a page's main thread. */
const inBrowserWorker = (): boolean =>
  typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope === 'function'
  && globalThis instanceof (globalThis as unknown as { WorkerGlobalScope: new () => object }).WorkerGlobalScope;

/**
 * Why kernel threads cannot run here, or null when they can. Threads need a
 * SharedArrayBuffer (browsers: a cross-origin isolated page), a thread that may block in
 * Atomics.wait (Node's main thread and workers, a browser's Web Workers, but not a page's
 * main thread) and a way to start workers.
 */
export function threadsUnavailableReason(): string | null {
  const g = globalThis as { crossOriginIsolated?: boolean; Worker?: unknown; document?: unknown };
  if (typeof SharedArrayBuffer !== 'function' || typeof Atomics !== 'object') {
    if (g.crossOriginIsolated === false) {
      return 'SharedArrayBuffer is not available because the page is not cross-origin isolated '
        + '(serve it with the headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)';
    }
    return 'this JavaScript engine has no SharedArrayBuffer';
  }
  if (g.crossOriginIsolated === false) {
    return 'the page is not cross-origin isolated (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)';
  }
  if (isNode()) return null;
  if (typeof g.document !== 'undefined' && !inBrowserWorker()) {
    return "a browser page's main thread may not block in Atomics.wait; create the backend inside a Web Worker to use threads";
  }
  if (typeof g.Worker !== 'function') return 'this environment cannot start workers from a worker (no Worker constructor)';
  return null;
}

/** Logical CPUs available to this process, or undefined when the platform does not say. */
export async function hardwareConcurrency(): Promise<number | undefined> {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  if (typeof nav?.hardwareConcurrency === 'number' && nav.hardwareConcurrency > 0) return nav.hardwareConcurrency;
  if (!isNode()) return undefined;
  try {
    const proc = process as unknown as { getBuiltinModule?: (id: string) => unknown };
    type Os = { availableParallelism?: () => number; cpus: () => unknown[] };
    let os = proc.getBuiltinModule?.('node:os') as Os | undefined;
    if (!os) {
      const id = 'node:os';
      os = (await import(/* @vite-ignore */ id)) as Os;
    }
    return os.availableParallelism?.() ?? os.cpus().length;
  } catch {
    return undefined;
  }
}

let nodeWorkerCtor: NodeWorkerCtor | undefined;

async function loadNodeWorker(): Promise<NodeWorkerCtor> {
  if (nodeWorkerCtor) return nodeWorkerCtor;
  const proc = process as unknown as { getBuiltinModule?: (id: string) => unknown };
  let mod = proc.getBuiltinModule?.('node:worker_threads') as { Worker: NodeWorkerCtor } | undefined;
  if (!mod) {
    const id = 'node:worker_threads'; // a variable: browser bundlers must not try to resolve it
    mod = (await import(/* @vite-ignore */ id)) as { Worker: NodeWorkerCtor };
  }
  nodeWorkerCtor = mod.Worker;
  return nodeWorkerCtor;
}

/** Starts one kernel worker running WORKER_SOURCE. */
export async function spawnWorker(name: string): Promise<WorkerHandle> {
  if (isNode()) {
    const Worker = await loadNodeWorker();
    const w = new Worker(WORKER_SOURCE, { eval: true, name });
    // A forgotten dispose() must not keep the process alive: unref the worker, and again after
    // every listener (a 'message' listener refs the worker's port again).
    const on = (ev: string, cb: (...a: never[]) => void) => {
      w.on(ev, cb);
      w.unref();
    };
    w.unref();
    return {
      postMessage: (m) => w.postMessage(m),
      terminate: async () => { await w.terminate(); },
      onMessage: (cb) => on('message', cb as (...a: never[]) => void),
      onError: (cb) => on('error', cb as (...a: never[]) => void),
      onExit: (cb) => on('exit', cb as (...a: never[]) => void),
    };
  }
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
  let w: Worker;
  try {
    w = new Worker(url, { name });
  } catch (e) {
    URL.revokeObjectURL(url);
    throw e;
  }
  const exitCbs: ((code: number) => void)[] = [];
  let ended = false;
  const end = (code: number) => {
    if (ended) return;
    ended = true;
    for (const cb of exitCbs) cb(code);
  };
  return {
    postMessage: (m) => w.postMessage(m),
    terminate: async () => {
      w.terminate();
      URL.revokeObjectURL(url);
      end(1);
    },
    onMessage: (cb) => w.addEventListener('message', (e) => {
      URL.revokeObjectURL(url); // loaded: the URL is no longer needed
      cb((e as MessageEvent).data);
    }),
    onError: (cb) => w.addEventListener('error', (e) => {
      const ev = e as ErrorEvent;
      e.preventDefault?.();
      cb(new Error(ev.message || 'the kernel worker failed to load (is `worker-src blob:` allowed by the Content-Security-Policy?)'));
    }),
    onExit: (cb) => { exitCbs.push(cb); },
  };
}
