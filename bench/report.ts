/**
 * Reporting: derived ratios (% of the Wasm SIMD peak; Wasm vs each other implementation,
 * measured in the same run) and the tables, as aligned text for stdout and as markdown for
 * bench/results/<date>.md.
 */
import type { BenchResults, Failure, Figure, Impl } from './types.js';
import { FUSED_PREFIX, networkGemms } from './kernels.js';
import { BATCH as BATCH_IMAGES, E2E } from './e2e.js';
import { DEEP, deepConvFlopsPerImage } from './deep.js';

const NETWORK_GEMM_NAMES = new Set(networkGemms().map((g) => g.name));

/** Column order of implementations; wasm-<n>t columns follow 'wasm'. */
const IMPL_ORDER = ['wasm', 'js', 'tfjs-wasm', 'tfjs-cpu', 'ort-wasm', 'ort-wasm-2t'];

export const IMPL_LABEL: Record<string, string> = {
  wasm: 'Wasm',
  'wasm-relaxed': 'Wasm relaxed',
  js: 'JS',
  'tfjs-wasm': 'TF.js wasm',
  'tfjs-cpu': 'TF.js cpu',
  'ort-wasm': 'ORT web',
  'ort-wasm-2t': 'ORT web 2t',
};

function implLabel(impl: Impl): string {
  const m = /^wasm-(\d+)t$/.exec(impl);
  if (m) return `Wasm ${m[1]}t`;
  const t = /^torch-(\d+)t$/.exec(impl);
  if (t) return `PyTorch ${t[1]}t`;
  return IMPL_LABEL[impl] ?? impl;
}

function implRank(impl: Impl): number {
  const m = /^wasm-(\d+)t$/.exec(impl);
  if (m) return 0.5 + Number(m[1]) / 1000;
  if (impl === 'wasm-relaxed') return 0.9;
  const t = /^torch-(\d+)t$/.exec(impl);
  if (t) return 50 + Number(t[1]) / 1000;
  const i = IMPL_ORDER.indexOf(impl);
  return i < 0 ? 99 : i;
}

function threadsOf(impl: Impl): number {
  const m = /^wasm-(\d+)t$/.exec(impl);
  return m ? Number(m[1]) : 1;
}

const isWasm = (impl: Impl) => impl === 'wasm' || impl === 'wasm-relaxed' || /^wasm-\d+t$/.test(impl);

/**
 * Fills pctOfPeak (every GEMM figure, against threads x the 1-thread plain-SIMD peak; the
 * relaxed-SIMD build's against the relaxed-SIMD peak) and ratios (wasm-cnn Wasm figures
 * divided by every other implementation of the same row).
 */
export function derive(r: BenchResults): void {
  // the limit: the peak's fastest trial (interference can only slow a trial down)
  const plain = r.peak?.simd.max;
  const relaxed = r.peak?.relaxedSimd?.max;
  const rows = new Map<string, Figure[]>();
  for (const f of r.figures) {
    if (f.group === 'peak') continue;
    const key = `${f.group}\u0000${f.name}`;
    (rows.get(key) ?? rows.set(key, []).get(key)!).push(f);
    const peak = f.impl === 'wasm-relaxed' ? relaxed : plain;
    if (peak && f.unit === 'GFLOP/s') f.pctOfPeak = (100 * f.value) / (peak * threadsOf(f.impl));
  }
  for (const figs of rows.values()) {
    for (const f of figs) {
      if (!isWasm(f.impl)) continue;
      const ratios: Record<Impl, number> = {};
      for (const g of figs) if (g !== f) ratios[g.impl] = f.value / g.value;
      if (Object.keys(ratios).length) f.ratios = ratios;
    }
  }
}

// ---- tables ---------------------------------------------------------------------

export interface Table {
  title: string;
  head: string[];
  /** 'l' or 'r' per column. */
  align: ('l' | 'r')[];
  rows: string[][];
  notes: string[];
}

export function fmtNum(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(2);
}

