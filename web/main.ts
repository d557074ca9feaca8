/**
 * The page of the web app: controls, live charts (uPlot), filter and feature-map
 * pictures, the drawing canvas, save/load and the benchmark table. Every computation
 * runs in a worker (worker.ts); this file only draws what the workers report.
 */
import './locale.js'; // first: repairs navigator.language before uPlot reads it
import uPlot from 'uplot';
import { OPTIMIZER_NAMES } from '../src/train/optimizers.js';
import type { BackendFeatures, BackendName } from '../src/index.js';
import { toMnist } from '../src/viz/png.js';
import { BENCH_ROWS, type IterationMsg, type BackendInfo, type BackendRequest, type BenchRow, type DigitView, type FromWorker, type ModelInfo, type Picture, type ToWorker, type TrainConfig } from './protocol.js';

// ---- small DOM helpers -------------------------------------------------------------------

function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from index.html`);
  return el as T;
}

function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  el.append(...children);
  return el;
}

const pct = (v: number | null | undefined, digits = 1) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : `${(v * 100).toFixed(digits)}%`);
const fmtInt = (v: number) => Math.round(v).toLocaleString('en-US');
const fmtNum = (v: number | null) => (v === null ? '…' : v >= 100 ? fmtInt(v) : v.toFixed(v >= 10 ? 1 : 2));

function drawPicture(canvas: HTMLCanvasElement, pic: Picture | null): void {
  if (!pic) {
    canvas.width = 1;
    canvas.height = 1;
    canvas.classList.add('empty');
    return;
  }
  canvas.classList.remove('empty');
  canvas.width = pic.width;
  canvas.height = pic.height;
  canvas.getContext('2d')!.putImageData(new ImageData(pic.rgba as Uint8ClampedArray<ArrayBuffer>, pic.width, pic.height), 0, 0);
}

const setState = (state: 'loading' | 'ready' | 'training' | 'error') => {
  document.body.dataset.state = state;
};

// ---- elements ------------------------------------------------------------------------------

const el = {
  features: $('features'),
  status: $('status'),
  start: $<HTMLButtonElement>('start'),
  stop: $<HTMLButtonElement>('stop'),
  resume: $<HTMLButtonElement>('resume'),
  saveCheckpoint: $<HTMLButtonElement>('save-checkpoint'),
  progress: $<HTMLProgressElement>('progress'),
  trainSize: $<HTMLInputElement>('train-size'),
  testSize: $<HTMLInputElement>('test-size'),
  epochs: $<HTMLInputElement>('epochs'),
  batchSize: $<HTMLInputElement>('batch-size'),
  lr: $<HTMLInputElement>('lr'),
  weightDecay: $<HTMLInputElement>('weight-decay'),
  optimizer: $<HTMLSelectElement>('optimizer'),
  backend: $<HTMLSelectElement>('backend'),
  threads: $<HTMLInputElement>('threads'),
  seed: $<HTMLInputElement>('seed'),
  keepWeights: $<HTMLInputElement>('keep-weights'),
  relaxedSimd: $<HTMLInputElement>('relaxed-simd'),
  statEpoch: $('stat-epoch'),
  statStep: $('stat-step'),
  statLoss: $('stat-loss'),
  statTrainAcc: $('stat-train-acc'),
  statTestAcc: $('stat-test-acc'),
  statIps: $('stat-ips'),
  lossChart: $('loss-chart'),
  accChart: $('acc-chart'),
  filters: $<HTMLCanvasElement>('filters'),
  filtersNote: $('filters-note'),
  digitIndex: $<HTMLInputElement>('digit-index'),
  digitPrev: $<HTMLButtonElement>('digit-prev'),
  digitNext: $<HTMLButtonElement>('digit-next'),
  digitRandom: $<HTMLButtonElement>('digit-random'),
  digit: $<HTMLCanvasElement>('digit'),
  digitInfo: $('digit-info'),
  maps: $<HTMLCanvasElement>('maps'),
  mapsNote: $('maps-note'),
  draw: $<HTMLCanvasElement>('draw'),
  drawInput: $<HTMLCanvasElement>('draw-input'),
  clear: $<HTMLButtonElement>('clear'),
  prediction: $('prediction'),
  probs: $('probs'),
  modelInfo: $('model-info'),
  save: $<HTMLButtonElement>('save'),
  saveOnnx: $<HTMLButtonElement>('save-onnx'),
  load: $<HTMLInputElement>('load'),
  loadLabel: $('load-label'),
  modelMessage: $('model-message'),
  benchRun: $<HTMLButtonElement>('bench-run'),
  benchTable: $<HTMLTableElement>('bench-table'),
  benchNote: $('bench-note'),
};

// Enter in a field must not reload the page
$('train-form').addEventListener('submit', (e) => e.preventDefault());

const trainControls = [el.trainSize, el.testSize, el.epochs, el.batchSize, el.lr, el.weightDecay, el.optimizer, el.backend, el.threads, el.relaxedSimd, el.seed, el.keepWeights];

// optimizers from the library, Adam selected (lr 0.001, as in the course's CNN chapter)
for (const name of OPTIMIZER_NAMES) {
  const label = { sgd: 'SGD', momentum: 'Momentum', nesterov: 'Nesterov', adagrad: 'AdaGrad', rmsprop: 'RMSprop', adam: 'Adam' }[name] ?? name;
  el.optimizer.append(h('option', name === 'adam' ? { value: name, selected: '' } : { value: name }, label));
}
const cores = navigator.hardwareConcurrency || 1;
el.threads.max = String(Math.max(1, cores));
$('threads-hint').textContent = `(this device: ${cores} logical cores)`;

// ---- the workers -------------------------------------------------------------------------------

const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
const send = (msg: ToWorker, transfer: Transferable[] = []) => worker.postMessage(msg, transfer);
let benchWorker: Worker | null = null;

let training = false;
/** A stopped run (or a loaded checkpoint) waits in the worker: Resume continues it. */
let resumable = false;
let benchRunning = false;
let ready = false;
let testCount = 0;

function status(text: string, kind: 'info' | 'error' = 'info'): void {
  el.status.textContent = text;
  el.status.dataset.kind = kind;
}

function updateButtons(): void {
  el.start.disabled = !ready || training || benchRunning;
  el.stop.disabled = !training;
  el.resume.disabled = !ready || training || !resumable || benchRunning;
  el.saveCheckpoint.disabled = !ready || !(training || resumable);
  for (const c of trainControls) c.disabled = training;
  el.load.disabled = !ready || training;
  el.loadLabel.classList.toggle('disabled', el.load.disabled);
  el.save.disabled = !ready;
  el.saveOnnx.disabled = !ready;
  el.benchRun.disabled = benchRunning || training;
}

// ---- features (SIMD, relaxed SIMD, threads) -----------------------------------------------------

/** Whether this browser could run relaxed SIMD: validates `() -> v128 { f32x4.relaxed_madd(0, 0, 0) }`. */
function relaxedSimdAvailable(): boolean {
  const zero = (): number[] => [0xfd, 0x0c, ...new Array<number>(16).fill(0)]; // v128.const 0
  const body = [0x00, ...zero(), ...zero(), ...zero(), 0xfd, 0x85, 0x02, 0x0b]; // no locals, relaxed_madd, end
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type: () -> v128
    0x03, 0x02, 0x01, 0x00, // function 0 has type 0
    0x0a, body.length + 2, 0x01, body.length, ...body, // code
  ];
  try {
    return WebAssembly.validate(new Uint8Array(bytes));
  } catch {
    return false;
  }
}

function renderFeatures(info: BackendInfo): void {
  const f = info.features;
  const relaxedNote = (f as { relaxedSimdNote?: string }).relaxedSimdNote;
  const coi = globalThis.crossOriginIsolated === true;
  const badge = (label: string, on: boolean, title: string) =>
    h('span', { class: `badge ${on ? 'on' : 'off'}`, title }, `${on ? '✓' : '✗'} ${label}`);
  const browserRelaxed = relaxedSimdAvailable();
  Object.assign(el.features.dataset, {
    backend: info.name, threads: String(f.threads), threadsRequested: String(info.threadsRequested), relaxedSimd: String(f.relaxedSimd),
  });
  el.features.replaceChildren(
    h('span', { class: 'badge neutral' }, `backend: ${info.name === 'wasm' ? 'Wasm' : 'JS'}`),
    badge('SIMD', f.simd, f.simd ? 'the kernels use 128-bit WebAssembly SIMD' : 'the kernels do not use SIMD (JS reference backend)'),
    badge('relaxed SIMD', f.relaxedSimd, f.relaxedSimd ? 'the kernels use f32x4.relaxed_madd'
      : `not in use (this browser ${browserRelaxed ? 'supports' : 'does not support'} relaxed SIMD; the plain-SIMD build is the bit-reproducible default)`),
    badge(`threads: ${f.threads}`, f.threads > 1, f.threadsNote ?? ''),
    badge('crossOriginIsolated', coi, coi ? 'COOP/COEP are set: SharedArrayBuffer is available' : 'no SharedArrayBuffer: serve the page with COOP/COEP headers'),
  );
  const notes: string[] = [];
  if (info.fallbackNote) notes.push(`Note: ${info.fallbackNote}.`);
  if (f.threads < Math.max(2, info.threadsRequested)) {
    const why: string[] = [];
    if (f.threadsNote) why.push(f.threadsNote);
    else if (!coi) why.push('the page is not crossOriginIsolated (no SharedArrayBuffer; serve it with COOP/COEP headers, as `npm run serve` does)');
    else if (info.threadsRequested <= 1) why.push('1 thread selected');
    if (why.length) notes.push(`Threads: ${f.threads} in use; ${why.join('; ')}.`);
  }
  if (info.name === 'wasm' && !f.relaxedSimd) {
    notes.push(info.relaxedRequested
      ? `Relaxed SIMD: not in use${relaxedNote ? `; ${relaxedNote}` : browserRelaxed ? '' : '; this browser does not support it'}.`
      : `Relaxed SIMD: off (plain SIMD, bit-reproducible${browserRelaxed ? '; this browser supports relaxed SIMD' : ''}).`);
  }
  if (notes.length) el.features.append(h('span', { class: 'features-note', id: 'threads-note' }, notes.join(' ')));
}

// ---- charts (uPlot) ------------------------------------------------------------------------------

const lossData: [number[], number[], number[]] = [[], [], []];
/** The x extent of the charts: the whole planned run, so the curves grow from left to right. */
const extent = { steps: 1, epochs: 1 };
const INTEGER_STEPS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 50000, 100000];
const accData: [number[], number[], number[]] = [[], [], []];
let ema = NaN;

function chartWidth(container: HTMLElement): number {
  return Math.max(240, container.clientWidth);
}

const axisStyle = { stroke: '#555', grid: { stroke: '#e6e6e6', width: 1 }, ticks: { stroke: '#ccc', width: 1 } };

const lossPlot = new uPlot({
  width: chartWidth(el.lossChart),
  height: 230,
  scales: {
    x: { time: false, range: (_u, _min, max) => [0, Math.max(extent.steps, Number.isFinite(max) ? max : 1)] },
    y: { range: (_u, _min, max) => [0, Math.max(0.5, Number.isFinite(max) ? max * 1.05 : 2.5)] },
  },
  axes: [{ ...axisStyle, label: 'iterations', incrs: INTEGER_STEPS }, { ...axisStyle, label: 'loss' }],
  series: [
    { label: 'step' },
    { label: 'loss', stroke: 'rgba(31,119,180,0.35)', width: 1, value: (_u, v) => (v == null ? '–' : v.toFixed(4)) },
    { label: 'smoothed', stroke: '#1f77b4', width: 2, value: (_u, v) => (v == null ? '–' : v.toFixed(4)) },
  ],
  legend: { live: false },
  cursor: { drag: { x: false, y: false } },
}, lossData, el.lossChart);

const accPlot = new uPlot({
  width: chartWidth(el.accChart),
  height: 230,
  scales: { x: { time: false, range: (_u, _min, max) => [0, Math.max(extent.epochs, Number.isFinite(max) ? max : 1)] }, y: { range: [0, 1] } },
  axes: [
    { ...axisStyle, label: 'epochs', incrs: INTEGER_STEPS },
    { ...axisStyle, label: 'accuracy', splits: () => [0, 0.2, 0.4, 0.6, 0.8, 1], values: (_u, vals) => vals.map((v) => v.toFixed(1)) },
  ],
  series: [
    { label: 'epoch' },
    { label: 'train', stroke: '#1f77b4', width: 2, points: { show: true, size: 7, fill: '#1f77b4' }, value: (_u, v) => pct(v) },
    { label: 'test', stroke: '#ff7f0e', width: 2, points: { show: true, size: 7, fill: '#ff7f0e' }, dash: [6, 3], value: (_u, v) => pct(v) },
  ],
  legend: { live: false },
  cursor: { drag: { x: false, y: false } },
}, accData, el.accChart);

/**
 * While training, the step figures (progress, step, loss, images/s) and the charts are
 * redrawn at most every UI_INTERVAL_MS, not for every step message (~100 a second). Redrawing
 * them on every animation frame cost ~30% of a CPU core in headless Chromium (the page's main
 * thread ~13%, compositing and raster ~15%), time the training threads lose on a 2-core
 * machine: 2-thread training ran at ~8,000 images/s with per-frame redraws and ~10,000 with
 * 10 redraws a second (fixed per-thread shares; ~11,400 with chunked calls), 1 thread at
 * ~6,700 either way.
 */
const UI_INTERVAL_MS = 100;
let redrawPending = false;
let lastRedraw = -Infinity;
/** The latest step message not shown yet. */
let pendingIter: IterationMsg | null = null;

function scheduleRedraw(): void {
  if (redrawPending) return;
  redrawPending = true;
  const draw = () => requestAnimationFrame(() => {
    redrawPending = false;
    lastRedraw = performance.now();
    showIter();
    lossPlot.setData(lossData);
    accPlot.setData(accData);
  });
  const wait = lastRedraw + UI_INTERVAL_MS - performance.now();
  if (wait > 0) setTimeout(draw, wait);
  else draw();
}

/** Shows the figures of the latest step message, if one is waiting. */
function showIter(): void {
  const msg = pendingIter;
  if (!msg) return;
  pendingIter = null;
  el.progress.value = msg.step / msg.maxIter;
  el.statEpoch.textContent = `${msg.epoch} / ${extent.epochs}`;
  el.statStep.textContent = `${msg.step} / ${msg.maxIter}`;
  el.statLoss.textContent = msg.loss.toFixed(4);
  el.statIps.textContent = `${fmtInt(msg.imagesPerSecond)} images/s`;
  el.statIps.dataset.value = String(msg.imagesPerSecond);
}

function resetCharts(): void {
  for (const a of [...lossData, ...accData]) a.length = 0;
  ema = NaN;
  scheduleRedraw();
}

new ResizeObserver(() => {
  lossPlot.setSize({ width: chartWidth(el.lossChart), height: 230 });
  accPlot.setSize({ width: chartWidth(el.accChart), height: 230 });
}).observe(document.querySelector('main')!);

// ---- model panel ---------------------------------------------------------------------------------

let currentModel: ModelInfo | null = null;

function renderModel(m: ModelInfo): void {
  currentModel = m;
  const shapes = m.tensors.map(([n, s]) => `${n} (${s.join(', ')})`).join(', ');
  el.modelInfo.replaceChildren(
    h('dt', {}, 'Model'), h('dd', {}, m.type),
    h('dt', {}, 'Parameters'), h('dd', {}, `${fmtInt(m.size)} values: ${shapes}`),
    h('dt', {}, 'Weights'), h('dd', {}, m.origin),
    h('dt', {}, 'Checksum'), h('dd', { id: 'model-checksum', title: 'FNV-1a of the .safetensors bytes' }, m.checksum),
  );
}

function modelMessage(text: string, kind: 'ok' | 'error' | 'info'): void {
  el.modelMessage.textContent = text;
  el.modelMessage.dataset.kind = kind;
}

el.save.addEventListener('click', () => send({ type: 'save' }));
el.saveOnnx.addEventListener('click', () => send({ type: 'save', format: 'onnx' }));

el.load.addEventListener('change', async () => {
  const file = el.load.files?.[0];
  el.load.value = '';
  if (!file) return;
  modelMessage(`loading ${file.name}…`, 'info');
  try {
    const bytes = await file.arrayBuffer();
    send({ type: 'load', name: file.name, bytes }, [bytes]);
  } catch (e) {
    modelMessage(`Could not read ${file.name}: ${e instanceof Error ? e.message : e}. The current model is unchanged.`, 'error');
  }
});

// ---- feature maps of a test digit -------------------------------------------------------------

function selectDigit(i: number): void {
  if (!testCount) return;
  const idx = ((Math.floor(i) % testCount) + testCount) % testCount;
  el.digitIndex.value = String(idx);
  send({ type: 'digit', index: idx });
}

el.digitIndex.addEventListener('change', () => selectDigit(Number(el.digitIndex.value) || 0));
el.digitPrev.addEventListener('click', () => selectDigit(Number(el.digitIndex.value) - 1));
el.digitNext.addEventListener('click', () => selectDigit(Number(el.digitIndex.value) + 1));
el.digitRandom.addEventListener('click', () => selectDigit(Math.floor(Math.random() * testCount)));

function renderDigit(v: DigitView): void {
  drawPicture(el.digit, v.digit);
  drawPicture(el.maps, v.maps);
  const ok = v.predicted === v.label;
  el.digitInfo.replaceChildren(
    h('div', {}, 'label ', h('b', {}, String(v.label))),
    h('div', { class: ok ? 'good' : 'bad' }, 'predicted ', h('b', {}, String(v.predicted)), ` (${pct(v.probs[v.predicted])})`),
  );
  el.mapsNote.textContent = v.mapsShape
    ? `Conv1 output for test image #${v.index}: ${v.mapsShape[0]} maps of ${v.mapsShape[1]}×${v.mapsShape[2]} (the digit first), each normalized on its own, black = high.`
    : 'The model does not start with a convolution.';
}

