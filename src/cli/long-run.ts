/**
 * What keeps a long `wasm-cnn train` safe: checkpoints written atomically into the run
 * folder (checkpoint.safetensors, the format of src/train/checkpoint.ts, with the CLI's
 * options in its `app` metadata), SIGINT/SIGTERM handling (the first signal stops after
 * the current step; a second SIGINT exits at once, 130, leaving the last complete
 * checkpoint), and `--resume` (the options of the run, conflicting ones refused).
 *
 * A failed write is retried only for transient errors (EAGAIN, EINTR, EBUSY), at most
 * WRITE_ATTEMPTS times with a short pause, so a write never hangs the run; any other
 * failure (ENOSPC, EACCES, EIO, ...) stops the run and the last good checkpoint stays.
 *
 * Test hooks (environment variables, for subprocess tests that must not depend on timing):
 *   WASM_CNN_TEST_SIGNAL_AT=K[,K2]  after step K (or "eN": after epoch N's end and its
 *                                   checkpoint) the process sends itself
 *                                   WASM_CNN_TEST_SIGNAL (SIGINT by default), once per entry
 *   WASM_CNN_TEST_FAIL_WRITES_AFTER=N  run files after the N-th written one fail with ENOSPC
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Trainer } from '../train/trainer.js';
import { checkOutputDir, checkRunDir, defaultRunDir, writeOut } from './artifacts.js';
import { CliError } from './errors.js';
import type { BackendName } from '../backend/backend.js';
import type { ModelPreset } from './models.js';
import type { TrainCommandOptions } from './train.js';

export const CHECKPOINT_FILE = 'checkpoint.safetensors';
const WRITE_ATTEMPTS = 3;
const TRANSIENT = new Set(['EAGAIN', 'EINTR', 'EBUSY']);
/** Exit codes of a run ended by a signal (128 + the signal number). */
export const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

let writesDone = 0;

/** Writes a run file atomically (writeOut), retrying transient errors a bounded number of times. */
export function writeRunFile(dir: string, name: string, data: Uint8Array | string): void {
  const limit = process.env.WASM_CNN_TEST_FAIL_WRITES_AFTER;
  if (limit !== undefined && writesDone >= Number(limit)) {
    throw Object.assign(new Error(`ENOSPC: no space left on device, write '${join(dir, name)}' (test hook)`), { code: 'ENOSPC' });
  }
  for (let attempt = 1; ; attempt++) {
    try {
      writeOut(dir, name, data);
      writesDone++;
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (attempt >= WRITE_ATTEMPTS || !code || !TRANSIENT.has(code)) throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50 * attempt);
    }
  }
}

/** Where the last checkpoint written stands. */
export interface CheckpointMark {
  step: number;
  epoch: number;
  iteration: number;
}

/**
 * The run folder's writes: checkpoints and the other run files. Remembers the last good
 * checkpoint and the first failed write; after a failure nothing more is written.
 */
export class RunFolder {
  last: CheckpointMark | null = null;
  failure: Error | null = null;

  constructor(readonly dir: string, private readonly app: Record<string, unknown>) {}

  get path(): string {
    return join(this.dir, CHECKPOINT_FILE);
  }

  /** Writes the trainer's checkpoint; on failure records it, stops the trainer, returns false. */
  checkpoint(trainer: Trainer, mark: CheckpointMark): boolean {
    if (this.failure) return false;
    try {
      writeRunFile(this.dir, CHECKPOINT_FILE, trainer.checkpoint({ app: this.app }));
      this.last = mark;
      return true;
    } catch (e) {
      this.failure = e as Error;
      trainer.stop();
      return false;
    }
  }

  /** Writes a run file unless a write has failed already; records a failure instead of throwing. */
  file(name: string, data: Uint8Array | string): void {
    if (this.failure) return;
    try {
      writeRunFile(this.dir, name, data);
    } catch (e) {
      this.failure = e as Error;
    }
  }

  /** "the last good checkpoint ..." sentence for messages. */
  describeLast(maxIter: number): string {
    if (!this.last) return 'no checkpoint was written';
    return `the last good checkpoint is ${this.path} (epoch ${this.last.epoch}, step ${this.last.step} of ${maxIter}); ` +
      `resume with: wasm-cnn train --resume ${this.dir}`;
  }
}

/** SIGINT/SIGTERM: the first stops the trainer after the current step, a second SIGINT exits at once. */
export class Interruptions {
  signal: NodeJS.Signals | null = null;
  private readonly waiters: (() => void)[] = [];
  private readonly handler = (sig: NodeJS.Signals) => {
    if (this.signal) {
      process.stderr.write(`\n${sig} again: exiting now; the last complete checkpoint stays\n`);
      process.exit(SIGNAL_EXIT[sig] ?? 130);
    }
    this.signal = sig;
    this.trainer.stop();
    process.stderr.write(`\n${sig}: stopping after the current step to save a checkpoint (Ctrl-C again to quit at once)\n`);
    for (const w of this.waiters.splice(0)) w();
  };

  constructor(private readonly trainer: Trainer) {
    process.on('SIGINT', this.handler);
    process.on('SIGTERM', this.handler);
  }

  dispose(): void {
    process.off('SIGINT', this.handler);
    process.off('SIGTERM', this.handler);
  }