function fmtRange(f: Figure): string {
  return `${fmtNum(f.value)} (${fmtNum(f.min)}-${fmtNum(f.max)})`;
}

function fmtRatio(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '';
  return x >= 10 ? `${x.toFixed(0)}x` : `${x.toFixed(2)}x`;
}

/** One table over the rows of a group whose figures satisfy `pick`, one value column per implementation. */
function implTable(r: BenchResults, title: string, group: Figure['group'], pick: (f: Figure | Failure) => boolean, opts: {
  unit: string; pct?: boolean; notes?: string[];
  /** Show the shape column (default true; the square GEMMs and e2e rows say it in their names). */
  shape?: boolean;
}): Table | null {
  const showShape = opts.shape ?? true;
  const figs = r.figures.filter((f) => f.group === group && pick(f));
  const fails = r.failures.filter((f) => f.group === group && pick(f));
  if (!figs.length && !fails.length) return null;
  const names: string[] = [];
  for (const x of [...figs, ...fails]) if (!names.includes(x.name)) names.push(x.name);
  const impls = [...new Set([...figs, ...fails].map((x) => x.impl))].sort((a, b) => implRank(a) - implRank(b));
  const hasWasm = impls.includes('wasm');
  const withPct = (impl: Impl) => Boolean(opts.pct) && (isWasm(impl) || impl === 'tfjs-wasm');
  const head = showShape ? ['case', 'shape'] : ['case'];
  const align: ('l' | 'r')[] = showShape ? ['l', 'l'] : ['l'];
  for (const impl of impls) {
    head.push(`${implLabel(impl)} ${opts.unit}`);
    align.push('r');
    if (withPct(impl)) { head.push('% peak'); align.push('r'); }
    if (hasWasm && impl !== 'wasm') {
      head.push(impl === 'wasm-relaxed' ? 'relaxed/plain' : isWasm(impl) ? `${implLabel(impl)}/1t` : `Wasm/${implLabel(impl)}`);
      align.push('r');
    }
  }
  const failNotes: string[] = [];
  const rows: string[][] = [];
  for (const name of names) {
    const row = figs.filter((f) => f.name === name);
    const shape = row[0]?.shape ?? '';
    const cell = (impl: Impl): string => {
      const f = row.find((x) => x.impl === impl);
      if (f) return fmtRange(f);
      const fail = fails.find((x) => x.name === name && x.impl === impl);
      if (fail) {
        failNotes.push(`${implLabel(impl)}, ${name}: fails: ${fail.error}`);
        return `fails [${failNotes.length}]`;
      }
      return '-';
    };
    const w = row.find((x) => x.impl === 'wasm');
    const cells = showShape ? [name, shape] : [name];
    for (const impl of impls) {
      const f = row.find((x) => x.impl === impl);
      cells.push(cell(impl));
      if (withPct(impl)) cells.push(f?.pctOfPeak !== undefined ? `${f.pctOfPeak.toFixed(0)}%` : '');
      if (hasWasm && impl !== 'wasm') {
        // wasm-<n>t columns: n threads over 1 thread; wasm-relaxed: over the plain build; others: Wasm over them
        cells.push(isWasm(impl) ? fmtRatio(f && w ? f.value / w.value : undefined) : fmtRatio(w?.ratios?.[impl]));
      }
    }
    rows.push(cells);
  }
  return { title, head, align, rows, notes: [...(opts.notes ?? []), ...failNotes.map((n, i) => `[${i + 1}] ${n}`)] };
}

