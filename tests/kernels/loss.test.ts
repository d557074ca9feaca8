// softmax / softmax + cross-entropy kernels: Wasm vs JS vs the course's NumPy code transcribed
// to float64 JS (softmax with the row max subtracted; cross_entropy_error with delta 1e-7;
// SoftmaxWithLoss.backward = (y - onehot(t)) / batch_size), property-based (fast-check, seeded).
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { randomF32, maxRelErr, useBothBackends } from '../helpers/harness.js';

const SEED = 31415;
const RUNS = 60;


const onBoth = useBothBackends();

// ---- the course, on number[] rows --------------------------------------------------------
function refSoftmax(x: ArrayLike<number>, N: number, C: number): number[] {
  const y: number[] = [];
  for (let i = 0; i < N; i++) {
    const row = Array.from({ length: C }, (_, j) => x[i * C + j]);
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    for (const v of e) y.push(v / s);
  }
  return y;
}
function refXent(y: ArrayLike<number>, t: ArrayLike<number>, N: number, C: number): number {
  let s = 0;
  for (let i = 0; i < N; i++) s += Math.log(y[i * C + t[i]] + 1e-7);
  return -s / N;
}
function refXentBwd(y: ArrayLike<number>, t: ArrayLike<number>, N: number, C: number): number[] {
  const dx = Array.from(y);
  for (let i = 0; i < N; i++) dx[i * C + t[i]] -= 1;
  return dx.map((v) => v / N);
}

const rowsArb = fc.oneof(fc.constantFrom(1, 2, 3, 5, 7, 100), fc.integer({ min: 1, max: 40 }));
const classesArb = fc.oneof(fc.constantFrom(1, 2, 3, 4, 5, 7, 8, 9, 10, 17), fc.integer({ min: 1, max: 70 }));
/** Logit scales: ordinary, large (the stability case), and huge (exp overflows without the max shift). */
const scaleArb = fc.constantFrom(1, 5, 100, 1000, 1e30);
/** Labels: random, or pinned to the class boundaries 0 and C-1. */
const labelModeArb = fc.constantFrom('random', 'first', 'last', 'alternate');

function labelsFor(mode: string, N: number, C: number, seed: number): Int32Array {
  const r = randomF32(N, seed);
  return Int32Array.from({ length: N }, (_, i) => {
    if (mode === 'first') return 0;
    if (mode === 'last') return C - 1;
    if (mode === 'alternate') return i % 2 === 0 ? 0 : C - 1;
    return Math.min(C - 1, Math.floor((r[i] + 1) / 2 * C));
  });
}

/** Logits with an offset so that some rows sit around +-1000 (overflow without the max shift). */
function logits(N: number, C: number, seed: number, scale: number): Float32Array {
  const x = randomF32(N * C, seed);
  const off = randomF32(N, seed + 3);
  return x.map((v, k) => v * scale + Math.round(off[Math.floor(k / C)] * 2) * 1000);
}

