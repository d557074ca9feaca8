/**
 * The app's worker: holds the backend and the model, trains with the library's Trainer,
 * and answers the page (predictions for the drawing, feature maps, save/load). The page
 * never runs a kernel, so it stays responsive however long a step takes. A second
 * instance of this script runs the benchmark ('bench'), so the two never share a backend.
 *
 * The Trainer yields to the event loop after every step, which is when this worker
 * handles the page's messages (stop, predict, digit). Predictions use a second model of
 * the same architecture on the same backend (`infer`), refreshed from the training
 * model's weights when they changed, so the training model's buffers are never re-planned
 * for a batch of one.
 *
 * A stopped run stays `paused`: Resume continues it (trainer.train() again), Save
 * checkpoint downloads trainer.checkpoint(), and loading a checkpoint file makes it the
 * paused run (Trainer.resume), so a run can go on in another session bit for bit.
 */
import {
  SimpleConvNet, Trainer, conv2d, decodeSafetensors, modelFromConfig, modelFromOnnx, modelFromSafetensors, tensor, type Backend, type EpochInfo, type IterationInfo, type Sequential,
} from '../src/index.js';
import { BatchGatherer } from '../src/data/batch.js';
import { Convolution } from '../src/layers/convolution.js';
import { IDX_IMAGES, IDX_LABELS, parseIdx } from '../src/data/idx.js';
import { MNIST_FILE_NAMES } from '../src/data/mnist.js';
import type { ByteImages } from '../src/data/dataset.js';
import { featureMapGrid, filterGrid } from '../src/viz/filters.js';
import type { GrayImage } from '../src/viz/image.js';
import { openBackend, runBenchmark } from './bench.js';
import type { BackendInfo, BackendRequest, DigitView, FromWorker, ModelInfo, Picture, ToWorker, TrainConfig } from './protocol.js';

interface WorkerScope {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
  location: { href: string };
}
const scope = self as unknown as WorkerScope;

const post = (msg: FromWorker, transfer: Transferable[] = []) => scope.postMessage(msg, transfer);
const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

// ---- state --------------------------------------------------------------------------

let backend: Backend | null = null;
let backendInfo: BackendInfo | null = null;
/** The model being trained / saved / loaded into. */
let net: Sequential | null = null;
/** Same architecture, for predictions (weights copied from `net` when `version` moved). */
let infer: Sequential | null = null;
let version = 0;
let inferVersion = -1;
let origin = '';
let trainer: Trainer | null = null;
/** A stopped (or loaded) run that Resume continues, with the sizes it trains and evaluates on. */
let paused: { trainer: Trainer; sizes: RunSizes } | null = null;
let currentSizes: RunSizes | null = null;
let training = false;
let stopRequested = false;
let selectedDigit = 0;

interface Split { images: Uint8Array; labels: Uint8Array; n: number }
let testSet: Split | null = null;
let trainSetPromise: Promise<Split> | null = null;

// ---- data -----------------------------------------------------------------------------

async function fetchIdx(file: string, expect: typeof IDX_IMAGES | typeof IDX_LABELS) {
  const url = new URL(`mnist/${file}`, scope.location.href).href;
  const res = await fetch(url);
  if (!res.ok) throw new Error(`fetching ${url} failed: HTTP ${res.status}`);
  return parseIdx(new Uint8Array(await res.arrayBuffer()), { name: url, expect });
}

async function loadSplit(images: string, labels: string): Promise<Split> {
  const [x, t] = await Promise.all([fetchIdx(images, IDX_IMAGES), fetchIdx(labels, IDX_LABELS)]);
  const [n, rows, cols] = x.dims;
  if (rows !== 28 || cols !== 28 || t.dims[0] !== n) throw new Error(`${images}: expected ${t.dims[0]} images of 28x28, got ${x.dims.join('x')}`);
  return { images: x.data, labels: t.data, n };
}

function trainSet(): Promise<Split> {
  trainSetPromise ??= loadSplit(MNIST_FILE_NAMES.trainImages, MNIST_FILE_NAMES.trainLabels).catch((e) => {
    trainSetPromise = null;
    throw e;
  });
  return trainSetPromise;
}

function byteImages(s: Split, n: number): ByteImages {
  return { kind: 'bytes', data: s.images.subarray(0, n * 784), shape: [n, 1, 28, 28], scale: 1 / 255 };
}

// ---- model helpers ----------------------------------------------------------------------

