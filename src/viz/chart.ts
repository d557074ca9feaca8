/**
 * The training charts as one model: scales, "nice" ticks, series and legend laid out in
 * CSS pixels, plus the list of shapes that draws it. chart-svg.ts turns the shapes into an
 * SVG string, chart-raster.ts into RGBA pixels / PNG; both draw exactly this list, so
 * the two renderings agree. Platform-neutral, no dependencies.
 */
import { ShapeError } from '../errors.js';
import { CAP_ROWS, UNITS_PER_EM, textWidth } from './font.js';

/** The accuracy per epoch that accuracyChart / accuracySvg / accuracyPng draw. */
export interface AccuracyHistory {
  /** Training accuracy per epoch, 0..1. */
  trainAcc: readonly number[];
  /** Test accuracy per epoch, 0..1 (as many values as trainAcc). */
  testAcc: readonly number[];
  /** The x value of each point (default 0, 1, 2, ... as in the course's `np.arange(max_epochs)`). */
  epochs?: readonly number[];
}

/** Title and plot size of a training chart. */
export interface ChartOptions {
  /** Chart title (default none). */
  title?: string;
  /** Plot area size in CSS pixels (default 480 x 320); axes, title and margins add to it. */
  width?: number;
  height?: number;
}

/** Options of the accuracy chart: those of every chart, plus where its y axis starts. */
export interface AccuracyOptions extends ChartOptions {
  /**
   * Lower end of the y axis, which always ends at 1: a number in [0, 1) (default 0, the
   * course's ylim(0, 1.0)), or 'auto': a round value below the lowest accuracy (0 when that is
   * under 0.5), so that curves close to 1 (full MNIST: 98-99.5%) are not pressed against the top.
   */
  yMin?: number | 'auto';
}

/** Options of the loss chart: those of every chart, plus the bucket averaging. */
export interface LossOptions extends ChartOptions {
  /** Above this many points the curve is averaged in equal buckets (default 2000). */
  maxPoints?: number;
}

export type MarkerShape = 'circle' | 'square';
export type TextAnchor = 'start' | 'middle' | 'end';

/**
 * What the renderers draw, in CSS pixels, in order. `role` names the part of the chart
 * (SVG class); `series` ties a line or marker to its series.
 */
export type Shape =
  | { kind: 'rect'; role: string; x: number; y: number; w: number; h: number; fill?: string; stroke?: string }
  | { kind: 'line'; role: string; x1: number; y1: number; x2: number; y2: number; stroke: string; width: number }
  | { kind: 'polyline'; role: string; series: string; points: [number, number][]; stroke: string; width: number; /** drawn only inside */ clip: Rect }
  | { kind: 'marker'; role: string; series: string; shape: MarkerShape; x: number; y: number; size: number; fill: string }
  | {
      kind: 'text'; role: string; x: number; y: number; text: string; size: number; anchor: TextAnchor;
      fill: string; /** rotated -90 degrees about (x, y) */ vertical?: boolean;
    };

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Axis {
  title: string;
  /** The data range the plot spans. */
  domain: [number, number];
  ticks: number[];
  labels: string[];
}

export interface Series {
  name: string;
  color: string;
  marker: MarkerShape | null;
  /** Data coordinates [x, y] (after bucket averaging for the loss chart). */
  points: [number, number][];
}

export interface ChartModel {
  /** Whole chart size in CSS pixels. */
  width: number;
  height: number;
  plot: Rect;
  x: Axis;
  y: Axis;
  series: Series[];
  /** The shapes that draw the chart, back to front. */
  shapes: Shape[];
}

export const SERIES_COLORS = { train: '#1f77b4', test: '#ff7f0e' } as const;
const FONT = { tick: 11, axisTitle: 13, legend: 13, title: 14 };
const GRID = '#dddddd';
const AXIS = '#888888';
const TEXT = '#222222';
const PAD = 8;
const TICK = 5;
/** Marker sizes (diameter / side) and the point count above which markers are left off. */
const MARKER = { circle: 7, square: 6.4, legendScale: 1.25, maxPoints: 60 };

