import { describe, expect, it } from 'vitest';
import { ShapeError } from '../../src/errors.js';
import { featureMapGrid, filterGrid } from '../../src/viz/filters.js';
import type { GrayImage } from '../../src/viz/image.js';

const at = (g: GrayImage, x: number, y: number) => g.data[y * g.width + x];

/** Random-ish weights, deterministic. */
function weights(n: number, seed = 1): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return (s / 2 ** 32 - 0.5) * 0.02;
  });
}

describe('filterGrid', () => {
  it("SimpleConvNet's W1 (30, 1, 5, 5): 8 columns x 4 rows of 40x40 tiles by default", () => {
    const g = filterGrid(weights(30 * 25), [30, 1, 5, 5]);
    // 4 px spacing between tiles and around the grid
    expect(g.width).toBe(4 + 8 * 40 + 7 * 4 + 4);
    expect(g.height).toBe(4 + 4 * 40 + 3 * 4 + 4);
    expect(g.data.length).toBe(g.width * g.height);
  });
  it('honours scale, columns and padding', () => {
    const g = filterGrid(weights(6 * 9), [6, 1, 3, 3], { scale: 2, columns: 4, padding: 1 });
    expect([g.width, g.height]).toEqual([1 + 4 * 6 + 3 * 1 + 1, 1 + 2 * 6 + 1 + 1]);
    const few = filterGrid(weights(3 * 9), [3, 1, 3, 3], { scale: 1, padding: 0 });
    expect([few.width, few.height]).toEqual([9, 3]); // columns capped at 3 filters
  });
  it('normalizes every filter on its own (gray_r: each filter has a pure black max and a pure white min)', () => {
    const w = new Float32Array(2 * 4);
    w.set([0, 1, 2, 3], 0); // filter 0: range 0..3
    w.set([100, 100.5, 101, 110], 4); // filter 1: range 100..110
    const g = filterGrid(w, [2, 1, 2, 2], { scale: 1, padding: 0, frame: null });
    // rows: [f0: 0 1 | f1: 100 100.5], [f0: 2 3 | f1: 101 110]
    expect(Array.from(g.data)).toEqual([255, 170, 255, 242, 85, 0, 229, 0]);
    // global normalization instead: filter 0 is all near-white
    const gl = filterGrid(w, [2, 1, 2, 2], { scale: 1, padding: 0, frame: null, normalize: 'global' });
    expect(Math.min(...gl.data.slice(0, 2), ...gl.data.slice(4, 6))).toBeGreaterThan(170);
  });
  it('scales every weight to a scale x scale block (nearest neighbour)', () => {
    const w = Float32Array.from([0, 1, 2, 3]);
    const g = filterGrid(w, [1, 1, 2, 2], { scale: 5, padding: 0 });
    expect([g.width, g.height]).toEqual([10, 10]);
    expect(at(0, 0)).toBe(255);
    expect(at(4, 4)).toBe(255);
    expect(at(5, 0)).toBe(170);
    expect(at(9, 9)).toBe(0);
    function at(x: number, y: number) {
      return g.data[y * 10 + x];
    }
  });
  it('draws channel 0 by default, another on request', () => {
    // 1 filter, 2 channels of 1x2: channel 0 increasing, channel 1 decreasing
    const w = Float32Array.from([0, 1, 1, 0]);
    const c0 = filterGrid(w, [1, 2, 1, 2], { scale: 1, padding: 0 });
    const c1 = filterGrid(w, [1, 2, 1, 2], { scale: 1, padding: 0, channel: 1 });
    expect(Array.from(c0.data)).toEqual([255, 0]);
    expect(Array.from(c1.data)).toEqual([0, 255]);
  });
  it('frames each tile in gray by default', () => {
    const g = filterGrid(weights(25), [1, 1, 5, 5]);
    expect(at(g, 3, 3)).toBe(160);
    expect(at(g, 0, 0)).toBe(255);
  });
  it('limit draws the first filters only', () => {
    const g = filterGrid(weights(30 * 25), [30, 1, 5, 5], { limit: 16, columns: 4 });
    expect([g.width, g.height]).toEqual([4 + 4 * 40 + 3 * 4 + 4, 4 + 4 * 40 + 3 * 4 + 4]);
  });
  it('bad shapes and options throw ShapeError naming the function', () => {
    expect(() => filterGrid(weights(10), [30, 1, 5, 5])).toThrow(/filterGrid: weights of shape \(30, 1, 5, 5\) need 750 values, got 10/);
    expect(() => filterGrid(weights(10), [10, 1] as never)).toThrow(ShapeError);
    expect(() => filterGrid(weights(25), [1, 1, 5, 5], { channel: 1 })).toThrow(/channel/);
    expect(() => filterGrid(weights(25), [1, 1, 5, 5], { scale: 0 })).toThrow(/scale/);
  });
});

describe('featureMapGrid', () => {
  it('(30, 24, 24) maps: 8 columns of 96x96 tiles by default', () => {
    const g = featureMapGrid(weights(30 * 576), [30, 24, 24]);
    expect([g.width, g.height]).toEqual([4 + 8 * 96 + 7 * 4 + 4, 4 + 4 * 96 + 3 * 4 + 4]);
  });
  it('puts the input image first, scaled to fit the map cell', () => {
    const input = new Float32Array(28 * 28);
    input[14 * 28 + 14] = 1; // one bright pixel -> black in gray_r
    const g = featureMapGrid(weights(3 * 576), [3, 24, 24], { input: { data: input, width: 28, height: 28 }, frame: null });
    // 4 tiles of 96x96 cells; the 28x28 input at 3x = 84 px, centred (6 px inset)
    expect([g.width, g.height]).toEqual([4 + 4 * 96 + 3 * 4 + 4, 4 + 96 + 4]);
    expect(at(g, 4 + 6 + 14 * 3 + 1, 4 + 6 + 14 * 3 + 1)).toBe(0);
    expect(at(g, 4 + 6 + 1, 4 + 6 + 1)).toBe(255);
  });
  it('normalizes each map on its own', () => {
    const maps = Float32Array.from([0, 1, 1000, 2000]);
    const g = featureMapGrid(maps, [2, 1, 2], { scale: 1, padding: 0 });
    expect(Array.from(g.data)).toEqual([255, 0, 255, 0]);
  });
  it('bad sizes throw ShapeError', () => {
    expect(() => featureMapGrid(weights(10), [3, 24, 24])).toThrow(ShapeError);
    expect(() => featureMapGrid(weights(576), [1, 24, 24], { input: { data: new Float32Array(5), width: 28, height: 28 } })).toThrow(
      /input of 28x28 needs 784 values, got 5/,
    );
  });
});
