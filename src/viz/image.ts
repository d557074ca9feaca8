/**
 * Small raster images for visualization: 8-bit grayscale and RGBA, row-major, top row
 * first. Platform-neutral, no dependencies.
 *
 * Gray convention: 0 is black, 255 is white. `toGray` follows the course's
 * `imshow(..., cmap=plt.cm.gray_r)` by default: the largest value is black, the smallest
 * white.
 */
import { ShapeError } from '../errors.js';

/** 8-bit grayscale image: `data[y * width + x]`, 0 = black, 255 = white. */
export interface GrayImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** 8-bit RGBA image (non-premultiplied): `data[(y * width + x) * 4 + c]`. */
export interface RgbaImage {
  width: number;
  height: number;
  channels: 4;
  data: Uint8Array;
}

/** 'gray_r' (the course's default): high values dark. 'gray': high values light. */
export type Colormap = 'gray' | 'gray_r';

export interface ToGrayOptions {
  /** Default 'gray_r', as in the course's filter_show. */
  colormap?: Colormap;
  /** Fixed range instead of the data's own min and max (values outside are clamped). */
  min?: number;
  max?: number;
}

function checkDims(where: string, width: number, height: number): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0) {
    throw new ShapeError(`${where}: width and height must be non-negative integers, got ${width}x${height}`);
  }
}

/** A new gray image filled with `fill` (default 255, white). */
export function grayImage(width: number, height: number, fill = 255): GrayImage {
  checkDims('grayImage', width, height);
  const data = new Uint8Array(width * height);
  if (fill !== 0) data.fill(fill);
  return { width, height, data };
}

/** Checks that `img.data` holds width*height bytes; throws a ShapeError naming `where` if not. */
export function checkGrayImage(where: string, img: GrayImage): void {
  checkDims(where, img.width, img.height);
  if (!(img.data instanceof Uint8Array) || img.data.length !== img.width * img.height) {
    throw new ShapeError(
      `${where}: a ${img.width}x${img.height} gray image needs ${img.width * img.height} bytes, got ${img.data?.length}`,
    );
  }
}