export function buildTables(r: BenchResults): Table[] {
  const tables: Table[] = [];
  if (r.peak) {
    const rows = [[r.peak.simd.name, fmtRange(r.peak.simd)]];
    if (r.peak.relaxedSimd) rows.push([r.peak.relaxedSimd.name, fmtRange(r.peak.relaxedSimd)]);
    tables.push({
      title: 'The limit: Wasm SIMD peak, 1 thread (no memory traffic)',
      head: ['kernel', 'GFLOP/s'], align: ['l', 'r'], rows,
      notes: [
        `% of peak everywhere is against the fastest trial of the plain-SIMD peak: ${fmtNum(r.peak.simd.max)} GFLOP/s (${r.peak.simd.timing.trials} trials${r.peak.rounds > 1 ? ', at the start and at the end of the run' : ''}).`,
        `relaxed SIMD: ${r.peak.relaxedNote}`,
      ],
    });
  }
  const relaxedPeak = r.peak?.relaxedSimd && r.figures.some((f) => f.impl === 'wasm-relaxed')
    ? ` Wasm relaxed: over the relaxed-SIMD peak's, ${fmtNum(r.peak.relaxedSimd.max)} GFLOP/s.` : '';
  const peakNote = r.peak ? [`% peak: the median figure over the Wasm SIMD peak's fastest trial, ${fmtNum(r.peak.simd.max)} GFLOP/s per thread.${relaxedPeak}`] : [];
  const square = (x: Figure | Failure) => /^gemm (NN|NT|TN|TT) \d+$/.test(x.name);
  const netGemm = (x: Figure | Failure) => NETWORK_GEMM_NAMES.has(x.name);
  const t1 = implTable(r, 'GEMM, square (M = N = K), all four transpose variants', 'kernels', square, { unit: 'GFLOP/s', pct: true, shape: false, notes: peakNote });
  const t2 = implTable(r, 'GEMM at the shapes of SimpleConvNet, batch 100 (conv ones per image; shape: variant (M,N,K))', 'kernels', netGemm, {
    unit: 'GFLOP/s', pct: true,
    notes: [...peakNote, 'TF.js figures are tf.matMul with the same transpose flags (plus op dispatch and dataSync); the conv dW row accumulates (beta = 1) in wasm-cnn only.'],
  });
  const fused = (x: Figure | Failure) => x.name.startsWith(FUSED_PREFIX);
  const t3 = implTable(r, 'Memory-bound kernels at the SimpleConvNet shapes (GB/s of compulsory traffic)', 'kernels',
    (x) => !square(x) && !netGemm(x) && !fused(x), { unit: 'GB/s' });
  const t3b = implTable(r, 'The fused inference convolution: 5x5 conv + bias + ReLU + 2x2 max-pool, by both algorithms (effective GFLOP/s)', 'kernels', fused, {
    unit: 'GFLOP/s', pct: true,
    notes: [...peakNote, 'Effective GFLOP/s: the direct convolution\'s 2*N*FN*OH*OW*C*25 FLOP over the call\'s time (im2col, the filter transform and the epilogue included), so both rows of a shape compare and F(4x4, 5x5) may exceed the peak (64 multiplies per 4x4 tile and channel where the direct algorithm does 400). The library runs F(4x4, 5x5) for every 5x5 stride-1 convolution with pad <= 4 followed by ReLU and a 2x2 stride-2 max-pool in inference (src/ops/conv.ts fusedAlgo).'],
  });
  const t4 = implTable(r, 'End to end: SimpleConvNet (images/s)', 'e2e', () => true, {
    unit: 'img/s', shape: false,
    notes: ['train: one full step (forward, backward, Adam lr 0.001) on a batch of 100 MNIST images (1,28,28); infer: logits of a batch. TF.js runs the same network in NHWC (conv2d 30x5x5 valid, relu, maxPool 2x2, dense 4320->100 relu, dense 100->10, softmax cross-entropy; optimizer.minimize with tf.train.adam(0.001)).'],
  });
  const deepStep = (x: Figure | Failure) => x.name === DEEP.train || x.name === DEEP.infer100;
  const t5 = implTable(r, 'End to end: DeepConvNet (images/s)', 'deep', deepStep, {
    unit: 'img/s', shape: false,
    notes: [`The --model deep preset (six 3x3 convs 16-16-32-32-64-64 with ReLU, 3 max-pools, affine 50, dropout 0.5, affine 10, dropout 0.5; He init), batch 100, Adam lr 0.001; about ${fmtNum((3 * deepConvFlopsPerImage()) / 1e6)} MFLOP per image per training step in the convolutions. PyTorch: the same layers in torch.nn (NCHW), torch.optim.Adam, set_num_threads(n); in a child python3, same batch.`],
  });
  const t6 = implTable(r, 'DeepConvNet convolutions: per-image GEMMs and batched conv kernels, batch 100 (GFLOP/s)', 'deep', (x) => !deepStep(x), {
    unit: 'GFLOP/s', pct: true,
    notes: [...peakNote, 'Batched kernels: one conv_fwd_f32 / conv_bwd_filter_f32 / conv_bwd_data_f32 call over the batch (im2col / col2im included), 2*FN*C*9*OH*OW FLOP per image.',
      'wino_* rows: the same convolutions by Winograd F(2x2, 3x3) (filter transform included), at "effective" GFLOP/s: the direct algorithm\'s FLOP over Winograd\'s time, so they compare with the conv_* rows and may exceed the peak (Winograd does 16 multiplies per 2x2 tile and channel where the direct algorithm does 36). wino4_* rows: by F(4x4, 3x3) (36 multiplies per 4x4 tile, where the direct algorithm does 144). The library uses Winograd for 3x3 stride-1 convolutions over >= 8 input channels (conv2-conv6 here), F(4x4) where it needs fewer multiplies than F(2x2) (all of them here).'],
  });
  for (const t of [t1, t2, t3, t3b, t4, pairedTable(r, false), scalingTable(r), profileTable(r), memoryTable(r), t5, pairedTable(r, true), t6,
    scalingTable(r, true), profileTable(r, true)]) if (t) tables.push(t);
  const other = r.failures.filter((f) => f.group === 'peers' || f.group === 'peak');
  if (other.length) {
    tables.push({ title: 'Failures', head: ['implementation', 'what', 'error'], align: ['l', 'l', 'l'], rows: other.map((f) => [implLabel(f.impl), f.name, f.error]), notes: [] });
  }
  return tables;
}