describe('softmax_f32', () => {
  it('matches the course softmax, rows sum to 1, no NaN even with logits ~ 1000', () => {
    fc.assert(fc.property(rowsArb, classesArb, fc.integer(), scaleArb, fc.boolean(), (N, C, seed, scale, inPlace) => {
      const x = logits(N, C, seed, scale);
      const want = refSoftmax(x, N, C);
      const outs = onBoth((h) => {
        const xp = h.putF32(x), yp = inPlace ? xp : h.alloc(N * C);
        h.k.softmax_f32(xp, yp, N, C);
        return h.getF32(yp, N * C);
      });
      for (const o of outs) {
        expect(o.some(Number.isNaN)).toBe(false);
        expect(maxRelErr(o, want)).toBeLessThan(2e-6);
        for (let i = 0; i < N; i++) {
          let s = 0;
          for (let j = 0; j < C; j++) s += o[i * C + j];
          expect(Math.abs(s - 1)).toBeLessThan(1e-5);
        }
      }
    }), { seed: SEED, numRuns: RUNS });
  });

  it('small probabilities keep their relative accuracy (logits spread over 60)', () => {
    const N = 7, C = 13;
    const x = randomF32(N * C, 5).map((v) => v * 30);
    const want = refSoftmax(x, N, C);
    for (const o of onBoth((h) => {
      const xp = h.putF32(x), yp = h.alloc(N * C);
      h.k.softmax_f32(xp, yp, N, C);
      return h.getF32(yp, N * C);
    })) {
      let worst = 0;
      for (let k = 0; k < N * C; k++) worst = Math.max(worst, Math.abs(o[k] - want[k]) / want[k]);
      // x - max rounded to f32 (|x - max| <= 60, half an ulp ~ 2e-6) bounds the relative error of exp
      expect(worst).toBeLessThan(5e-6);
    }
  });

  it('hand-checked rows: [0, ln 3] -> [1/4, 3/4]; [1000, 1000, 1000] -> 1/3 each; C = 1 -> 1', () => {
    for (const o of onBoth((h) => {
      const a = h.putF32([0, Math.log(3)]), ya = h.alloc(2);
      h.k.softmax_f32(a, ya, 1, 2);
      const b = h.putF32([1000, 1000, 1000, -1000, -1000, -1000]), yb = h.alloc(6);
      h.k.softmax_f32(b, yb, 2, 3);
      const c = h.putF32([-5, 0, 7e30]), yc = h.alloc(3);
      h.k.softmax_f32(c, yc, 3, 1);
      return [...h.getF32(ya, 2), ...h.getF32(yb, 6), ...h.getF32(yc, 3)];
    })) {
      expect(maxRelErr(o, [0.25, 0.75, 1 / 3, 1 / 3, 1 / 3, 1 / 3, 1 / 3, 1 / 3, 1, 1, 1])).toBeLessThan(1e-6);
    }
  });
});

describe('softmax_xent_fwd_f32', () => {
  it('returns the course loss (delta 1e-7) and writes the probabilities', () => {
    fc.assert(fc.property(rowsArb, classesArb, fc.integer(), scaleArb, labelModeArb, (N, C, seed, scale, mode) => {
      const x = logits(N, C, seed, scale);
      const t = labelsFor(mode, N, C, seed + 9);
      const yRef = refSoftmax(x, N, C);
      const lossRef = refXent(yRef, t, N, C);
      const outs = onBoth((h) => {
        const xp = h.putF32(x), tp = h.putI32(t), yp = h.alloc(N * C);
        const loss = h.k.softmax_xent_fwd_f32(xp, tp, yp, N, C);
        return { loss, y: h.getF32(yp, N * C) };
      });
      for (const o of outs) {
        expect(maxRelErr(o.y, yRef)).toBeLessThan(2e-6);
        expect(Number.isFinite(o.loss)).toBe(true);
        // the loss is bounded by -log(1e-7) ~ 16.1; f32 probabilities give ~1e-6 relative error
        expect(Math.abs(o.loss - lossRef)).toBeLessThan(1e-5 * (1 + lossRef));
      }
      expect(Math.abs(outs[0].loss - outs[1].loss)).toBeLessThan(1e-5 * (1 + lossRef));
    }), { seed: SEED, numRuns: RUNS });
  });

  it('hand-checked: uniform logits give log(C); a certain right answer ~0; a certain wrong answer -log(1e-7)', () => {
    for (const o of onBoth((h) => {
      const y = h.alloc(30);
      const l1 = h.k.softmax_xent_fwd_f32(h.putF32(new Array(30).fill(0.5)), h.putI32([0, 9, 4]), y, 3, 10);
      const l2 = h.k.softmax_xent_fwd_f32(h.putF32([1000, 0, 0, 0]), h.putI32([0, 0]), h.alloc(4), 2, 2);
      const l3 = h.k.softmax_xent_fwd_f32(h.putF32([1000, 0]), h.putI32([1]), h.alloc(2), 1, 2);
      return [l1, l2, l3];
    })) {
      // the delta shows: -log(0.1 + 1e-7) = log(10) - 1e-6
      expect(o[0]).toBeCloseTo(-Math.log(0.1 + 1e-7), 6);
      expect(Math.abs(o[0] - Math.log(10))).toBeGreaterThan(5e-7);
      // row 0: p = 1 -> -log(1 + 1e-7); row 1: p = 1/2 -> -log(0.5 + 1e-7)
      expect(o[1]).toBeCloseTo((-Math.log(1 + 1e-7) - Math.log(0.5 + 1e-7)) / 2, 6);
      expect(o[2]).toBeCloseTo(-Math.log(1e-7), 5);
    }
  });

  it('N == 0 returns 0; a label outside [0, C) makes the loss NaN (never silently skipped)', () => {
    for (const o of onBoth((h) => {
      const empty = h.k.softmax_xent_fwd_f32(h.alloc(0), h.alloc(0), h.alloc(0), 0, 10);
      const x = h.putF32(randomF32(20, 1));
      const neg = h.k.softmax_xent_fwd_f32(x, h.putI32([3, -1]), h.alloc(20), 2, 10);
      const big = h.k.softmax_xent_fwd_f32(x, h.putI32([10, 3]), h.alloc(20), 2, 10);
      return [empty, neg, big];
    })) {
      expect(o[0]).toBe(0);
      expect(o[1]).toBeNaN();
      expect(o[2]).toBeNaN();
    }
  });
});

