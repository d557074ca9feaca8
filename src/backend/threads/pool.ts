/**
 * WorkerPool: kernel workers on one shared Wasm memory, driven synchronously.
 *
 * The Kernels interface is synchronous, so a parallel kernel call (runChunks) is: write the
 * call's chunks into the control block and wake the workers (Atomics.notify), take chunks on
 * the calling thread (from the back; the workers from the front) one at a time until none is
 * left, then wait (poll briefly, then Atomics.wait) until the chunks the workers took are
 * done (protocol.ts). A thread that does not get a CPU for a while (a busy page's main thread
 * or another program on the same cores) so delays the call by at most one chunk, where fixed
 * per-thread shares made every call wait for it. Workers poll for their next job for 0.5 ms before they
 * sleep: a job reaches a polling worker in ~1 us, a sleeping one in 25-50 us, and only calls
 * worth ~20 us or more per chunk are split (kernels.ts). Polling stops when threads outnumber
 * the CPUs or another process keeps a worker from running (checkContention). Blocking is
 * allowed on Node's main thread and in Web Workers, not on a browser page's main thread
 * (spawn.ts refuses threads there). run() gives each worker one fixed job (tests).
 *
 * Failures never hang the caller:
 *  - a job that throws (a Wasm trap, a bad kernel index) is caught in the worker, which
 *    stores the error text; the call throws a WasmCnnError naming the worker and the kernel,
 *    after every other share has finished. The worker stays usable.
 *  - a worker that ends (Node 'exit', an 'error' event, terminate()) marks the pool broken;
 *    the next call throws at once. The wait loop wakes every WAIT_SLICE_MS to check for this
 *    and for a worker that never picks up its job (JOB_START_TIMEOUT_MS).
 * dispose() tells the workers to quit and terminates them; `closed` resolves when all ended.
 */
import { WasmCnnError } from '../../errors.js';
import {
  ARGC, CALLER_SPIN_MS, CHUNKED, C_ARGC, C_CLAIM, C_COUNT, C_DONE, C_ERR, C_FN, C_SCRATCH_ARG, DEAD, DONE, FN, MAX_ARGS,
  MAX_CHUNKS, MSG_CHARS, MSG_LEN, POLL, SEQ, SLOT_INTS, STARTED, STATUS, TAKEN, WORKER_SPIN_MS,
  controlLayout, type WorkerInit,
} from './protocol.js';
import { spawnWorker, type WorkerHandle } from './spawn.js';

const WAIT_SLICE_MS = 50;
/** A worker's share ending this much later than its run time means it waited for a CPU. */
const LATE_MS = 0.3;
/** A worker that has not even started its job after this long is considered gone. */
const JOB_START_TIMEOUT_MS = 15_000;
const START_TIMEOUT_MS = 30_000;

export interface PoolOptions {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  /** Worker count (threads - 1: the calling thread is the other one). */
  workers: number;
  /** GEMM scratch pointer of each worker. */
  scratch: readonly number[];
  /** Kernel names; a job's `fn` indexes this list. */
  names: readonly string[];
  /** Poll for jobs / completion before sleeping (default true; turn off when threads outnumber the CPUs). */
  spin?: boolean;
}

let poolCount = 0;

export class WorkerPool {
  readonly size: number;
  readonly names: readonly string[];
  /** Resolves when every worker has ended (after dispose() or failures). */
  readonly closed: Promise<void>;
  private readonly handles: WorkerHandle[];
  private readonly ctl: Int32Array;
  private readonly args: Float64Array;
  private readonly res: Float64Array;
  private readonly exec: Float64Array;
  private readonly chunkArgs: Float64Array;
  private readonly chunkRes: Float64Array;
  /** Header slot of chunked calls (index into ctl). */
  private readonly head: number;
  /** Tag of the last chunked call (claim word bits 16-30). */
  private tag = 0;
  /** Chunks each worker had taken before the current call (TAKEN). */
  private readonly taken: number[];
  /** How long each worker's kernels ran in the last call, ms. */
  readonly lastExecMs: number[];
  /** Chunks each worker took in the last runChunks() (diagnostics). */
  readonly lastChunks: number[];
  /** Chunks the calling thread took in the last runChunks() (diagnostics). */
  lastOwnChunks = 0;
  /**
   * Chunks each worker has taken over all runChunks() calls of this pool (diagnostics,
   * tests): the difference across a piece of work says whether the workers computed any of
   * it (the calling thread may take every chunk of a call, see runChunks).
   */
  readonly chunksTaken: number[];
  /** Parallel calls so far (diagnostics, tests). */
  runs = 0;
  /** Times polling was turned off because workers did not get a CPU in time (diagnostics). */
  contentionEvents = 0;
  private readonly msg: Uint16Array;
  private readonly seqs: number[];
  private readonly alive: boolean[];
  private readonly callerSpinMs: number;
  /** Polling is off until this run (contention was seen), see checkContention. */
  private pollOffUntil = 0;
  /** Recent contention sightings (see checkContention), and the run of the last one. */
  private strikes = 0;
  private lastStrike = 0;
  /** When the last run() returned (performance.now()). */
  private lastEnd = -Infinity;
  private broken: string | null = null;
  private disposed = false;
  private busy = false;