/**
 * A "nice" tick step (1, 2 or 5 times a power of ten) that splits [lo, hi] into about
 * `count` intervals, at least `minStep`.
 */
export function niceStep(lo: number, hi: number, count: number, minStep = 0): number {
  const raw = Math.abs(hi - lo) / Math.max(1, count);
  if (!(raw > 0) || !Number.isFinite(raw)) return Math.max(1, minStep);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const e = raw / mag;
  const step = (e >= Math.SQRT2 * 5 ? 10 : e >= Math.sqrt(10) ? 5 : e >= Math.SQRT2 ? 2 : 1) * mag;
  return Math.max(step, minStep);
}

/** The multiples of `step` inside [lo, hi] (rounded so 0.1 * 3 prints as 0.3). */
export function niceTicks(lo: number, hi: number, step: number): number[] {
  const first = Math.ceil(lo / step - 1e-9);
  const last = Math.floor(hi / step + 1e-9);
  const decimals = stepDecimals(step);
  const out: number[] = [];
  for (let i = first; i <= last; i++) out.push(Number((i * step).toFixed(decimals)));
  return out;
}

function stepDecimals(step: number): number {
  return Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
}

function formatTick(v: number, step: number): string {
  const s = v.toFixed(stepDecimals(step));
  return /^-0(\.0*)?$/.test(s) ? s.slice(1) : s;
}

/**
 * Averages `values` in equal buckets of ceil(n / maxPoints) so at most `maxPoints`
 * remain; each average sits at its bucket's middle index. Shorter series pass unchanged.
 */
export function bucketAverage(values: readonly number[], maxPoints: number): [number, number][] {
  const bucket = Math.max(1, Math.ceil(values.length / Math.max(1, maxPoints)));
  const out: [number, number][] = [];
  for (let start = 0; start < values.length; start += bucket) {
    const end = Math.min(values.length, start + bucket);
    let sum = 0;
    for (let i = start; i < end; i++) sum += values[i];
    out.push([start + (end - start - 1) / 2, sum / (end - start)]);
  }
  return out;
}

function checkValues(what: string, values: readonly number[], min = -Infinity, max = Infinity): void {
  if (!Array.isArray(values) && !ArrayBuffer.isView(values)) throw new ShapeError(`${what} must be an array of numbers`);
  if (values.length === 0) throw new ShapeError(`${what} is empty: nothing to draw`);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ShapeError(`${what}[${i}] is ${String(v)}, expected a finite number`);
    if (v < min || v > max) throw new ShapeError(`${what}[${i}] is ${v}, expected a value in [${min}, ${max}]`);
  }
}

function checkSize(opts: ChartOptions): { w: number; h: number } {
  const w = opts.width ?? 480;
  const h = opts.height ?? 320;
  for (const [name, v] of [['width', w], ['height', h]] as const) {
    if (!Number.isFinite(v) || v < 50 || v > 10000) throw new ShapeError(`chart ${name} must be a number in [50, 10000] (CSS pixels), got ${v}`);
  }
  return { w, h };
}

interface Layout {
  xAxis: Axis & { step: number; pad: number };
  yAxis: Axis & { step: number };
  series: Series[];
  lineWidth: number;
  legend: boolean;
  title?: string;
  size: { w: number; h: number };
}

