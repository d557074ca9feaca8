// The benchmark in --quick mode: checks that it runs and produces well-formed results and
// reports. Never asserts a timing (that belongs in `npm run bench`, not in a test).
import { describe, it, expect, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBench, renderText, type BenchResults, type Figure } from '../bench/main.js';
import { FUSED_PREFIX, networkGemms, squareGemms } from '../bench/kernels.js';
import { E2E } from '../bench/e2e.js';
import { derive, fmtNum, renderMarkdown } from '../bench/report.js';
import { median } from '../bench/timing.js';

const dirs: string[] = [];
function outDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'wasm-cnn-bench-test-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const positive = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x > 0;

function checkFigure(f: Figure): void {
  const where = `${f.impl} ${f.name}`;
  expect(typeof f.name, where).toBe('string');
  expect(['GFLOP/s', 'GB/s', 'img/s'], where).toContain(f.unit);
  for (const k of ['value', 'min', 'max', 'work'] as const) expect(positive(f[k]), `${where}: ${k} = ${f[k]}`).toBe(true);
  for (const k of ['medianMs', 'minMs', 'maxMs'] as const) expect(positive(f.timing[k]), `${where}: timing.${k}`).toBe(true);
  expect(Number.isInteger(f.timing.trials) && f.timing.trials >= 1, where).toBe(true);
  expect(Number.isInteger(f.timing.reps) && f.timing.reps >= 1, where).toBe(true);
  expect(f.timing.warmup >= 1, `${where}: warm-up calls`).toBe(true);
  // the median lies between the fastest and the slowest trial (a structural property)
  expect(f.min <= f.value && f.value <= f.max, where).toBe(true);
  if (f.pctOfPeak !== undefined) expect(positive(f.pctOfPeak), `${where}: pctOfPeak`).toBe(true);
  for (const [impl, ratio] of Object.entries(f.ratios ?? {})) expect(positive(ratio), `${where}: ratio vs ${impl}`).toBe(true);
}

function checkFiles(r: BenchResults): string {
  expect(r.files).toBeDefined();
  const json = JSON.parse(readFileSync(r.files!.json, 'utf8')) as BenchResults;
  expect(json.schema).toBe('wasm-cnn-bench/1');
  expect(json.figures.length).toBe(r.figures.length);
  const md = readFileSync(r.files!.markdown, 'utf8');
  expect(r.files!.latest).toBeUndefined(); // latest.md is for full runs only
  expect(r.files!.json).toMatch(/\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ\.json$/);
  return md;
}

