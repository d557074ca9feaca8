/**
 * The shared control block between the calling thread and the kernel workers, and the
 * worker's source code.
 *
 * One SharedArrayBuffer (separate from the Wasm memory, so memory growth never moves it):
 *
 *   ctl    Int32Array   (workers + 1, SLOT_INTS) per worker: SEQ, FN, ARGC (caller) | DONE, STATUS, STARTED,
 *                                               MSG_LEN, DEAD, TAKEN (worker), POLL (caller, rarely);
 *                                               then one header slot for chunked calls (C_*)
 *   args   Float64Array (workers, MAX_ARGS)      the kernel arguments of the worker's current job
 *                                               (chunked calls: [0] is the worker's scratch pointer)
 *   res    Float64Array (workers)                the kernel's return value (count_nonfinite_f32)
 *   exec   Float64Array (workers)                how long the kernel ran, ms
 *   msg    Uint16Array  (workers, MSG_CHARS)     the error text when a job threw (UTF-16 code units)
 *   chunks Float64Array (MAX_CHUNKS, MAX_ARGS)   the arguments of each chunk of a chunked call
 *   cres   Float64Array (MAX_CHUNKS)             each chunk's return value
 *
 * A job: the caller writes FN, ARGC and args, then stores SEQ = previous + 1 and notifies
 * SEQ. The worker, polling SEQ or blocked in Atomics.wait(SEQ), stores STARTED = seq, runs
 * the job in a try/catch, writes STATUS (0 ok, 1 error + msg) and stores DONE = seq, then
 * notifies DONE.
 *
 * A chunked call (FN = CHUNKED): the caller writes the chunks' arguments and the header
 * (C_FN, C_ARGC, C_SCRATCH_ARG, C_COUNT, C_ERR = 0, C_DONE = 0), then stores the claim word
 * C_CLAIM = tag << 16 | front << 8 | back with front = 0, back = count, and wakes every
 * worker. Workers take chunks one at a time from the front (compare-exchange: front + 1),
 * the calling thread from the back (back - 1), until front meets back; whoever finishes a
 * chunk adds 1 to C_DONE (the worker finishing the last one notifies it). A thread that
 * loses its CPU for a while so holds up at most the chunk it is running, never the call; and
 * when no thread is held up, each keeps about the same part of the data from call to call
 * (the front ones the workers, the back ones the caller), as fixed shares did. The claim word
 * names its call (tag): a compare-exchange that succeeds took a chunk of the call in progress,
 * so a late worker never takes a chunk of a call that is over, and reads the header only
 * after it has taken one (the header stays as it is until every chunk is done). A failing
 * chunk stores worker + 1 in C_ERR (the first one wins) and its text in the worker's msg; the
 * call still finishes every chunk.
 * SEQ = -1 tells the worker to leave its loop. DEAD is set by a Node worker that exits.
 */
/** Ints per worker slot: 128 bytes, SEQ (written by the caller) and DONE (by the worker) on separate cache lines. */
export const SLOT_INTS = 32;
export const SEQ = 0;
export const FN = 1;
export const ARGC = 2;
export const DONE = 16;
export const STATUS = 17;
export const STARTED = 18;
export const MSG_LEN = 19;
export const DEAD = 20;
/** Written by the worker: chunks it has taken so far (all calls; the caller compares). */
export const TAKEN = 22;
/** FN of a chunked call. */
export const CHUNKED = -2;
/**
 * The header slot (after the workers' slots) of a chunked call: claim word, chunks done,
 * kernel, argument count, scratch argument (-1: none), first failing worker + 1, chunk count.
 */
export const C_CLAIM = 0;
export const C_DONE = 16;
export const C_FN = 17;
export const C_ARGC = 18;
export const C_SCRATCH_ARG = 19;
export const C_ERR = 20;
export const C_COUNT = 21;
/** Most chunks of one call (the claim word holds front and back in 8 bits each). */
export const MAX_CHUNKS = 255;
/** Written by the caller: 1 = poll for the next job before sleeping, 0 = sleep at once (pool.ts: checkContention). */
export const POLL = 21;
/**
 * How long a worker polls for its next job before it sleeps in Atomics.wait, and how long
 * the caller polls for DONE. Waking a sleeping thread costs 25-50 us here, polling ~1 us;
 * the parallel calls of a training step come within ~0.3 ms of each other, so after the
 * first call of a step the workers are usually still polling. Neither polls when there are
 * more threads than CPUs, nor for a while after workers were seen not to get a CPU in time
 * (another process is busy): a polling thread would take the CPU from the one it waits for.
 */