describe('softmax_xent_bwd_f32', () => {
  it('dx = (y - onehot(t)) / N, rows sum to ~0; dx == y allowed', () => {
    fc.assert(fc.property(rowsArb, classesArb, fc.integer(), labelModeArb, fc.boolean(), (N, C, seed, mode, inPlace) => {
      const y = Float32Array.from(refSoftmax(logits(N, C, seed, 3), N, C));
      const t = labelsFor(mode, N, C, seed + 9);
      const want = refXentBwd(y, t, N, C);
      const outs = onBoth((h) => {
        const yp = h.putF32(y), tp = h.putI32(t), dxp = inPlace ? yp : h.alloc(N * C);
        h.k.softmax_xent_bwd_f32(yp, tp, dxp, N, C);
        return h.getF32(dxp, N * C);
      });
      for (const o of outs) {
        expect(maxRelErr(o, want)).toBeLessThan(1e-6);
        for (let i = 0; i < N; i++) {
          let s = 0;
          for (let j = 0; j < C; j++) s += o[i * C + j];
          expect(Math.abs(s)).toBeLessThan(1e-5);
        }
      }
    }), { seed: SEED, numRuns: RUNS });
  });

  it('is the gradient of softmax_xent_fwd (central differences on the logits)', () => {
    const N = 3, C = 5;
    const x = Array.from(randomF32(N * C, 11), (v) => v * 2);
    const t = [0, 4, 2];
    const f = (xs: number[]) => refXent(refSoftmax(xs, N, C), t, N, C);
    const numeric = x.map((_, k) => {
      const a = x.slice(), b = x.slice();
      a[k] += 1e-4;
      b[k] -= 1e-4;
      return (f(a) - f(b)) / 2e-4;
    });
    for (const o of onBoth((h) => {
      const xp = h.putF32(x), tp = h.putI32(t), yp = h.alloc(N * C), dxp = h.alloc(N * C);
      h.k.softmax_xent_fwd_f32(xp, tp, yp, N, C);
      h.k.softmax_xent_bwd_f32(yp, tp, dxp, N, C);
      return h.getF32(dxp, N * C);
    })) expect(maxRelErr(o, numeric)).toBeLessThan(1e-5);
  });

  it('an invalid label turns its row of dx into NaN; other rows are unaffected', () => {
    const y = Float32Array.from(refSoftmax(randomF32(8, 2), 2, 4));
    for (const o of onBoth((h) => {
      const dxp = h.alloc(8);
      h.k.softmax_xent_bwd_f32(h.putF32(y), h.putI32([1, 4]), dxp, 2, 4);
      return h.getF32(dxp, 8);
    })) {
      expect(maxRelErr(o.subarray(0, 4), refXentBwd(y, [1], 2, 4).slice(0, 4))).toBeLessThan(1e-6);
      expect(Array.from(o.subarray(4)).every(Number.isNaN)).toBe(true);
    }
  });
});