/** Min and max over the finite values (NaN and +-Infinity are ignored). [0, 0] if there are none. */
export function finiteRange(values: ArrayLike<number>, start = 0, end = values.length): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = start; i < end; i++) {
    const v = values[i];
    if (v < lo) lo = v; // NaN compares false; infinities are dropped below
    if (v > hi) hi = v;
  }
  if (lo === -Infinity || hi === Infinity || lo === Infinity) {
    // Slow path: some infinities (or no values). Recompute over finite values only.
    lo = Infinity;
    hi = -Infinity;
    for (let i = start; i < end; i++) {
      const v = values[i];
      if (!Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (lo === Infinity) return [0, 0];
  }
  return [lo, hi];
}

/**
 * Maps floats to 0..255 with min-max normalization (like matplotlib's `Normalize`).
 * With colormap 'gray_r' (default) the maximum becomes 0 (black) and the minimum 255
 * (white). A constant input maps to the low end of the colormap, as matplotlib does.
 * NaN maps to the low end; +-Infinity clamp to the ends.
 */
export function toGray(values: ArrayLike<number>, opts: ToGrayOptions = {}): Uint8Array {
  const out = new Uint8Array(values.length);
  writeGray(values, 0, values.length, out, 0, opts);
  return out;
}

/** `toGray` over `values[start, end)`, written into `out` from `outOffset`. */
export function writeGray(
  values: ArrayLike<number>,
  start: number,
  end: number,
  out: Uint8Array,
  outOffset: number,
  opts: ToGrayOptions = {},
): void {
  const reversed = (opts.colormap ?? 'gray_r') === 'gray_r';
  let [lo, hi] = finiteRange(values, start, end);
  if (opts.min !== undefined) lo = opts.min;
  if (opts.max !== undefined) hi = opts.max;
  const span = hi - lo;
  const k = span > 0 && Number.isFinite(span) ? 255 / span : 0;
  for (let i = start, j = outOffset; i < end; i++, j++) {
    const v = values[i];
    let g = v > lo ? (v - lo) * k : 0; // NaN -> 0
    if (v >= hi && k !== 0) g = 255;
    g = Math.round(g);
    out[j] = reversed ? 255 - g : g;
  }
}

/** Gray image from a [height, width] float array, min-max normalized (see `toGray`). */
export function floatsToGray(values: ArrayLike<number>, width: number, height: number, opts?: ToGrayOptions): GrayImage {
  checkDims('floatsToGray', width, height);
  if (values.length !== width * height) {
    throw new ShapeError(`floatsToGray: ${width}x${height} needs ${width * height} values, got ${values.length}`);
  }
  return { width, height, data: toGray(values, opts) };
}

/** Scales up by an integer factor with nearest-neighbour sampling (crisp pixel blocks). */
export function scaleNearest(img: GrayImage, factor: number): GrayImage {
  checkGrayImage('scaleNearest', img);
  if (!Number.isInteger(factor) || factor < 1) {
    throw new ShapeError(`scaleNearest: factor must be an integer >= 1, got ${factor}`);
  }
  if (factor === 1) return { width: img.width, height: img.height, data: img.data.slice() };
  const w = img.width * factor;
  const h = img.height * factor;
  const data = new Uint8Array(w * h);
  for (let y = 0; y < img.height; y++) {
    const row = data.subarray(y * factor * w, (y * factor + 1) * w);
    for (let x = 0; x < img.width; x++) row.fill(img.data[y * img.width + x], x * factor, (x + 1) * factor);
    for (let r = 1; r < factor; r++) data.copyWithin((y * factor + r) * w, y * factor * w, (y * factor + 1) * w);
  }
  return { width: w, height: h, data };
}

/** Copies `src` into `dst` with its top-left corner at (x, y); parts outside `dst` are clipped. */
export function blit(dst: GrayImage, src: GrayImage, x: number, y: number): void {
  const x0 = Math.max(0, x);
  const x1 = Math.min(dst.width, x + src.width);
  if (x1 <= x0) return;
  for (let sy = 0; sy < src.height; sy++) {
    const dy = y + sy;
    if (dy < 0 || dy >= dst.height) continue;
    const srcRow = sy * src.width;
    dst.data.set(src.data.subarray(srcRow + (x0 - x), srcRow + (x1 - x)), dy * dst.width + x0);
  }
}

export interface TileGridOptions {
  /** Tiles per row (default 8, like the course's filter_show). */
  columns?: number;
  /** Pixels between neighbouring tiles (default 4). */
  spacing?: number;
  /** Pixels around the whole grid (default: same as spacing). */
  margin?: number;
  /** Gray level of spacing, margin and empty cells (default 255, white). */
  background?: number;
  /** Gray level of a 1-pixel frame drawn just outside every tile (default: no frame). */
  frame?: number;
}

/**
 * Composes tiles into a grid, row by row. Every cell has the size of the largest tile;
 * smaller tiles are centred in their cell. The last row may be partly empty. Columns
 * are capped at the number of tiles, so 3 tiles with 8 columns give a 1x3 grid.
 */
export function tileGrid(tiles: readonly GrayImage[], opts: TileGridOptions = {}): GrayImage {
  const columnsOpt = opts.columns ?? 8;
  const spacing = opts.spacing ?? 4;
  const margin = opts.margin ?? spacing;
  const background = opts.background ?? 255;
  if (!Number.isInteger(columnsOpt) || columnsOpt < 1) {
    throw new ShapeError(`tileGrid: columns must be an integer >= 1, got ${columnsOpt}`);
  }
  for (const [name, v] of [['spacing', spacing], ['margin', margin]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new ShapeError(`tileGrid: ${name} must be an integer >= 0, got ${v}`);
  }
  tiles.forEach((t, i) => checkGrayImage(`tileGrid (tile ${i})`, t));
  const n = tiles.length;
  if (n === 0) return grayImage(2 * margin, 2 * margin, background);
  const cols = Math.min(columnsOpt, n);
  const rows = Math.ceil(n / cols);
  let cellW = 0;
  let cellH = 0;
  for (const t of tiles) {
    cellW = Math.max(cellW, t.width);
    cellH = Math.max(cellH, t.height);
  }
  const width = 2 * margin + cols * cellW + (cols - 1) * spacing;
  const height = 2 * margin + rows * cellH + (rows - 1) * spacing;
  const out = grayImage(width, height, background);
  const place = (i: number, t: GrayImage) => ({
    x: margin + (i % cols) * (cellW + spacing) + Math.floor((cellW - t.width) / 2),
    y: margin + Math.floor(i / cols) * (cellH + spacing) + Math.floor((cellH - t.height) / 2),
  });
  // Frames first, so that with no spacing they never cover a neighbouring tile.
  if (opts.frame !== undefined) {
    tiles.forEach((t, i) => {
      const { x, y } = place(i, t);
      drawFrame(out, x - 1, y - 1, t.width + 2, t.height + 2, opts.frame!);
    });
  }
  tiles.forEach((t, i) => {
    const { x, y } = place(i, t);
    blit(out, t, x, y);
  });
  return out;
}

/** A 1-pixel rectangle outline of gray level `value`, clipped to the image. */
export function drawFrame(img: GrayImage, x: number, y: number, w: number, h: number, value: number): void {
  const set = (px: number, py: number) => {
    if (px >= 0 && py >= 0 && px < img.width && py < img.height) img.data[py * img.width + px] = value;
  };
  for (let i = 0; i < w; i++) {
    set(x + i, y);
    set(x + i, y + h - 1);
  }
  for (let j = 0; j < h; j++) {
    set(x, y + j);
    set(x + w - 1, y + j);
  }
}

/** Expands gray to RGBA (opaque). */
export function grayToRgba(img: GrayImage): RgbaImage {
  checkGrayImage('grayToRgba', img);
  const n = img.width * img.height;
  const data = new Uint8Array(n * 4);
  for (let i = 0, j = 0; i < n; i++, j += 4) {
    const g = img.data[i];
    data[j] = g;
    data[j + 1] = g;
    data[j + 2] = g;
    data[j + 3] = 255;
  }
  return { width: img.width, height: img.height, channels: 4, data };
}

/** Gray levels inverted (255 - v). */
export function invertGray(img: GrayImage): GrayImage {
  checkGrayImage('invertGray', img);
  const data = new Uint8Array(img.data.length);
  for (let i = 0; i < data.length; i++) data[i] = 255 - img.data[i];
  return { width: img.width, height: img.height, data };
}
