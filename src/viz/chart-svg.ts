/**
 * Chart models (chart.ts) as SVG strings: one element per shape, classed by its role,
 * series lines and markers tagged with `data-series`. Platform-neutral, no dependencies.
 */
import {
  type AccuracyHistory, type AccuracyOptions, type ChartModel, type ChartOptions, type LossOptions, type Shape, accuracyChart, lossChart,
} from './chart.js';

const FONT_FAMILY = "'DejaVu Sans', Verdana, Arial, sans-serif";

/** Escapes text and attribute values (&, <, >, quotes). */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const num = (v: number) => String(Math.round(v * 100) / 100);

function shapeSvg(s: Shape, clipIds: Map<string, string>): string {
  switch (s.kind) {
    case 'rect':
      return `<rect class="${s.role}" x="${num(s.x)}" y="${num(s.y)}" width="${num(s.w)}" height="${num(s.h)}" ` +
        `fill="${s.fill ?? 'none'}"${s.stroke ? ` stroke="${s.stroke}"` : ''}/>`;
    case 'line':
      return `<line class="${s.role}" x1="${num(s.x1)}" y1="${num(s.y1)}" x2="${num(s.x2)}" y2="${num(s.y2)}" ` +
        `stroke="${s.stroke}" stroke-width="${s.width}"/>`;
    case 'polyline': {
      const key = `${s.clip.x},${s.clip.y},${s.clip.w},${s.clip.h}`;
      const d = s.points.map(([x, y], i) => `${i ? 'L' : 'M'}${num(x)},${num(y)}`).join('');
      return `<path class="${s.role}" data-series="${escapeXml(s.series)}" d="${d}" fill="none" stroke="${s.stroke}" ` +
        `stroke-width="${s.width}" stroke-linejoin="round" stroke-linecap="round" clip-path="url(#${clipIds.get(key)})"/>`;
    }
    case 'marker':
      if (s.shape === 'circle') {
        return `<circle class="${s.role}" data-series="${escapeXml(s.series)}" cx="${num(s.x)}" cy="${num(s.y)}" r="${num(s.size / 2)}" fill="${s.fill}"/>`;
      }
      return `<rect class="${s.role}" data-series="${escapeXml(s.series)}" x="${num(s.x - s.size / 2)}" y="${num(s.y - s.size / 2)}" ` +
        `width="${num(s.size)}" height="${num(s.size)}" fill="${s.fill}"/>`;
    case 'text': {
      const rotate = s.vertical ? ` transform="rotate(-90 ${num(s.x)} ${num(s.y)})"` : '';
      return `<text class="${s.role}" x="${num(s.x)}" y="${num(s.y)}" font-size="${s.size}" text-anchor="${s.anchor}" ` +
        `fill="${s.fill}"${rotate}>${escapeXml(s.text)}</text>`;
    }
  }
}

/** The SVG document for a chart model (width and height in CSS pixels). */
export function chartToSvg(model: ChartModel): string {
  const clipIds = new Map<string, string>();
  const defs: string[] = [];
  for (const s of model.shapes) {
    if (s.kind !== 'polyline') continue;
    const { x, y, w, h } = s.clip;
    const key = `${x},${y},${w},${h}`;
    if (clipIds.has(key)) continue;
    // the id names the rectangle, so two charts inlined in one page never clip each other wrongly
    const id = `plot-clip-${[x, y, w, h].map((v) => num(v).replace('.', '_')).join('-')}`;
    clipIds.set(key, id);
    defs.push(`<clipPath id="${id}"><rect x="${num(x)}" y="${num(y)}" width="${num(w)}" height="${num(h)}"/></clipPath>`);
  }
  const body = model.shapes.map((s) => shapeSvg(s, clipIds));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${model.width}" height="${model.height}" ` +
      `viewBox="0 0 ${model.width} ${model.height}" font-family="${FONT_FAMILY}">`,
    defs.length ? `<defs>${defs.join('')}</defs>` : '',
    ...body,
    '</svg>',
  ].filter(Boolean).join('\n') + '\n';
}

/**
 * The course's accuracy chart as SVG: x "epochs", y "accuracy" from 0 to 1.0, lines with
 * markers for "train" (circles) and "test" (squares), legend at the lower right.
 */
export function accuracySvg(history: AccuracyHistory, opts: AccuracyOptions = {}): string {
  return chartToSvg(accuracyChart(history, opts));
}

/** Loss per iteration as SVG (x "iterations", y "loss"), bucket-averaged above `maxPoints`. */
export function lossSvg(losses: readonly number[], opts: LossOptions = {}): string {
  return chartToSvg(lossChart(losses, opts));
}