/** The parts of a training step, one ms column and one share column per backend, with their sum and the measured step. */
function profileTable(r: BenchResults, deep = false): Table | null {
  const rows = (deep ? r.deepProfile : r.profile) ?? [];
  const stepName = deep ? DEEP.train : E2E.train;
  const stepGroup = deep ? 'deep' : 'e2e';
  if (!rows.length) return null;
  const impls = [...new Set(rows.map((x) => x.impl))].sort((a, b) => implRank(a) - implRank(b));
  const phases = [...new Set(rows.map((x) => x.phase))];
  const head = ['part of the step'];
  const align: ('l' | 'r')[] = ['l'];
  for (const impl of impls) { head.push(`${implLabel(impl)} ms`, 'share'); align.push('r', 'r'); }
  const sums = new Map(impls.map((impl) => [impl, rows.filter((x) => x.impl === impl).reduce((a, x) => a + x.ms, 0)]));
  const sum = (impl: Impl) => sums.get(impl) ?? 0;
  const body = phases.map((phase) => [phase, ...impls.flatMap((impl) => {
    const x = rows.find((y) => y.impl === impl && y.phase === phase);
    return x ? [fmtMs(x.ms), `${((100 * x.ms) / sum(impl)).toFixed(0)}%`] : ['-', ''];
  })]);
  body.push(['sum of the parts', ...impls.flatMap((impl) => [fmtMs(sum(impl)), '100%'])]);
  body.push(['measured step (train batch 100)', ...impls.flatMap((impl) => {
    const f = r.figures.find((x) => x.group === stepGroup && x.name === stepName && x.impl === impl);
    return [f ? fmtMs(f.timing.medianMs) : '-', ''];
  })]);
  return {
    title: `Where a training step goes: ${deep ? 'DeepConvNet' : 'SimpleConvNet'}, batch 100 (ms per call)`,
    head, align, rows: body,
    notes: ['Each part timed on its own (median of trials), repeating the work of a real step on its state; the sum can differ a little from the measured step (caches, thread hand-offs).'],
  };
}