  private constructor(handles: WorkerHandle[], control: SharedArrayBuffer, names: readonly string[], closed: Promise<void>,
    alive: boolean[], spin: boolean) {
    this.size = handles.length;
    this.callerSpinMs = spin ? CALLER_SPIN_MS : 0;
    this.handles = handles;
    this.names = names;
    this.closed = closed;
    this.alive = alive;
    const L = controlLayout(this.size);
    this.ctl = new Int32Array(control, L.ctlOffset, (this.size + 1) * SLOT_INTS);
    this.head = this.size * SLOT_INTS;
    this.chunkArgs = new Float64Array(control, L.chunksOffset, MAX_CHUNKS * MAX_ARGS);
    this.chunkRes = new Float64Array(control, L.cresOffset, MAX_CHUNKS);
    this.taken = new Array(this.size).fill(0);
    this.args = new Float64Array(control, L.argsOffset, this.size * MAX_ARGS);
    this.res = new Float64Array(control, L.resOffset, this.size);
    this.exec = new Float64Array(control, L.execOffset, this.size);
    this.lastExecMs = new Array(this.size).fill(0);
    this.lastChunks = new Array(this.size).fill(0);
    this.chunksTaken = new Array(this.size).fill(0);
    this.msg = new Uint16Array(control, L.msgOffset, this.size * MSG_CHARS);
    this.seqs = new Array(this.size).fill(0);
    for (let w = 0; w < this.size; w++) Atomics.store(this.ctl, w * SLOT_INTS + POLL, 1);
  }