/** Lays out the margins around the plot, maps data to pixels and lists the shapes. */
function build(l: Layout): ChartModel {
  const { xAxis, yAxis } = l;
  const yLabelW = Math.max(...yAxis.labels.map((s) => textWidth(s, FONT.tick)));
  const lastX = xAxis.labels.length ? textWidth(xAxis.labels[xAxis.labels.length - 1], FONT.tick) : 0;
  const left = PAD + FONT.axisTitle + 8 + yLabelW + 4 + TICK;
  const top = PAD + (l.title ? FONT.title + 10 : FONT.tick / 2);
  const right = Math.max(PAD, lastX / 2 + 4);
  const bottom = TICK + 4 + FONT.tick + 8 + FONT.axisTitle + PAD;
  const plot: Rect = { x: left, y: top, w: l.size.w, h: l.size.h };
  const width = Math.ceil(left + plot.w + right);
  const height = Math.ceil(top + plot.h + bottom);

  const [x0, x1] = xAxis.domain;
  const [y0, y1] = yAxis.domain;
  const sx = (v: number) => plot.x + xAxis.pad + ((v - x0) / (x1 - x0)) * (plot.w - 2 * xAxis.pad);
  const sy = (v: number) => plot.y + plot.h - ((Math.min(y1, Math.max(y0, v)) - y0) / (y1 - y0)) * plot.h;
  // 1-pixel lines on pixel centres so they stay crisp
  const crisp = (v: number) => Math.round(v - 0.5) + 0.5;
  const capH = (size: number) => (size * CAP_ROWS) / UNITS_PER_EM;

  const shapes: Shape[] = [{ kind: 'rect', role: 'background', x: 0, y: 0, w: width, h: height, fill: '#ffffff' }];
  const bottomY = plot.y + plot.h;
  for (const t of xAxis.ticks) {
    const x = crisp(sx(t));
    shapes.push({ kind: 'line', role: 'grid', x1: x, y1: plot.y, x2: x, y2: bottomY, stroke: GRID, width: 1 });
  }
  for (const t of yAxis.ticks) {
    const y = crisp(sy(t));
    shapes.push({ kind: 'line', role: 'grid', x1: plot.x, y1: y, x2: plot.x + plot.w, y2: y, stroke: GRID, width: 1 });
  }
  const axisX = crisp(plot.x);
  const axisY = crisp(bottomY);
  shapes.push({ kind: 'line', role: 'axis', x1: axisX, y1: plot.y, x2: axisX, y2: axisY, stroke: AXIS, width: 1 });
  shapes.push({ kind: 'line', role: 'axis', x1: axisX, y1: axisY, x2: plot.x + plot.w, y2: axisY, stroke: AXIS, width: 1 });
  xAxis.ticks.forEach((t, i) => {
    const x = crisp(sx(t));
    shapes.push({ kind: 'line', role: 'tick', x1: x, y1: axisY, x2: x, y2: axisY + TICK, stroke: AXIS, width: 1 });
    shapes.push({
      kind: 'text', role: 'x-label', x, y: axisY + TICK + 4 + capH(FONT.tick), text: xAxis.labels[i], size: FONT.tick, anchor: 'middle', fill: TEXT,
    });
  });
  yAxis.ticks.forEach((t, i) => {
    const y = crisp(sy(t));
    shapes.push({ kind: 'line', role: 'tick', x1: axisX - TICK, y1: y, x2: axisX, y2: y, stroke: AXIS, width: 1 });
    shapes.push({
      kind: 'text', role: 'y-label', x: axisX - TICK - 4, y: y + capH(FONT.tick) / 2, text: yAxis.labels[i], size: FONT.tick, anchor: 'end', fill: TEXT,
    });
  });
  shapes.push({
    kind: 'text', role: 'x-title', x: plot.x + plot.w / 2, y: axisY + TICK + 4 + FONT.tick + 8 + capH(FONT.axisTitle),
    text: xAxis.title, size: FONT.axisTitle, anchor: 'middle', fill: TEXT,
  });
  shapes.push({
    kind: 'text', role: 'y-title', x: PAD + capH(FONT.axisTitle), y: plot.y + plot.h / 2,
    text: yAxis.title, size: FONT.axisTitle, anchor: 'middle', fill: TEXT, vertical: true,
  });

  // lines may reach a little beyond the frame (a point at y = 1.0 keeps its full stroke)
  const clip: Rect = { x: plot.x - 2, y: plot.y - 2, w: plot.w + 4, h: plot.h + 4 };
  for (const s of l.series) {
    const pts = s.points.map(([x, y]) => [sx(x), sy(y)] as [number, number]);
    shapes.push({ kind: 'polyline', role: 'line', series: s.name, points: pts, stroke: s.color, width: l.lineWidth, clip });
  }
  for (const s of l.series) {
    if (!s.marker) continue;
    for (const [x, y] of s.points) {
      shapes.push({ kind: 'marker', role: 'marker', series: s.name, shape: s.marker, x: sx(x), y: sy(y), size: MARKER[s.marker], fill: s.color });
    }
  }

  if (l.legend) {
    const row = 18;
    const sym = MARKER.circle * MARKER.legendScale;
    const labelW = Math.max(...l.series.map((s) => textWidth(s.name, FONT.legend)));
    const w = 8 + sym + 6 + labelW + 10;
    const h = 6 + row * l.series.length + 4;
    const lx = Math.round(plot.x + plot.w - 18 - w) + 0.5;
    const ly = Math.round(plot.y + plot.h - 18 - h) + 0.5;
    shapes.push({ kind: 'rect', role: 'legend', x: lx, y: ly, w, h, fill: '#ffffff', stroke: '#cccccc' });
    l.series.forEach((s, i) => {
      const cy = ly + 6 + row * i + row / 2;
      const shape = s.marker ?? 'square';
      shapes.push({
        kind: 'marker', role: 'legend-symbol', series: s.name, shape, x: lx + 8 + sym / 2, y: cy,
        size: MARKER[shape] * MARKER.legendScale, fill: s.color,
      });
      shapes.push({
        kind: 'text', role: 'legend-label', x: lx + 8 + sym + 6, y: cy + capH(FONT.legend) / 2, text: s.name, size: FONT.legend, anchor: 'start', fill: TEXT,
      });
    });
  }
  if (l.title) {
    shapes.push({
      kind: 'text', role: 'title', x: plot.x + plot.w / 2, y: PAD + capH(FONT.title), text: l.title, size: FONT.title, anchor: 'middle', fill: TEXT,
    });
  }
  const axis = (a: Axis): Axis => ({ title: a.title, domain: a.domain, ticks: a.ticks, labels: a.labels });
  return { width, height, plot, x: axis(xAxis), y: axis(yAxis), series: l.series, shapes };
}

