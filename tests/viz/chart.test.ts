import { describe, expect, it } from 'vitest';
import { accuracySpec, lossSpec } from '../../src/viz/accuracy-plot.js';
import { accuracySvg, findChartFont, lossSvg, svgToPng } from '../../src/viz/accuracy-plot-node.js';
import { decodePng } from '../../src/viz/png.js';

const trainAcc = [0.12, 0.85, 0.93, 0.96, 0.975, 0.983, 0.988, 0.991, 0.993, 0.995];
const testAcc = [0.11, 0.86, 0.925, 0.955, 0.968, 0.975, 0.979, 0.981, 0.982, 0.984];

/** Pixels that are not (near) white in an RGB(A) PNG. */
function inkPixels(png: Uint8Array): { count: number; width: number; height: number } {
  const d = decodePng(png);
  let count = 0;
  for (let i = 0; i < d.width * d.height; i++) {
    const p = i * d.channels;
    if (d.data[p] < 240 || d.data[p + 1] < 240 || d.data[p + 2] < 240) count++;
  }
  return { count, width: d.width, height: d.height };
}

describe('accuracy chart', () => {
  it('the SVG has the axis titles, the 0..1 y axis and both series with markers', async () => {
    const svg = await accuracySvg({ trainAcc, testAcc }, { title: 'SimpleConvNet' });
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('>epochs</text>');
    expect(svg).toContain('>accuracy</text>');
    expect(svg).toContain('>SimpleConvNet</text>');
    expect(svg).toContain('>0.0</text>');
    expect(svg).toContain('>1.0</text>');
    expect(svg).toContain('>train</text>'); // legend
    expect(svg).toContain('>test</text>');
    // one line per series (Vega draws each in its own group, labelled with its first point)
    const lines = [...svg.matchAll(/class="mark-line role-mark[^>]*><path aria-label="[^"]*series: (\w+)"/g)].map((m) => m[1]);
    expect(lines).toEqual(['train', 'test']);
    // the point overlay: one marker per value, train and test
    const symbols = svg.slice(svg.indexOf('class="mark-symbol role-mark'));
    expect(symbols.slice(0, symbols.indexOf('</g>')).match(/<path/g)?.length).toBe(trainAcc.length + testAcc.length);
  });
  it('the spec follows the course: epochs from 0, y domain [0, 1], train/test legend', () => {
    const spec = accuracySpec({ trainAcc: [0.5, NaN, 0.7], testAcc: [0.4] }) as any;
    expect(spec.data.values).toEqual([
      { epoch: 0, accuracy: 0.5, series: 'train' },
      { epoch: 2, accuracy: 0.7, series: 'train' },
      { epoch: 0, accuracy: 0.4, series: 'test' },
    ]);
    expect(spec.encoding.y.scale.domain).toEqual([0, 1]);
    expect(spec.encoding.x.title).toBe('epochs');
    expect(spec.encoding.color.scale.domain).toEqual(['train', 'test']);
    const withEpochs = accuracySpec({ trainAcc: [0.5], testAcc: [0.4], epochs: [1] }) as any;
    expect(withEpochs.data.values[0].epoch).toBe(1);
  });
  it('renders to a PNG of the requested width that is not blank, with text drawn', async () => {
    const svg = await accuracySvg({ trainAcc, testAcc });
    const png = svgToPng(svg, { width: 600 });
    const { count, width, height } = inkPixels(png);
    expect(width).toBe(600);
    expect(height).toBeGreaterThan(300);
    expect(height).toBeLessThan(500);
    expect(count).toBeGreaterThan(0.02 * width * height);
    expect(count).toBeLessThan(0.5 * width * height);
    if (findChartFont().files.length > 0) {
      // the same chart without its <text> elements has visibly fewer dark pixels: text is rendered
      const noText = inkPixels(svgToPng(svg.replace(/<text[^>]*>[^<]*<\/text>/g, ''), { width: 600 }));
      expect(count - noText.count).toBeGreaterThan(1000);
    }
  });
  it('draws an empty history and a long one without failing', async () => {
    const empty = await accuracySvg({ trainAcc: [], testAcc: [] });
    expect(empty).toContain('>accuracy</text>');
    const long = await accuracySvg({ trainAcc: Array.from({ length: 200 }, (_, i) => i / 200), testAcc: [] });
    expect(long).toContain('>100</text>');
    expect(long).not.toContain('mark-symbol role-mark'); // too many points for markers
  });
  it('defaults to twice the SVG size and survives missing font files', async () => {
    const svg = await accuracySvg({ trainAcc: [0.5], testAcc: [] });
    const svgWidth = Number(/width="(\d+)"/.exec(svg)![1]);
    expect(decodePng(svgToPng(svg)).width).toBe(2 * svgWidth);
    expect(decodePng(svgToPng(svg, { width: 300, fontFiles: ['/no/such/font.ttf'] })).width).toBe(300);
  });
});

describe('loss chart', () => {
  it('has the axis titles and averages long runs', async () => {
    const loss = Array.from({ length: 6000 }, (_, i) => 2.3 * Math.exp(-i / 500) + 0.05);
    const spec = lossSpec(loss) as any;
    expect(spec.data.values.length).toBeLessThanOrEqual(2000);
    expect(spec.data.values[0].loss).toBeCloseTo(2.3 * (1 + Math.exp(-1 / 500) + Math.exp(-2 / 500)) / 3 + 0.05, 5);
    const svg = await lossSvg(loss);
    expect(svg).toContain('>iterations</text>');
    expect(svg).toContain('>loss</text>');
    const { count, width } = inkPixels(svgToPng(svg, { width: 500 }));
    expect(width).toBe(500);
    expect(count).toBeGreaterThan(1000);
  });
});