// ---- drawing canvas ------------------------------------------------------------------------------

const drawCtx = el.draw.getContext('2d', { willReadFrequently: true })!;
let drawn = false;

function clearDrawing(): void {
  drawCtx.fillStyle = '#fff';
  drawCtx.fillRect(0, 0, el.draw.width, el.draw.height);
  drawn = false;
  el.drawInput.getContext('2d')!.clearRect(0, 0, 28, 28);
  el.prediction.textContent = '?';
  delete el.prediction.dataset.class;
  renderProbs(null);
}

function renderProbs(probs: number[] | null): void {
  const best = probs ? probs.indexOf(Math.max(...probs)) : -1;
  el.probs.replaceChildren(...Array.from({ length: 10 }, (_, d) => {
    const p = probs ? probs[d] : 0;
    return h('div', { class: `prob${d === best ? ' best' : ''}`, 'data-digit': String(d), 'data-p': String(p) },
      h('span', { class: 'prob-digit' }, String(d)),
      h('span', { class: 'prob-bar' }, h('span', { style: `width:${(p * 100).toFixed(1)}%` })),
      h('span', { class: 'prob-value' }, probs ? pct(p) : ''));
  }));
}

let predictId = 0;
let predictInFlight = false;
let predictWanted = false;

function requestPrediction(): void {
  if (!drawn || !ready) return;
  if (predictInFlight) {
    predictWanted = true;
    return;
  }
  const { width, height } = el.draw;
  const img = drawCtx.getImageData(0, 0, width, height);
  const pixels = toMnist({ width, height, channels: 4, data: img.data });
  // what the network sees: the 28x28 MNIST-style input (white on black)
  const preview = new ImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const g = Math.round(pixels[i] * 255);
    preview.data.set([g, g, g, 255], i * 4);
  }
  el.drawInput.getContext('2d')!.putImageData(preview, 0, 0);
  predictInFlight = true;
  predictWanted = false;
  send({ type: 'predict', id: ++predictId, pixels }, [pixels.buffer]);
}

