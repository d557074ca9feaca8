// Max / average pooling kernels: Wasm vs JS vs a naive reference (fast-check, seeded),
// forward and backward, ties, padding, NaN.
import { describe, it, expect, beforeAll } from 'vitest';
import fc from 'fast-check';
import { harness, randomF32, maxRelErr, type Harness } from '../helpers/harness.js';

interface Geom {
  P: number; H: number; W: number; KH: number; KW: number;
  sH: number; sW: number; pH: number; pW: number;
}

const outH = (g: Geom) => Math.floor((g.H + 2 * g.pH - g.KH) / g.sH) + 1;
const outW = (g: Geom) => Math.floor((g.W + 2 * g.pW - g.KW) / g.sW) + 1;
const outLen = (g: Geom) => g.P * outH(g) * outW(g);
const inLen = (g: Geom) => g.P * g.H * g.W;

/** Visits the in-plane elements of window (oh, ow) in row-major order. */
function forWindow(g: Geom, oh: number, ow: number, fn: (idx: number) => void): void {
  for (let kh = 0; kh < g.KH; kh++) {
    for (let kw = 0; kw < g.KW; kw++) {
      const ih = oh * g.sH - g.pH + kh;
      const iw = ow * g.sW - g.pW + kw;
      if (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W) fn(ih * g.W + iw);
    }
  }
}

/** Max with ties to the first maximum; NaN wins and the first NaN stays. */
function naiveMaxFwd(x: Float32Array, g: Geom): { y: Float32Array; am: Int32Array } {
  const OH = outH(g), OW = outW(g);
  const y = new Float32Array(outLen(g));
  const am = new Int32Array(outLen(g));
  for (let p = 0; p < g.P; p++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        let best = NaN;
        let bi = -1;
        forWindow(g, oh, ow, (i) => {
          const v = x[p * g.H * g.W + i];
          const better = bi < 0 || (Number.isNaN(v) ? !Number.isNaN(best) : v > best);
          if (better) {
            best = v;
            bi = i;
          }
        });
        const o = (p * OH + oh) * OW + ow;
        y[o] = best;
        am[o] = bi;
      }
    }
  }
  return { y, am };
}

function naiveMaxBwd(dy: Float32Array, am: Int32Array, g: Geom): Float64Array {
  const dx = new Float64Array(inLen(g));
  const n = outH(g) * outW(g);
  for (let p = 0; p < g.P; p++) for (let i = 0; i < n; i++) dx[p * g.H * g.W + am[p * n + i]] += dy[p * n + i];
  return dx;
}

function naiveAvgFwd(x: Float32Array, g: Geom): Float64Array {
  const OH = outH(g), OW = outW(g);
  const y = new Float64Array(outLen(g));
  for (let p = 0; p < g.P; p++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        let s = 0;
        forWindow(g, oh, ow, (i) => (s += x[p * g.H * g.W + i]));
        y[(p * OH + oh) * OW + ow] = s / (g.KH * g.KW);
      }
    }
  }
  return y;
}

function naiveAvgBwd(dy: Float32Array, g: Geom): Float64Array {
  const OH = outH(g), OW = outW(g);
  const dx = new Float64Array(inLen(g));
  for (let p = 0; p < g.P; p++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const d = dy[(p * OH + oh) * OW + ow] / (g.KH * g.KW);
        forWindow(g, oh, ow, (i) => (dx[p * g.H * g.W + i] += d));
      }
    }
  }
  return dx;
}

const GUARD = 8;

/** A NaN-filled output block with NaN guards on both sides, `shift` floats off 16-byte alignment. */
function guarded(h: Harness, n: number, shift: number): number {
  return h.alloc(n + 2 * GUARD + shift) + (GUARD + shift) * 4;
}

function expectGuardsIntact(h: Harness, ptr: number, n: number): void {
  const around = [...h.getF32(ptr - GUARD * 4, GUARD), ...h.getF32(ptr + n * 4, GUARD)];
  expect(around.every(Number.isNaN), 'kernel wrote outside its output').toBe(true);
}

function put(h: Harness, v: Float32Array | Int32Array, shift: number): number {
  const p = h.alloc(v.length + shift) + shift * 4;
  if (v instanceof Int32Array) new Int32Array(h.backend.memory.buffer, p, v.length).set(v);
  else new Float32Array(h.backend.memory.buffer, p, v.length).set(v);
  return p;
}

