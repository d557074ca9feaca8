/**
 * Filter and feature-map grids, like the course's `filter_show` (ch07 visualize_filter.py)
 * and its "applying the learned filters" figure (ch07 apply_filter.py): every 2-D slice
 * drawn with `cmap=gray_r` (high values black), normalized on its own, in a grid of
 * `nx = 8` columns on a white background. Platform-neutral.
 */
import { ShapeError, describeValue } from '../errors.js';
import {
  type Colormap,
  type GrayImage,
  type TileGridOptions,
  finiteRange,
  scaleNearest,
  tileGrid,
  writeGray,
} from './image.js';

export interface GridOptions {
  /** Integer upscale of every tile (nearest neighbour). Default: about `tileSize` pixels per tile. */
  scale?: number;
  /** Tiles per row (default 8, the course's nx). */
  columns?: number;
  /** Pixels between tiles and around the grid (default 4). */
  padding?: number;
  /** Gray level behind the tiles (default 255, white). */
  background?: number;
  /** 'gray_r' (default, as in the course: high values black) or 'gray'. */
  colormap?: Colormap;
  /** 'each' (default, as in the course: every tile uses its own min and max) or 'global' (one range for all). */
  normalize?: 'each' | 'global';
  /** Draw only the first `limit` tiles (the course's show_num). Default: all. */
  limit?: number;
  /** Gray level of a 1-pixel frame around each tile, or null for none (default 160). */
  frame?: number | null;
}

/** Options of filterGrid: columns, scale, padding, and how values map to gray. */
export interface FilterGridOptions extends GridOptions {
  /** Which input channel of each filter to draw (default 0, as in the course). */
  channel?: number;
}

/** Options of featureMapGrid: columns, scale, padding, and how values map to gray. */
export interface FeatureMapGridOptions extends GridOptions {
  /**
   * The input image, drawn as the first tile (with the same colormap and its own min-max).
   * `data` is [height, width] row-major, e.g. one MNIST image of 784 values in [0, 1].
   */
  input?: { data: ArrayLike<number>; width: number; height: number };
}

/** Default tile size in pixels before integer rounding: filters ~40 px (5x5 -> 8x), maps ~96 px (24x24 -> 4x). */
const FILTER_TILE = 40;
const MAP_TILE = 96;

function defaultScale(h: number, w: number, target: number): number {
  return Math.max(1, Math.round(target / Math.max(h, w, 1)));
}

function checkDims(where: string, shape: readonly number[], rank: number, names: string): void {
  if (!Array.isArray(shape) || shape.length !== rank || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ShapeError(`${where}: shape must be [${names}] of non-negative integers, got ${JSON.stringify(shape)}`);
  }
}

function checkValues(where: string, what: string, values: unknown): void {
  if (typeof values !== 'object' || values === null || typeof (values as ArrayLike<number>).length !== 'number') {
    throw new ShapeError(`${where}: ${what} must be an array of numbers, got ${describeValue(values)}`);
  }
}

function checkOptions(where: string, opts: GridOptions): void {
  if (opts.scale !== undefined && (!Number.isInteger(opts.scale) || opts.scale < 1)) {
    throw new ShapeError(`${where}: scale must be an integer >= 1, got ${opts.scale}`);
  }
  if (opts.limit !== undefined && (!Number.isInteger(opts.limit) || opts.limit < 0)) {
    throw new ShapeError(`${where}: limit must be an integer >= 0, got ${opts.limit}`);
  }
}

function gridOptions(opts: GridOptions): TileGridOptions {
  const frame = opts.frame === undefined ? 160 : opts.frame;
  return {
    columns: opts.columns ?? 8,
    spacing: opts.padding ?? 4,
    background: opts.background,
    frame: frame === null ? undefined : frame,
  };
}

/**
 * Normalizes `count` slices of `sliceLen` values, at `offsetOf(i)` in `values`, to gray
 * tiles of h x w, scaled by `scale`.
 */