let predictFrame = 0;
const schedulePrediction = () => {
  if (predictFrame) return;
  predictFrame = requestAnimationFrame(() => {
    predictFrame = 0;
    requestPrediction();
  });
};

let last: { x: number; y: number } | null = null;
function canvasPoint(e: PointerEvent): { x: number; y: number } {
  const r = el.draw.getBoundingClientRect();
  return { x: ((e.clientX - r.left) / r.width) * el.draw.width, y: ((e.clientY - r.top) / r.height) * el.draw.height };
}
function strokeTo(p: { x: number; y: number }): void {
  drawCtx.strokeStyle = '#000';
  drawCtx.fillStyle = '#000';
  drawCtx.lineWidth = 20;
  drawCtx.lineCap = 'round';
  drawCtx.lineJoin = 'round';
  drawCtx.beginPath();
  if (last) {
    drawCtx.moveTo(last.x, last.y);
    drawCtx.lineTo(p.x, p.y);
    drawCtx.stroke();
  } else {
    drawCtx.arc(p.x, p.y, 10, 0, Math.PI * 2);
    drawCtx.fill();
  }
  last = p;
  drawn = true;
  schedulePrediction();
}
el.draw.addEventListener('pointerdown', (e) => {
  e.preventDefault();
  el.draw.setPointerCapture(e.pointerId);
  last = null;
  strokeTo(canvasPoint(e));
});
el.draw.addEventListener('pointermove', (e) => {
  if (!el.draw.hasPointerCapture(e.pointerId)) return;
  e.preventDefault();
  for (const ev of e.getCoalescedEvents?.() ?? [e]) strokeTo(canvasPoint(ev));
});
const endStroke = (e: PointerEvent) => {
  if (el.draw.hasPointerCapture(e.pointerId)) el.draw.releasePointerCapture(e.pointerId);
  last = null;
};
el.draw.addEventListener('pointerup', endStroke);
el.draw.addEventListener('pointercancel', endStroke);
el.clear.addEventListener('click', clearDrawing);