function maxFwd(h: Harness, x: Float32Array, g: Geom, shift = 0): { y: Float32Array; am: Int32Array } {
  const xp = put(h, x, shift);
  const n = outLen(g);
  const yp = guarded(h, n, (shift + 1) % 4);
  const ap = guarded(h, n, (shift + 2) % 4);
  h.k.maxpool_fwd_f32(xp, g.P, g.H, g.W, g.KH, g.KW, g.sH, g.sW, g.pH, g.pW, yp, ap);
  expectGuardsIntact(h, yp, n);
  expectGuardsIntact(h, ap, n);
  const r = { y: h.getF32(yp, n), am: h.getI32(ap, n) };
  h.reset();
  return r;
}

function maxBwd(h: Harness, dy: Float32Array, am: Int32Array, g: Geom, shift = 0): Float32Array {
  const gp = put(h, dy, shift);
  const ap = put(h, am, (shift + 1) % 4);
  const n = inLen(g);
  const dxp = guarded(h, n, (shift + 2) % 4);
  h.k.maxpool_bwd_f32(gp, ap, g.P, g.H, g.W, g.KH, g.KW, g.sH, g.sW, g.pH, g.pW, dxp);
  expectGuardsIntact(h, dxp, n);
  const r = h.getF32(dxp, n);
  h.reset();
  return r;
}

function avgFwd(h: Harness, x: Float32Array, g: Geom, shift = 0): Float32Array {
  const xp = put(h, x, shift);
  const n = outLen(g);
  const yp = guarded(h, n, (shift + 1) % 4);
  h.k.avgpool_fwd_f32(xp, g.P, g.H, g.W, g.KH, g.KW, g.sH, g.sW, g.pH, g.pW, yp);
  expectGuardsIntact(h, yp, n);
  const r = h.getF32(yp, n);
  h.reset();
  return r;
}

function avgBwd(h: Harness, dy: Float32Array, g: Geom, shift = 0): Float32Array {
  const gp = put(h, dy, shift);
  const n = inLen(g);
  const dxp = guarded(h, n, (shift + 2) % 4);
  h.k.avgpool_bwd_f32(gp, g.P, g.H, g.W, g.KH, g.KW, g.sH, g.sW, g.pH, g.pW, dxp);
  expectGuardsIntact(h, dxp, n);
  const r = h.getF32(dxp, n);
  h.reset();
  return r;
}

const SPECIALS = [NaN, Infinity, -Infinity, -0, 0];

/**
 * Random inputs; in "ties" mode drawn from a few small integers so windows hold equal maxima;
 * in "specials" mode about one value in eight is NaN, +-Infinity or a signed zero.
 */
function input(n: number, seed: number, ties: boolean, negative: boolean, specials = false): Float32Array {
  const x = randomF32(n, seed);
  const r = randomF32(n, seed ^ 0x2545f491);
  for (let i = 0; i < n; i++) {
    if (ties) x[i] = Math.round(x[i] * 2);
    if (negative) x[i] = -Math.abs(x[i]) - 1; // all below the zero a padded window must not take
    if (specials && r[i] > 0.75) x[i] = SPECIALS[Math.floor((r[i] - 0.75) * 20)];
  }
  return x;
}

const geomArb: fc.Arbitrary<Geom> = fc
  .record({
    P: fc.integer({ min: 1, max: 4 }),
    H: fc.integer({ min: 1, max: 11 }),
    W: fc.integer({ min: 1, max: 23 }),
    KH: fc.integer({ min: 1, max: 4 }),
    KW: fc.integer({ min: 1, max: 4 }),
    sH: fc.integer({ min: 1, max: 3 }),
    sW: fc.integer({ min: 1, max: 3 }),
    pH: fc.integer({ min: 0, max: 2 }),
    pW: fc.integer({ min: 0, max: 2 }),
  })
  .filter((g) => g.pH < g.KH && g.pW < g.KW && outH(g) >= 1 && outW(g) >= 1);

