// The course's worked examples through the public Backend ops, on both backends, plus
// the shape errors those ops raise.
import { describe, it, expect, beforeAll } from 'vitest';
import { createBackend } from '../src/backend/create.js';
import type { Backend } from '../src/backend/backend.js';
import { tensor } from '../src/tensor.js';
import { ShapeError } from '../src/errors.js';
import { BACKENDS, randomF32, maxRelErr } from './helpers/harness.js';
import { avgPool, conv2d, matmul, maxPool } from '../src/ops/index.js';

/** Direct convolution over NCHW, float64 accumulation. */
function naiveConv(x: ArrayLike<number>, xs: number[], w: ArrayLike<number>, ws: number[],
  b: ArrayLike<number> | null, stride: number, pad: number): { data: Float64Array; shape: number[] } {
  const [N, C, H, W] = xs;
  const [FN, , KH, KW] = ws;
  const OH = Math.floor((H + 2 * pad - KH) / stride) + 1;
  const OW = Math.floor((W + 2 * pad - KW) / stride) + 1;
  const y = new Float64Array(N * FN * OH * OW);
  for (let n = 0; n < N; n++) {
    for (let f = 0; f < FN; f++) {
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          let s = b ? b[f] : 0;
          for (let c = 0; c < C; c++) {
            for (let kh = 0; kh < KH; kh++) {
              for (let kw = 0; kw < KW; kw++) {
                const ih = oh * stride - pad + kh;
                const iw = ow * stride - pad + kw;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                s += x[((n * C + c) * H + ih) * W + iw] * w[((f * C + c) * KH + kh) * KW + kw];
              }
            }
          }
          y[((n * FN + f) * OH + oh) * OW + ow] = s;
        }
      }
    }
  }
  return { data: y, shape: [N, FN, OH, OW] };
}

function naivePool(x: ArrayLike<number>, xs: number[], size: number, stride: number, kind: 'max' | 'avg'): Float64Array {
  const [N, C, H, W] = xs;
  const OH = Math.floor((H - size) / stride) + 1;
  const OW = Math.floor((W - size) / stride) + 1;
  const y = new Float64Array(N * C * OH * OW);
  for (let p = 0; p < N * C; p++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        let m = -Infinity;
        let s = 0;
        for (let kh = 0; kh < size; kh++) {
          for (let kw = 0; kw < size; kw++) {
            const v = x[(p * H + oh * stride + kh) * W + ow * stride + kw];
            m = Math.max(m, v);
            s += v;
          }
        }
        y[(p * OH + oh) * OW + ow] = kind === 'max' ? m : s / (size * size);
      }
    }
  }
  return y;
}

const IMAGE = [
  [1, 2, 3, 0, 1],
  [0, 1, 5, 1, 0],
  [1, 0, 2, 2, 1],
  [1, 1, 2, 0, 0],
  [1, 0, 1, 1, 1],
];
const FILTER = [
  [1, 0, 1],
  [0, 1, 0],
  [1, 0, 1],
];