// ---- benchmark -------------------------------------------------------------------------------------

const benchQuery = new URLSearchParams(location.search).get('bench');
const BENCH = benchQuery === 'quick' ? { trials: 3, minMs: 20 } : { trials: 5, minMs: 150 };

function renderBench(rows: BenchRow[], done: boolean): void {
  const cell = (v: number | null) => h('td', { class: 'num' }, v === null ? (done ? '–' : '…') : fmtNum(v));
  const body = rows.map((r) => {
    const ratio = r.wasm !== null && r.js !== null && r.js > 0 ? `${(r.wasm / r.js).toFixed(1)}×` : done ? '–' : '…';
    return h('tr', { 'data-key': r.key }, h('td', {}, r.what), h('td', {}, r.unit), cell(r.wasm), cell(r.js), h('td', { class: 'num ratio' }, ratio));
  });
  el.benchTable.tBodies[0].replaceChildren(...body);
  el.benchTable.dataset.done = done ? 'true' : 'false';
}

const benchRows: BenchRow[] = BENCH_ROWS.map((r) => ({ ...r, wasm: null, js: null }));
renderBench(benchRows, true);

function featureText(name: string, f: BackendFeatures): string {
  const parts = [f.simd ? 'SIMD' : 'no SIMD', f.relaxedSimd ? 'relaxed SIMD' : 'no relaxed SIMD', `${f.threads} thread${f.threads > 1 ? 's' : ''}`];
  return `${name}: ${parts.join(', ')}`;
}