export const WORKER_SPIN_MS = 0.5;
export const CALLER_SPIN_MS = 0.25;
export const MAX_ARGS = 24;
export const MSG_CHARS = 1024;

export interface ControlLayout {
  ctlOffset: number;
  argsOffset: number;
  resOffset: number;
  execOffset: number;
  msgOffset: number;
  chunksOffset: number;
  cresOffset: number;
  bytes: number;
}

/** Byte offsets of the arrays in the control block of `workers` workers. */
export function controlLayout(workers: number): ControlLayout {
  const align8 = (n: number) => Math.ceil(n / 8) * 8;
  const ctlOffset = 0;
  const argsOffset = align8(ctlOffset + (workers + 1) * SLOT_INTS * 4);
  const resOffset = argsOffset + workers * MAX_ARGS * 8;
  const execOffset = resOffset + workers * 8;
  const msgOffset = execOffset + workers * 8;
  const chunksOffset = align8(msgOffset + workers * MSG_CHARS * 2);
  const cresOffset = chunksOffset + MAX_CHUNKS * MAX_ARGS * 8;
  const bytes = cresOffset + MAX_CHUNKS * 8;
  return { ctlOffset, argsOffset, resOffset, execOffset, msgOffset, chunksOffset, cresOffset, bytes };
}

/** What the caller posts to a new worker (all structured-cloneable; the SABs are shared). */
export interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  control: SharedArrayBuffer;
  layout: ControlLayout;
  /** This worker's slot (0-based). */
  index: number;
  workers: number;
  /** Byte pointer of this worker's GEMM packing scratch (gemm_set_scratch). */
  scratch: number;
  /** Kernel names; FN indexes this list. */
  names: readonly string[];
  /** How long to poll for the next job before sleeping, ms (0 when threads outnumber the CPUs). */
  spinMs: number;
}

/**
 * The worker, as a classic script with no imports: Node runs it with
 * `new Worker(source, { eval: true })`, browsers from a Blob URL. It instantiates the
 * kernel module on the shared memory, reports { type: 'ready' } (or { type: 'error' }),
 * then serves jobs from the control block until told to quit. Its event loop is blocked
 * from then on, so it never receives another message.
 */
