/**
 * runBench: every group in one process and one run (peak, kernels, e2e, peers), then the
 * derived ratios and the report files. benchMain: the command line around it (used by
 * `npm run bench` via bench/main.ts and by `wasm-cnn bench`).
 */
import { cpus, availableParallelism } from 'node:os';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createBackend } from '../src/backend/create.js';
import type { Backend } from '../src/backend/backend.js';
import { budgets, errorMessage } from './timing.js';
import { runPeak } from './peak.js';
import { runKernels } from './kernels.js';
import { benchData, runE2e, type BenchData } from './e2e.js';
import { profileBudget, trainingMemory } from './step.js';
import { runScaling, scalingBudget } from './scaling.js';
import { RELAXED_IMPL, runRelaxed } from './relaxed.js';
import { runTfjs, type TfjsBackend } from './peers-tfjs.js';
import { runDeep, DEEP_NET } from './deep.js';
import { runTorch } from './peers-torch.js';
import { runTorchPaired } from './paired-torch.js';
import { runOrtPaired } from './paired-onnx.js';
import { ORT_THREADS, ortImpl, runOnnxRuntime } from './peers-onnx.js';
import { derive, renderMarkdown, renderText } from './report.js';
import { GROUPS, type BenchOptions, type BenchResults, type Group, type Impl } from './types.js';

export { GROUPS, type BenchOptions, type BenchResults } from './types.js';
export { renderText, renderMarkdown } from './report.js';

const DEFAULT_OUT = 'bench/results';
const MiB = 1 << 20;

/** Wasm thread counts the build supports (1 always); notes why higher counts are not. */
async function wasmThreadCounts(): Promise<{ counts: number[]; note?: string }> {
  const max = typeof availableParallelism === 'function' ? availableParallelism() : cpus().length;
  const counts = [1];
  let note: string | undefined;
  for (let t = 2; t <= max; t++) {
    const b = await createBackend('wasm', { threads: t });
    try {
      if (b.features.threads === t) counts.push(t);
      else note ??= `Wasm with ${t} threads: not supported by this build (backend.features.threads = ${b.features.threads}${b.features.threadsNote ? `: ${b.features.threadsNote}` : ''})`;
    } finally {
      b.dispose();
    }
  }
  return { counts, note };
}

