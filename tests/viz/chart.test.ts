// The training charts: one model (nice ticks, series, legend) drawn as SVG and as PNG
// (pure-JS rasterizer, bitmap font), checked against the data they show.
import { describe, expect, it } from 'vitest';
import { ShapeError } from '../../src/errors.js';
import {
  SERIES_COLORS, accuracyChart, bucketAverage, lossChart, niceStep, niceTicks, type ChartModel, type Shape,
} from '../../src/viz/chart.js';
import { accuracySvg, chartToSvg, lossSvg } from '../../src/viz/chart-svg.js';
import { accuracyPng, chartToPng, chartToRgba, lossPng } from '../../src/viz/chart-raster.js';
import { glyphFor, textUnits } from '../../src/viz/font.js';
import { decodePng } from '../../src/viz/png.js';

const trainAcc = [0.12, 0.85, 0.93, 0.96, 0.975, 0.983, 0.988, 0.991, 0.993, 0.995];
const testAcc = [0.11, 0.86, 0.925, 0.955, 0.968, 0.975, 0.979, 0.981, 0.982, 0.984];

const texts = (svg: string, cls: string) =>
  [...svg.matchAll(new RegExp(`<text class="${cls}"[^>]*>([^<]*)</text>`, 'g'))].map((m) => m[1]);
const rgb = (hex: string) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
const markers = (m: ChartModel, series: string) =>
  m.shapes.filter((s): s is Extract<Shape, { kind: 'marker' }> => s.kind === 'marker' && s.role === 'marker' && s.series === series);

/** The RGB of device pixel (x, y) of a decoded PNG. */
function pixel(png: ReturnType<typeof decodePng>, x: number, y: number): number[] {
  const p = (Math.floor(y) * png.width + Math.floor(x)) * png.channels;
  return [png.data[p], png.data[p + 1], png.data[p + 2]];
}
const near = (a: number[], b: number[], tol = 3) => a.every((v, i) => Math.abs(v - b[i]) <= tol);

describe('nice ticks', () => {
  it('picks 1, 2 or 5 times a power of ten, about as many as asked, inside the range', () => {
    expect(niceStep(0, 1, 10)).toBeCloseTo(0.1, 12);
    expect(niceTicks(0, 1, 0.1)).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
    expect(niceStep(0, 5999, 12)).toBe(500);
    expect(niceStep(0, 9, 12, 1)).toBe(1); // whole epochs
    expect(niceStep(0, 3, 12)).toBeCloseTo(0.2, 12);
    expect(niceTicks(-0.05, 2.4, 0.5)).toEqual([0, 0.5, 1, 1.5, 2]);
    for (const [lo, hi, count] of [[0, 1, 10], [0, 19, 12], [0.3, 2.71, 5], [0, 123456, 8], [-3.2, 0.01, 6], [0, 0.0042, 5]]) {
      const step = niceStep(lo, hi, count);
      const mantissa = step / 10 ** Math.floor(Math.log10(step) + 1e-9);
      expect([1, 2, 5]).toContain(Math.round(mantissa * 1e9) / 1e9);
      const ticks = niceTicks(lo, hi, step);
      expect(ticks.length).toBeGreaterThanOrEqual(Math.floor(count / 2.5));
      expect(ticks.length).toBeLessThanOrEqual(Math.ceil(count * 2.5) + 1);
      for (const t of ticks) {
        expect(t).toBeGreaterThanOrEqual(lo - 1e-9);
        expect(t).toBeLessThanOrEqual(hi + 1e-9);
        expect(Math.abs(t / step - Math.round(t / step))).toBeLessThan(1e-6);
      }
    }
  });
});

