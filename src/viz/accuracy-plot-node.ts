/**
 * Training charts rendered in Node: Vega-Lite spec -> Vega View -> SVG (no canvas needed),
 * and SVG -> PNG with @resvg/resvg-js. Node-only. Vega and resvg are loaded on first use,
 * so importing this module costs nothing until a chart is drawn.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ResvgRenderOptions } from '@resvg/resvg-js';
import { WasmCnnError } from '../errors.js';
import { type AccuracyHistory, type ChartOptions, type LossOptions, type VegaLiteSpec, accuracySpec, lossSpec } from './accuracy-plot.js';

export { accuracySpec, lossSpec, type AccuracyHistory, type ChartOptions, type LossOptions } from './accuracy-plot.js';

/** Renders a Vega-Lite spec to an SVG string (text measured by Vega's estimate; no canvas). */
export async function specToSvg(spec: VegaLiteSpec): Promise<string> {
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  const compiled = vl.compile(spec as unknown as Parameters<typeof vl.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * The course's accuracy chart as SVG: x "epochs", y "accuracy" from 0 to 1.0, lines with
 * markers for "train" (circles) and "test" (squares), legend at the lower right.
 */
export function accuracySvg(history: AccuracyHistory, opts: ChartOptions = {}): Promise<string> {
  return specToSvg(accuracySpec(history, opts));
}

/** Loss per iteration as SVG (x "iterations", y "loss"). */
export function lossSvg(trainLoss: readonly number[], opts: LossOptions = {}): Promise<string> {
  return specToSvg(lossSpec(trainLoss, opts));
}

export interface SvgToPngOptions {
  /** Output width in pixels (height follows the aspect ratio). Default: twice the SVG's width. */
  width?: number;
  /** Font files to render text with. Default: DejaVu Sans (or a common sans font) where found. */
  fontFiles?: string[];
  /** Background color behind transparent areas (default white). */
  background?: string;
}

/** Sans fonts looked for in this order: [path, family name]. */
const FONT_CANDIDATES: [string, string][] = [
  ['/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', 'DejaVu Sans'], // Debian, Ubuntu
  ['/usr/share/fonts/dejavu-sans-fonts/DejaVuSans.ttf', 'DejaVu Sans'], // Fedora
  ['/usr/share/fonts/dejavu/DejaVuSans.ttf', 'DejaVu Sans'], // Alpine, older Fedora
  ['/usr/share/fonts/TTF/DejaVuSans.ttf', 'DejaVu Sans'], // Arch
  ['/usr/local/share/fonts/dejavu/DejaVuSans.ttf', 'DejaVu Sans'], // FreeBSD
  ['/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf', 'Liberation Sans'],
  ['/System/Library/Fonts/Supplemental/Arial.ttf', 'Arial'], // macOS
  ['/Library/Fonts/Arial.ttf', 'Arial'],
  ['C:\\Windows\\Fonts\\arial.ttf', 'Arial'],
];

let fontCache: { files: string[]; family: string | undefined } | undefined;

/** The font resvg will use: the first candidate that exists, or none (then system fonts are scanned). */
export function findChartFont(): { files: string[]; family: string | undefined } {
  if (!fontCache) {
    const hit = FONT_CANDIDATES.find(([p]) => {
      try {
        return existsSync(p);
      } catch {
        return false;
      }
    });
    fontCache = hit ? { files: [hit[0]], family: hit[1] } : { files: [], family: undefined };
  }
  return fontCache;
}

type ResvgModule = typeof import('@resvg/resvg-js');
let resvgModule: ResvgModule | undefined;

function loadResvg(): ResvgModule {
  if (!resvgModule) {
    try {
      resvgModule = createRequire(import.meta.url)('@resvg/resvg-js') as ResvgModule;
    } catch (e) {
      throw new WasmCnnError(
        `svgToPng needs @resvg/resvg-js (a native addon) for this platform: ${e instanceof Error ? e.message : e}`,
      );
    }
  }
  return resvgModule;
}

/**
 * Rasterizes an SVG to PNG bytes with resvg. Text uses `fontFiles`, else DejaVu Sans (or
 * another common sans font) when one is found, else whatever system fonts resvg finds;
 * with no font at all the chart is drawn without its text.
 */
export function svgToPng(svg: string, opts: SvgToPngOptions = {}): Uint8Array {
  const { Resvg } = loadResvg();
  const found = opts.fontFiles?.length ? { files: opts.fontFiles.filter((f) => existsSync(f)), family: undefined } : findChartFont();
  const font: NonNullable<ResvgRenderOptions['font']> = found.files.length
    ? { loadSystemFonts: false, fontFiles: found.files }
    : { loadSystemFonts: true };
  if (found.family) {
    font.defaultFontFamily = found.family;
    font.sansSerifFamily = found.family;
  }
  const options: ResvgRenderOptions = { font, background: opts.background ?? 'white', logLevel: 'off' };
  if (opts.width !== undefined) {
    if (!Number.isInteger(opts.width) || opts.width < 1) throw new WasmCnnError(`svgToPng: width must be an integer >= 1, got ${opts.width}`);
    options.fitTo = { mode: 'width', value: opts.width };
  } else {
    options.fitTo = { mode: 'zoom', value: 2 };
  }
  const png = new Resvg(svg, options).render().asPng();
  return new Uint8Array(png.buffer, png.byteOffset, png.byteLength);
}