  /**
   * The WASM_CNN_TEST_SIGNAL_AT hook: at `point` (a step number, or "eN" at the end of
   * epoch N), sends the signal to this process and waits (bounded) until the handler has
   * seen it, so the stop lands right there.
   */
  async testHook(point: number | string): Promise<void> {
    const at = process.env.WASM_CNN_TEST_SIGNAL_AT;
    if (!at) return;
    const count = at.split(',').filter((s) => s.trim() === String(point)).length;
    const sig = (process.env.WASM_CNN_TEST_SIGNAL ?? 'SIGINT') as NodeJS.Signals;
    for (let i = 0; i < count; i++) {
      // the timer keeps the event loop alive until the signal arrives (signal handlers do not)
      let timer: ReturnType<typeof setTimeout> | undefined;
      const seen = new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        timer = setTimeout(resolve, 5000);
      });
      process.kill(process.pid, sig);
      await seen;
      clearTimeout(timer);
    }
  }
}

/** The options that fix a run's result; --resume keeps them (and refuses other values). */
export const RUN_OPTIONS = ['model', 'trainSize', 'testSize', 'epochs', 'batch', 'lr', 'optimizer', 'backend', 'seed'] as const;
export interface RunOptions {
  model: ModelPreset; trainSize: number; testSize: number; epochs: number; batch: number;
  lr: number; optimizer: string; backend: BackendName; seed: number;
  /** Learning-rate decay per epoch; runs saved before the option have none (1). */
  lrDecay?: number;
  /** L2 weight decay lambda; runs saved before the option have none (0). */
  weightDecay?: number;
}

const FLAG: Record<string, string> = { trainSize: '--train-size', testSize: '--test-size', lrDecay: '--lr-decay', weightDecay: '--weight-decay' };
const flagOf = (k: string) => FLAG[k] ?? `--${k}`;

/**
 * The options of the run a checkpoint belongs to, checked against those given now
 * (`given`: the values the user typed, sizes resolved). Throws a CliError per conflict.
 */
export function resumedOptions(dir: string, app: Record<string, unknown> | undefined, given: Partial<RunOptions>): RunOptions {
  const saved = app?.options as Partial<RunOptions> | undefined;
  if (!saved || typeof saved !== 'object' || RUN_OPTIONS.some((k) => saved[k] === undefined)) {
    throw new CliError(`--resume ${dir}: ${CHECKPOINT_FILE} was not written by wasm-cnn train (no run options in it)`);
  }
  const run = { ...saved, lrDecay: saved.lrDecay ?? 1, weightDecay: saved.weightDecay ?? 0 } as RunOptions;
  const conflicts: (keyof RunOptions)[] = [...RUN_OPTIONS, 'lrDecay' as const, 'weightDecay' as const].filter((k) => given[k] !== undefined && given[k] !== run[k]);
  if (conflicts.length > 0) {
    throw new CliError(`--resume ${dir}: ${conflicts.map((k) => `${flagOf(k)} ${given[k]} conflicts with the run's ${flagOf(k)} ${run[k]}`).join('; ')}` +
      ' (a resumed run keeps the options it started with; leave them out or start a new run)');
  }
  return run;
}

/** Room a run folder needs: checkpoint (parameters + optimizer moments), its temp copy, params, charts. */
const RUN_SPACE_BYTES = 32e6;

/** What trainCommand needs to know before any work: the options, the folder, the checkpoint to resume. */
export interface RunPlan {
  outDir: string;
  options: RunOptions;
  /** The checkpoint's bytes with --resume. */
  resume: Uint8Array | null;
}


/**
 * Resolves the run's options and output folder and checks the folder, before any data is
 * loaded or any training starts. Throws a CliError naming the path or flag and the reason.
 */
export function planRun(opts: TrainCommandOptions, defaultLr: (optimizer: string) => number): RunPlan {
  const given = new Set(opts.given ?? []);
  const typed = <K extends keyof TrainCommandOptions>(k: K) => (given.has(k) ? opts[k] : undefined);
  const trainSize = opts.trainSize ?? (opts.full ? 60000 : 5000);
  const testSize = opts.testSize ?? (opts.full ? 10000 : 1000);
  if (opts.resume !== undefined) {
    const dir = resolve(opts.resume);
    if (opts.out !== undefined && resolve(opts.out) !== dir) {
      throw new CliError(`--out ${opts.out} conflicts with --resume ${opts.resume}: a resumed run writes into its own folder`);
    }
    if (!existsSync(dir)) throw new CliError(`--resume ${opts.resume}: no such folder`);
    checkOutputDir('--resume', dir, RUN_SPACE_BYTES);
    const path = join(dir, CHECKPOINT_FILE);
    if (!existsSync(path)) throw new CliError(`--resume ${opts.resume}: there is no ${CHECKPOINT_FILE} in that folder (is it a run folder of wasm-cnn train?)`);
    const sizesGiven = given.has('trainSize') || given.has('testSize') || given.has('full');
    const bytes = new Uint8Array(readFileSync(path));
    const options = resumedOptions(opts.resume, Trainer.checkpointApp(bytes), {
      model: typed('model'), epochs: typed('epochs'), batch: typed('batch'), lr: typed('lr'), lrDecay: typed('lrDecay'), weightDecay: typed('weightDecay'),
      optimizer: typed('optimizer'), backend: typed('backend'), seed: typed('seed'),
      trainSize: sizesGiven ? trainSize : undefined, testSize: sizesGiven ? testSize : undefined,
    });
    return { outDir: dir, options, resume: bytes };
  }
  const model = opts.model;
  const outDir = resolve(opts.out ?? defaultRunDir(model));
  checkOutputDir('--out', outDir, RUN_SPACE_BYTES);
  checkRunDir(outDir, opts.force ?? false);
  const optimizer = opts.optimizer;
  return {
    outDir,
    resume: null,
    options: {
      model, trainSize, testSize, epochs: opts.epochs, batch: opts.batch,
      lr: opts.lr ?? defaultLr(optimizer), lrDecay: opts.lrDecay ?? 1, weightDecay: opts.weightDecay ?? 0, optimizer, backend: opts.backend, seed: opts.seed,
    },
  };
}