el.benchRun.addEventListener('click', () => {
  if (benchRunning || training) return;
  benchRunning = true;
  updateButtons();
  for (const r of benchRows) r.wasm = r.js = null;
  renderBench(benchRows, false);
  let usedFeatures = '';
  el.benchNote.textContent = `Running (medians of ${BENCH.trials} trials)… the page stays usable.`;
  benchWorker ??= new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  benchWorker.onmessage = (e: MessageEvent<FromWorker>) => {
    const msg = e.data;
    if (msg.type === 'benchRow') {
      Object.assign(benchRows.find((r) => r.key === msg.row.key)!, msg.row);
      renderBench(benchRows, false);
      usedFeatures = Object.entries(msg.features).map(([n, f]) => featureText(n === 'wasm' ? 'Wasm' : 'JS', f)).join(' · ');
      el.benchNote.textContent = `Running (medians of ${BENCH.trials} trials)… ${usedFeatures}`;
    } else if (msg.type === 'benchDone') {
      benchRunning = false;
      renderBench(msg.rows, true);
      el.benchNote.textContent = `Done in ${(msg.elapsedMs / 1000).toFixed(1)} s. Medians of ${BENCH.trials} trials (network rows: ${Math.min(3, BENCH.trials)}); ` +
        `GEMM in GFLOP/s (2n³ per product), SimpleConvNet in images/s. ${usedFeatures}`;
      updateButtons();
    } else if (msg.type === 'error') {
      benchRunning = false;
      renderBench(benchRows, true);
      el.benchNote.textContent = `Benchmark failed: ${msg.message}`;
      updateButtons();
    }
  };
  const req = backendRequest();
  benchWorker.postMessage({ type: 'bench', threads: req.threads, relaxedSimd: req.relaxedSimd, trials: BENCH.trials, minMs: BENCH.minMs } satisfies ToWorker);
});

