/**
 * `wasm-cnn train`: the course's MNIST run (SimpleConvNet, Adam lr 0.001, batch 100,
 * 20 epochs on 5,000/1,000 images) or any variant of it, with live progress and the run's
 * artifacts: parameters, history, accuracy and loss charts, filters before and after.
 */
import { resolve } from 'node:path';
import { createBackend } from '../backend/create.js';
import type { BackendName } from '../backend/backend.js';
import { loadMnistBytes } from '../data/mnist-node.js';
import { DivergenceError } from '../errors.js';
import { Trainer, type TrainResult } from '../train/trainer.js';
import { accuracyChart, lossChart } from '../viz/chart.js';
import { chartToSvg } from '../viz/chart-svg.js';
import { chartToPng } from '../viz/chart-raster.js';
import { TrainProgress } from './progress.js';
import { checkRunDir, defaultRunDir, writeOut } from './artifacts.js';
import { buildModel, DEFAULT_LR, type ModelPreset } from './models.js';
import { filtersPng } from './render.js';
import { EXIT_FAILED } from './errors.js';

export interface TrainCommandOptions {
  full?: boolean;
  trainSize?: number;
  testSize?: number;
  epochs: number;
  batch: number;
  lr?: number;
  optimizer: string;
  model: ModelPreset;
  backend: BackendName;
  threads: number;
  seed: number;
  out?: string;
  force?: boolean;
  quiet?: boolean;
  json?: boolean;
}

export async function trainCommand(opts: TrainCommandOptions): Promise<number> {
  const trainSize = opts.trainSize ?? (opts.full ? 60000 : 5000);
  const testSize = opts.testSize ?? (opts.full ? 10000 : 1000);
  const outDir = resolve(opts.out ?? defaultRunDir(opts.model));
  checkRunDir(outDir, opts.force ?? false);
  const log = (line: string) => { if (!opts.quiet) process.stderr.write(`${line}\n`); };

  const data = loadMnistBytes({ trainLimit: trainSize, testLimit: testSize });
  const backend = await createBackend(opts.backend, { threads: opts.threads });
  if (backend.features.threadsNote) log(`note: ${backend.features.threadsNote}`);
  const net = buildModel(opts.model, backend, opts.seed);
  const lr = opts.lr ?? DEFAULT_LR[opts.optimizer] ?? 0.01;
  log(`training ${opts.model} on ${data.train.labels.length.toLocaleString('en-US')} images ` +
    `(test ${data.test.labels.length.toLocaleString('en-US')}), ${opts.epochs} epochs, batch ${opts.batch}, ` +
    `${opts.optimizer} lr ${lr}, backend ${backend.name}${backend.features.simd ? ' (SIMD)' : ''}, seed ${opts.seed}`);
  log(`writing to ${outDir}`);

  const filtersBefore = filtersPng(net);
  const progress = new TrainProgress(opts.batch, opts.quiet ?? false);
  const trainer = new Trainer(net, data.train.images, data.train.labels, data.test.images, data.test.labels, {
    epochs: opts.epochs,
    miniBatchSize: opts.batch,
    optimizer: opts.optimizer,
    optimizerParam: { lr },
    seed: opts.seed,
    // the loss of each step's forward pass (the course recomputes it after the update: ~35% slower)
    recomputeLoss: false,
    onIteration: (info) => progress.iteration(info),
    onEpoch: (info) => progress.epoch(info),
  });

  let result: TrainResult | null = null;
  let failure: DivergenceError | null = null;
  try {
    result = await trainer.train();
  } catch (e) {
    if (!(e instanceof DivergenceError)) throw e;
    failure = e;
  } finally {
    progress.stop();
  }

  const history = {
    trainLossList: trainer.trainLossList,
    trainAccList: trainer.trainAccList,
    testAccList: trainer.testAccList,
  };
  writeOut(outDir, 'filters-before.png', filtersBefore);
  writeOut(outDir, 'params.safetensors', net.saveParams());
  writeOut(outDir, 'filters-after.png', filtersPng(net));
  const summary = {
    model: opts.model, backend: backend.name, simd: backend.features.simd, threads: backend.features.threads,
    optimizer: opts.optimizer, lr, epochs: opts.epochs, batch: opts.batch, seed: opts.seed,
    trainSize: data.train.labels.length, testSize: data.test.labels.length,
    finalTestAcc: result?.testAcc ?? null,
    bestTestAcc: history.testAccList.length ? Math.max(...history.testAccList) : null,
    wallSeconds: result ? result.elapsedMs / 1000 : null,
    imagesPerSecond: result?.imagesPerSecond ?? null,
    diverged: failure ? failure.message : null,
    outDir,
  };
  writeOut(outDir, 'history.json', JSON.stringify({ ...summary, ...history }, null, 2) + '\n');
  if (history.testAccList.length > 0) {
    const acc = accuracyChart({ trainAcc: history.trainAccList, testAcc: history.testAccList });
    writeOut(outDir, 'accuracy.svg', chartToSvg(acc));
    writeOut(outDir, 'accuracy.png', chartToPng(acc));
  }
  // a diverged run ends with the non-finite loss that stopped it
  const finiteLoss = history.trainLossList.filter(Number.isFinite);
  if (finiteLoss.length > 0) {
    const loss = lossChart(finiteLoss);
    writeOut(outDir, 'loss.svg', chartToSvg(loss));
    writeOut(outDir, 'loss.png', chartToPng(loss));
  }

  if (opts.json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
  if (failure) {
    process.stderr.write(`error: ${failure.message}\nthe parameters of the last finite step were saved to ${outDir}/params.safetensors\n`);
    return EXIT_FAILED;
  }
  log(`done: test accuracy ${summary.finalTestAcc?.toFixed(4)} (best ${summary.bestTestAcc?.toFixed(4)}), ` +
    `${summary.wallSeconds?.toFixed(1)} s, ${Math.round(summary.imagesPerSecond ?? 0).toLocaleString('en-US')} img/s training`);
  log(`wrote ${outDir}: params.safetensors history.json accuracy.svg accuracy.png loss.svg loss.png filters-before.png filters-after.png`);
  return 0;
}