function fnv1a(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

function modelInfo(): ModelInfo {
  const m = net!;
  const tensors = Object.entries(m.params).map(([k, t]) => [k, [...t.shape]] as [string, number[]]);
  const config = m.config();
  return {
    type: String(config.type),
    tensors,
    size: Object.values(m.params).reduce((a, t) => a + t.size, 0),
    checksum: fnv1a(m.saveParams()),
    origin,
    config,
  };
}

function picture(img: GrayImage): Picture {
  const rgba = new Uint8ClampedArray(img.width * img.height * 4);
  for (let i = 0, j = 0; i < img.data.length; i++, j += 4) {
    rgba[j] = rgba[j + 1] = rgba[j + 2] = img.data[i];
    rgba[j + 3] = 255;
  }
  return { width: img.width, height: img.height, rgba };
}

function firstConv(m: Sequential): Convolution | null {
  const l = m.layers[0];
  return l instanceof Convolution ? l : null;
}

/** The first layer's filters, like the course's filter_show (gray_r, each filter min-max normalized). */
function filtersPicture(): Picture | null {
  const conv = net && firstConv(net);
  if (!conv) return null;
  return picture(filterGrid(conv.W.data, conv.W.shape, { columns: 10, scale: 8, padding: 4 }));
}

function replaceModel(m: Sequential, from: string): void {
  infer?.dispose();
  if (net && net !== m) net.dispose();
  net = m;
  infer = modelFromConfig(m.config(), { backend: m.backend });
  origin = from;
  version++;
}

function syncInfer(): Sequential {
  if (inferVersion !== version) {
    infer!.setParams(Object.fromEntries(Object.entries({ ...net!.params, ...net!.buffers }).map(([k, t]) => [k, t.data])));
    inferVersion = version;
  }
  return infer!;
}

function predictOne(pixels: Float32Array): number[] {
  const m = syncInfer();
  return Array.from(m.predictProba(tensor(pixels, [1, ...m.inputDim])).data);
}


function digitView(index: number): DigitView | null {
  if (!testSet || !net) return null;
  const i = Math.max(0, Math.min(testSet.n - 1, Math.floor(index)));
  const px = new Float32Array(784);
  for (let k = 0; k < 784; k++) px[k] = testSet.images[i * 784 + k] / 255;
  const m = syncInfer();
  const x = tensor(px, [1, ...m.inputDim]);
  const probs = Array.from(m.predictProba(x).data);
  const predicted = m.classify(x)[0];
  const digitGray = { width: 28, height: 28, data: testSet.images.slice(i * 784, (i + 1) * 784) };
  let maps: Picture | null = null;
  let mapsShape: number[] | null = null;
  const conv = firstConv(infer!);
  if (conv) {
    const b = infer!.backend;
    const y = conv2d(b, x, conv.W, conv.b, { stride: conv.stride, pad: conv.pad });
    const [, c, h, w] = y.shape;
    mapsShape = [c, h, w];
    maps = picture(featureMapGrid(y.data, [c, h, w], { columns: 8, scale: 3, padding: 4 }));
  }
  return { index: i, label: testSet.labels[i], predicted, probs, digit: picture(digitGray), maps, mapsShape };
}

function sendDigit(): void {
  const view = digitView(selectedDigit);
  if (view) post({ type: 'digit', view }, [view.digit.rgba.buffer, ...(view.maps ? [view.maps.rgba.buffer] : [])]);
}

function sendFilters(): void {
  const filters = filtersPicture();
  post({ type: 'filters', filters }, filters ? [filters.rgba.buffer] : []);
}

async function useBackend(req: BackendRequest): Promise<void> {
  const cur = backendInfo;
  if (backend && cur && cur.name === req.backend && cur.threadsRequested === req.threads && cur.relaxedRequested === req.relaxedSimd) return;
  const { backend: next, fallbackNote } = await openBackend(req);
  const old = backend;
  if (net) {
    // carry the weights over to the new backend
    const bytes = net.saveParams();
    const keepOrigin = origin;
    const m = modelFromSafetensors(bytes, { backend: next });
    infer?.dispose();
    net.dispose();
    net = null;
    infer = null;
    replaceModel(m, keepOrigin);
  }
  old?.dispose();
  backend = next;
  backendInfo = {
    name: req.backend, threadsRequested: req.threads, relaxedRequested: req.relaxedSimd, features: { ...next.features },
    ...(fallbackNote ? { fallbackNote } : {}),
  };
}

function freshModel(seed: number): Sequential {
  return new SimpleConvNet({
    backend: backend!, inputDim: [1, 28, 28],
    convParam: { filterNum: 30, filterSize: 5, pad: 0, stride: 1 },
    hiddenSize: 100, outputSize: 10, weightInitStd: 0.01, seed,
  });
}

// ---- training -------------------------------------------------------------------------

/** Accuracy of the inference model on the first `count` samples, in batches (the Trainer's evaluation). */
async function accuracy(split: Split, count: number, batchSize: number): Promise<number> {
  const m = syncInfer();
  const gather = new BatchGatherer(m.backend, byteImages(split, count), split.labels.subarray(0, count), Math.min(batchSize, count));
  let correct = 0;
  try {
    for (let start = 0; start < count && !stopRequested; start += gather.batchSize) {
      const real = Math.min(gather.gatherRange(start), count - start);
      const predicted = m.classify(gather.x);
      const t = gather.t;
      for (let r = 0; r < real; r++) if (predicted[r] === t[r]) correct++;
      await new Promise((r) => setTimeout(r, 0));
    }
  } finally {
    gather.dispose();
  }
  return correct / count;
}

/** The data a run trains and evaluates on (kept in its checkpoints as `app.web`). */
interface RunSizes { trainSize: number; testSize: number; evalTrain: number; batchSize: number }

function discardPaused(): void {
  paused?.trainer.dispose();
  paused = null;
}

/** The Trainer's callbacks: progress messages, and pictures at most twice a second. */
function progressCallbacks(batchSize: number) {
  const recent: [number, number][] = [[performance.now(), 0]];
  let lastVisual = performance.now();
  return {
    restart: () => { recent.length = 1; recent[0] = [performance.now(), 0]; },
    onIteration: (info: IterationInfo) => {
      version++;
      const t = performance.now();
      recent.push([t, batchSize]);
      while (recent.length > 2 && t - recent[0][0] > 1000) recent.shift();
      const span = (t - recent[0][0]) / 1000;
      const imgs = recent.slice(1).reduce((a, w) => a + w[1], 0);
      post({ type: 'iter', ...info, imagesPerSecond: span > 0 ? imgs / span : 0 });
      if (t - lastVisual > 500) {
        lastVisual = t;
        sendFilters();
        sendDigit();
      }
    },
    onEpoch: (info: EpochInfo) => {
      post({
        type: 'epoch', epoch: info.epoch, epochs: info.epochs, trainAcc: info.trainAcc, testAcc: info.testAcc,
        trainLoss: info.trainLoss, imagesPerSecond: info.imagesPerSecond, elapsedMs: info.elapsedMs,
      });
      sendFilters();
      sendDigit();
    },
  };
}

/** Runs (or continues) `t` to its end or a stop; a stopped run becomes the paused one. */
async function runTrainer(t: Trainer, sizes: RunSizes, initial: { trainAcc: number; testAcc: number }, restart: () => void): Promise<void> {
  trainer = t;
  currentSizes = sizes;
  paused = null;
  restart();
  post({
    type: 'trainStart', maxIter: t.maxIter, iterPerEpoch: t.iterPerEpoch, epochs: t.epochs, trainSize: sizes.trainSize, testSize: sizes.testSize,
    evalCount: { train: sizes.evalTrain, test: sizes.testSize }, initial, backend: backendInfo!, resumedAt: t.currentIter,
  });
  if (stopRequested) {
    paused = { trainer: t, sizes };
    post({ type: 'trainEnd', stopped: true, resumable: true, testAcc: null, imagesPerSecond: 0, elapsedMs: 0, steps: t.currentIter, model: modelInfo() });
    return;
  }
  const r = await t.train();
  if (r.stopped) paused = { trainer: t, sizes };
  origin = `trained (${r.steps} steps${r.stopped ? ', stopped' : ''}) from ${origin.replace(/^trained \([^)]*\) from /, '')}`;
  sendFilters();
  sendDigit();
  post({ type: 'trainEnd', stopped: r.stopped, resumable: r.stopped, testAcc: r.testAcc, imagesPerSecond: r.imagesPerSecond, elapsedMs: r.elapsedMs, steps: r.steps, model: modelInfo() });
}

/** Continues the paused run. */
async function resume(): Promise<void> {
  if (!paused) return;
  const { trainer: t, sizes } = paused;
  await trainingRun(async () => {
    const last = t.testAccList.length;
    const initial = last > 0 ? { trainAcc: t.trainAccList[last - 1], testAcc: t.testAccList[last - 1] } : { trainAcc: NaN, testAcc: NaN };
    await runTrainer(t, sizes, initial, () => {});
  });
}

/** Runs `body` as the training run: `training` set meanwhile, a failure reported as trainError. */
async function trainingRun(body: () => Promise<void>): Promise<void> {
  training = true;
  stopRequested = false;
  try {
    await body();
  } catch (e) {
    version++;
    post({ type: 'trainError', message: errorText(e), model: modelInfo() });
    sendFilters();
  } finally {
    training = false;
    trainer = null;
  }
}

/** A checkpoint file (trainer.checkpoint()) becomes the paused run: model, optimizer, position. */
async function loadCheckpoint(name: string, bytes: Uint8Array): Promise<void> {
  const app = Trainer.checkpointApp(bytes) as { web?: RunSizes; options?: { trainSize: number; testSize: number; batch: number } } | undefined;
  // the web app's own checkpoints carry its sizes; the CLI's carry its options
  const sizes: RunSizes | undefined = app?.web ?? (app?.options
    ? { trainSize: app.options.trainSize, testSize: app.options.testSize, evalTrain: app.options.trainSize, batchSize: app.options.batch }
    : undefined);
  if (!sizes) throw new Error('the checkpoint does not say which images it was trained on (no app data)');
  post({ type: 'status', text: 'loading the MNIST training images…' });
  const [tr, te] = [await trainSet(), testSet!];
  if (sizes.trainSize > tr.n || sizes.testSize > te.n) throw new Error(`the checkpoint trained on ${sizes.trainSize} / ${sizes.testSize} images; MNIST has ${tr.n} / ${te.n}`);
  const cb = progressCallbacks(sizes.batchSize);
  const t = Trainer.resume(bytes, {
    backend: backend!, xTrain: byteImages(tr, sizes.trainSize), tTrain: tr.labels.subarray(0, sizes.trainSize),
    xTest: byteImages(te, sizes.testSize), tTest: te.labels.subarray(0, sizes.testSize),
    onIteration: cb.onIteration, onEpoch: cb.onEpoch,
  });
  discardPaused();
  replaceModel(t.network as Sequential, `checkpoint ${name} (step ${t.currentIter} of ${t.maxIter})`);
  paused = { trainer: t, sizes };
  const filters = filtersPicture();
  post({ type: 'checkpointLoaded', name, step: t.currentIter, maxIter: t.maxIter, model: modelInfo(), filters }, filters ? [filters.rgba.buffer] : []);
  sendDigit();
}

async function train(c: TrainConfig): Promise<void> {
  await trainingRun(async () => {
    discardPaused();
    await useBackend(c);
    if (!c.keepWeights) {
      replaceModel(freshModel(c.seed), `fresh weights (seed ${c.seed})`);
      sendFilters();
    }
    post({ type: 'status', text: 'loading the MNIST training images…' });
    const [tr, te] = [await trainSet(), testSet!];
    const trainSize = Math.min(c.trainSize, tr.n);
    const testSize = Math.min(c.testSize, te.n);
    const evalTrain = Math.min(trainSize, 10000);
    const evalTest = testSize;
    post({ type: 'status', text: 'measuring the accuracy before training…' });
    const initial = { trainAcc: await accuracy(tr, evalTrain, 100), testAcc: await accuracy(te, evalTest, 100) };
    const cb = progressCallbacks(c.batchSize);
    const t = new Trainer(net!, byteImages(tr, trainSize), tr.labels.subarray(0, trainSize), byteImages(te, testSize), te.labels.subarray(0, testSize), {
      epochs: c.epochs,
      miniBatchSize: c.batchSize,
      optimizer: c.optimizer,
      optimizerParam: { lr: c.lr },
      weightDecay: c.weightDecay,
      seed: c.seed,
      evaluateSampleNumPerEpoch: trainSize > evalTrain ? evalTrain : null,
      onIteration: cb.onIteration,
      onEpoch: cb.onEpoch,
    });
    await runTrainer(t, { trainSize, testSize, evalTrain, batchSize: c.batchSize }, initial, cb.restart);
  });
}

/** Whether a safetensors file is a checkpoint (its __metadata__.format); false for anything unreadable. */
function isCheckpoint(bytes: Uint8Array): boolean {
  try {
    return decodeSafetensors(bytes).metadata?.format === 'wasm-cnn-checkpoint';
  } catch {
    return false;
  }
}

// ---- messages ---------------------------------------------------------------------------

async function handle(msg: ToWorker): Promise<void> {
  switch (msg.type) {
    case 'init': {
      post({ type: 'status', text: 'starting the backend…' });
      await useBackend(msg);
      replaceModel(freshModel(msg.seed), `fresh weights (seed ${msg.seed})`);
      post({ type: 'status', text: 'loading the MNIST test images…' });
      testSet = await loadSplit(MNIST_FILE_NAMES.testImages, MNIST_FILE_NAMES.testLabels);
      const filters = filtersPicture();
      post({ type: 'ready', backend: backendInfo!, model: modelInfo(), filters, testCount: testSet.n }, filters ? [filters.rgba.buffer] : []);
      sendDigit();
      return;
    }
    case 'setBackend': {
      if (training) return;
      // a paused run's optimizer state lives on the current backend
      if (backendInfo && (backendInfo.name !== msg.backend || backendInfo.threadsRequested !== msg.threads || backendInfo.relaxedRequested !== msg.relaxedSimd)) discardPaused();
      await useBackend(msg);
      post({ type: 'backend', backend: backendInfo! });
      return;
    }
    case 'train':
      if (training) return;
      await train(msg.config);
      return;
    case 'stop':
      stopRequested = true;
      trainer?.stop();
      return;
    case 'resume':
      if (training) return;
      await resume();
      return;
    case 'saveCheckpoint': {
      // while training this runs between two steps, where a checkpoint is consistent
      const run = trainer && paused === null ? { trainer, sizes: currentSizes! } : paused;
      if (!run) {
        post({ type: 'error', message: 'no run to checkpoint: start one, or stop it first' });
        return;
      }
      const bytes = run.trainer.checkpoint({ app: { web: run.sizes } }).slice();
      post({ type: 'saved', bytes: bytes.buffer, name: `wasm-cnn-checkpoint-step${run.trainer.currentIter}.safetensors` }, [bytes.buffer]);
      return;
    }
    case 'predict':
      if (!net) return;
      post({ type: 'prediction', id: msg.id, probs: predictOne(msg.pixels) });
      return;
    case 'digit':
      selectedDigit = msg.index;
      sendDigit();
      return;
    case 'save': {
      if (!net) return;
      const onnx = msg.format === 'onnx';
      const bytes = (onnx ? net.toOnnx() : net.saveParams()).slice();
      post({ type: 'saved', bytes: bytes.buffer, name: onnx ? 'wasm-cnn-model.onnx' : 'wasm-cnn-params.safetensors' }, [bytes.buffer]);
      return;
    }
    case 'load': {
      if (!net || !backend) return;
      if (training) {
        post({ type: 'loadError', name: msg.name, message: 'stop the training before loading parameters', model: modelInfo() });
        return;
      }
      let m: Sequential;
      try {
        // .onnx by name: an ONNX model; anything else: a safetensors parameter file or a checkpoint
        const bytes = new Uint8Array(msg.bytes);
        if (!/\.onnx$/i.test(msg.name) && isCheckpoint(bytes)) {
          await loadCheckpoint(msg.name, bytes);
          return;
        }
        m = /\.onnx$/i.test(msg.name) ? modelFromOnnx(bytes, { backend }) : modelFromSafetensors(bytes, { backend: backend });
      } catch (e) {
        post({ type: 'loadError', name: msg.name, message: errorText(e), model: modelInfo() });
        return;
      }
      replaceModel(m, `loaded from ${msg.name}`);
      const filters = filtersPicture();
      post({ type: 'loaded', name: msg.name, model: modelInfo(), filters }, filters ? [filters.rgba.buffer] : []);
      sendDigit();
      return;
    }
    case 'bench': {
      const t0 = performance.now();
      const rows = await runBenchmark({
        threads: msg.threads, relaxedSimd: msg.relaxedSimd, trials: msg.trials, minMs: msg.minMs,
        onRow: (row, features) => post({ type: 'benchRow', row, features }),
      });
      post({ type: 'benchDone', rows, elapsedMs: performance.now() - t0 });
      return;
    }
  }
}

scope.onmessage = (e) => {
  handle(e.data).catch((err) => post({ type: 'error', message: `${e.data.type}: ${errorText(err)}` }));
};
