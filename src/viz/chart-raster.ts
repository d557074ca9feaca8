/**
 * Chart models (chart.ts) rasterized in pure JS: RGBA pixels at `scale` device pixels per
 * CSS pixel, then PNG via png.ts. Lines and circles are anti-aliased by their exact
 * distance coverage, rectangles by their area coverage; text uses the bitmap font
 * (font.ts) at a whole number of device pixels per font unit, so it stays crisp.
 * Platform-neutral, no dependencies beyond png.ts.
 */
import { ShapeError } from '../errors.js';
import {
  type AccuracyHistory, type AccuracyOptions, type ChartModel, type ChartOptions, type LossOptions, type Shape, accuracyChart, lossChart,
} from './chart.js';
import { CAP_ROWS, UNITS_PER_EM, glyphFor, textUnits } from './font.js';
import type { RgbaImage } from './image.js';
import { encodePng } from './png.js';

/** Resolution of a chart rendered to pixels. */
export interface RasterOptions {
  /** Device pixels per CSS pixel (default 2, as for a high-density screen; 0.25..8). */
  scale?: number;
}

type Rgb = [number, number, number];

function parseColor(c: string): Rgb {
  const m = /^#([0-9a-f]{6})$/i.exec(c);
  if (!m) throw new ShapeError(`chart raster: colors must be #rrggbb, got ${c}`);
  const v = parseInt(m[1], 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

/** An RGB canvas with coverage blending (each draw: dst = dst * (1 - a) + color * a). */
class Canvas {
  readonly rgb: Float32Array;
  constructor(readonly width: number, readonly height: number) {
    this.rgb = new Float32Array(width * height * 3).fill(255);
  }

  blend(i: number, c: Rgb, a: number): void {
    const p = i * 3;
    this.rgb[p] += (c[0] - this.rgb[p]) * a;
    this.rgb[p + 1] += (c[1] - this.rgb[p + 1]) * a;
    this.rgb[p + 2] += (c[2] - this.rgb[p + 2]) * a;
  }

  /** Axis-aligned rectangle [x0, x1) x [y0, y1) in device pixels, edges by area coverage. */
  fillRect(x0: number, y0: number, x1: number, y1: number, c: Rgb): void {
    const px0 = Math.max(0, Math.floor(x0));
    const px1 = Math.min(this.width, Math.ceil(x1));
    const py0 = Math.max(0, Math.floor(y0));
    const py1 = Math.min(this.height, Math.ceil(y1));
    for (let py = py0; py < py1; py++) {
      const cy = Math.min(py + 1, y1) - Math.max(py, y0);
      for (let px = px0; px < px1; px++) {
        const cov = cy * (Math.min(px + 1, x1) - Math.max(px, x0));
        if (cov > 0) this.blend(py * this.width + px, c, Math.min(1, cov));
      }
    }
  }

  fillCircle(cx: number, cy: number, r: number, c: Rgb): void {
    const x0 = Math.max(0, Math.floor(cx - r - 1));
    const x1 = Math.min(this.width, Math.ceil(cx + r + 1));
    const y0 = Math.max(0, Math.floor(cy - r - 1));
    const y1 = Math.min(this.height, Math.ceil(cy + r + 1));
    for (let py = y0; py < y1; py++) {
      for (let px = x0; px < x1; px++) {
        const cov = Math.min(1, r + 0.5 - Math.hypot(px + 0.5 - cx, py + 0.5 - cy));
        if (cov > 0) this.blend(py * this.width + px, c, cov);
      }
    }
  }

  /**
   * A polyline of half-width `hw` with round joins and caps, inside the clip box. Each pixel
   * takes the largest coverage over all segments, so joints are not painted twice.
   */
  strokePolyline(pts: [number, number][], hw: number, c: Rgb, clip: [number, number, number, number]): void {
    const cx0 = Math.max(0, Math.floor(clip[0]));
    const cy0 = Math.max(0, Math.floor(clip[1]));
    const cx1 = Math.min(this.width, Math.ceil(clip[2]));
    const cy1 = Math.min(this.height, Math.ceil(clip[3]));
    if (cx1 <= cx0 || cy1 <= cy0 || pts.length === 0) return;
    const bw = cx1 - cx0;
    const cov = new Float32Array(bw * (cy1 - cy0));
    const reach = hw + 1;
    const segs = pts.length === 1 ? [[pts[0], pts[0]]] : pts.slice(1).map((p, i) => [pts[i], p]);
    for (const [[ax, ay], [bx, by]] of segs) {
      const dx = bx - ax;
      const dy = by - ay;
      const len2 = dx * dx + dy * dy;
      const x0 = Math.max(cx0, Math.floor(Math.min(ax, bx) - reach));
      const x1 = Math.min(cx1, Math.ceil(Math.max(ax, bx) + reach));
      const y0 = Math.max(cy0, Math.floor(Math.min(ay, by) - reach));
      const y1 = Math.min(cy1, Math.ceil(Math.max(ay, by) + reach));
      for (let py = y0; py < y1; py++) {
        for (let px = x0; px < x1; px++) {
          const qx = px + 0.5 - ax;
          const qy = py + 0.5 - ay;
          const t = len2 > 0 ? Math.max(0, Math.min(1, (qx * dx + qy * dy) / len2)) : 0;
          const d = Math.hypot(qx - t * dx, qy - t * dy);
          const a = Math.min(1, hw + 0.5 - d);
          const k = (py - cy0) * bw + (px - cx0);
          if (a > cov[k]) cov[k] = a;
        }
      }
    }
    for (let py = cy0; py < cy1; py++) {
      for (let px = cx0; px < cx1; px++) {
        const a = cov[(py - cy0) * bw + (px - cx0)];
        if (a > 0) this.blend(py * this.width + px, c, a);
      }
    }
  }

  /**
   * Bitmap text with its baseline at device (x, y); `vertical` reads bottom to top
   * (rotated -90 degrees about the anchor point).
   */
  text(text: string, x: number, y: number, size: number, anchor: 'start' | 'middle' | 'end', vertical: boolean, c: Rgb): void {
    const u = Math.max(1, Math.round(size / UNITS_PER_EM));
    const w = textUnits(text) * u;
    let pen = Math.round(anchor === 'start' ? 0 : anchor === 'middle' ? -w / 2 : -w);
    const ox = Math.round(x);
    const oy = Math.round(y);
    for (const ch of text) {
      const g = glyphFor(ch);
      for (const [col, row] of g.cells) {
        const tx = pen + col * u; // along the text
        const ty = (row - CAP_ROWS) * u; // down from the baseline
        if (vertical) this.fillRect(ox + ty, oy - tx - u, ox + ty + u, oy - tx, c);
        else this.fillRect(ox + tx, oy + ty, ox + tx + u, oy + ty + u, c);
      }
      pen += (g.width + 1) * u;
    }
  }
}

function drawShape(cv: Canvas, s: Shape, k: number): void {
  switch (s.kind) {
    case 'rect': {
      if (s.fill && s.fill !== 'none') cv.fillRect(s.x * k, s.y * k, (s.x + s.w) * k, (s.y + s.h) * k, parseColor(s.fill));
      if (s.stroke) {
        const c = parseColor(s.stroke);
        const [x0, y0, x1, y1] = [s.x * k, s.y * k, (s.x + s.w) * k, (s.y + s.h) * k];
        const h = k / 2; // 1 CSS pixel centred on each edge
        cv.fillRect(x0 - h, y0 - h, x1 + h, y0 + h, c);
        cv.fillRect(x0 - h, y1 - h, x1 + h, y1 + h, c);
        cv.fillRect(x0 - h, y0 + h, x0 + h, y1 - h, c);
        cv.fillRect(x1 - h, y0 + h, x1 + h, y1 - h, c);
      }
      return;
    }
    case 'line': {
      const c = parseColor(s.stroke);
      const h = (s.width * k) / 2;
      if (s.x1 === s.x2) cv.fillRect(s.x1 * k - h, Math.min(s.y1, s.y2) * k, s.x1 * k + h, Math.max(s.y1, s.y2) * k, c);
      else if (s.y1 === s.y2) cv.fillRect(Math.min(s.x1, s.x2) * k, s.y1 * k - h, Math.max(s.x1, s.x2) * k, s.y1 * k + h, c);
      else cv.strokePolyline([[s.x1 * k, s.y1 * k], [s.x2 * k, s.y2 * k]], h, c, [0, 0, cv.width, cv.height]);
      return;
    }
    case 'polyline': {
      const clip: [number, number, number, number] = [s.clip.x * k, s.clip.y * k, (s.clip.x + s.clip.w) * k, (s.clip.y + s.clip.h) * k];
      cv.strokePolyline(s.points.map(([x, y]) => [x * k, y * k]), (s.width * k) / 2, parseColor(s.stroke), clip);
      return;
    }
    case 'marker': {
      const c = parseColor(s.fill);
      const h = (s.size * k) / 2;
      if (s.shape === 'circle') cv.fillCircle(s.x * k, s.y * k, h, c);
      else cv.fillRect(s.x * k - h, s.y * k - h, s.x * k + h, s.y * k + h, c);
      return;
    }
    case 'text':
      cv.text(s.text, s.x * k, s.y * k, s.size * k, s.anchor, s.vertical ?? false, parseColor(s.fill));
  }
}

/** Rasterizes a chart model to an opaque RGBA image of ceil(width * scale) x ceil(height * scale). */
export function chartToRgba(model: ChartModel, opts: RasterOptions = {}): RgbaImage {
  const k = opts.scale ?? 2;
  if (typeof k !== 'number' || !Number.isFinite(k) || k < 0.25 || k > 8) {
    throw new ShapeError(`chart raster: scale must be a number in [0.25, 8] (device pixels per CSS pixel), got ${k}`);
  }
  const cv = new Canvas(Math.ceil(model.width * k), Math.ceil(model.height * k));
  for (const s of model.shapes) drawShape(cv, s, k);
  const data = new Uint8Array(cv.width * cv.height * 4);
  for (let i = 0; i < cv.width * cv.height; i++) {
    data[4 * i] = Math.round(cv.rgb[3 * i]);
    data[4 * i + 1] = Math.round(cv.rgb[3 * i + 1]);
    data[4 * i + 2] = Math.round(cv.rgb[3 * i + 2]);
    data[4 * i + 3] = 255;
  }
  return { width: cv.width, height: cv.height, channels: 4, data };
}

/** A chart model as PNG file bytes. */
export function chartToPng(model: ChartModel, opts: RasterOptions = {}): Uint8Array {
  return encodePng(chartToRgba(model, opts));
}

/** The accuracy chart (see accuracyChart) as PNG bytes, twice its CSS size by default. */
export function accuracyPng(history: AccuracyHistory, opts: AccuracyOptions & RasterOptions = {}): Uint8Array {
  return chartToPng(accuracyChart(history, opts), opts);
}

/** The loss chart (see lossChart) as PNG bytes, twice its CSS size by default. */
export function lossPng(losses: readonly number[], opts: LossOptions & RasterOptions = {}): Uint8Array {
  return chartToPng(lossChart(losses, opts), opts);
}