  /** Starts the workers and waits until each has instantiated the module; rejects with a worker's error. */
  static async start(opts: PoolOptions): Promise<WorkerPool> {
    const n = opts.workers;
    const layout = controlLayout(n);
    const control = new SharedArrayBuffer(layout.bytes);
    const id = ++poolCount;
    const handles: WorkerHandle[] = [];
    const alive: boolean[] = [];
    const exits: Promise<void>[] = [];
    let pool: WorkerPool | undefined;
    const ready: Promise<void>[] = [];
    try {
      for (let i = 0; i < n; i++) {
        const h = await spawnWorker(`wasm-cnn kernels ${id}.${i + 1}`);
        handles.push(h);
        alive.push(true);
        exits.push(new Promise<void>((resolve) => h.onExit(() => {
          alive[i] = false;
          pool?.markBroken(`kernel worker ${i + 1} exited`);
          resolve();
        })));
        ready.push(new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new WasmCnnError(`kernel worker ${i + 1} did not start within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
          h.onMessage((m) => {
            const msg = m as { type?: string; message?: string };
            if (msg?.type === 'ready') { clearTimeout(timer); resolve(); }
            else if (msg?.type === 'error') { clearTimeout(timer); reject(new WasmCnnError(`kernel worker ${i + 1} failed to start: ${msg.message}`)); }
          });
          h.onError((e) => {
            clearTimeout(timer);
            pool?.markBroken(`kernel worker ${i + 1} failed: ${e.message}`);
            reject(new WasmCnnError(`kernel worker ${i + 1} failed: ${e.message}`));
          });
          h.onExit((code) => { clearTimeout(timer); reject(new WasmCnnError(`kernel worker ${i + 1} exited (code ${code}) while starting`)); });
        }));
        const init: WorkerInit = {
          module: opts.module, memory: opts.memory, control, layout, index: i, workers: n,
          scratch: opts.scratch[i], names: opts.names, spinMs: opts.spin === false ? 0 : WORKER_SPIN_MS,
        };
        h.postMessage(init);
      }
      await Promise.all(ready);
    } catch (e) {
      await Promise.all(handles.map((h) => h.terminate().catch(() => {})));
      throw e instanceof WasmCnnError ? e : new WasmCnnError(`could not start kernel workers: ${(e as Error)?.message ?? e}`);
    }
    pool = new WorkerPool(handles, control, opts.names, Promise.all(exits).then(() => {}), alive, opts.spin !== false);
    return pool;
  }

  /** Workers that have not ended. */
  liveWorkers(): number {
    return this.alive.filter(Boolean).length;
  }

  /**
   * Runs kernel `fn` on workers 0..jobs.length-1 with the given arguments and `own` on the
   * calling thread, and returns the kernels' return values (workers first, then own).
   * Throws once every share has finished if any of them failed.
   */
  run(fn: number, jobs: readonly (readonly number[])[], own: () => unknown): number[] {
    const name = this.names[fn] ?? `#${fn}`;
    if (this.disposed) throw new WasmCnnError(`${name}: the backend was disposed`);
    if (this.broken) throw new WasmCnnError(`${name}: ${this.broken}; create a new backend`);
    if (this.busy) throw new WasmCnnError(`${name}: a parallel kernel call is already running on this backend`);
    if (jobs.length > this.size) throw new Error(`${name}: ${jobs.length} jobs for ${this.size} workers`);
    this.busy = true;
    this.runs++;
    try {
      const ctl = this.ctl;
      // a worker may not have got round to an earlier chunked call yet: its slot is rewritten
      // only once it has (it then finds no chunk left)
      for (let w = 0; w < jobs.length; w++) {
        const err = this.waitFor(w, name, false);
        if (err) throw err;
      }
      for (let w = 0; w < jobs.length; w++) {
        const a = jobs[w];
        if (a.length > MAX_ARGS) throw new Error(`${name}: ${a.length} arguments, at most ${MAX_ARGS}`);
        const b = w * SLOT_INTS;
        ctl[b + FN] = fn;
        ctl[b + ARGC] = a.length;
        ctl[b + STATUS] = 0;
        this.args.set(a, w * MAX_ARGS);
        const seq = ++this.seqs[w];
        Atomics.store(ctl, b + SEQ, seq);
        Atomics.notify(ctl, b + SEQ);
      }
      let ownResult: unknown;
      let ownError: unknown;
      let failed = false;
      const t0 = performance.now();
      try {
        ownResult = own();
      } catch (e) {
        failed = true;
        ownError = e;
      }
      const results: number[] = [];
      let workerError: WasmCnnError | undefined;
      let lateMs = 0;
      for (let w = 0; w < jobs.length; w++) {
        const err = this.waitFor(w, name);
        if (err && !workerError) workerError = err;
        results.push(this.res[w]);
        this.lastExecMs[w] = this.exec[w];
        // how long after the dispatch the worker's share ended, beyond its own run time
        lateMs = Math.max(lateMs, performance.now() - t0 - this.exec[w]);
      }
      // only a worker that should have been polling (its last job ended within its polling
      // window) says something about CPUs: a sleeping one may just be slow to wake
      if (t0 - this.lastEnd < WORKER_SPIN_MS) this.checkContention(lateMs);
      else this.checkContention(0);
      this.lastEnd = performance.now();
      if (failed) throw ownError;
      if (workerError) throw workerError;
      results.push(typeof ownResult === 'number' ? ownResult : 0);
      return results;
    } finally {
      this.busy = false;
    }
  }

  /**
   * Runs kernel `fn` on every chunk (argument lists; the calling thread runs one through
   * `call`), chunks taken by the calling thread and the workers as each comes free; returns
   * each chunk's return value, in chunk order. `scratch`: the argument that is a per-thread
   * scratch pointer, and each worker's block for it (the calling thread uses the chunk's own).
   * Throws once every chunk has finished if any of them failed.
   */
  runChunks(fn: number, chunks: readonly (readonly number[])[], call: (args: readonly number[]) => unknown,
    scratch?: { arg: number; workers: readonly number[] }): number[] {
    const name = this.names[fn] ?? `#${fn}`;
    if (this.disposed) throw new WasmCnnError(`${name}: the backend was disposed`);
    if (this.broken) throw new WasmCnnError(`${name}: ${this.broken}; create a new backend`);
    if (this.busy) throw new WasmCnnError(`${name}: a parallel kernel call is already running on this backend`);
    const n = chunks.length;
    if (n < 1 || n > MAX_CHUNKS) throw new Error(`${name}: ${n} chunks, 1 to ${MAX_CHUNKS} allowed`);
    const argc = chunks[0].length;
    if (argc > MAX_ARGS) throw new Error(`${name}: ${argc} arguments, at most ${MAX_ARGS}`);
    this.busy = true;
    this.runs++;
    try {
      const ctl = this.ctl;
      const H = this.head;
      for (let i = 0; i < n; i++) this.chunkArgs.set(chunks[i], i * MAX_ARGS);
      ctl[H + C_FN] = fn;
      ctl[H + C_ARGC] = argc;
      ctl[H + C_SCRATCH_ARG] = scratch ? scratch.arg : -1;
      ctl[H + C_ERR] = 0;
      if (scratch) for (let w = 0; w < this.size; w++) this.args[w * MAX_ARGS] = scratch.workers[w] ?? 0;
      for (let w = 0; w < this.size; w++) this.taken[w] = Atomics.load(ctl, w * SLOT_INTS + TAKEN);
      ctl[H + C_COUNT] = n;
      Atomics.store(ctl, H + C_DONE, 0);
      this.tag = (this.tag + 1) & 0x7fff;
      // publishing the claim word (front 0, back n) releases the writes above to whoever takes a chunk
      Atomics.store(ctl, H + C_CLAIM, (this.tag << 16) | n);
      for (let w = 0; w < this.size; w++) {
        const b = w * SLOT_INTS;
        ctl[b + FN] = CHUNKED;
        const seq = ++this.seqs[w];
        Atomics.store(ctl, b + SEQ, seq);
        Atomics.notify(ctl, b + SEQ);
      }
      const t0 = performance.now();
      let ownError: unknown;
      let failed = false;
      let own = 0;
      // the calling thread takes chunks from the back, the workers from the front
      for (;;) {
        const v = Atomics.load(ctl, H + C_CLAIM);
        const back = v & 255;
        if (((v >> 8) & 255) >= back) break;
        if (Atomics.compareExchange(ctl, H + C_CLAIM, v, v - 1) !== v) continue;
        const k = back - 1;
        own++;
        try {
          const r = call(chunks[k]);
          this.chunkRes[k] = typeof r === 'number' ? r : 0;
        } catch (e) {
          if (!failed) ownError = e;
          failed = true;
        }
        Atomics.add(ctl, H + C_DONE, 1);
      }
      const ownEnd = performance.now();
      const workerError = this.waitChunks(n, name);
      this.lastOwnChunks = own;
      // a worker that should have been polling (its last job ended within its polling window)
      // and took no chunk of a call that lasted longer than LATE_MS did not get a CPU in time
      let late = false;
      for (let w = 0; w < this.size; w++) {
        const took = Atomics.load(ctl, w * SLOT_INTS + TAKEN) - this.taken[w];
        this.lastChunks[w] = took;
        this.chunksTaken[w] += took;
        this.lastExecMs[w] = took > 0 ? this.exec[w] : 0;
        if (took === 0 && n > 1 && ownEnd - t0 > LATE_MS) late = true;
      }
      this.checkContention(t0 - this.lastEnd < WORKER_SPIN_MS && late ? LATE_MS : 0);
      this.lastEnd = performance.now();
      if (failed) throw ownError;
      if (workerError) throw workerError;
      return Array.from(this.chunkRes.subarray(0, n));
    } finally {
      this.busy = false;
    }
  }

  /** Blocks until `n` chunks of the current chunked call are done; returns the first worker error, if any. */
  private waitChunks(n: number, name: string): WasmCnnError | undefined {
    const ctl = this.ctl;
    const at = this.head + C_DONE;
    if (this.callerSpinMs > 0 && this.pollOffUntil === 0 && Atomics.load(ctl, at) < n) {
      const s0 = performance.now();
      while (Atomics.load(ctl, at) < n && performance.now() - s0 < this.callerSpinMs) { /* poll */ }
    }
    for (let d = Atomics.load(ctl, at); d < n; d = Atomics.load(ctl, at)) {
      // only a worker that took a chunk can be running one: one that ended mid-chunk never finishes it
      for (let w = 0; w < this.size; w++) {
        if (Atomics.load(ctl, w * SLOT_INTS + DEAD) !== 0 || !this.alive[w]) {
          this.markBroken(`kernel worker ${w + 1} exited`);
          return new WasmCnnError(`${name}: kernel worker ${w + 1} exited during the call`);
        }
      }
      if (this.broken) return new WasmCnnError(`${name}: ${this.broken}`);
      Atomics.wait(ctl, at, d, WAIT_SLICE_MS);
    }
    const failed = Atomics.load(ctl, this.head + C_ERR);
    if (failed === 0) return undefined;
    const w = failed - 1;
    const len = Math.min(ctl[w * SLOT_INTS + MSG_LEN], MSG_CHARS);
    let text = '';
    for (let i = 0; i < len; i++) text += String.fromCharCode(this.msg[w * MSG_CHARS + i]);
    const err = new WasmCnnError(`${name} failed in kernel worker ${w + 1}: ${text.split('\n')[0]}`);
    (err as { workerStack?: string }).workerStack = text;
    return err;
  }

  /**
   * Turns polling off for a while when workers do not get a CPU in time: their shares end
   * more than LATE_MS later than their own run time says (waking a sleeping worker takes
   * 25-50 us; this is another process taking the CPUs), and polling threads would only take
   * CPU time from each other. One sighting can be a hiccup of the OS; four within 25 calls
   * turn polling off. It comes back after 200 calls, to probe again.
   */
  private checkContention(lateMs: number): void {
    if (this.callerSpinMs === 0) return; // polling is off for good (more threads than CPUs)
    if (this.pollOffUntil > 0 && this.runs >= this.pollOffUntil) {
      this.pollOffUntil = 0;
      for (let w = 0; w < this.size; w++) Atomics.store(this.ctl, w * SLOT_INTS + POLL, 1);
    }
    if (lateMs < LATE_MS || this.pollOffUntil > 0) return;
    this.strikes = this.runs - this.lastStrike > 25 ? 1 : this.strikes + 1;
    this.lastStrike = this.runs;
    if (this.strikes >= 4) {
      this.strikes = 0;
      this.contentionEvents++;
      this.pollOffUntil = this.runs + 200;
      for (let w = 0; w < this.size; w++) Atomics.store(this.ctl, w * SLOT_INTS + POLL, 0);
    }
  }

  /** Whether the threads poll for work right now (false: they sleep between calls). */
  get polling(): boolean {
    return this.callerSpinMs > 0 && this.pollOffUntil === 0;
  }

  /**
   * Blocks until worker w has finished its current job (the last one dispatched to it);
   * returns its error, if any (`status` false: only a worker that ended or stopped responding).
   */
  private waitFor(w: number, name: string, status = true): WasmCnnError | undefined {
    const ctl = this.ctl;
    const b = w * SLOT_INTS;
    const seq = this.seqs[w];
    if (this.callerSpinMs > 0 && this.pollOffUntil === 0 && Atomics.load(ctl, b + DONE) !== seq) {
      const s0 = performance.now();
      while (Atomics.load(ctl, b + DONE) !== seq && performance.now() - s0 < this.callerSpinMs) { /* poll */ }
    }
    const t0 = Date.now();
    for (let d = Atomics.load(ctl, b + DONE); d !== seq; d = Atomics.load(ctl, b + DONE)) {
      if (Atomics.load(ctl, b + DEAD) !== 0 || !this.alive[w]) {
        this.markBroken(`kernel worker ${w + 1} exited`);
        return new WasmCnnError(`${name}: kernel worker ${w + 1} exited during the call`);
      }
      if (this.broken) return new WasmCnnError(`${name}: ${this.broken}`);
      if (Atomics.load(ctl, b + STARTED) !== seq && Date.now() - t0 > JOB_START_TIMEOUT_MS) {
        this.markBroken(`kernel worker ${w + 1} stopped responding`);
        return new WasmCnnError(`${name}: kernel worker ${w + 1} did not pick up its job within ${JOB_START_TIMEOUT_MS / 1000} s`);
      }
      // d: the job it finished last (a worker may be more than one chunked call behind)
      Atomics.wait(ctl, b + DONE, d, WAIT_SLICE_MS);
    }
    if (!status || ctl[b + STATUS] === 0) return undefined;
    const len = Math.min(ctl[b + MSG_LEN], MSG_CHARS);
    let text = '';
    for (let i = 0; i < len; i++) text += String.fromCharCode(this.msg[w * MSG_CHARS + i]);
    const firstLine = text.split('\n')[0];
    const err = new WasmCnnError(`${name} failed in kernel worker ${w + 1}: ${firstLine}`);
    (err as { workerStack?: string }).workerStack = text;
    return err;
  }

  /** Makes every later call throw `reason` (a worker ended or misbehaved). */
  markBroken(reason: string): void {
    if (!this.disposed && !this.broken) this.broken = reason;
  }

  /** Tells the workers to quit and terminates them. Later calls throw. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (let w = 0; w < this.size; w++) {
      Atomics.store(this.ctl, w * SLOT_INTS + SEQ, -1);
      Atomics.notify(this.ctl, w * SLOT_INTS + SEQ);
    }
    for (const h of this.handles) h.terminate().catch(() => {});
  }
}