/** Thread scaling in paired rounds (bench/scaling.ts): one row per case and thread count above 1. */
function scalingTable(r: BenchResults, deep = false): Table | null {
  const rows = (deep ? r.deepScaling : r.scaling) ?? [];
  if (!rows.length) return null;
  const imgs = (ms: number) => fmtNum((BATCH_IMAGES * 1000) / ms);
  return {
    title: `Thread scaling in paired rounds: ${deep ? 'DeepConvNet' : 'SimpleConvNet'}, batch 100 (images/s)`,
    head: ['case', 'threads', '1 thread', 'these threads', 'ratio, median of rounds', 'ratio range', 'rounds'],
    align: ['l', 'r', 'r', 'r', 'r', 'r', 'r'],
    rows: rows.map((x) => [x.name, String(x.threads), imgs(x.oneThreadMs), imgs(x.ms), fmtRatio(x.ratio),
      `${fmtRatio(x.minRatio)}-${fmtRatio(x.maxRatio)}`, String(x.rounds)]),
    notes: ['Every thread count on a backend of its own, all alive at once; each round times one trial of each back to back, each trial after one untimed call, so each ratio compares trials well under a second apart (the End to end table measures them minutes apart). Images/s at the median trial.'],
  };
}

/**
 * Wasm against a peer in paired rounds (bench/paired.ts): one row per case and Wasm build.
 * deep: DeepConvNet against PyTorch; else SimpleConvNet inference against ONNX Runtime Web.
 */
function pairedTable(r: BenchResults, deep: boolean): Table | null {
  const rows = (deep ? r.deepTorchPaired : r.ortPaired) ?? [];
  if (!rows.length) return null;
  const peer = deep ? 'PyTorch' : 'ORT web';
  const imgs = (ms: number) => fmtNum((BATCH_IMAGES * 1000) / ms);
  const caseRank = (name: string) => ([DEEP.train, DEEP.infer100] as string[]).indexOf(name);
  const how = deep
    ? `PyTorch ${rows[0].peerVersion} CPU (one child python3 per thread count, kept alive; the relaxed build in its own child node, with its own python3)`
    : `ONNX Runtime Web ${rows[0].peerVersion} (one child node per thread count, kept alive, on the same weights and batches)`;
  return {
    title: `Wasm against ${deep ? 'PyTorch' : 'ONNX Runtime Web'} in paired rounds: ${deep ? 'DeepConvNet' : 'SimpleConvNet inference'}, batch 100 (images/s)`,
    head: ['case', 'Wasm build', 'threads', 'Wasm', peer, `Wasm / ${peer}, median of rounds`, 'range', 'rounds'],
    align: ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r'],
    rows: [...rows].sort((a, b) => caseRank(a.name) - caseRank(b.name) || implRank(a.impl) - implRank(b.impl)).map((x) => [x.name, implLabel(x.impl),
      String(x.threads), imgs(x.ms), imgs(x.peerMs), fmtRatio(x.ratio), `${fmtRatio(x.minRatio)}-${fmtRatio(x.maxRatio)}`, String(x.rounds)]),
    notes: [`Each Wasm backend and ${how} at the same thread count; each round times one trial of each back to back, alternating which goes first, after a 20 ms idle gap, so each ratio compares trials well under a second apart (the End to end tables measure them minutes apart, on a host whose speed drifts). Images/s at the median trial.`],
  };
}