function tiles(
  values: ArrayLike<number>,
  count: number,
  offsetOf: (i: number) => number,
  h: number,
  w: number,
  scale: number,
  opts: GridOptions,
): GrayImage[] {
  const len = h * w;
  let range: { min: number; max: number } | undefined;
  if (opts.normalize === 'global') {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < count; i++) {
      const [a, b] = finiteRange(values, offsetOf(i), offsetOf(i) + len);
      if (a < lo) lo = a;
      if (b > hi) hi = b;
    }
    range = count > 0 ? { min: lo, max: hi } : undefined;
  } else if (opts.normalize !== undefined && opts.normalize !== 'each') {
    throw new ShapeError(`normalize must be 'each' or 'global', got ${JSON.stringify(opts.normalize)}`);
  }
  const out: GrayImage[] = [];
  for (let i = 0; i < count; i++) {
    const data = new Uint8Array(len);
    const start = offsetOf(i);
    writeGray(values, start, start + len, data, 0, { colormap: opts.colormap, ...range });
    out.push(scaleNearest({ width: w, height: h, data }, scale));
  }
  return out;
}

/**
 * The first-layer filters as a grid, like the course's `filter_show(network.params['W1'])`:
 * channel `channel` (default 0) of each of the FN filters, min-max normalized per filter,
 * gray_r (high weights black), 8 columns, each tile scaled up (5x5 -> 40x40 by default).
 *
 * `weights` is (FN, C, KH, KW) row-major, e.g. SimpleConvNet's W1 of (30, 1, 5, 5).
 */
export function filterGrid(
  weights: ArrayLike<number>,
  shape: readonly [number, number, number, number] | readonly number[],
  opts: FilterGridOptions = {},
): GrayImage {
  checkValues('filterGrid', 'weights', weights);
  checkDims('filterGrid', shape, 4, 'FN, C, KH, KW');
  checkOptions('filterGrid', opts);
  const [fn, c, kh, kw] = shape;
  if (weights.length !== fn * c * kh * kw) {
    throw new ShapeError(
      `filterGrid: weights of shape (${shape.join(', ')}) need ${fn * c * kh * kw} values, got ${weights.length}`,
    );
  }
  const channel = opts.channel ?? 0;
  if (!Number.isInteger(channel) || channel < 0 || (channel >= c && fn > 0)) {
    throw new ShapeError(`filterGrid: channel must be an integer in [0, ${c}), got ${channel}`);
  }
  const count = Math.min(fn, opts.limit ?? fn);
  const scale = opts.scale ?? defaultScale(kh, kw, FILTER_TILE);
  const t = tiles(weights, count, (i) => (i * c + channel) * kh * kw, kh, kw, scale, opts);
  return tileGrid(t, gridOptions(opts));
}

/**
 * The feature maps of one image, like the course's "applying the learned filters"
 * figure: each of the C maps min-max normalized on its own, gray_r, 8 columns, scaled
 * up (24x24 -> 96x96 by default). With `input`, the input image is the first tile,
 * scaled by the largest integer factor that keeps it within a map tile (at least 1),
 * centred in its cell.
 *
 * `maps` is (C, H, W) row-major, e.g. the first convolution's output for one image.
 */
export function featureMapGrid(
  maps: ArrayLike<number>,
  shape: readonly [number, number, number] | readonly number[],
  opts: FeatureMapGridOptions = {},
): GrayImage {
  checkValues('featureMapGrid', 'maps', maps);
  checkDims('featureMapGrid', shape, 3, 'C, H, W');
  checkOptions('featureMapGrid', opts);
  const [c, h, w] = shape;
  if (maps.length !== c * h * w) {
    throw new ShapeError(`featureMapGrid: maps of shape (${shape.join(', ')}) need ${c * h * w} values, got ${maps.length}`);
  }
  const count = Math.min(c, opts.limit ?? c);
  const scale = opts.scale ?? defaultScale(h, w, MAP_TILE);
  const all: GrayImage[] = [];
  if (opts.input) {
    const { data, width, height } = opts.input;
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 0 || height < 0 || data.length !== width * height) {
      throw new ShapeError(
        `featureMapGrid: input of ${width}x${height} needs ${width * height} values, got ${data?.length}`,
      );
    }
    // The input keeps the map tiles' cell size where it can: 28x28 next to 24x24 maps at 4x is drawn at 3x.
    const inputScale = Math.max(1, Math.floor((scale * Math.max(h, w)) / Math.max(height, width, 1)));
    all.push(...tiles(data, 1, () => 0, height, width, inputScale, { colormap: opts.colormap }));
  }
  all.push(...tiles(maps, count, (i) => i * h * w, h, w, scale, opts));
  return tileGrid(all, gridOptions(opts));
}