/** "family 25, model 17, 2596 MHz" from /proc/cpuinfo (Linux); undefined elsewhere. */
function cpuDetail(): string | undefined {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.+)$`, 'm').exec(info)?.[1].trim();
    const parts = [['family', field('cpu family')], ['model', field('model')]].filter(([, v]) => v).map(([k, v]) => `${k} ${v}`);
    const mhz = field('cpu MHz');
    if (mhz) parts.push(`${Math.round(Number(mhz))} MHz`);
    return parts.length ? parts.join(', ') : undefined;
  } catch {
    return undefined;
  }
}

/** Runs `fn` on a fresh backend of each of `list` (all alive at once), disposing them afterwards. */
async function withBackends<T>(list: { impl: Impl; threads?: number; make: () => Promise<Backend> }[],
  fn: (made: { impl: Impl; threads: number; backend: Backend }[]) => T | Promise<T>): Promise<T> {
  const made: { impl: Impl; threads: number; backend: Backend }[] = [];
  try {
    for (const o of list) made.push({ impl: o.impl, threads: o.threads ?? 1, backend: await o.make() });
    return await fn(made);
  } finally {
    for (const m of made) m.backend.dispose();
  }
}

function wasmImpl(threads: number): Impl {
  return threads === 1 ? 'wasm' : `wasm-${threads}t`;
}

function timestamp(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
}

function writeAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

export async function runBench(opts: BenchOptions = {}): Promise<BenchResults> {
  const quick = opts.quick ?? false;
  const groups: Group[] = opts.only?.length ? GROUPS.filter((g) => opts.only!.includes(g)) : [...GROUPS];
  const log = opts.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  const skip = new Set(opts.skipImpls ?? []);
  const relaxedOnly = opts.relaxedOnly ?? false;
  const b = budgets(quick);
  const start = new Date();
  const t0 = performance.now();
  const results: BenchResults = {
    schema: 'wasm-cnn-bench/1',
    date: start.toISOString(),
    quick,
    groups,
    durationMs: 0,
    environment: {
      node: process.versions.node,
      v8: process.versions.v8,
      platform: process.platform,
      arch: process.arch,
      cpu: cpus()[0]?.model?.trim() || 'unknown',
      cpuDetail: cpuDetail(),
      cores: typeof availableParallelism === 'function' ? availableParallelism() : cpus().length,
    },
    impls: [],
    figures: [],
    failures: [],
    notes: [],
  };
  const has = (g: Group) => groups.includes(g);

  // The limit first: % of peak needs it, so GEMM groups measure it even when 'peak' is not asked for.
  let peakRun: ReturnType<typeof runPeak> | undefined;
  if (!relaxedOnly && (has('peak') || has('kernels') || has('peers') || has('deep'))) {
    try {
      peakRun = runPeak(b.fast, quick, log);
      results.peak = peakRun.result;
      if (!has('peak')) results.notes.push('The Wasm SIMD peak was measured for the % of peak column.');
    } catch (e) {
      results.failures.push({ group: 'peak', name: 'Wasm SIMD peak', impl: 'wasm', error: errorMessage(e) });
    }
  }

  // wasm-cnn backends: Wasm at every supported thread count, and the plain-JS backend
  const ours: { impl: Impl; make: () => Promise<Backend>; description: string; threads?: number }[] = [];
  if (relaxedOnly) {
    ours.push({ impl: RELAXED_IMPL, make: () => createBackend('wasm', { relaxedSimd: true }), description: 'wasm-cnn Wasm relaxed-SIMD backend (f32x4.relaxed_madd in the GEMMs), 1 thread' });
  } else if (has('kernels') || has('e2e') || has('deep')) {
    const { counts, note } = await wasmThreadCounts();
    if (note) results.notes.push(note);
    for (const t of counts) {
      ours.push({ impl: wasmImpl(t), threads: t, make: () => createBackend('wasm', { threads: t }), description: `wasm-cnn Wasm SIMD backend, ${t} thread${t > 1 ? 's' : ''}` });
    }
    if (has('kernels') || has('e2e')) ours.push({ impl: 'js', make: () => createBackend('js'), description: 'wasm-cnn plain-JS backend (the kernels\' scalar twins)' });
  }
  let data: BenchData | undefined;
  const getData = () => (data ??= benchData());
  for (const o of ours) {
    if (skip.has(o.impl)) continue;
    let backend: Backend;
    try {
      backend = await o.make();
    } catch (e) {
      results.failures.push({ group: has('kernels') ? 'kernels' : 'e2e', name: 'createBackend', impl: o.impl, error: errorMessage(e) });
      continue;
    }
    results.impls.push({ impl: o.impl, description: o.description, features: { ...backend.features } });
    try {
      if (has('kernels')) {
        const k = runKernels(backend, o.impl, b, quick, log, relaxedOnly);
        results.figures.push(...k.figures);
        results.failures.push(...k.failures);
      }
      if (has('e2e')) {
        try {
          const e = runE2e(backend, o.impl, getData(), b, log, relaxedOnly ? undefined : profileBudget(quick));
          results.figures.push(...e.figures);
          (results.profile ??= []).push(...e.profile);
          results.failures.push(...e.failures);
          results.notes.push(...e.notes);
        } catch (e) {
          results.failures.push({ group: 'e2e', name: 'SimpleConvNet', impl: o.impl, error: errorMessage(e) });
        }
      }
      if (has('deep') && o.impl !== 'js') {
        try {
          const d = runDeep(backend, o.impl, getData(), b, log, { kernels: true, profile: relaxedOnly ? undefined : profileBudget(quick) });
          results.figures.push(...d.figures);
          if (d.profile.length) (results.deepProfile ??= []).push(...d.profile);
          results.failures.push(...d.failures);
          results.notes.push(...d.notes);
        } catch (e) {
          results.failures.push({ group: 'deep', name: 'DeepConvNet', impl: o.impl, error: errorMessage(e) });
        }
      }
    } finally {
      backend.dispose();
    }
    // Wasm memory of training, on a backend of its own (the kernel cases above grew this one)
    if (has('e2e') && o.impl !== 'js' && !relaxedOnly) {
      try {
        const d = getData();
        const m = await trainingMemory(o.impl, o.make, d.images, d.t, quick ? 1 : 3);
        (results.memory ??= []).push(m);
        log(`e2e ${o.impl}: Wasm memory ${(m.afterFirstStep.capacity / MiB).toFixed(1)} MiB after step 1, ${(m.maxCapacity / MiB).toFixed(1)} MiB at most over ${m.steps} steps`);
      } catch (e) {
        results.failures.push({ group: 'e2e', name: 'training memory', impl: o.impl, error: errorMessage(e) });
      }
    }
  }
  if (has('e2e') && data && !relaxedOnly) results.notes.push(`e2e data: ${data.source}.`);

  // thread scaling in paired rounds: every Wasm thread count alive at once, trials interleaved
  const threaded = ours.filter((o) => o.threads !== undefined && !skip.has(o.impl));
  for (const g of ['e2e', 'deep'] as const) {
    if (!has(g) || relaxedOnly || threaded.length < 2 || threaded[0].threads !== 1) continue;
    try {
      await withBackends(threaded, (made) => {
        if (g === 'e2e') results.scaling = runScaling(made, getData(), scalingBudget(quick), log);
        else results.deepScaling = runScaling(made, getData(), scalingBudget(quick), log, DEEP_NET);
      });
    } catch (e) {
      results.failures.push({ group: g, name: 'thread scaling', impl: threaded[threaded.length - 1].impl, error: errorMessage(e) });
    }
  }

  // DeepConvNet against PyTorch CPU in paired rounds, at each Wasm thread count (the relaxed build: 1 thread)
  if (has('deep') && !skip.has('torch')) {
    try {
      // no rows without torch (runTorch says why)
      const rows = await withBackends(relaxedOnly ? ours : threaded, (made) => runTorchPaired(made, getData(), scalingBudget(quick), log));
      if (rows.length) results.deepTorchPaired = rows;
    } catch (e) {
      results.failures.push({ group: 'deep', name: 'paired rounds with PyTorch', impl: 'torch-1t', error: errorMessage(e) });
    }
  }

  // the relaxed-SIMD build beside them (in a child node with the flag where this engine rejects it)
  if (!relaxedOnly && (has('kernels') || has('e2e') || has('deep') || has('peers')) && !skip.has(RELAXED_IMPL)) {
    try {
      const ortSkipped = skip.has(ortImpl(1)) || skip.has('ort-wasm');
      const rx = await runRelaxed(groups.filter((g) => g !== 'peers' || !ortSkipped), quick,
        (only) => runBench({ quick, only, relaxedOnly: true, outDir: null, log }), log);
      results.figures.push(...rx.figures);
      results.failures.push(...rx.failures);
      results.impls.push(...rx.impls);
      results.notes.push(...rx.notes);
      if (rx.deepTorchPaired) (results.deepTorchPaired ??= []).push(...rx.deepTorchPaired);
      if (rx.ortPaired) (results.ortPaired ??= []).push(...rx.ortPaired);
    } catch (e) {
      results.failures.push({ group: has('kernels') ? 'kernels' : 'e2e', name: 'relaxed-SIMD build', impl: RELAXED_IMPL, error: errorMessage(e) });
    }
  }

  // PyTorch CPU at the Wasm thread counts: the DeepConvNet rows, and the SimpleConvNet e2e rows when peers are asked for too
  if (!relaxedOnly && (has('deep') || (has('peers') && has('e2e'))) && !skip.has('torch')) {
    const counts = threaded.length ? threaded.map((o) => o.threads ?? 1) : [1];
    const tr = runTorch(counts, getData(), quick, log);
    const keep = (f: { group: string }) => has(f.group as Group);
    results.figures.push(...tr.figures.filter(keep));
    results.failures.push(...tr.failures);
    results.impls.push(...tr.impls);
    results.notes.push(...tr.notes);
  }

  // the relaxed build (a child's relaxedOnly run) against ORT web in paired rounds, 1 thread
  if (has('peers') && relaxedOnly && !skip.has(ortImpl(1)) && !skip.has('ort-wasm')) {
    try {
      results.ortPaired = await withBackends(ours, (made) => runOrtPaired(made, getData(), scalingBudget(quick), log));
    } catch (e) {
      results.failures.push({ group: 'peers', name: 'paired rounds with ONNX Runtime Web', impl: RELAXED_IMPL, error: errorMessage(e) });
    }
  }

  if (has('peers') && !relaxedOnly) {
    const which = (['wasm', 'cpu'] as TfjsBackend[]).filter((be) => !skip.has(`tfjs-${be}`));
    if (which.length) {
      const p = await runTfjs(which, getData(), b, quick, log);
      results.figures.push(...p.figures);
      results.failures.push(...p.failures);
      results.impls.push(...p.impls);
      results.notes.push(...p.notes);
    }
    const ortThreads = ORT_THREADS.filter((t) => !skip.has(ortImpl(t)) && !skip.has('ort-wasm'));
    if (ortThreads.length) {
      const o = await runOnnxRuntime(getData(), b, ortThreads, log);
      results.figures.push(...o.figures);
      results.failures.push(...o.failures);
      results.impls.push(...o.impls);
      results.notes.push(...o.notes);
      // SimpleConvNet inference against ORT web in paired rounds, at the thread counts both have
      const both = threaded.filter((x) => ortThreads.includes(x.threads ?? 1));
      try {
        // the plain builds' rows first, then the relaxed child's (merged above)
        if (both.length) results.ortPaired = [...await withBackends(both, (made) => runOrtPaired(made, getData(), scalingBudget(quick), log)), ...results.ortPaired ?? []];
      } catch (e) {
        results.failures.push({ group: 'peers', name: 'paired rounds with ONNX Runtime Web', impl: ortImpl(ortThreads[0]), error: errorMessage(e) });
      }
    }
  }

  // the peak once more at the end (not in --quick): a shared machine's noise may have hit the first round
  if (peakRun && !quick && (has('kernels') || has('peers') || has('deep'))) {
    try {
      peakRun.again();
    } catch (e) {
      results.failures.push({ group: 'peak', name: 'Wasm SIMD peak (again)', impl: 'wasm', error: errorMessage(e) });
    }
  }

  derive(results);
  results.durationMs = performance.now() - t0;

  if (opts.outDir !== null) {
    const dir = resolve(opts.outDir ?? DEFAULT_OUT);
    mkdirSync(dir, { recursive: true });
    const base = join(dir, timestamp(start));
    const full = !quick && GROUPS.every(has);
    results.files = { json: `${base}.json`, markdown: `${base}.md`, ...(full ? { latest: join(dir, 'latest.md') } : {}) };
    const md = renderMarkdown(results);
    writeAtomic(results.files.json, `${JSON.stringify(results, null, 2)}\n`);
    writeAtomic(results.files.markdown, md);
    if (results.files.latest) {
      // git keeps only these two (bench/results/.gitignore); dated runs stay local
      writeAtomic(results.files.latest, md);
      writeAtomic(join(dir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
    }
  }
  return results;
}

const USAGE = `Usage: npm run bench -- [options]   (or: wasm-cnn bench [options])

