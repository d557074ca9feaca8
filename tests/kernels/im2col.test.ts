// im2col_f32 / col2im_f32: Wasm vs JS vs a naive reference, on random shapes (fast-check, seeded).
import { describe, it, expect, beforeAll } from 'vitest';
import fc from 'fast-check';
import { harness, randomF32, maxRelErr, type Harness } from '../helpers/harness.js';

interface Geom {
  C: number; H: number; W: number; KH: number; KW: number;
  sH: number; sW: number; pH: number; pW: number;
}

const outH = (g: Geom) => Math.floor((g.H + 2 * g.pH - g.KH) / g.sH) + 1;
const outW = (g: Geom) => Math.floor((g.W + 2 * g.pW - g.KW) / g.sW) + 1;
const colLen = (g: Geom) => g.C * g.KH * g.KW * outH(g) * outW(g);

/** The definition, one element at a time. */
function naiveIm2col(x: Float32Array, g: Geom): Float32Array {
  const OH = outH(g), OW = outW(g);
  const col = new Float32Array(colLen(g));
  for (let c = 0; c < g.C; c++) {
    for (let kh = 0; kh < g.KH; kh++) {
      for (let kw = 0; kw < g.KW; kw++) {
        const r = (c * g.KH + kh) * g.KW + kw;
        for (let oh = 0; oh < OH; oh++) {
          for (let ow = 0; ow < OW; ow++) {
            const ih = oh * g.sH - g.pH + kh;
            const iw = ow * g.sW - g.pW + kw;
            const inside = ih >= 0 && ih < g.H && iw >= 0 && iw < g.W;
            col[r * OH * OW + oh * OW + ow] = inside ? x[(c * g.H + ih) * g.W + iw] : 0;
          }
        }
      }
    }
  }
  return col;
}

