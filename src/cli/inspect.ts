/**
 * Commands that use a trained parameter file: `eval` (test accuracy and confusion matrix),
 * `predict` (one PNG or one test image -> digit and class probabilities), `filters` and
 * `feature-maps` (the course's filter pictures).
 */
import { resolve } from 'node:path';
import { createBackend } from '../backend/create.js';
import type { BackendName } from '../backend/backend.js';
import { loadMnistBytes } from '../data/mnist-node.js';
import { BatchGatherer } from '../data/batch.js';
import type { Sequential } from '../models/sequential.js';
import { tensor } from '../tensor.js';
import { pngToMnist } from '../viz/png.js';
import { FormatError } from '../errors.js';
import { checkOutFile, readInput, writeOutFile } from './artifacts.js';
import { CliError } from './errors.js';
import { loadModelFile, firstConvOptions, type ModelFileOptions } from './models.js';
import { featureMapsPng, filtersPng } from './render.js';

interface Common { backend: BackendName; json?: boolean }

async function open(paramsPath: string, backendName: BackendName, file: ModelFileOptions = {}): Promise<Sequential> {
  const backend = await createBackend(backendName);
  return loadModelFile(paramsPath, backend, file);
}

/** Argmax of each row of logits (N, C). */
export async function evalCommand(paramsPath: string, opts: Common & ModelFileOptions & { testSize?: number; batch: number }): Promise<number> {
  const net = await open(paramsPath, opts.backend, { layout: opts.layout, model: opts.model });
  const { test } = loadMnistBytes({ trainLimit: 0, testLimit: opts.testSize });
  const N = test.labels.length;
  const classes = net.outputSize;
  const gather = new BatchGatherer(net.backend, test.images, test.labels, opts.batch, { sampleShape: net.inputDim, classes, where: 'eval' });
  const predicted = new Int32Array(N);
  for (let start = 0; start < N; start += opts.batch) {
    const n = gather.gatherRange(start);
    predicted.set(net.classify(gather.x).subarray(0, Math.min(n, N - start)), start);
  }
  gather.dispose();
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  let correct = 0;
  for (let i = 0; i < N; i++) {
    confusion[test.labels[i]][predicted[i]]++;
    if (test.labels[i] === predicted[i]) correct++;
  }
  const accuracy = correct / N;
  if (opts.json) {
    process.stdout.write(JSON.stringify({ params: resolve(paramsPath), testImages: N, accuracy, confusion }, null, 2) + '\n');
    return 0;
  }
  process.stdout.write(`test accuracy ${accuracy.toFixed(4)} (${correct} of ${N})\n\n`);
  process.stdout.write('confusion matrix (rows: true digit, columns: predicted)\n');
  const w = Math.max(4, String(N).length + 1);
  process.stdout.write('     ' + Array.from({ length: classes }, (_, c) => String(c).padStart(w)).join('') + '\n');
  confusion.forEach((row, r) => process.stdout.write(`${String(r).padStart(4)} ` + row.map((v) => String(v).padStart(w)).join('') + '\n'));
  return 0;
}

export async function predictCommand(paramsPath: string, image: string | undefined,
  opts: Common & { index?: number }): Promise<number> {
  if ((image === undefined) === (opts.index === undefined)) {
    throw new CliError('predict needs either an IMAGE.png or --index N (a test image), not both or neither');
  }
  const net = await open(paramsPath, opts.backend);
  const pixels = image !== undefined ? pngImage(image) : testImage(opts.index!);
  const [C, H, W] = net.inputDim;
  if (C * H * W !== 784) throw new CliError(`this model takes ${C}x${H}x${W} inputs, not 28x28 MNIST images`);
  const x = tensor(pixels.data, [1, C, H, W]);
  const probs = Array.from(net.predictProba(x).data);
  const digit = net.classify(x)[0];
  if (opts.json) {
    process.stdout.write(JSON.stringify({ source: pixels.source, label: pixels.label, digit, probabilities: probs }, null, 2) + '\n');
    return 0;
  }
  process.stdout.write(`${pixels.source}${pixels.label !== undefined ? ` (label ${pixels.label})` : ''}: predicted digit ${digit}\n`);
  probs.forEach((p, c) => {
    const bar = '#'.repeat(Math.round(p * 40));
    process.stdout.write(`  ${c}  ${(p * 100).toFixed(2).padStart(6)}%  ${bar}\n`);
  });
  return 0;
}

function pngImage(path: string): { data: Float32Array; source: string; label?: number } {
  const bytes = readInput(path, 'image');
  try {
    return { data: pngToMnist(bytes), source: path };
  } catch (e) {
    if (e instanceof FormatError) throw new CliError(`${path}: ${e.message}`);
    throw e;
  }
}

function testImage(index: number): { data: Float32Array; source: string; label: number } {
  const { test } = loadMnistBytes({ trainLimit: 0 });
  const N = test.labels.length;
  if (index >= N) throw new CliError(`--index ${index} is out of range: the test set has ${N} images (0..${N - 1})`);
  const D = 784;
  const data = new Float32Array(D);
  for (let k = 0; k < D; k++) data[k] = test.images.data[index * D + k] * test.images.scale;
  return { data, source: `test image ${index}`, label: test.labels[index] };
}

export async function filtersCommand(paramsPath: string, opts: Common & { out: string; force?: boolean }): Promise<number> {
  checkOutFile(opts.out, opts.force ?? false);
  const net = await open(paramsPath, opts.backend);
  const out = resolve(opts.out);
  writeOutFile(out, filtersPng(net));
  process.stderr.write(`wrote ${out}\n`);
  return 0;
}

export async function featureMapsCommand(paramsPath: string, opts: Common & { index: number; out: string; force?: boolean }): Promise<number> {
  checkOutFile(opts.out, opts.force ?? false);
  const net = await open(paramsPath, opts.backend);
  const img = testImage(opts.index);
  const { stride, pad } = firstConvOptions(net);
  const out = resolve(opts.out);
  writeOutFile(out, featureMapsPng(net, img.data, stride, pad));
  process.stderr.write(`wrote ${out} (test image ${opts.index}, label ${img.label})\n`);
  return 0;
}