Measures wasm-cnn's Wasm and JS backends, TF.js (wasm, cpu) and ONNX Runtime Web (inference,
1 and 2 threads, each in a child node) as peers and the Wasm SIMD
peak, in one run; prints a table and writes <out>/<date>.json and <date>.md, and
<out>/latest.md and latest.json after a full run (all groups, not --quick).

Options:
  --quick              smoke test: fewer sizes, trials and steps (seconds, not minutes)
  --only <groups>      run only these groups (comma-separated, repeatable): ${GROUPS.join(', ')}
  --skip <impls>       leave out implementations (comma-separated): js, wasm-relaxed, tfjs-wasm, tfjs-cpu,
                       ort-wasm (both thread counts), ort-wasm-2t, torch
  --relaxed-only       internal: only the relaxed-SIMD build (what a child node with
                       --experimental-wasm-relaxed-simd runs; combine with --json)
  --out <dir>          where to write the results (default ${DEFAULT_OUT})
  --no-write           write no files
  --json               print the JSON results instead of the table
  -h, --help           this text
`;

/** The command line: parses argv (without node and script), runs, prints. Returns the exit code. */
export async function benchMain(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        quick: { type: 'boolean' },
        only: { type: 'string', multiple: true },
        skip: { type: 'string', multiple: true },
        out: { type: 'string' },
        'no-write': { type: 'boolean' },
        json: { type: 'boolean' },
        'relaxed-only': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (e) {
    process.stderr.write(`${errorMessage(e)}\n\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const only = (args.only ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  const bad = only.filter((g) => !(GROUPS as readonly string[]).includes(g));
  if (bad.length) {
    process.stderr.write(`unknown group ${bad.map((g) => JSON.stringify(g)).join(', ')}; expected ${GROUPS.join(', ')}\n`);
    return 2;
  }
  const skipImpls = (args.skip ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean);
  const results = await runBench({
    quick: args.quick ?? false,
    only: only as Group[],
    skipImpls,
    relaxedOnly: args['relaxed-only'] ?? false,
    outDir: args['no-write'] ? null : args.out ?? DEFAULT_OUT,
  });
  process.stdout.write(args.json ? `${JSON.stringify(results, null, 2)}\n` : renderText(results));
  if (results.files) {
    const f = results.files;
    process.stderr.write(`wrote ${f.json} and ${f.markdown}${f.latest ? ` (and ${f.latest})` : ' (latest.md is left to full runs)'}\n`);
  }
  // a peer failing (e.g. TF.js wasm training) is a result; wasm-cnn failing is a broken build
  const ownFailures = results.failures.filter((f) => !f.impl.startsWith('tfjs') && !f.impl.startsWith('ort-') && !f.impl.startsWith('torch'));
  if (ownFailures.length) {
    process.stderr.write(`${ownFailures.length} wasm-cnn case(s) failed\n`);
    return 1;
  }
  return 0;
}
