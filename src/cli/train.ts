/**
 * `wasm-cnn train`: the course's MNIST run (SimpleConvNet, Adam lr 0.001, batch 100,
 * 20 epochs on 5,000/1,000 images) or any variant of it, with live progress and the run's
 * artifacts: parameters, history, accuracy and loss charts, filters before and after.
 * Long runs: a checkpoint at every epoch end (and every --checkpoint-every steps), Ctrl-C
 * or SIGTERM saves and says how to resume, --resume continues (src/cli/long-run.ts).
 */
import { createBackend } from '../backend/create.js';
import type { BackendName } from '../backend/backend.js';
import { loadMnistBytes } from '../data/mnist-node.js';
import { DivergenceError } from '../errors.js';
import { Trainer, type EpochInfo, type IterationInfo, type TrainResult } from '../train/trainer.js';
import { accuracyChart, lossChart } from '../viz/chart.js';
import { chartToSvg } from '../viz/chart-svg.js';
import { chartToPng } from '../viz/chart-raster.js';
import { TrainProgress } from './progress.js';
import { Interruptions, RunFolder, SIGNAL_EXIT, planRun, type CheckpointMark } from './long-run.js';
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
  /** Learning-rate decay per epoch (Trainer lrDecay). */
  lrDecay?: number;
  /** L2 weight decay lambda (Trainer weightDecay). */
  weightDecay?: number;
  optimizer: string;
  model: ModelPreset;
  backend: BackendName;
  threads: number;
  seed: number;
  out?: string;
  force?: boolean;
  quiet?: boolean;
  json?: boolean;
  /** Also write a checkpoint every N steps (one is written at every epoch end anyway). */
  checkpointEvery?: number;
  /** A run folder to continue from its checkpoint. */
  resume?: string;
  /** The options typed on the command line (the others are defaults); --resume refuses conflicting ones. */
  given?: readonly string[];
}