/** The adjoint of naiveIm2col, accumulated in float64. */
function naiveCol2im(col: Float32Array, g: Geom): Float64Array {
  const OH = outH(g), OW = outW(g);
  const x = new Float64Array(g.C * g.H * g.W);
  for (let c = 0; c < g.C; c++) {
    for (let kh = 0; kh < g.KH; kh++) {
      for (let kw = 0; kw < g.KW; kw++) {
        const r = (c * g.KH + kh) * g.KW + kw;
        for (let oh = 0; oh < OH; oh++) {
          for (let ow = 0; ow < OW; ow++) {
            const ih = oh * g.sH - g.pH + kh;
            const iw = ow * g.sW - g.pW + kw;
            if (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W) x[(c * g.H + ih) * g.W + iw] += col[r * OH * OW + oh * OW + ow];
          }
        }
      }
    }
  }
  return x;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

const GUARD = 8;

/**
 * An output block of n floats with NaN guards on both sides, placed `shift` floats into the
 * allocation (so pointers are 4-byte aligned, not always 16). Returns the output pointer.
 */
function guarded(h: Harness, n: number, shift: number): number {
  return h.alloc(n + 2 * GUARD + shift) + (GUARD + shift) * 4;
}

function expectGuardsIntact(h: Harness, ptr: number, n: number): void {
  const before = h.getF32(ptr - GUARD * 4, GUARD);
  const after = h.getF32(ptr + n * 4, GUARD);
  expect([...before, ...after].every(Number.isNaN), 'kernel wrote outside its output').toBe(true);
}

function runIm2col(h: Harness, x: Float32Array, g: Geom, shift: number): Float32Array {
  const xp = h.alloc(x.length + shift) + shift * 4;
  new Float32Array(h.backend.memory.buffer, xp, x.length).set(x);
  const n = colLen(g);
  const cp = guarded(h, n, (shift * 3) % 4);
  h.k.im2col_f32(xp, g.C, g.H, g.W, g.KH, g.KW, g.sH, g.sW, g.pH, g.pW, cp);
  expectGuardsIntact(h, cp, n);
  const out = h.getF32(cp, n);
  h.reset();
  return out;
}

function runCol2im(h: Harness, col: Float32Array, g: Geom, shift: number): Float32Array {
  const cp = h.alloc(col.length + shift) + shift * 4;
  new Float32Array(h.backend.memory.buffer, cp, col.length).set(col);
  const n = g.C * g.H * g.W;
  const xp = guarded(h, n, (shift * 3) % 4);
  h.k.col2im_f32(cp, g.C, g.H, g.W, g.KH, g.KW, g.sH, g.sW, g.pH, g.pW, xp);
  expectGuardsIntact(h, xp, n);
  const out = h.getF32(xp, n);
  h.reset();
  return out;
}

const geomArb: fc.Arbitrary<Geom> = fc
  .record({
    C: fc.integer({ min: 1, max: 3 }),
    H: fc.integer({ min: 1, max: 13 }),
    W: fc.integer({ min: 1, max: 21 }),
    KH: fc.integer({ min: 1, max: 5 }),
    KW: fc.integer({ min: 1, max: 5 }),
    sH: fc.integer({ min: 1, max: 3 }),
    sW: fc.integer({ min: 1, max: 3 }),
    pH: fc.integer({ min: 0, max: 2 }),
    pW: fc.integer({ min: 0, max: 2 }),
  })
  .filter((g) => outH(g) >= 1 && outW(g) >= 1);

const FIXED: Geom[] = [
  { C: 1, H: 28, W: 28, KH: 5, KW: 5, sH: 1, sW: 1, pH: 0, pW: 0 }, // SimpleConvNet conv1
  { C: 3, H: 5, W: 5, KH: 3, KW: 3, sH: 1, sW: 1, pH: 2, pW: 2 },
  { C: 2, H: 9, W: 37, KH: 3, KW: 4, sH: 2, sW: 2, pH: 1, pW: 2 }, // long stride-2 runs
  { C: 2, H: 7, W: 41, KH: 2, KW: 5, sH: 1, sW: 1, pH: 1, pW: 2 }, // long stride-1 runs with pads
  { C: 1, H: 1, W: 1, KH: 1, KW: 1, sH: 1, sW: 1, pH: 0, pW: 0 },
  { C: 1, H: 1, W: 1, KH: 3, KW: 3, sH: 1, sW: 1, pH: 2, pW: 2 }, // mostly padding
  { C: 1, H: 2, W: 3, KH: 5, KW: 5, sH: 3, sW: 2, pH: 2, pW: 2 },
  { C: 1, H: 1, W: 1, KH: 6, KW: 6, sH: 1, sW: 1, pH: 3, pW: 3 }, // some kernel rows never touch the image
];

describe.each(['wasm', 'js'] as const)('im2col / col2im kernels (%s)', (name) => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness(name);
  });

  it('im2col matches the naive definition exactly (fixed shapes)', () => {
    for (const [i, g] of FIXED.entries()) {
      const x = randomF32(g.C * g.H * g.W, 100 + i);
      expect(runIm2col(h, x, g, i % 4), JSON.stringify(g)).toEqual(naiveIm2col(x, g));
    }
  });

  it('im2col matches the naive definition exactly (random shapes)', () => {
    fc.assert(
      fc.property(geomArb, fc.integer({ min: 0, max: 3 }), fc.integer(), (g, shift, seed) => {
        const x = randomF32(g.C * g.H * g.W, seed);
        expect(runIm2col(h, x, g, shift)).toEqual(naiveIm2col(x, g));
      }),
      { seed: 1234, numRuns: 300 },
    );
  });

  it('col2im matches the naive accumulation (fixed and random shapes)', () => {
    const check = (g: Geom, shift: number, seed: number) => {
      const col = randomF32(colLen(g), seed);
      expect(maxRelErr(runCol2im(h, col, g, shift), naiveCol2im(col, g))).toBeLessThan(1e-5);
    };
    FIXED.forEach((g, i) => check(g, i % 4, 200 + i));
    fc.assert(
      fc.property(geomArb, fc.integer({ min: 0, max: 3 }), fc.integer(), (g, shift, seed) => check(g, shift, seed)),
      { seed: 5678, numRuns: 300 },
    );
  });

  it('col2im is the adjoint of im2col: <im2col(x), c> == <x, col2im(c)>', () => {
    fc.assert(
      fc.property(geomArb, fc.integer(), (g, seed) => {
        const x = randomF32(g.C * g.H * g.W, seed);
        const c = randomF32(colLen(g), seed ^ 0x5bd1e995);
        const lhs = dot(runIm2col(h, x, g, 0), c);
        const rhs = dot(x, runCol2im(h, c, g, 1));
        expect(Math.abs(lhs - rhs)).toBeLessThan(1e-4 * (1 + Math.abs(lhs)));
      }),
      { seed: 91011, numRuns: 200 },
    );
  });

  it('a kernel larger than the padded image: im2col writes nothing, col2im zeroes x', () => {
    const g: Geom = { C: 2, H: 3, W: 8, KH: 6, KW: 3, sH: 2, sW: 1, pH: 1, pW: 0 }; // 3 + 2 < 6
    expect(outH(g)).toBe(0);
    const x = randomF32(48, 3);
    expect(runIm2col(h, x, g, 1)).toEqual(new Float32Array(0));
    expect(runCol2im(h, new Float32Array(0), g, 1)).toEqual(new Float32Array(48));
  });

  it('col2im overwrites x (garbage in the output does not leak)', () => {
    const g: Geom = { C: 2, H: 6, W: 7, KH: 3, KW: 3, sH: 2, sW: 2, pH: 1, pW: 1 };
    const col = randomF32(colLen(g), 7);
    // runCol2im's output block is NaN-filled before the call
    const out = runCol2im(h, col, g, 0);
    expect(out.every(Number.isFinite)).toBe(true);
  });
});

describe('im2col / col2im: Wasm and JS are bit-identical', () => {
  let w: Harness;
  let j: Harness;
  beforeAll(async () => {
    [w, j] = await Promise.all([harness('wasm'), harness('js')]);
  });

  it('on random shapes, forward and backward', () => {
    fc.assert(
      fc.property(geomArb, fc.integer({ min: 0, max: 3 }), fc.integer(), (g, shift, seed) => {
        const x = randomF32(g.C * g.H * g.W, seed);
        expect(runIm2col(w, x, g, shift)).toEqual(runIm2col(j, x, g, shift));
        const col = randomF32(colLen(g), seed + 1);
        expect(runCol2im(w, col, g, shift)).toEqual(runCol2im(j, col, g, shift));
      }),
      { seed: 4242, numRuns: 300 },
    );
  });
});