describe('accuracy chart', () => {
  it('the SVG has axes with tick labels for the data range, titles, a legend and a line plus markers per series', () => {
    const svg = accuracySvg({ trainAcc, testAcc }, { title: 'SimpleConvNet' });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg.match(/class="axis"/g)).toHaveLength(2);
    expect(texts(svg, 'y-label')).toEqual(['0.0', '0.1', '0.2', '0.3', '0.4', '0.5', '0.6', '0.7', '0.8', '0.9', '1.0']);
    expect(texts(svg, 'x-label')).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(texts(svg, 'x-title')).toEqual(['epochs']);
    expect(texts(svg, 'y-title')).toEqual(['accuracy']);
    expect(texts(svg, 'title')).toEqual(['SimpleConvNet']);
    expect(texts(svg, 'legend-label')).toEqual(['train', 'test']);
    expect(svg.match(/class="legend-symbol"/g)).toHaveLength(2);
    for (const [series, tag] of [['train', 'circle'], ['test', 'rect']]) {
      const paths = [...svg.matchAll(new RegExp(`<path class="line" data-series="${series}" d="([^"]*)"`, 'g'))];
      expect(paths).toHaveLength(1);
      expect(paths[0][1].match(/[ML]/g)).toHaveLength(10);
      expect(svg.match(new RegExp(`<${tag} class="marker" data-series="${series}"`, 'g'))).toHaveLength(10);
    }
    expect(svg).not.toContain('NaN');
  });

  it('places the points where the data says: y from 0 (bottom) to 1 (top), epochs across with 8 px padding', () => {
    const m = accuracyChart({ trainAcc, testAcc });
    expect(m.y.domain).toEqual([0, 1]);
    expect(m.x.domain).toEqual([0, 9]);
    for (const [series, acc] of [['train', trainAcc], ['test', testAcc]] as const) {
      const ms = markers(m, series);
      expect(ms).toHaveLength(acc.length);
      ms.forEach((mk, i) => {
        expect(mk.x).toBeCloseTo(m.plot.x + 8 + (i / 9) * (m.plot.w - 16), 6);
        expect(mk.y).toBeCloseTo(m.plot.y + m.plot.h * (1 - acc[i]), 6);
      });
    }
    expect(markers(m, 'train')[0].shape).toBe('circle');
    expect(markers(m, 'test')[0].shape).toBe('square');
    const withEpochs = accuracyChart({ trainAcc: [0.5, 0.6, 0.7], testAcc: [0.4, 0.5, 0.6], epochs: [10, 20, 30] });
    expect(withEpochs.x.labels).toEqual(['10', '12', '14', '16', '18', '20', '22', '24', '26', '28', '30']);
    expect(withEpochs.series[0].points).toEqual([[10, 0.5], [20, 0.6], [30, 0.7]]);
  });

  it("yMin: 'auto' starts the y axis at a round value below the lowest accuracy; a number starts it there", () => {
    // full MNIST: every accuracy between 0.975 and 0.9978
    const full = { trainAcc: [0.9753, 0.9861, 0.9932, 0.9978], testAcc: [0.9791, 0.9838, 0.9902, 0.991] };
    const m = accuracyChart(full, { yMin: 'auto' });
    expect(m.y.domain).toEqual([0.975, 1]);
    expect(m.y.labels).toEqual(['0.975', '0.980', '0.985', '0.990', '0.995', '1.000']);
    const lowest = markers(m, 'train')[0];
    expect(lowest.y).toBeCloseTo(m.plot.y + m.plot.h * (1 - (0.9753 - 0.975) / 0.025), 6);
    for (const mk of [...markers(m, 'train'), ...markers(m, 'test')]) {
      expect(mk.y).toBeGreaterThanOrEqual(m.plot.y);
      expect(mk.y).toBeLessThanOrEqual(m.plot.y + m.plot.h);
    }
    // the course's run: from 0.86 up; a perfect run still gets a range; low accuracies go to 0
    expect(accuracyChart({ trainAcc: [0.86, 0.95], testAcc: [0.87, 0.94] }, { yMin: 'auto' }).y.domain[0]).toBe(0.84);
    expect(accuracyChart({ trainAcc: [1, 1], testAcc: [1, 1] }, { yMin: 'auto' }).y.domain).toEqual([0.9988, 1]);
    expect(accuracyChart({ trainAcc: [0.1, 0.5], testAcc: [0.12, 0.4] }, { yMin: 'auto' }).y.domain).toEqual([0, 1]);
    expect(accuracyChart(full, { yMin: 0.9 }).y.domain).toEqual([0.9, 1]);
    expect(accuracyChart(full).y.domain).toEqual([0, 1]);
    expect(() => accuracyChart(full, { yMin: 0.98 })).toThrow(/yMin 0.98 is above the lowest accuracy, 0.9753/);
    expect(() => accuracyChart(full, { yMin: 1 })).toThrow(/yMin must be 'auto' or a number in \[0, 1\), got 1/);
    expect(() => accuracyChart(full, { yMin: 'top' as 'auto' })).toThrow(/got "top"/);
  });

  it('escapes the title and leaves it out when not given', () => {
    const svg = accuracySvg({ trainAcc, testAcc }, { title: 'run <1> & "best" \'Adam\'' });
    expect(texts(svg, 'title')).toEqual(['run &lt;1&gt; &amp; &quot;best&quot; &#39;Adam&#39;']);
    expect(svg).not.toContain('<1>');
    expect(texts(accuracySvg({ trainAcc, testAcc }), 'title')).toEqual([]);
  });

  it('long runs get plain lines and fewer, still nice, epoch ticks', () => {
    const acc = Array.from({ length: 200 }, (_, i) => i / 200);
    const m = accuracyChart({ trainAcc: acc, testAcc: acc });
    expect(markers(m, 'train')).toHaveLength(0);
    expect(m.x.labels).toEqual(['0', '20', '40', '60', '80', '100', '120', '140', '160', '180']);
    const svg = chartToSvg(m);
    expect(svg).not.toContain('class="marker"');
    expect(svg.match(/<path class="line" data-series="train" d="([^"]*)"/)![1].match(/L/g)).toHaveLength(199);
  });

  it('refuses bad histories with errors that say what is wrong', () => {
    const bad = (h: unknown, re: RegExp) => expect(() => accuracySvg(h as never)).toThrow(re);
    bad({ trainAcc: [], testAcc: [] }, /trainAcc is empty/);
    bad({ trainAcc: [0.5, NaN], testAcc: [0.4, 0.5] }, /trainAcc\[1\] is NaN, expected a finite number/);
    bad({ trainAcc: [0.5], testAcc: [Infinity] }, /testAcc\[0\] is Infinity/);
    bad({ trainAcc: [0.5, 0.6], testAcc: [0.4] }, /trainAcc has 2 values but testAcc has 1/);
    bad({ trainAcc: [0.5, 1.5], testAcc: [0.4, 0.5] }, /trainAcc\[1\] is 1.5, expected a value in \[0, 1\]/);
    bad({ trainAcc: [0.5], testAcc: [0.4], epochs: [1, 2] }, /epochs has 2 values, expected 1/);
    bad({ trainAcc: '0.5', testAcc: [0.4] }, /trainAcc must be an array/);
    bad(null, /expected \{ trainAcc, testAcc \}/);
    expect(() => accuracySvg({ trainAcc, testAcc }, { width: 10 })).toThrow(ShapeError);
    expect(() => accuracyPng({ trainAcc, testAcc }, { scale: 0 })).toThrow(/scale must be a number in \[0.25, 8\]/);
  });
});