export async function trainCommand(given: TrainCommandOptions): Promise<number> {
  // options and output folder settled (and a resumed run's options restored) before any work
  const plan = planRun(given, (o) => DEFAULT_LR[o] ?? 0.01);
  const opts: TrainCommandOptions = { ...given, ...plan.options };
  const { trainSize, testSize } = plan.options;
  const outDir = plan.outDir;
  const log = (line: string) => { if (!opts.quiet) process.stderr.write(`${line}\n`); };

  const data = loadMnistBytes({ trainLimit: trainSize, testLimit: testSize });
  const backend = await createBackend(opts.backend, { threads: opts.threads });
  if (backend.features.threadsNote) log(`note: ${backend.features.threadsNote}`);
  const net = buildModel(opts.model, backend, opts.seed);
  const lr = plan.options.lr;
  log(`training ${opts.model} on ${data.train.labels.length.toLocaleString('en-US')} images ` +
    `(test ${data.test.labels.length.toLocaleString('en-US')}), ${opts.epochs} epochs, batch ${opts.batch}, ` +
    `${opts.optimizer} lr ${lr}${(plan.options.lrDecay ?? 1) !== 1 ? ` (x ${plan.options.lrDecay} per epoch)` : ''}${(plan.options.weightDecay ?? 0) > 0 ? `, weight decay ${plan.options.weightDecay}` : ''}, backend ${backend.name}${backend.features.simd ? ' (SIMD)' : ''}, seed ${opts.seed}`);
  log(`writing to ${outDir}`);

  // the initial weights come from the seed, so a resumed run draws the same "before" filters
  const filtersBefore = filtersPng(net);
  const progress = new TrainProgress(opts.batch, opts.quiet ?? false);
  const folder = new RunFolder(outDir, { options: plan.options });
  const every = opts.checkpointEvery;
  let interrupts: Interruptions | undefined;
  const callbacks = {
    onIteration: async (info: IterationInfo) => {
      progress.iteration(info);
      if (every && info.step % every === 0 && info.iteration < info.iterPerEpoch) {
        folder.checkpoint(trainer, { step: info.step, epoch: info.epoch, iteration: info.iteration });
      }
      await interrupts?.testHook(info.step);
    },
    onEpoch: async (info: EpochInfo) => {
      progress.epoch(info);
      folder.checkpoint(trainer, { step: info.epoch * trainer.iterPerEpoch, epoch: info.epoch, iteration: trainer.iterPerEpoch });
      await interrupts?.testHook(`e${info.epoch}`);
    },
  };
  const data4 = [data.train.images, data.train.labels, data.test.images, data.test.labels] as const;
  const trainer: Trainer = plan.resume
    ? Trainer.resume(plan.resume, { network: net, xTrain: data4[0], tTrain: data4[1], xTest: data4[2], tTest: data4[3], ...callbacks })
    : new Trainer(net, ...data4, {
      epochs: opts.epochs,
      miniBatchSize: opts.batch,
      optimizer: opts.optimizer,
      optimizerParam: { lr },
      lrDecay: plan.options.lrDecay ?? 1,
      weightDecay: plan.options.weightDecay ?? 0,
      seed: opts.seed,
      // the loss of each step's forward pass (the course recomputes it after the update: ~35% slower)
      recomputeLoss: false,
      ...callbacks,
    });
  if (plan.resume) log(`resuming at step ${trainer.currentIter} of ${trainer.maxIter} (epoch ${Math.min(trainer.currentEpoch + 1, trainer.epochs)})`);
  interrupts = new Interruptions(trainer);
  const resumedAt = plan.resume ? trainer.currentIter : null;

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
  const signal = result?.stopped ? interrupts.signal : null;
  if (signal) {
    const step = trainer.currentIter;
    const epoch = Math.max(Math.ceil(step / trainer.iterPerEpoch), 1);
    const mark: CheckpointMark = { step, epoch, iteration: step - (epoch - 1) * trainer.iterPerEpoch };
    if (folder.last?.step !== step) folder.checkpoint(trainer, mark);
  }
  trainer.dispose();
  // the run files below go through the folder: a failed write is reported with the last checkpoint
  const writeOut = (_dir: string, name: string, data: Uint8Array | string) => folder.file(name, data);

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
    optimizer: opts.optimizer, lr, lrDecay: plan.options.lrDecay ?? 1, weightDecay: plan.options.weightDecay ?? 0, epochs: opts.epochs, batch: opts.batch, seed: opts.seed,
    trainSize: data.train.labels.length, testSize: data.test.labels.length,
    finalTestAcc: result?.testAcc ?? null,
    bestTestAcc: history.testAccList.length ? Math.max(...history.testAccList) : null,
    wallSeconds: result ? result.elapsedMs / 1000 : null,
    imagesPerSecond: result?.imagesPerSecond ?? null,
    diverged: failure ? failure.message : null,
    interrupted: signal,
    resumedAtStep: resumedAt,
    outDir,
  };
  writeOut(outDir, 'history.json', JSON.stringify({ ...summary, ...history }, null, 2) + '\n');
  if (history.testAccList.length > 0) {
    // zoomed to the accuracies reached: on full MNIST they sit within 2% of the top
    const acc = accuracyChart({ trainAcc: history.trainAccList, testAcc: history.testAccList }, { yMin: 'auto' });
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

  interrupts.dispose();
  if (folder.failure) {
    const e = folder.failure as NodeJS.ErrnoException;
    const why = e.code && !e.message.startsWith(e.code) ? `${e.code}: ${e.message}` : e.message;
    process.stderr.write(`error: cannot write to ${outDir} (${why}); ${folder.describeLast(trainer.maxIter)}\n`);
    return EXIT_FAILED;
  }
  if (opts.json) process.stdout.write(JSON.stringify(summary, null, 2) + '\n');
  if (signal) {
    process.stderr.write(`interrupted by ${signal} after step ${trainer.currentIter} of ${trainer.maxIter}; saved ${folder.path} and the run files in ${outDir}\n` +
      `resume with: wasm-cnn train --resume ${outDir}\n`);
    return SIGNAL_EXIT[signal];
  }
  if (failure) {
    process.stderr.write(`error: ${failure.message}\nthe parameters of the last finite step were saved to ${outDir}/params.safetensors\n`);
    return EXIT_FAILED;
  }
  log(`done: test accuracy ${summary.finalTestAcc?.toFixed(4)} (best ${summary.bestTestAcc?.toFixed(4)}), ` +
    `${summary.wallSeconds?.toFixed(1)} s, ${Math.round(summary.imagesPerSecond ?? 0).toLocaleString('en-US')} img/s training`);
  log(`wrote ${outDir}: params.safetensors history.json accuracy.svg accuracy.png loss.svg loss.png filters-before.png filters-after.png`);
  return 0;
}