/** Wasm memory of a Trainer run at batch 100, per thread count. */
function memoryTable(r: BenchResults): Table | null {
  const runs = r.memory ?? [];
  if (!runs.length) return null;
  const mib = (b: number) => (b / (1 << 20)).toFixed(1);
  return {
    title: 'Wasm memory of SimpleConvNet training, batch 100 (MiB)',
    head: ['backend', 'after step 1', 'largest, any later step', 'in blocks after step 1 / at the end', 'grew after step 1', 'steps'],
    align: ['l', 'r', 'r', 'r', 'l', 'r'],
    rows: runs.map((m) => [implLabel(m.impl), mib(m.afterFirstStep.capacity), mib(m.maxCapacity),
      `${mib(m.afterFirstStep.used)} / ${mib(m.atEnd.used)}`, m.grewAfterFirstStep ? 'yes' : 'no', String(m.steps)]),
    notes: [`The Trainer (Adam, evaluation of 200 samples at each epoch end) on a backend of its own; the ${runs[0].dataBytes.toLocaleString('en-US')} bytes of images stay outside the Wasm memory as bytes and are converted per batch. Capacity is the size of the WebAssembly.Memory (the threads' kernel scratch included); in blocks: bytes handed out and not released.`],
  };
}

function fmtMs(ms: number): string {
  return ms >= 10 ? ms.toFixed(1) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(3);
}

function headerLines(r: BenchResults): string[] {
  const e = r.environment;
  const lines = [
    `wasm-cnn bench ${r.date}${r.quick ? ' (--quick: smoke test, not for comparison)' : ''}; groups: ${r.groups.join(', ')}; ${(r.durationMs / 1000).toFixed(0)} s`,
    `machine: ${e.cpu}${e.cpuDetail ? ` (${e.cpuDetail})` : ''}, ${e.cores} cores; Node ${e.node} (V8 ${e.v8}) ${e.platform}/${e.arch}`,
    'figures: median of timed trials after warm-up, (min-max) over the trials; ratios from the same run',
  ];
  for (const i of r.impls) {
    const feat = i.features ? ` features ${JSON.stringify(i.features)}` : '';
    lines.push(`${implLabel(i.impl)}: ${i.description}${feat}`);
  }
  return lines;
}

// ---- rendering ----------------------------------------------------------------------

export function renderTable(t: Table): string {
  const widths = t.head.map((h, c) => Math.max(h.length, ...t.rows.map((r) => (r[c] ?? '').length)));
  const pad = (s: string, c: number) => (t.align[c] === 'r' ? s.padStart(widths[c]) : s.padEnd(widths[c]));
  const line = (cells: string[]) => cells.map((s, c) => pad(s, c)).join('  ').trimEnd();
  const out = [t.title, line(t.head), widths.map((w) => '-'.repeat(w)).join('  '), ...t.rows.map(line)];
  for (const n of t.notes) out.push(`  ${n}`);
  return out.join('\n');
}

export function renderText(r: BenchResults): string {
  const parts = [headerLines(r).join('\n'), ...buildTables(r).map(renderTable)];
  if (r.notes.length) parts.push(['notes:', ...r.notes.map((n) => `  ${n}`)].join('\n'));
  return parts.join('\n\n') + '\n';
}

function mdEscape(s: string): string {
  return s.replace(/\|/g, '\\|');
}

export function renderMarkdownTable(t: Table): string {
  const out = [
    `| ${t.head.map(mdEscape).join(' | ')} |`,
    `|${t.align.map((a) => (a === 'r' ? '---:' : ':---')).join('|')}|`,
    ...t.rows.map((row) => `| ${row.map(mdEscape).join(' | ')} |`),
  ];
  return out.join('\n');
}

export function renderMarkdown(r: BenchResults): string {
  const parts: string[] = [`# wasm-cnn benchmark, ${r.date}`, headerLines(r).map((l) => `- ${l}`).join('\n')];
  for (const t of buildTables(r)) {
    parts.push(`## ${t.title}`, renderMarkdownTable(t));
    if (t.notes.length) parts.push(t.notes.map((n) => `- ${n}`).join('\n'));
  }
  if (r.notes.length) parts.push('## Notes', r.notes.map((n) => `- ${n}`).join('\n'));
  parts.push(`Raw figures (times per call, trials, reps, work): \`${r.files ? r.files.json.split(/[\\/]/).pop() : 'the JSON file'}\`.`);
  return parts.join('\n\n') + '\n';
}