const FIXED: Geom[] = [
  { P: 30, H: 24, W: 24, KH: 2, KW: 2, sH: 2, sW: 2, pH: 0, pW: 0 }, // SimpleConvNet pool
  { P: 3, H: 7, W: 9, KH: 2, KW: 2, sH: 2, sW: 2, pH: 0, pW: 0 }, // odd sizes: last row/col dropped
  { P: 2, H: 7, W: 19, KH: 2, KW: 2, sH: 2, sW: 2, pH: 1, pW: 1 },
  { P: 2, H: 9, W: 29, KH: 3, KW: 3, sH: 2, sW: 2, pH: 1, pW: 1 }, // overlapping, odd KW, stride 2
  { P: 2, H: 8, W: 27, KH: 3, KW: 3, sH: 1, sW: 1, pH: 1, pW: 1 }, // stride 1
  { P: 1, H: 5, W: 33, KH: 1, KW: 4, sH: 1, sW: 2, pH: 0, pW: 3 },
  { P: 1, H: 1, W: 1, KH: 1, KW: 1, sH: 1, sW: 1, pH: 0, pW: 0 },
  { P: 1, H: 1, W: 1, KH: 3, KW: 3, sH: 1, sW: 1, pH: 2, pW: 2 },
];

describe.each(['wasm', 'js'] as const)('pooling kernels (%s)', (name) => {
  let h: Harness;
  beforeAll(async () => {
    h = await harness(name);
  });

  const maxCheck = (g: Geom, seed: number, ties: boolean, negative: boolean, shift: number, specials = false) => {
    const x = input(inLen(g), seed, ties, negative, specials);
    const got = maxFwd(h, x, g, shift);
    const ref = naiveMaxFwd(x, g);
    expect(got.y).toEqual(ref.y);
    expect(got.am).toEqual(ref.am);
    const dy = randomF32(outLen(g), seed + 1);
    expect(maxRelErr(maxBwd(h, dy, got.am, g, shift), naiveMaxBwd(dy, ref.am, g))).toBeLessThan(1e-6);
  };

  it('max pooling forward (values, argmax) and backward match the naive reference: fixed shapes', () => {
    FIXED.forEach((g, i) => {
      maxCheck(g, 10 + i, false, false, i % 4);
      maxCheck(g, 20 + i, true, false, (i + 1) % 4);
      maxCheck(g, 30 + i, false, true, (i + 2) % 4);
    });
  });

  it('max pooling forward and backward match the naive reference: random shapes, ties, negative inputs', () => {
    fc.assert(
      fc.property(geomArb, fc.integer(), fc.boolean(), fc.boolean(), fc.integer({ min: 0, max: 3 }),
        (g, seed, ties, negative, shift) => maxCheck(g, seed, ties, negative, shift)),
      { seed: 2024, numRuns: 400 },
    );
  });

  it('max pooling with NaN, +-Infinity and signed zeros in the input: NaN propagates, first NaN is the argmax', () => {
    FIXED.forEach((g, i) => maxCheck(g, 50 + i, false, false, i % 4, true));
    fc.assert(
      fc.property(geomArb, fc.integer(), fc.boolean(), (g, seed, ties) => maxCheck(g, seed, ties, false, 0, true)),
      { seed: 99, numRuns: 300 },
    );
  });

  it('average pooling forward and backward match the naive reference', () => {
    const check = (g: Geom, seed: number, shift: number) => {
      const x = randomF32(inLen(g), seed);
      expect(maxRelErr(avgFwd(h, x, g, shift), naiveAvgFwd(x, g))).toBeLessThan(1e-6);
      const dy = randomF32(outLen(g), seed + 1);
      expect(maxRelErr(avgBwd(h, dy, g, shift), naiveAvgBwd(dy, g))).toBeLessThan(1e-6);
    };
    FIXED.forEach((g, i) => check(g, 40 + i, i % 4));
    fc.assert(fc.property(geomArb, fc.integer(), fc.integer({ min: 0, max: 3 }), check), { seed: 77, numRuns: 300 });
  });

  it('2x2 stride 2: ties go to the first maximum in row-major window order', () => {
    const g: Geom = { P: 1, H: 2, W: 16, KH: 2, KW: 2, sH: 2, sW: 2, pH: 0, pW: 0 };
    // window w (columns 2w, 2w+1): which of the four positions hold the maximum 5
    const patterns = [[1, 1, 1, 1], [0, 1, 1, 0], [0, 0, 1, 1], [0, 0, 0, 1], [1, 0, 0, 1], [0, 1, 0, 1], [0, 0, 1, 0], [1, 0, 1, 0]];
    const x = new Float32Array(32).fill(-2);
    patterns.forEach((pat, w) => {
      if (pat[0]) x[2 * w] = 5;
      if (pat[1]) x[2 * w + 1] = 5;
      if (pat[2]) x[16 + 2 * w] = 5;
      if (pat[3]) x[16 + 2 * w + 1] = 5;
    });
    const { y, am } = maxFwd(h, x, g);
    expect([...y]).toEqual(new Array(8).fill(5));
    const first = patterns.map((pat, w) => {
      const k = pat.indexOf(1);
      return (k >> 1) * 16 + 2 * w + (k & 1);
    });
    expect([...am]).toEqual(first);
  });

  it('padding never wins: an all-negative plane with pad 1 keeps its own values', () => {
    const g: Geom = { P: 1, H: 3, W: 9, KH: 2, KW: 2, sH: 2, sW: 2, pH: 1, pW: 1 };
    const x = Float32Array.from({ length: 27 }, (_, i) => -1 - i);
    const { y, am } = maxFwd(h, x, g);
    expect([...y].every((v) => v < 0)).toBe(true);
    expect(am[0]).toBe(0); // the corner window holds only x[0, 0]
    expect(y[0]).toBe(-1);
  });

  it('-Infinity windows still get an in-plane argmax; NaN propagates (first NaN wins)', () => {
    const g: Geom = { P: 1, H: 2, W: 8, KH: 2, KW: 2, sH: 2, sW: 2, pH: 0, pW: 0 };
    const x = new Float32Array(16).fill(-Infinity);
    x[2] = 1; x[3] = NaN; x[11] = NaN; // window 1: NaN at (0,3) and (1,3) after a 1
    x[4] = 7; x[13] = NaN; // window 2: 7 then NaN
    const { y, am } = maxFwd(h, x, g);
    expect(y[0]).toBe(-Infinity);
    expect(am[0]).toBe(0);
    expect(y[1]).toBeNaN();
    expect(am[1]).toBe(3);
    expect(y[2]).toBeNaN();
    expect(am[2]).toBe(13);
    expect(y[3]).toBe(-Infinity);
    expect(am[3]).toBe(6);
  });

  it('a window larger than the padded plane: forward writes nothing, backward zeroes dx', () => {
    const g: Geom = { P: 2, H: 2, W: 9, KH: 5, KW: 2, sH: 2, sW: 2, pH: 1, pW: 1 }; // 2 + 2 < 5
    expect(outH(g)).toBe(0);
    const x = randomF32(inLen(g), 5);
    const m = maxFwd(h, x, g);
    expect(m.y.length + m.am.length).toBe(0);
    expect(avgFwd(h, x, g).length).toBe(0);
    expect(maxBwd(h, new Float32Array(0), new Int32Array(0), g)).toEqual(new Float32Array(inLen(g)));
    expect(avgBwd(h, new Float32Array(0), g)).toEqual(new Float32Array(inLen(g)));
  });

  it('backward accumulates where overlapping windows share an argmax, and overwrites dx', () => {
    const g: Geom = { P: 1, H: 3, W: 3, KH: 2, KW: 2, sH: 1, sW: 1, pH: 0, pW: 0 };
    const x = Float32Array.from([0, 0, 0, 0, 9, 0, 0, 0, 0]);
    const { am } = maxFwd(h, x, g);
    expect([...am]).toEqual([4, 4, 4, 4]);
    const dx = maxBwd(h, Float32Array.from([1, 2, 3, 4]), am, g);
    expect([...dx]).toEqual([0, 0, 0, 0, 10, 0, 0, 0, 0]);
    const da = avgBwd(h, Float32Array.from([4, 8, 12, 16]), g);
    expect([...da]).toEqual([1, 3, 2, 4, 10, 6, 3, 7, 4]);
  });
});

describe('pooling: Wasm and JS are bit-identical', () => {
  let w: Harness;
  let j: Harness;
  beforeAll(async () => {
    [w, j] = await Promise.all([harness('wasm'), harness('js')]);
  });

  it('on random shapes, max and average, forward and backward', () => {
    fc.assert(
      fc.property(geomArb, fc.integer(), fc.boolean(), fc.boolean(), (g, seed, ties, specials) => {
        const x = input(inLen(g), seed, ties, false, specials);
        const mw = maxFwd(w, x, g);
        const mj = maxFwd(j, x, g);
        expect(mw.y).toEqual(mj.y);
        expect(mw.am).toEqual(mj.am);
        const dy = randomF32(outLen(g), seed + 1);
        expect(maxBwd(w, dy, mw.am, g)).toEqual(maxBwd(j, dy, mj.am, g));
        expect(avgFwd(w, x, g)).toEqual(avgFwd(j, x, g));
        expect(avgBwd(w, dy, g)).toEqual(avgBwd(j, dy, g));
      }),
      { seed: 31337, numRuns: 300 },
    );
  });
});
