/**
 * Vega-Lite specs for the training charts (plain objects, no dependencies, so the browser
 * app can render them with any Vega build). Rendering to SVG/PNG in Node lives in
 * accuracy-plot-node.ts.
 */

export interface AccuracyHistory {
  /** Training accuracy per epoch, 0..1. */
  trainAcc: readonly number[];
  /** Test accuracy per epoch, 0..1. */
  testAcc: readonly number[];
  /** The x value of each point (default 0, 1, 2, ... as in the course's `np.arange(max_epochs)`). */
  epochs?: readonly number[];
}

export interface ChartOptions {
  /** Chart title (default none). */
  title?: string;
  /** Plot area size in CSS pixels (default 480 x 320); axes and legend add to it. */
  width?: number;
  height?: number;
}

export interface LossOptions extends ChartOptions {
  /** Above this many points the curve is averaged in equal buckets (default 2000). */
  maxPoints?: number;
}

/** A Vega-Lite spec: plain JSON. */
export type VegaLiteSpec = Record<string, unknown>;

const SERIES = ['train', 'test'];

function finite(v: number): boolean {
  return typeof v === 'number' && Number.isFinite(v);
}

function base(opts: ChartOptions): VegaLiteSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(opts.title ? { title: { text: opts.title, fontSize: 14 } } : {}),
    width: opts.width ?? 480,
    height: opts.height ?? 320,
    background: 'white',
    padding: 8,
    config: { axis: { labelFontSize: 11, titleFontSize: 13, titleFontWeight: 'normal' }, legend: { labelFontSize: 12 } },
  };
}

/**
 * The course's accuracy chart: x "epochs", y "accuracy" from 0 to 1.0, a line per series
 * ("train" with circles, "test" with squares; no markers beyond 60 points), legend at the
 * lower right.
 */
export function accuracySpec(history: AccuracyHistory, opts: ChartOptions = {}): VegaLiteSpec {
  const values: { epoch: number; accuracy: number; series: string }[] = [];
  const push = (series: string, acc: readonly number[]) => {
    acc.forEach((a, i) => {
      const epoch = history.epochs?.[i] ?? i;
      if (finite(a) && finite(epoch)) values.push({ epoch, accuracy: a, series });
    });
  };
  push('train', history.trainAcc);
  push('test', history.testAcc);
  const n = Math.max(history.trainAcc.length, history.testAcc.length);
  const legend = { title: null, orient: 'bottom-right', fillColor: 'white', strokeColor: '#ccc', padding: 6, symbolSize: 60 };
  return {
    ...base(opts),
    data: { values },
    // markers while they stay distinct (the course uses markevery=2 for 20 epochs); long runs get plain lines
    mark: { type: 'line', point: n <= 60 ? { size: 40, filled: true } : false, strokeWidth: 2 },
    encoding: {
      x: {
        field: 'epoch',
        type: 'quantitative',
        title: 'epochs',
        axis: n <= 20 ? { tickMinStep: 1, format: 'd' } : { format: 'd' },
        scale: { nice: false, zero: false, padding: 8 },
      },
      y: { field: 'accuracy', type: 'quantitative', title: 'accuracy', scale: { domain: [0, 1], clamp: true }, axis: { tickCount: 10 } },
      // color and shape share one legend (same field, same legend properties)
      color: { field: 'series', type: 'nominal', scale: { domain: SERIES, range: ['#1f77b4', '#ff7f0e'] }, legend },
      shape: { field: 'series', type: 'nominal', scale: { domain: SERIES, range: ['circle', 'square'] }, legend },
    },
  };
}

/** Loss per iteration: x "iterations", y "loss" (from 0). Long runs are bucket-averaged to `maxPoints`. */
export function lossSpec(trainLoss: readonly number[], opts: LossOptions = {}): VegaLiteSpec {
  const maxPoints = Math.max(2, opts.maxPoints ?? 2000);
  const values: { iteration: number; loss: number }[] = [];
  const bucket = Math.max(1, Math.ceil(trainLoss.length / maxPoints));
  for (let start = 0; start < trainLoss.length; start += bucket) {
    let sum = 0;
    let count = 0;
    for (let i = start; i < Math.min(trainLoss.length, start + bucket); i++) {
      if (finite(trainLoss[i])) {
        sum += trainLoss[i];
        count++;
      }
    }
    if (count) values.push({ iteration: start + (Math.min(bucket, trainLoss.length - start) - 1) / 2, loss: sum / count });
  }
  return {
    ...base(opts),
    data: { values },
    mark: { type: 'line', strokeWidth: 1.5, color: '#1f77b4', clip: true },
    encoding: {
      x: { field: 'iteration', type: 'quantitative', title: 'iterations', scale: { nice: false, zero: true }, axis: { format: 'd' } },
      y: { field: 'loss', type: 'quantitative', title: 'loss', scale: { zero: true } },
    },
  };
}