describe.each(BACKENDS)('public ops (%s backend)', (name) => {
  let be: Backend;
  beforeAll(async () => {
    be = await createBackend(name);
  });

  it('the worked example: a 5x5 image and a 3x3 filter give [[8,9,8],[8,5,9],[6,5,5]]', () => {
    const x = be.tensor(IMAGE.flat(), [1, 1, 5, 5]);
    const w = be.tensor(FILTER.flat(), [1, 1, 3, 3]);
    const y = conv2d(be, x, w, null);
    expect(y.shape).toEqual([1, 1, 3, 3]);
    expect([...y.data]).toEqual([8, 9, 8, 8, 5, 9, 6, 5, 5]);
  });

  it('host tensors work as inputs too (copied to the device and freed)', () => {
    const used = be.memoryStats().used;
    const y = conv2d(be, tensor(IMAGE.flat(), [1, 1, 5, 5]), tensor(FILTER.flat(), [1, 1, 3, 3]), null);
    expect([...y.data]).toEqual([8, 9, 8, 8, 5, 9, 6, 5, 5]);
    y.dispose();
    expect(be.memoryStats().used).toBe(used);
  });

  for (const { pad, stride, out } of [
    { pad: 0, stride: 1, out: 3 },
    { pad: 2, stride: 1, out: 7 },
    { pad: 1, stride: 2, out: 3 },
  ]) it(`a 3x3 filter on a 5x5 input with pad ${pad}, stride ${stride} gives ${out}x${out}`, () => {
    const x = be.tensor(IMAGE.flat(), [1, 1, 5, 5]);
    const w = be.tensor(FILTER.flat(), [1, 1, 3, 3]);
    const y = conv2d(be, x, w, null, { pad, stride });
    expect(y.shape).toEqual([1, 1, out, out]);
    const ref = naiveConv(IMAGE.flat(), [1, 1, 5, 5], FILTER.flat(), [1, 1, 3, 3], null, stride, pad);
    expect([...y.data]).toEqual([...ref.data]); // small integers: exact
  });

  it('a 3-channel input with two 3x3x3 filters gives two feature maps', () => {
    const xs = [2, 3, 7, 6];
    const ws = [2, 3, 3, 3];
    const xd = randomF32(2 * 3 * 7 * 6, 11);
    const wd = randomF32(2 * 3 * 3 * 3, 12);
    for (const [stride, pad] of [[1, 0], [1, 1], [2, 1], [3, 2]]) {
      const y = conv2d(be, be.tensor(xd, xs), be.tensor(wd, ws), null, { stride, pad });
      const ref = naiveConv(xd, xs, wd, ws, null, stride, pad);
      expect(y.shape).toEqual(ref.shape);
      expect(y.shape[1]).toBe(2);
      expect(maxRelErr(y.data, ref.data)).toBeLessThan(1e-5);
    }
  });

  it('bias is added per filter', () => {
    const xs = [2, 3, 5, 5];
    const ws = [2, 3, 3, 3];
    const x = be.tensor(randomF32(150, 21), xs);
    const w = be.tensor(randomF32(54, 22), ws);
    const b = be.tensor([10, -5], [2]);
    const y0 = conv2d(be, x, w, null, { pad: 1 });
    const y1 = conv2d(be, x, w, b, { pad: 1 });
    const plane = 25;
    for (let n = 0; n < 2; n++) {
      for (let f = 0; f < 2; f++) {
        for (let i = 0; i < plane; i++) {
          const k = (n * 2 + f) * plane + i;
          expect(y1.data[k] - y0.data[k]).toBeCloseTo(f === 0 ? 10 : -5, 4);
        }
      }
    }
    const ref = naiveConv(x.data, xs, w.data, ws, [10, -5], 1, 1);
    expect(maxRelErr(y1.data, ref.data)).toBeLessThan(1e-5);
  });

  it('2x2 max pooling with stride 2 quarters each map and keeps the channel count', () => {
    const xs = [2, 3, 8, 6];
    const xd = randomF32(2 * 3 * 8 * 6, 31);
    const y = maxPool(be, be.tensor(xd, xs), { size: 2, stride: 2 });
    expect(y.shape).toEqual([2, 3, 4, 3]);
    expect([...y.data]).toEqual([...Float32Array.from(naivePool(xd, xs, 2, 2, 'max'))]);
  });

  it('max pooling of the worked-example image (odd size: floor division drops the last row/column)', () => {
    const y = maxPool(be, be.tensor(IMAGE.flat(), [1, 1, 5, 5]), { size: 2 });
    expect(y.shape).toEqual([1, 1, 2, 2]);
    expect([...y.data]).toEqual([2, 5, 1, 2]);
  });

  it('average pooling: window means; padding counts as zero', () => {
    const xs = [1, 2, 6, 4];
    const xd = randomF32(48, 41);
    const y = avgPool(be, be.tensor(xd, xs), { size: 2, stride: 2 });
    expect(y.shape).toEqual([1, 2, 3, 2]);
    expect(maxRelErr(y.data, naivePool(xd, xs, 2, 2, 'avg'))).toBeLessThan(1e-6);
    const yp = avgPool(be, be.tensor([4, 8, 12, 16], [1, 1, 2, 2]), { size: 2, stride: 2, pad: 1 });
    expect([...yp.data]).toEqual([1, 2, 3, 4]);
  });

  it('matmul with every transpose combination', () => {
    const M = 3, K = 4, N = 5;
    const a = randomF32(M * K, 51);
    const b = randomF32(K * N, 52);
    const ref = new Float64Array(M * N);
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) for (let k = 0; k < K; k++) ref[i * N + j] += a[i * K + k] * b[k * N + j];
    const aT = new Float32Array(K * M);
    const bT = new Float32Array(N * K);
    for (let i = 0; i < M; i++) for (let k = 0; k < K; k++) aT[k * M + i] = a[i * K + k];
    for (let k = 0; k < K; k++) for (let j = 0; j < N; j++) bT[j * K + k] = b[k * N + j];
    const cases: [Float32Array, number[], Float32Array, number[], boolean, boolean][] = [
      [a, [M, K], b, [K, N], false, false],
      [aT, [K, M], b, [K, N], true, false],
      [a, [M, K], bT, [N, K], false, true],
      [aT, [K, M], bT, [N, K], true, true],
    ];
    for (const [ad, as, bd, bs, transA, transB] of cases) {
      const c = matmul(be, be.tensor(ad, as), be.tensor(bd, bs), { transA, transB });
      expect(c.shape).toEqual([M, N]);
      expect(maxRelErr(c.data, ref)).toBeLessThan(1e-5);
    }
  });

  describe('wrong shapes throw a ShapeError naming the op, the expected and the actual shape', () => {
    it('conv2d: channel mismatch', () => {
      const x = be.tensor(new Float32Array(2 * 25), [1, 2, 5, 5]);
      const w = be.tensor(new Float32Array(2 * 27), [2, 3, 3, 3]);
      expect(() => conv2d(be, x, w, null)).toThrow(ShapeError);
      expect(() => conv2d(be, x, w, null)).toThrow(/conv2d.*\(2, 3, 3, 3\).*3 input channels.*\(1, 2, 5, 5\).*2/);
    });

    it('conv2d: bias of the wrong size', () => {
      const x = be.tensor(new Float32Array(25), [1, 1, 5, 5]);
      const w = be.tensor(new Float32Array(18), [2, 1, 3, 3]);
      const b = be.tensor([1, 2, 3], [3]);
      expect(() => conv2d(be, x, w, b)).toThrow(/conv2d.*\(2\).*\(3\)/);
    });

    it('conv2d / pooling: input that is not 4-D', () => {
      const x = be.tensor(new Float32Array(25), [5, 5]);
      const w = be.tensor(new Float32Array(9), [1, 1, 3, 3]);
      expect(() => conv2d(be, x, w, null)).toThrow(ShapeError);
      expect(() => conv2d(be, x, w, null)).toThrow(/conv2d.*4-D.*\(5, 5\)/);
      expect(() => maxPool(be, x, { size: 2 })).toThrow(/maxPool.*4-D.*\(5, 5\)/);
      expect(() => avgPool(be, x, { size: 2 })).toThrow(/avgPool.*4-D.*\(5, 5\)/);
    });

    it('conv2d: filter larger than the padded input', () => {
      const x = be.tensor(new Float32Array(25), [1, 1, 5, 5]);
      const w = be.tensor(new Float32Array(49), [1, 1, 7, 7]);
      expect(() => conv2d(be, x, w, null)).toThrow(ShapeError);
      expect(() => conv2d(be, x, w, null)).toThrow(/conv2d.*7x7.*pad 0.*5x5.*\(1, 1, 5, 5\)/);
      expect(conv2d(be, x, w, null, { pad: 1 }).shape).toEqual([1, 1, 1, 1]); // fits once padded
    });

    it('pooling: window larger than the input, pad not smaller than the window', () => {
      const x = be.tensor(new Float32Array(9), [1, 1, 3, 3]);
      expect(() => maxPool(be, x, { size: 4 })).toThrow(/maxPool.*4x4.*3x3.*\(1, 1, 3, 3\)/);
      expect(() => maxPool(be, x, { size: 2, pad: 2 })).toThrow(/maxPool.*pad 2.*window size 2/);
    });

    it('matmul: inner size mismatch', () => {
      const a = be.tensor(new Float32Array(6), [2, 3]);
      const b = be.tensor(new Float32Array(20), [4, 5]);
      expect(() => matmul(be, a, b)).toThrow(ShapeError);
      expect(() => matmul(be, a, b)).toThrow(/matmul.*\(2, 3\).*\(4, 5\)/);
      expect(() => matmul(be, a, b, { transA: true })).toThrow(/matmul.*\(3, 2\).*\(4, 5\)/);
    });
  });
});