describe('accuracy chart as PNG', () => {
  // series far apart, so each point's pixels belong to one series only
  const h = { trainAcc: [0.2, 0.9, 0.6], testAcc: [0.1, 0.5, 0.3] };

  it('decodes to twice the chart size by default, or to the scale asked for', () => {
    const m = accuracyChart(h);
    const png = decodePng(chartToPng(m));
    expect([png.width, png.height]).toEqual([Math.ceil(m.width * 2), Math.ceil(m.height * 2)]);
    const one = decodePng(accuracyPng(h, { scale: 1 }));
    expect([one.width, one.height]).toEqual([m.width, m.height]);
  });

  it("draws each series' color at its points and on its segments, anti-aliased; white away from the plot", () => {
    const m = accuracyChart(h);
    const png = decodePng(chartToPng(m));
    for (const [series, color] of [['train', SERIES_COLORS.train], ['test', SERIES_COLORS.test]] as const) {
      const ms = markers(m, series);
      for (const mk of ms) {
        // the marker's centre and a ring 2 CSS px around it
        expect(pixel(png, mk.x * 2, mk.y * 2)).toEqual(rgb(color));
        for (const [dx, dy] of [[2, 0], [-2, 0], [0, 2], [0, -2]]) expect(near(pixel(png, (mk.x + dx) * 2, (mk.y + dy) * 2), rgb(color))).toBe(true);
      }
      // the middle of the first segment is on the line
      const mid = [(ms[0].x + ms[1].x), (ms[0].y + ms[1].y)];
      expect(near(pixel(png, mid[0], mid[1]), rgb(color), 10)).toBe(true);
    }
    // the steep first train segment has blended edge pixels (neither white nor the line color)
    const [a, b] = markers(m, 'train');
    const row = Math.round(a.y + b.y); // device row through the segment's middle
    const line = Array.from({ length: png.width }, (_, x) => pixel(png, x, row));
    const blends = line.filter((p) => !near(p, [255, 255, 255], 8) && !near(p, rgb(SERIES_COLORS.train), 8) && p[2] > p[0]);
    expect(blends.length).toBeGreaterThan(0);
    // corners and the margin left of the y labels are white; nothing of the series outside the plot
    for (const [x, y] of [[1, 1], [png.width - 2, 1], [1, png.height - 2], [png.width - 2, png.height - 2], [20, 40]]) {
      expect(pixel(png, x, y)).toEqual([255, 255, 255]);
    }
    let outside = 0;
    for (let y = 0; y < png.height; y++) {
      for (let x = 0; x < png.width; x++) {
        const inPlot = x >= (m.plot.x - 6) * 2 && x <= (m.plot.x + m.plot.w + 6) * 2 && y >= (m.plot.y - 6) * 2 && y <= (m.plot.y + m.plot.h + 6) * 2;
        if (!inPlot && (near(pixel(png, x, y), rgb(SERIES_COLORS.train), 20) || near(pixel(png, x, y), rgb(SERIES_COLORS.test), 20))) outside++;
      }
    }
    expect(outside).toBe(0);
  });

  it('draws its text: a title adds dark pixels above the plot, the axis titles and labels are dark', () => {
    const dark = (png: ReturnType<typeof decodePng>, x0: number, y0: number, x1: number, y1: number) => {
      let n = 0;
      for (let y = Math.floor(y0); y < y1; y++) for (let x = Math.floor(x0); x < x1; x++) if (pixel(png, x, y)[0] < 100) n++;
      return n;
    };
    const plain = accuracyChart(h);
    const titled = accuracyChart(h, { title: 'SimpleConvNet' });
    const a = decodePng(chartToPng(plain));
    const b = decodePng(chartToPng(titled));
    expect(dark(a, 0, 0, a.width, plain.plot.y * 2 - 12)).toBe(0);
    expect(dark(b, 0, 0, b.width, titled.plot.y * 2 - 12)).toBeGreaterThan(100);
    // below the x axis: the tick labels and "epochs"; left of the y axis: labels and "accuracy"
    expect(dark(a, plain.plot.x * 2, (plain.plot.y + plain.plot.h + 6) * 2, (plain.plot.x + plain.plot.w) * 2, a.height)).toBeGreaterThan(200);
    expect(dark(a, 0, plain.plot.y * 2, (plain.plot.x - 6) * 2, (plain.plot.y + plain.plot.h) * 2)).toBeGreaterThan(300);
  });

  it('renders the text bitmap at whole font units: a label is as wide as its glyphs', () => {
    // one text shape on a blank chart: its dark columns span textUnits * unit device pixels
    const m: ChartModel = {
      width: 100, height: 30, plot: { x: 0, y: 0, w: 100, h: 30 }, series: [],
      x: { title: '', domain: [0, 1], ticks: [], labels: [] }, y: { title: '', domain: [0, 1], ticks: [], labels: [] },
      shapes: [{ kind: 'text', role: 't', x: 10, y: 20, text: '0.5%', size: 10, anchor: 'start', fill: '#000000' }],
    };
    const img = chartToRgba(m, { scale: 2 });
    const cols = new Set<number>();
    let black = 0;
    for (let y = 0; y < img.height; y++) {
      for (let x = 0; x < img.width; x++) {
        const v = img.data[(y * img.width + x) * 4];
        if (v === 0) { cols.add(x); black++; } else expect(v).toBe(255); // crisp: no grey text pixels
      }
    }
    expect(Math.min(...cols)).toBe(20);
    expect(Math.max(...cols) - Math.min(...cols) + 1).toBe(textUnits('0.5%') * 2);
    // every cell of every glyph, as a 2x2 block
    expect(black).toBe([...'0.5%'].reduce((n, ch) => n + glyphFor(ch).cells.length, 0) * 4);
  });
});

