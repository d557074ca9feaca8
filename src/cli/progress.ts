/**
 * Training progress on stderr: a live bar per epoch (cli-progress) with images/s, loss and
 * ETA, then one line per epoch. Without a TTY (CI, pipes) only the epoch lines are printed.
 */
import cliProgress from 'cli-progress';
import type { EpochInfo, IterationInfo } from '../train/trainer.js';

export class TrainProgress {
  private bar: cliProgress.SingleBar | null = null;
  private epochStart = 0;
  private readonly live: boolean;

  constructor(private readonly batchSize: number, private readonly quiet: boolean, private readonly stream = process.stderr) {
    this.live = !quiet && Boolean(stream.isTTY);
  }

  /** Called after every step. */
  iteration(info: IterationInfo): void {
    if (!this.live) return;
    if (!this.bar) {
      this.epochStart = performance.now();
      this.bar = new cliProgress.SingleBar({
        stream: this.stream,
        format: `epoch ${info.epoch} |{bar}| {value}/{total} steps | loss {loss} | {rate} img/s | ETA {eta_formatted}`,
        barsize: 24,
        hideCursor: true,
        clearOnComplete: true,
        etaBuffer: 20,
      }, cliProgress.Presets.shades_classic);
      this.bar.start(info.iterPerEpoch, 0, { loss: '-', rate: '-' });
    }
    const seconds = (performance.now() - this.epochStart) / 1000;
    const rate = seconds > 0 ? Math.round((info.iteration * this.batchSize) / seconds) : 0;
    this.bar.update(info.iteration, { loss: info.loss.toFixed(4), rate: rate.toLocaleString('en-US') });
  }

  /** Called after each epoch's evaluation. */
  epoch(info: EpochInfo): void {
    this.bar?.stop();
    this.bar = null;
    if (this.quiet) return;
    const pad = String(info.epochs).length;
    this.stream.write(
      `epoch ${String(info.epoch).padStart(pad)}/${info.epochs}  loss ${info.trainLoss.toFixed(4)}  ` +
      `train acc ${info.trainAcc.toFixed(4)}  test acc ${info.testAcc.toFixed(4)}  ` +
      `${Math.round(info.imagesPerSecond).toLocaleString('en-US')} img/s  ${(info.elapsedMs / 1000).toFixed(1)} s\n`,
    );
  }

  stop(): void {
    this.bar?.stop();
    this.bar = null;
  }
}