// ---- training controls ---------------------------------------------------------------------------

function intOf(input: HTMLInputElement, name: string): number {
  const v = Number(input.value);
  const min = Number(input.min || 1);
  const max = Number(input.max || Infinity);
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`${name} must be an integer from ${min} to ${max}`);
  return v;
}

function readConfig(): TrainConfig {
  const lr = Number(el.lr.value);
  if (!(lr > 0) || !Number.isFinite(lr)) throw new Error('learning rate must be a positive number');
  const weightDecay = Number(el.weightDecay.value);
  if (!(weightDecay >= 0) || !Number.isFinite(weightDecay)) throw new Error('weight decay must be a number >= 0');
  const c: TrainConfig = {
    trainSize: intOf(el.trainSize, 'training images'),
    testSize: intOf(el.testSize, 'test images'),
    epochs: intOf(el.epochs, 'epochs'),
    batchSize: intOf(el.batchSize, 'batch size'),
    lr,
    weightDecay,
    optimizer: el.optimizer.value,
    backend: el.backend.value as BackendName,
    threads: intOf(el.threads, 'threads'),
    relaxedSimd: el.relaxedSimd.checked,
    seed: intOf(el.seed, 'seed'),
    keepWeights: el.keepWeights.checked,
  };
  if (c.batchSize > c.trainSize) throw new Error(`batch size ${c.batchSize} is larger than the ${c.trainSize} training images`);
  return c;
}

