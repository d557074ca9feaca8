/**
 * WorkerPool: kernel workers on one shared Wasm memory, driven synchronously.
 *
 * The Kernels interface is synchronous, so a parallel kernel call is: write each worker's
 * job into the control block and wake it (Atomics.notify), run the calling thread's own
 * share, then wait (poll briefly, then Atomics.wait) until every dispatched worker has
 * stored DONE. Workers poll for their next job for 0.5 ms before they sleep: a job reaches
 * a polling worker in ~1 us, a sleeping one in 25-50 us (protocol.ts), and only calls worth
 * ~20 us or more per share are split (kernels.ts). Polling stops when threads outnumber the
 * CPUs or another process keeps a worker from running (checkContention). Blocking is
 * allowed on Node's main thread and in Web Workers, not on a browser page's main thread
 * (spawn.ts refuses threads there).
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
  ARGC, CALLER_SPIN_MS, DEAD, DONE, FN, MAX_ARGS, MSG_CHARS, MSG_LEN, POLL, SEQ, SLOT_INTS, STARTED, STATUS,
  WORKER_SPIN_MS,
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
  /** How long each worker's kernel ran in the last run(), ms. */
  readonly lastExecMs: number[];
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
    this.ctl = new Int32Array(control, L.ctlOffset, this.size * SLOT_INTS);
    this.args = new Float64Array(control, L.argsOffset, this.size * MAX_ARGS);
    this.res = new Float64Array(control, L.resOffset, this.size);
    this.exec = new Float64Array(control, L.execOffset, this.size);
    this.lastExecMs = new Array(this.size).fill(0);
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

  /** Blocks until worker w has finished its current job; returns its error, if any. */
  private waitFor(w: number, name: string): WasmCnnError | undefined {
    const ctl = this.ctl;
    const b = w * SLOT_INTS;
    const seq = this.seqs[w];
    if (this.callerSpinMs > 0 && this.pollOffUntil === 0 && Atomics.load(ctl, b + DONE) !== seq) {
      const s0 = performance.now();
      while (Atomics.load(ctl, b + DONE) !== seq && performance.now() - s0 < this.callerSpinMs) { /* poll */ }
    }
    const t0 = Date.now();
    while (Atomics.load(ctl, b + DONE) !== seq) {
      if (Atomics.load(ctl, b + DEAD) !== 0 || !this.alive[w]) {
        this.markBroken(`kernel worker ${w + 1} exited`);
        return new WasmCnnError(`${name}: kernel worker ${w + 1} exited during the call`);
      }
      if (this.broken) return new WasmCnnError(`${name}: ${this.broken}`);
      if (Atomics.load(ctl, b + STARTED) !== seq && Date.now() - t0 > JOB_START_TIMEOUT_MS) {
        this.markBroken(`kernel worker ${w + 1} stopped responding`);
        return new WasmCnnError(`${name}: kernel worker ${w + 1} did not pick up its job within ${JOB_START_TIMEOUT_MS / 1000} s`);
      }
      Atomics.wait(ctl, b + DONE, seq - 1, WAIT_SLICE_MS);
    }
    if (ctl[b + STATUS] === 0) return undefined;
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