export const WORKER_SOURCE = `'use strict';
(function () {
  var SLOT = ${SLOT_INTS}, SEQ = ${SEQ}, DONE = ${DONE}, STATUS = ${STATUS}, FN = ${FN}, ARGC = ${ARGC},
    STARTED = ${STARTED}, MSG_LEN = ${MSG_LEN}, DEAD = ${DEAD}, POLL = ${POLL}, MAX_ARGS = ${MAX_ARGS},
    MSG_CHARS = ${MSG_CHARS}, TAKEN = ${TAKEN}, CHUNKED = ${CHUNKED}, C_CLAIM = ${C_CLAIM}, C_DONE = ${C_DONE},
    C_FN = ${C_FN}, C_ARGC = ${C_ARGC}, C_SCRATCH_ARG = ${C_SCRATCH_ARG}, C_ERR = ${C_ERR}, C_COUNT = ${C_COUNT};
  var wt = null, port = null;
  function post(m) { port.postMessage(m); }
  function text(e) {
    var s = e && e.stack ? String(e.stack) : String(e);
    if (e && e.message && s.indexOf(String(e.message)) < 0) s = String(e.message) + '\\n' + s;
    return s;
  }
  function start(init) {
    var L = init.layout, w = init.index, n = init.workers;
    var ctl = new Int32Array(init.control, L.ctlOffset, (n + 1) * SLOT);
    var chunks = new Float64Array(init.control, L.chunksOffset, (L.cresOffset - L.chunksOffset) / 8);
    var cres = new Float64Array(init.control, L.cresOffset, (L.bytes - L.cresOffset) / 8);
    var H = n * SLOT;
    var args = new Float64Array(init.control, L.argsOffset, n * MAX_ARGS);
    var res = new Float64Array(init.control, L.resOffset, n);
    var exec = new Float64Array(init.control, L.execOffset, n);
    var msg = new Uint16Array(init.control, L.msgOffset, n * MSG_CHARS);
    var b = w * SLOT, a0 = w * MAX_ARGS, m0 = w * MSG_CHARS, SPIN_MS = init.spinMs;
    if (wt) process.on('exit', function () { Atomics.store(ctl, b + DEAD, 1); Atomics.notify(ctl, b + DONE); });
    var fns;
    try {
      var inst = new WebAssembly.Instance(init.module, { env: { memory: init.memory } });
      inst.exports.gemm_set_scratch(init.scratch);
      fns = init.names.map(function (name) { return inst.exports[name]; });
    } catch (e) {
      post({ type: 'error', message: text(e) });
      return;
    }
    // SEQ starts at 0 in a new control block; it must not be read after 'ready' is posted,
    // or a job dispatched right after 'ready' would be taken for the starting state and missed
    var seq = 0;
    post({ type: 'ready' });
    var call = [];
    for (;;) {
      if (SPIN_MS > 0 && Atomics.load(ctl, b + POLL) !== 0 && Atomics.load(ctl, b + SEQ) === seq) {
        var t0 = performance.now();
        while (Atomics.load(ctl, b + SEQ) === seq && performance.now() - t0 < SPIN_MS) {}
      }
      Atomics.wait(ctl, b + SEQ, seq);
      var s = Atomics.load(ctl, b + SEQ);
      if (s < 0) break;
      if (s === seq) continue;
      seq = s;
      Atomics.store(ctl, b + STARTED, seq);
      if (ctl[b + FN] === CHUNKED) {
        exec[w] = chunked();
      } else {
        var status = 0;
        try {
          var t1 = performance.now();
          res[w] = invoke(ctl[b + FN], args, a0, ctl[b + ARGC], -1);
          exec[w] = performance.now() - t1;
        } catch (e) {
          status = 1;
          fail(e);
        }
        Atomics.store(ctl, b + STATUS, status);
      }
      Atomics.store(ctl, b + DONE, seq);
      Atomics.notify(ctl, b + DONE);
    }
    // runs kernel #f on argc arguments read from src at off (sa >= 0: that argument is
    // replaced by this worker's scratch pointer); returns its result, 0 if none
    function invoke(f, src, off, argc, sa) {
      var fn = fns[f];
      if (typeof fn !== 'function') throw new Error('unknown kernel #' + f);
      call.length = argc;
      for (var i = 0; i < argc; i++) call[i] = src[off + i];
      if (sa >= 0) call[sa] = args[a0];
      var r = fn.apply(null, call);
      return typeof r === 'number' ? r : 0;
    }
    function fail(e) {
      var t = text(e);
      var len = Math.min(t.length, MSG_CHARS);
      for (var j = 0; j < len; j++) msg[m0 + j] = t.charCodeAt(j);
      ctl[b + MSG_LEN] = len;
    }
    // takes chunks of the current chunked call from the front until none is left; returns
    // the time spent in kernels
    function chunked() {
      var ms = 0;
      for (;;) {
        var v = Atomics.load(ctl, H + C_CLAIM);
        var k = (v >> 8) & 255;
        if (k >= (v & 255)) return ms;
        if (Atomics.compareExchange(ctl, H + C_CLAIM, v, v + 256) !== v) continue;
        // chunk k of the call in progress: its header and chunk table stay as they are until
        // its chunks are all done
        var count = ctl[H + C_COUNT];
        Atomics.add(ctl, b + TAKEN, 1);
        var t1 = performance.now();
        try {
          cres[k] = invoke(ctl[H + C_FN], chunks, k * MAX_ARGS, ctl[H + C_ARGC], ctl[H + C_SCRATCH_ARG]);
        } catch (e) {
          fail(e);
          Atomics.compareExchange(ctl, H + C_ERR, 0, w + 1);
        }
        ms += performance.now() - t1;
        if (Atomics.add(ctl, H + C_DONE, 1) + 1 === count) Atomics.notify(ctl, H + C_DONE);
      }
    }
  }
  // Node runs this as CommonJS or, when the process was started with --input-type=module, as an
  // ES module (no require): import() works in both. Browsers: a classic Web Worker.
  var isNode = typeof process === 'object' && process !== null && !!(process.versions && process.versions.node)
    && typeof self === 'undefined';
  if (isNode) {
    (typeof require === 'function' ? Promise.resolve(require('node:worker_threads')) : import('node:worker_threads'))
      .then(function (m) { wt = m; port = m.parentPort; port.once('message', start); });
  } else {
    port = self;
    self.onmessage = function (e) { self.onmessage = null; start(e.data); };
  }
})();
`;