el.start.addEventListener('click', () => {
  let config: TrainConfig;
  try {
    config = readConfig();
  } catch (e) {
    status(`Cannot start: ${e instanceof Error ? e.message : e}.`, 'error');
    return;
  }
  training = true;
  resumable = false; // a new run replaces the paused one
  setState('training');
  updateButtons();
  resetCharts();
  pendingIter = null;
  el.progress.value = 0;
  for (const s of [el.statEpoch, el.statStep, el.statLoss, el.statTrainAcc, el.statTestAcc, el.statIps]) s.textContent = '–';
  delete el.statTestAcc.dataset.value;
  delete el.statTestAcc.dataset.final;
  modelMessage('', 'info');
  status('starting…');
  send({ type: 'train', config });
});

el.resume.addEventListener('click', () => {
  training = true;
  resumable = false;
  delete el.statTestAcc.dataset.final;
  setState('training');
  updateButtons();
  modelMessage('', 'info');
  status('resuming…');
  send({ type: 'resume' });
});

el.saveCheckpoint.addEventListener('click', () => send({ type: 'saveCheckpoint' }));

el.stop.addEventListener('click', () => {
  send({ type: 'stop' });
  status('stopping after the current step…');
});

function backendRequest(): BackendRequest {
  const threads = Number(el.threads.value);
  return {
    backend: el.backend.value as BackendName,
    threads: Number.isInteger(threads) && threads >= 1 ? threads : 1,
    relaxedSimd: el.relaxedSimd.checked,
  };
}

for (const c of [el.backend, el.threads, el.relaxedSimd]) {
  c.addEventListener('change', () => {
    if (!ready || training) return;
    resumable = false; // the worker drops a paused run whose state lives on the old backend
    updateButtons();
    send({ type: 'setBackend', ...backendRequest() });
  });
}

// ---- messages from the training worker ------------------------------------------------------------