function axisFrom(title: string, domain: [number, number], count: number, minStep: number, fixedStep?: number) {
  const step = fixedStep ?? niceStep(domain[0], domain[1], count, minStep);
  const ticks = niceTicks(domain[0], domain[1], step);
  return { title, domain, step, ticks, labels: ticks.map((t) => formatTick(t, step)) };
}

/**
 * The course's accuracy chart: x "epochs", y "accuracy" from 0 (or `yMin`) to 1.0, a line per
 * series ("train" with circles, "test" with squares; no markers beyond 60 points), legend at
 * the lower right. Throws a ShapeError for empty, non-finite, out-of-range or mismatched
 * series, and for a yMin outside [0, 1) or above an accuracy.
 */
export function accuracyChart(history: AccuracyHistory, opts: AccuracyOptions = {}): ChartModel {
  if (!history || typeof history !== 'object') throw new ShapeError('accuracy chart: expected { trainAcc, testAcc }');
  checkValues('accuracy chart: trainAcc', history.trainAcc, 0, 1);
  checkValues('accuracy chart: testAcc', history.testAcc, 0, 1);
  const n = history.trainAcc.length;
  if (history.testAcc.length !== n) {
    throw new ShapeError(`accuracy chart: trainAcc has ${n} values but testAcc has ${history.testAcc.length}; expected one of each per epoch`);
  }
  const epochs = history.epochs ?? Array.from({ length: n }, (_, i) => i);
  if (history.epochs) {
    checkValues('accuracy chart: epochs', history.epochs);
    if (history.epochs.length !== n) throw new ShapeError(`accuracy chart: epochs has ${history.epochs.length} values, expected ${n} (one per accuracy)`);
  }
  const size = checkSize(opts);
  let lo = Math.min(...epochs);
  let hi = Math.max(...epochs);
  if (hi === lo) hi = lo + 1;
  const integer = epochs.every(Number.isInteger);
  const xAxis = { ...axisFrom('epochs', [lo, hi], size.w / 40, integer ? 1 : 0), pad: 8 };
  const floor = accuracyFloor(history, opts.yMin ?? 0);
  const yAxis = axisFrom('accuracy', [floor.yMin, 1], 10, 0, floor.step);
  const markers = n <= MARKER.maxPoints;
  const series: Series[] = [
    { name: 'train', color: SERIES_COLORS.train, marker: markers ? 'circle' : null, points: history.trainAcc.map((a, i) => [epochs[i], a]) },
    { name: 'test', color: SERIES_COLORS.test, marker: markers ? 'square' : null, points: history.testAcc.map((a, i) => [epochs[i], a]) },
  ];
  return build({ xAxis, yAxis, series, lineWidth: 2, legend: true, title: opts.title, size });
}