describe('the bitmap font', () => {
  it('has a glyph for every letter, digit and the punctuation the charts print', () => {
    const fallback = glyphFor('\u2603');
    expect(fallback).toBe(glyphFor('?'));
    for (const ch of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,:;-+=_%/()[]\'"!#*<>&|') {
      expect(glyphFor(ch), ch).not.toBe(fallback);
      expect(glyphFor(ch).cells.length, ch).toBeGreaterThan(0);
    }
    expect(textUnits('1.0')).toBe(5 + 1 + 1 + 1 + 5);
  });
});

describe('loss chart', () => {
  it('averages long runs in equal buckets at their middle index', () => {
    expect(bucketAverage([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3.5, 4.5]]);
    expect(bucketAverage([3, 1], 2000)).toEqual([[0, 3], [1, 1]]);
    const loss = Array.from({ length: 6000 }, (_, i) => 2.3 * Math.exp(-i / 500) + 0.05);
    const m = lossChart(loss);
    const pts = m.series[0].points;
    expect(pts).toHaveLength(2000);
    expect(pts[0][0]).toBe(1);
    expect(pts[0][1]).toBeCloseTo((loss[0] + loss[1] + loss[2]) / 3, 12);
    expect(pts[1999][0]).toBe(5998);
    expect(lossChart(loss, { maxPoints: 100 }).series[0].points).toHaveLength(100);
    const svg = lossSvg(loss);
    expect(svg.match(/<path class="line" data-series="train" d="([^"]*)"/)![1].match(/[ML]/g)).toHaveLength(2000);
  });

  it('has axes from 0 that cover the data, nice labels, titles and no legend', () => {
    const loss = Array.from({ length: 6000 }, (_, i) => 2.3 * Math.exp(-i / 500) + 0.05);
    const svg = lossSvg(loss, { title: 'loss' });
    expect(texts(svg, 'x-title')).toEqual(['iterations']);
    expect(texts(svg, 'y-title')).toEqual(['loss']);
    expect(texts(svg, 'x-label')).toEqual(['0', '500', '1000', '1500', '2000', '2500', '3000', '3500', '4000', '4500', '5000', '5500']);
    expect(texts(svg, 'y-label')).toEqual(['0.0', '0.5', '1.0', '1.5', '2.0', '2.5']);
    expect(svg).not.toContain('legend');
    const m = lossChart([0.5, 0.25, 0.125]);
    expect(m.y.domain[0]).toBe(0);
    expect(m.y.domain[1]).toBeGreaterThanOrEqual(0.5);
    expect(m.x.labels).toEqual(['0', '1', '2']);
  });

  it("PNG: the curve's color at its points, white far above the falling curve", () => {
    const loss = Array.from({ length: 100 }, (_, i) => 2 - (1.9 * i) / 99);
    const m = lossChart(loss);
    const png = decodePng(lossPng(loss));
    expect([png.width, png.height]).toEqual([m.width * 2, m.height * 2]);
    const line = m.shapes.find((s): s is Extract<Shape, { kind: 'polyline' }> => s.kind === 'polyline')!;
    expect(line.points).toHaveLength(100);
    for (const i of [10, 50, 90]) {
      const [x, y] = line.points[i];
      expect(y).toBeCloseTo(m.plot.y + m.plot.h * (1 - loss[i] / m.y.domain[1]), 6);
      expect(near(pixel(png, x * 2, y * 2), rgb(SERIES_COLORS.train), 10)).toBe(true);
      // 30 CSS px above a point of a falling curve, between grid lines, is white
      const above = pixel(png, x * 2 + 1, (y - 30) * 2);
      if (y - 30 > m.plot.y) expect(near(above, [255, 255, 255], 40)).toBe(true);
    }
  });

  it('refuses empty and non-finite losses and a bad maxPoints', () => {
    expect(() => lossSvg([])).toThrow(/losses is empty/);
    expect(() => lossPng([1, NaN])).toThrow(/losses\[1\] is NaN/);
    expect(() => lossSvg([1, -Infinity])).toThrow(/losses\[1\] is -Infinity/);
    expect(() => lossSvg([1, 2], { maxPoints: 1 })).toThrow(/maxPoints must be an integer >= 2, got 1/);
  });
});