worker.onmessage = (e: MessageEvent<FromWorker>) => {
  const msg = e.data;
  switch (msg.type) {
    case 'status':
      status(msg.text);
      break;
    case 'ready':
      ready = true;
      testCount = msg.testCount;
      el.digitIndex.max = String(testCount - 1);
      renderFeatures(msg.backend);
      renderModel(msg.model);
      drawPicture(el.filters, msg.filters);
      setState('ready');
      status('Ready. Choose the settings and press Start.');
      updateButtons();
      break;
    case 'backend':
      renderFeatures(msg.backend);
      break;
    case 'trainStart': {
      extent.steps = msg.maxIter;
      extent.epochs = msg.epochs;
      renderFeatures(msg.backend);
      if (msg.resumedAt > 0) {
        status(`Resuming at step ${fmtInt(msg.resumedAt)} of ${fmtInt(msg.maxIter)}.`);
        break;
      }
      accData[0].push(0);
      accData[1].push(msg.initial.trainAcc);
      accData[2].push(msg.initial.testAcc);
      el.statTrainAcc.textContent = pct(msg.initial.trainAcc);
      el.statTestAcc.textContent = pct(msg.initial.testAcc);
      scheduleRedraw();
      const evalNote = msg.evalCount.train < msg.trainSize ? ` (train accuracy on the first ${fmtInt(msg.evalCount.train)})` : '';
      status(`Training on ${fmtInt(msg.trainSize)} images, testing on ${fmtInt(msg.testSize)}${evalNote}: ${msg.epochs} epochs of ${msg.iterPerEpoch} steps.`);
      break;
    }
    case 'iter': {
      lossData[0].push(msg.step);
      lossData[1].push(msg.loss);
      ema = Number.isNaN(ema) ? msg.loss : 0.9 * ema + 0.1 * msg.loss;
      lossData[2].push(ema);
      pendingIter = msg;
      scheduleRedraw();
      break;
    }
    case 'epoch':
      showIter();
      accData[0].push(msg.epoch);
      accData[1].push(msg.trainAcc);
      accData[2].push(msg.testAcc);
      el.statTrainAcc.textContent = pct(msg.trainAcc);
      el.statTestAcc.textContent = pct(msg.testAcc);
      el.statTestAcc.dataset.value = String(msg.testAcc);
      el.statIps.textContent = `${fmtInt(msg.imagesPerSecond)} images/s (epoch ${msg.epoch}, steps only)`;
      el.statIps.dataset.value = String(msg.imagesPerSecond);
      scheduleRedraw();
      break;
    case 'filters':
      drawPicture(el.filters, msg.filters);
      break;
    case 'digit':
      renderDigit(msg.view);
      if (drawn) schedulePrediction();
      break;
    case 'trainEnd':
      showIter();
      training = false;
      resumable = msg.resumable;
      setState('ready');
      renderModel(msg.model);
      if (msg.testAcc !== null) {
        el.statTestAcc.textContent = pct(msg.testAcc);
        el.statTestAcc.dataset.value = String(msg.testAcc);
      }
      status(msg.stopped
        ? `Stopped after ${msg.steps} steps. Resume continues the run; Save checkpoint keeps it for later.`
        : `Done: test accuracy ${pct(msg.testAcc, 2)} after ${msg.steps} steps in ${(msg.elapsedMs / 1000).toFixed(1)} s (${fmtInt(msg.imagesPerSecond)} images/s in the training steps).`);
      el.statTestAcc.dataset.final = 'true';
      updateButtons();
      break;
    case 'trainError':
      showIter();
      training = false;
      setState('ready');
      renderModel(msg.model);
      status(`Training failed: ${msg.message}`, 'error');
      updateButtons();
      break;
    case 'prediction': {
      predictInFlight = false;
      if (!drawn) break;
      const best = msg.probs.indexOf(Math.max(...msg.probs));
      el.prediction.textContent = String(best);
      el.prediction.dataset.class = String(best);
      renderProbs(msg.probs);
      if (predictWanted) schedulePrediction();
      break;
    }
    case 'model':
      renderModel(msg.model);
      drawPicture(el.filters, msg.filters);
      break;
    case 'saved': {
      const url = URL.createObjectURL(new Blob([msg.bytes], { type: 'application/octet-stream' }));
      const a = h('a', { href: url, download: msg.name });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      modelMessage(`Saved ${msg.name} (${fmtInt(msg.bytes.byteLength)} bytes, checksum ${currentModel?.checksum ?? '?'}).`, 'ok');
      break;
    }
    case 'loaded':
      renderModel(msg.model);
      drawPicture(el.filters, msg.filters);
      modelMessage(`Loaded ${msg.name}: ${msg.model.type}, ${fmtInt(msg.model.size)} parameters.`, 'ok');
      if (drawn) schedulePrediction();
      break;
    case 'checkpointLoaded':
      resumable = true;
      renderModel(msg.model);
      drawPicture(el.filters, msg.filters);
      modelMessage(`Loaded checkpoint ${msg.name}: step ${fmtInt(msg.step)} of ${fmtInt(msg.maxIter)}. Press Resume to continue the run.`, 'ok');
      status('A checkpoint is loaded: Resume continues it.');
      updateButtons();
      if (drawn) schedulePrediction();
      break;
    case 'loadError':
      renderModel(msg.model);
      modelMessage(`Could not load ${msg.name}: ${msg.message}. The current model is unchanged.`, 'error');
      break;
    case 'error':
      status(`Error: ${msg.message}`, 'error');
      if (!ready) setState('error');
      predictInFlight = false;
      break;
    default:
      break;
  }
};

worker.onerror = (e) => {
  status(`The worker failed: ${e.message}`, 'error');
  setState('error');
};

clearDrawing();
updateButtons();
setState('loading');
send({ type: 'init', ...backendRequest(), seed: Number(el.seed.value) || 0 });