/** The y axis's lower end of an accuracy chart (see AccuracyOptions.yMin), and for 'auto' its tick step. */
function accuracyFloor(history: AccuracyHistory, yMin: number | 'auto'): { yMin: number; step?: number } {
  let lo = 1;
  for (const a of [...history.trainAcc, ...history.testAcc]) lo = Math.min(lo, a);
  if (yMin === 'auto') {
    // the round value below the lowest point, in steps of about a fifth of the span left
    const low = Math.min(lo, 0.999);
    const step = niceStep(low, 1, 5);
    const floor = Math.floor(low / step - 1e-9) * step; // strictly below: no point on the frame
    // ticks at that step from the floor up; below ~0.5 the course's 0..1 with 0.1 ticks
    return floor < 0.5 ? { yMin: 0 } : { yMin: Number(floor.toFixed(stepDecimals(step))), step };
  }
  if (typeof yMin !== 'number' || !(yMin >= 0 && yMin < 1)) {
    throw new ShapeError(`accuracy chart: yMin must be 'auto' or a number in [0, 1), got ${typeof yMin === 'number' ? yMin : JSON.stringify(yMin)}`);
  }
  if (yMin > lo) throw new ShapeError(`accuracy chart: yMin ${yMin} is above the lowest accuracy, ${lo}; the curve would leave the plot`);
  return { yMin };
}

/**
 * Loss per iteration: x "iterations" (from 0), y "loss" (from 0 or below). Above
 * `maxPoints` values the curve is bucket-averaged. Throws a ShapeError for an empty or
 * non-finite series.
 */
export function lossChart(losses: readonly number[], opts: LossOptions = {}): ChartModel {
  checkValues('loss chart: losses', losses);
  const maxPoints = opts.maxPoints ?? 2000;
  if (!Number.isInteger(maxPoints) || maxPoints < 2) throw new ShapeError(`loss chart: maxPoints must be an integer >= 2, got ${maxPoints}`);
  const size = checkSize(opts);
  const points = bucketAverage(losses, maxPoints);
  const xAxis = { ...axisFrom('iterations', [0, Math.max(1, losses.length - 1)], size.w / 40, 1), pad: 0 };
  let lo = 0;
  let hi = 0;
  for (const [, y] of points) {
    lo = Math.min(lo, y);
    hi = Math.max(hi, y);
  }
  if (hi === lo) hi = lo + 1;
  // extend the y range to whole ticks so the curve never touches the frame
  const step = niceStep(lo, hi, size.h / 60);
  const yAxis = axisFrom('loss', [Math.floor(lo / step + 1e-9) * step, Math.ceil(hi / step - 1e-9) * step], size.h / 60, 0);
  const series: Series[] = [{ name: 'train', color: SERIES_COLORS.train, marker: null, points }];
  return build({ xAxis, yAxis, series, lineWidth: 1.5, legend: false, title: opts.title, size });
}
