import { describe, expect, it } from 'vitest';
import { ShapeError } from '../../src/errors.js';
import {
  type GrayImage,
  blit,
  finiteRange,
  floatsToGray,
  grayImage,
  grayToRgba,
  invertGray,
  scaleNearest,
  tileGrid,
  toGray,
} from '../../src/viz/image.js';

const img = (width: number, height: number, values: number[]): GrayImage => ({ width, height, data: Uint8Array.from(values) });

describe('toGray (min-max normalization)', () => {
  it('uses gray_r by default, like the course: max -> black (0), min -> white (255)', () => {
    expect(Array.from(toGray([-1, 0, 1]))).toEqual([255, 127, 0]);
  });
  it('gray maps max -> white', () => {
    expect(Array.from(toGray([2, 3, 4, 6], { colormap: 'gray' }))).toEqual([0, 64, 128, 255]);
  });
  it('is invariant to affine rescaling of the input', () => {
    const a = [0.3, -0.1, 0.05, 0.2, -0.4];
    expect(toGray(a)).toEqual(toGray(a.map((v) => v * 1000 + 7)));
  });
  it('maps a constant input to the low end (white for gray_r), as matplotlib does', () => {
    expect(Array.from(toGray([5, 5, 5]))).toEqual([255, 255, 255]);
    expect(Array.from(toGray([5, 5], { colormap: 'gray' }))).toEqual([0, 0]);
  });
  it('ignores NaN and infinities for the range and clamps them', () => {
    expect(finiteRange([NaN, 1, Infinity, -3, -Infinity])).toEqual([-3, 1]);
    expect(Array.from(toGray([0, 1, NaN, Infinity, -Infinity], { colormap: 'gray' }))).toEqual([0, 255, 0, 255, 0]);
  });
  it('accepts a fixed range and clamps outside it', () => {
    expect(Array.from(toGray([-1, 0, 0.5, 1, 2], { colormap: 'gray', min: 0, max: 1 }))).toEqual([0, 0, 128, 255, 255]);
  });
  it('floatsToGray checks the size', () => {
    expect(floatsToGray([1, 2, 3, 4], 2, 2).width).toBe(2);
    expect(() => floatsToGray([1, 2, 3], 2, 2)).toThrow(ShapeError);
  });
});

describe('scaleNearest', () => {
  it('repeats every pixel in a factor x factor block', () => {
    const s = scaleNearest(img(2, 2, [1, 2, 3, 4]), 3);
    expect(s.width).toBe(6);
    expect(s.height).toBe(6);
    const rows = [];
    for (let y = 0; y < 6; y++) rows.push(Array.from(s.data.subarray(y * 6, y * 6 + 6)));
    expect(rows).toEqual([
      [1, 1, 1, 2, 2, 2],
      [1, 1, 1, 2, 2, 2],
      [1, 1, 1, 2, 2, 2],
      [3, 3, 3, 4, 4, 4],
      [3, 3, 3, 4, 4, 4],
      [3, 3, 3, 4, 4, 4],
    ]);
  });
  it('factor 1 copies; bad factors and bad images throw ShapeError', () => {
    const a = img(1, 2, [7, 8]);
    const b = scaleNearest(a, 1);
    expect(b).toEqual(a);
    expect(b.data).not.toBe(a.data);
    expect(() => scaleNearest(a, 0)).toThrow(ShapeError);
    expect(() => scaleNearest(a, 1.5)).toThrow(ShapeError);
    expect(() => scaleNearest(img(2, 2, [1, 2, 3]), 2)).toThrow(/needs 4 bytes, got 3/);
  });
});

describe('tileGrid', () => {
  const tile = (v: number) => grayImage(3, 2, v);
  it('lays tiles out row by row with spacing and margin', () => {
    const g = tileGrid([tile(10), tile(20), tile(30)], { columns: 2, spacing: 1, margin: 2, background: 255 });
    expect(g.width).toBe(2 * 2 + 2 * 3 + 1);
    expect(g.height).toBe(2 * 2 + 2 * 2 + 1);
    const at = (x: number, y: number) => g.data[y * g.width + x];
    expect(at(2, 2)).toBe(10); // first tile's top-left
    expect(at(4, 3)).toBe(10); // first tile's bottom-right
    expect(at(5, 2)).toBe(255); // spacing
    expect(at(6, 2)).toBe(20); // second tile
    expect(at(2, 5)).toBe(30); // third tile, second row
    expect(at(6, 5)).toBe(255); // empty cell
    expect(at(0, 0)).toBe(255); // margin
  });
  it('caps columns at the tile count and centres smaller tiles in the cell', () => {
    const g = tileGrid([grayImage(4, 4, 0), grayImage(2, 2, 100)], { columns: 8, spacing: 0, margin: 0 });
    expect([g.width, g.height]).toEqual([8, 4]);
    expect(g.data[1 * 8 + 5]).toBe(100);
    expect(g.data[0 * 8 + 4]).toBe(255);
  });
  it('draws an optional frame around tiles', () => {
    const g = tileGrid([grayImage(2, 2, 0)], { spacing: 1, margin: 1, frame: 99 });
    expect(Array.from(g.data)).toEqual([99, 99, 99, 99, 99, 0, 0, 99, 99, 0, 0, 99, 99, 99, 99, 99]);
  });
  it('rejects bad options', () => {
    expect(() => tileGrid([tile(0)], { columns: 0 })).toThrow(ShapeError);
    expect(() => tileGrid([tile(0)], { spacing: -1 })).toThrow(ShapeError);
  });
  it('an empty list gives just the margin', () => {
    const g = tileGrid([], { margin: 3 });
    expect([g.width, g.height]).toEqual([6, 6]);
  });
});

describe('other helpers', () => {
  it('blit clips at the edges', () => {
    const dst = grayImage(3, 3, 0);
    blit(dst, grayImage(2, 2, 9), 2, -1);
    expect(Array.from(dst.data)).toEqual([0, 0, 9, 0, 0, 0, 0, 0, 0]);
  });
  it('grayToRgba is opaque gray', () => {
    const r = grayToRgba(img(2, 1, [0, 200]));
    expect(r.channels).toBe(4);
    expect(Array.from(r.data)).toEqual([0, 0, 0, 255, 200, 200, 200, 255]);
  });
  it('invertGray', () => {
    expect(Array.from(invertGray(img(2, 1, [0, 200])).data)).toEqual([255, 55]);
  });
});