describe('npm run bench --quick', () => {
  it('peak, kernels and e2e: every figure well-formed, ratios and % of peak, report tables', async () => {
    const r = await runBench({ quick: true, only: ['peak', 'kernels', 'e2e'], outDir: outDir(), log: () => {} });
    expect(r.schema).toBe('wasm-cnn-bench/1');
    expect(r.quick).toBe(true);
    expect(r.groups).toEqual(['peak', 'kernels', 'e2e']);
    expect(r.environment.node).toBe(process.versions.node);
    expect(r.failures).toEqual([]);

    // the limit
    expect(r.peak).toBeDefined();
    checkFigure(r.peak!.simd);
    if (r.peak!.relaxedSimd) checkFigure(r.peak!.relaxedSimd);
    expect(r.peak!.relaxedNote.length).toBeGreaterThan(0);

    // backends, with their features
    const wasm = r.impls.find((i) => i.impl === 'wasm');
    expect(wasm?.features?.simd).toBe(true);
    expect(wasm?.features?.threads).toBe(1);
    expect(r.impls.some((i) => i.impl === 'js')).toBe(true);

    for (const f of r.figures) checkFigure(f);

    // every kernel row on both backends; GEMMs as % of peak, Wasm/JS ratios
    const gemmNames = [...squareGemms(true), ...networkGemms()].map((g) => g.name);
    const kernelRows = new Set(r.figures.filter((f) => f.group === 'kernels').map((f) => f.name));
    for (const n of gemmNames) expect(kernelRows.has(n), n).toBe(true);
    for (const n of ['im2col 5x5 (batch 100)', 'col2im 5x5 (batch 100)', 'maxpool fwd 2x2/2', 'maxpool bwd 2x2/2', 'avgpool fwd 2x2/2', 'avgpool bwd 2x2/2']) {
      expect(kernelRows.has(n), n).toBe(true);
    }
    // the fused inference convolution by both algorithms, at SimpleConvNet's conv1 among others
    for (const algo of ['direct (conv_relu_pool)', 'F(4x4, 5x5) (wino5)']) {
      expect(kernelRows.has(`${FUSED_PREFIX} SimpleConvNet conv1: ${algo}`), algo).toBe(true);
    }
    for (const name of kernelRows) {
      const w = r.figures.find((f) => f.group === 'kernels' && f.name === name && f.impl === 'wasm');
      const j = r.figures.find((f) => f.group === 'kernels' && f.name === name && f.impl === 'js');
      expect(w && j, name).toBeTruthy();
      expect(positive(w!.ratios?.js), `${name}: Wasm/JS`).toBe(true);
      if (gemmNames.includes(name) || name.startsWith(FUSED_PREFIX)) {
        expect(w!.unit).toBe('GFLOP/s');
        expect(positive(w!.pctOfPeak), `${name}: % of peak`).toBe(true);
      } else {
        expect(w!.unit).toBe('GB/s');
      }
    }

    // end to end on both backends
    for (const impl of ['wasm', 'js']) {
      for (const name of Object.values(E2E)) {
        const f = r.figures.find((x) => x.group === 'e2e' && x.name === name && x.impl === impl);
        expect(f?.unit, `${impl} ${name}`).toBe('img/s');
      }
    }

    // the relaxed-SIMD build (in a child node with the flag where this engine rejects it):
    // its GEMMs, as % of the relaxed peak, and the end-to-end cases, beside the plain build
    const relaxed = r.impls.find((i) => i.impl === 'wasm-relaxed');
    expect(relaxed?.features?.relaxedSimd).toBe(true);
    for (const n of [...gemmNames, ...Object.values(E2E)]) {
      const f = r.figures.find((x) => x.name === n && x.impl === 'wasm-relaxed');
      expect(f, `wasm-relaxed ${n}`).toBeDefined();
      if (f!.unit === 'GFLOP/s') expect(f!.pctOfPeak).toBeCloseTo((100 * f!.value) / r.peak!.relaxedSimd!.max, 6);
      expect(positive(f!.ratios?.wasm), `wasm-relaxed ${n}: relaxed/plain`).toBe(true);
    }
    expect(r.figures.some((x) => x.impl === 'wasm-relaxed' && x.name === 'relu fwd')).toBe(false); // GEMMs only

    // the parts of a training step on every wasm-cnn backend: each layer forward, the loss,
    // each layer backward down to Conv1, the update
    const parts = ['Conv1 forward', 'Relu1 forward', 'Pool1 forward', 'Affine1 forward', 'Relu2 forward', 'Affine2 forward',
      'SoftmaxWithLoss forward', 'SoftmaxWithLoss backward', 'Affine2 backward', 'Relu2 backward', 'Affine1 backward',
      'Pool1 backward', 'Relu1 backward', 'Conv1 backward', 'Adam update'];
    for (const impl of ['wasm', 'js']) {
      const rows = (r.profile ?? []).filter((x) => x.impl === impl);
      expect(rows.map((x) => x.phase), impl).toEqual(parts);
      for (const x of rows) expect(x.minMs <= x.ms && x.ms <= x.maxMs && x.maxMs > 0, `${impl} ${x.phase}`).toBe(true);
    }
    // Wasm memory of a Trainer run, per Wasm thread count (none for JS or the relaxed build)
    expect((r.memory ?? []).map((m) => m.impl)).toEqual(r.impls.filter((i) => /^wasm(-\d+t)?$/.test(i.impl)).map((i) => i.impl));
    for (const m of r.memory ?? []) {
      expect(m.steps, m.impl).toBe(10); // --quick: one epoch of 1,000 images at batch 100
      expect(m.dataBytes).toBe(1000 * 784);
      expect(m.afterFirstStep.capacity).toBeGreaterThan(0);
      expect(m.maxCapacity).toBeGreaterThanOrEqual(m.afterFirstStep.capacity);
      expect(m.atEnd.used).toBeLessThanOrEqual(m.atEnd.highWater);
      expect(typeof m.grewAfterFirstStep).toBe('boolean');
    }

    // thread scaling in paired rounds: each case at every thread count above 1, ratios from the rounds
    const counts = r.impls.filter((i) => /^wasm-\d+t$/.test(i.impl)).map((i) => i.features!.threads);
    expect((r.scaling ?? []).map((x) => `${x.name} ${x.threads}`)).toEqual([E2E.train, E2E.infer100].flatMap((n) => counts.map((t) => `${n} ${t}`)));
    for (const x of r.scaling ?? []) {
      expect(x.rounds).toBe(3); // --quick
      for (const k of ['oneThreadMs', 'ms', 'ratio', 'minRatio', 'maxRatio'] as const) expect(positive(x[k]), `${x.name} ${x.threads}: ${k}`).toBe(true);
      expect(x.minRatio <= x.ratio && x.ratio <= x.maxRatio, `${x.name} ${x.threads}`).toBe(true);
    }

    const md = checkFiles(r);
    expect(md).toMatch(/^# wasm-cnn benchmark/);
    if (counts.length) expect(md).toMatch(/\| train batch 100 \(fwd\+bwd\+Adam\) \| 2 \| [\d,]+ \| [\d,]+ \| [\d.]+x \| [\d.]+x-[\d.]+x \| 3 \|/);
    expect(md).toMatch(/\| part of the step \| Wasm ms \| share \|(?: Wasm \d+t ms \| share \|)* JS ms \| share \|/);
    expect(md).toMatch(/\| sum of the parts \| [\d.]+ \| 100% \|/);
    expect(md).toMatch(/\| Wasm \| [\d.]+ \| [\d.]+ \| [\d.]+ \/ [\d.]+ \| (yes|no) \| 10 \|/);
    // one group of columns per extra thread count the build supports ('Wasm 2t ...'), then JS
    const threadCols = '(?: Wasm (?:\\d+t|relaxed) [^|]+ \\|[^|]+\\|[^|]+\\|)*';
    expect(md).toMatch(new RegExp(`\\| case \\| Wasm GFLOP/s \\| % peak \\|${threadCols} JS GFLOP/s \\| Wasm/JS \\|`));
    expect(md).toMatch(new RegExp(`\\| case \\| shape \\| Wasm GFLOP/s \\| % peak \\|${threadCols} JS GFLOP/s \\| Wasm/JS \\|`));
    expect(md).toMatch(/\| case \| Wasm img\/s \|(?: Wasm (?:\d+t|relaxed) [^|]+\|[^|]+\|)* JS img\/s \| Wasm\/JS \|/);
    expect(md).toMatch(/\| gemm NN 128 \| [\d.,]+ \([\d.,]+-[\d.,]+\) \| \d+% \|/);
    const text = renderText(r);
    expect(text).toContain('Wasm SIMD peak');
    expect(text).toContain('End to end: SimpleConvNet');
  }, 180_000);

  it('peers: TF.js wasm matMul and inference figures, and its training outcome, as reported', async () => {
    const r = await runBench({ quick: true, only: ['peers'], skipImpls: ['tfjs-cpu'], outDir: outDir(), log: () => {} });
    expect(r.groups).toEqual(['peers']);
    const tf = r.impls.find((i) => i.impl === 'tfjs-wasm');
    expect(tf?.tfjs?.backend).toBe('wasm');
    expect(typeof tf?.tfjs?.threads).toBe('number');
    for (const f of r.figures) checkFigure(f);
    const mm = r.figures.filter((f) => f.impl === 'tfjs-wasm' && f.group === 'kernels');
    expect(mm.length).toBe(squareGemms(true).length + networkGemms().length);
    expect(mm.some((f) => /^gemm (NT|TN|TT) /.test(f.name))).toBe(true); // a transposed matMul
    for (const name of [E2E.infer100, E2E.infer1000]) {
      expect(r.figures.some((f) => f.impl === 'tfjs-wasm' && f.name === name), name).toBe(true);
    }
    // training: a figure, or the real error (stock TF.js wasm has no Conv2DBackpropFilter)
    const trained = r.figures.some((f) => f.impl === 'tfjs-wasm' && f.name === E2E.train);
    const failed = r.failures.find((f) => f.impl === 'tfjs-wasm' && f.name === E2E.train);
    expect(trained || Boolean(failed?.error)).toBe(true);
    // TF.js's own gradients are registered: a failure is about a kernel, never a missing gradient
    if (failed) expect(failed.error).not.toMatch(/gradient function not found/i);
    const md = checkFiles(r);
    expect(md).toContain('| case | TF.js wasm GFLOP/s | % peak |');
    if (failed) expect(md).toContain(failed.error);
    // the relaxed build (a child node with the flag where this engine rejects it) against ORT
    // web in paired rounds, 1 thread: what a browser with relaxed SIMD runs under relaxedSimd: 'auto'
    const rx = r.ortPaired?.find((x) => x.impl === 'wasm-relaxed');
    expect(rx, JSON.stringify(r.failures)).toBeDefined();
    expect(rx!.threads).toBe(1);
    expect(rx!.peer).toBe('ort-wasm');
    expect(rx!.ratio).toBe(median(rx!.samplesMs.map((w, i) => rx!.peerSamplesMs[i] / w)));
    expect(md).toContain(`| ${E2E.infer100} | Wasm relaxed | 1 | ${fmtNum(100_000 / rx!.ms)} | ${fmtNum(100_000 / rx!.peerMs)} | ${rx!.ratio.toFixed(2)}x |`);
  }, 180_000);
});

describe('bench report', () => {
  it('derives ratios and % of peak, with a column per thread count and failures spelled out', () => {
    const timing = (ms: number) => ({ medianMs: ms, minMs: ms, maxMs: ms, trials: 1, reps: 1, warmup: 1, samplesMs: [ms] });
    const fig = (group: Figure['group'], name: string, impl: string, unit: Figure['unit'], value: number): Figure =>
      ({ group, name, shape: '(1)', impl, unit, value, min: value, max: value, work: value, timing: timing(1000) });
    const r: BenchResults = {
      schema: 'wasm-cnn-bench/1', date: '2026-01-01T00:00:00.000Z', quick: false, groups: ['peak', 'kernels', 'e2e', 'peers'],
      durationMs: 1, environment: { node: '20', v8: '11', platform: 'linux', arch: 'x64', cpu: 'cpu', cores: 2 },
      impls: [{ impl: 'wasm', description: 'Wasm' }, { impl: 'wasm-2t', description: 'Wasm 2 threads' }],
      peak: { simd: fig('peak', 'peak', 'wasm', 'GFLOP/s', 40), relaxedSimd: fig('peak', 'relaxed peak', 'wasm', 'GFLOP/s', 50), relaxedNote: 'n/a', rounds: 1 },
      figures: [
        fig('kernels', 'gemm NN 512', 'wasm', 'GFLOP/s', 30),
        fig('kernels', 'gemm NN 512', 'wasm-2t', 'GFLOP/s', 60),
        fig('kernels', 'gemm NN 512', 'js', 'GFLOP/s', 3),
        fig('kernels', 'gemm NN 512', 'wasm-relaxed', 'GFLOP/s', 45),
        fig('e2e', E2E.train, 'wasm', 'img/s', 5000),
        fig('e2e', E2E.train, 'tfjs-cpu', 'img/s', 10),
      ],
      failures: [{ group: 'e2e', name: E2E.train, impl: 'tfjs-wasm', error: "Kernel 'X' not registered" }],
      notes: [],
    };
    derive(r);
    const w = r.figures[0];
    expect(w.pctOfPeak).toBeCloseTo(75);
    expect(r.figures[1].pctOfPeak).toBeCloseTo(75); // against 2 x the 1-thread peak
    expect(w.ratios).toEqual({ 'wasm-2t': 0.5, js: 10, 'wasm-relaxed': 30 / 45 });
    expect(r.figures[3].pctOfPeak).toBeCloseTo(90); // the relaxed build against the relaxed peak
    expect(r.figures[4].ratios?.['tfjs-cpu']).toBe(500);
    const md = renderMarkdown(r);
    expect(md).toContain('| case | Wasm GFLOP/s | % peak | Wasm 2t GFLOP/s | % peak | Wasm 2t/1t | Wasm relaxed GFLOP/s | % peak | relaxed/plain | JS GFLOP/s | Wasm/JS |');
    expect(md).toContain('| gemm NN 512 | 30.0 (30.0-30.0) | 75% | 60.0 (60.0-60.0) | 75% | 2.00x | 45.0 (45.0-45.0) | 90% | 1.50x | 3.00 (3.00-3.00) | 10x |');
    expect(md).toContain("Wasm relaxed: over the relaxed-SIMD peak's, 50.0 GFLOP/s.");
    expect(md).toContain('| case | Wasm img/s | TF.js wasm img/s | Wasm/TF.js wasm | TF.js cpu img/s | Wasm/TF.js cpu |');
    expect(md).toContain("fails [1]");
    expect(md).toContain("[1] TF.js wasm, train batch 100 (fwd+bwd+Adam): fails: Kernel 'X' not registered");
    expect(md).not.toContain('Where a training step goes'); // no profile, no memory: no tables

    // the step profile: shares of the sum, the measured step beside it; memory in MiB
    const MiB = 1 << 20;
    const stats = (capacity: number, used: number) => ({ capacity, used, highWater: used, grows: 1 });
    r.profile = [
      { impl: 'wasm', phase: 'Conv1 forward', ms: 3, minMs: 3, maxMs: 3 },
      { impl: 'wasm', phase: 'Adam update', ms: 1, minMs: 1, maxMs: 1 },
      { impl: 'wasm-2t', phase: 'Conv1 forward', ms: 1.5, minMs: 1.5, maxMs: 1.5 },
      { impl: 'wasm-2t', phase: 'Adam update', ms: 0.5, minMs: 0.5, maxMs: 0.5 },
    ];
    r.memory = [{ impl: 'wasm', steps: 30, dataBytes: 784000, afterFirstStep: stats(27 * MiB, 26 * MiB), atEnd: stats(27 * MiB, 26 * MiB),
      maxCapacity: 27 * MiB, grewAfterFirstStep: false }];
    const md2 = renderMarkdown(r);
    expect(md2).toContain('| part of the step | Wasm ms | share | Wasm 2t ms | share |');
    expect(md2).toContain('| Conv1 forward | 3.00 | 75% | 1.50 | 75% |');
    expect(md2).toContain('| sum of the parts | 4.00 | 100% | 2.00 | 100% |');
    expect(md2).toContain('| measured step (train batch 100) | 1000.0 |  | - |  |');
    expect(md2).toContain('| Wasm | 27.0 | 27.0 | 26.0 / 26.0 | no | 30 |');
    expect(md2).not.toContain('Thread scaling');
    // thread scaling: images/s from the median per-call times, the rounds' ratios as given
    r.scaling = [{ name: E2E.train, impl: 'wasm-2t', threads: 2, rounds: 15, oneThreadMs: 10, ms: 5.5, ratio: 1.8, minRatio: 1.5, maxRatio: 1.95 }];
    const md3 = renderMarkdown(r);
    expect(md3).toContain('## Thread scaling in paired rounds: SimpleConvNet, batch 100 (images/s)');
    expect(md3).toContain('| case | threads | 1 thread | these threads | ratio, median of rounds | ratio range | rounds |');
    expect(md3).toContain('| train batch 100 (fwd+bwd+Adam) | 2 | 10,000 | 18,182 | 1.80x | 1.50x-1.95x | 15 |');
  });
});
