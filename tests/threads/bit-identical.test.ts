// Threads do not change results: the same computation on 1, 2 and 3 threads gives the same
// bytes. Covers every kernel the threaded kernel set splits (on sizes large enough to be
// split, with odd remainders), GEMM in all four transposes incl. edge tiles and beta != 0,
// conv forward / backward (direct and Winograd), and a short SimpleConvNet training run (Trainer, Adam). Every run
// compared on 2 and 3 threads had the kernel workers compute chunks of it (workers.ts).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createBackend } from '../../src/backend/create.js';
import type { Backend } from '../../src/backend/backend.js';
import { SimpleConvNet } from '../../src/models/presets.js';
import { Adam } from '../../src/train/optimizers.js';
import { Trainer, type TrainResult } from '../../src/train/trainer.js';
import { loadMnistBytes } from '../../src/data/mnist-node.js';
import { Tensor } from '../../src/tensor.js';
import { convGeom, colSize, convForward, convBackward } from '../../src/ops/conv.js';
import { randomF32 } from '../helpers/harness.js';
import { splitRange, type ThreadedKernels } from '../../src/backend/threads/kernels.js';
import { wino5FilterFloats, wino5FwdScratch } from '../../src/backend/kernels.js';
import { withWorkers, withWorkersAsync } from './workers.js';

const COUNTS = [1, 2, 3] as const;
const backends: Backend[] = [];

beforeAll(async () => {
  for (const t of COUNTS) backends.push(await createBackend('wasm', { threads: t }));
});
afterAll(() => backends.forEach((b) => b.dispose()));

it('runs on the thread counts asked for', () => {
  expect(backends.map((b) => b.features.threads)).toEqual([...COUNTS]);
  for (const b of backends) expect(b.features.threadsNote).toBeUndefined();
});

/** Raw bytes of a float32 range, for exact comparison (NaN payloads and -0 included). */
function bytesOf(b: Backend, ptr: number, n: number): Uint8Array {
  return new Uint8Array(b.memory.buffer, ptr, n * 4).slice();
}

function sameBytes(what: string, got: Uint8Array[]): void {
  for (let i = 1; i < got.length; i++) {
    const a = got[0], b = got[i];
    expect(b.length, what).toBe(a.length);
    let first = -1;
    for (let j = 0; j < a.length; j++) if (a[j] !== b[j]) { first = j; break; }
    if (first >= 0) expect.fail(`${what}: ${COUNTS[i]} threads differ from 1 thread at float ${first >> 2}`);
  }
}

/**
 * Runs `call` on every backend with fresh copies of `inputs` (pointers in the same order),
 * and compares the `outputs` (indices into the pointer list, with lengths) byte for byte.
 * On 2 and 3 threads a run counts only when the kernel workers took chunks of it (it is
 * repeated until they do, see workers.ts), and it made `splitCalls` split calls when given.
 */
function compare(what: string, inputs: Float32Array[], call: (b: Backend, p: number[]) => unknown, outputs: [number, number][],
  splitCalls = 0): unknown[] {
  const results: Uint8Array[][] = outputs.map(() => []);
  const returns: unknown[] = [];
  for (const b of backends) {
    const pool = b.features.threads > 1 ? (b.kernels as ThreadedKernels).pool : null;
    const { result } = withWorkers(b, what, () => {
      const runs = pool?.runs ?? 0;
      const ptrs = inputs.map((a) => {
        const p = b.memory.alloc(a.length * 4);
        new Float32Array(b.memory.buffer, p, a.length).set(a);
        return p;
      });
      try {
        const ret = call(b, ptrs);
        // the calls really were split (sizes above the thresholds of src/backend/threads/kernels.ts)
        if (pool && splitCalls > 0) expect(pool.runs - runs, `${what}: split calls on ${b.features.threads} threads`).toBe(splitCalls);
        return { ret, bytes: outputs.map(([i, n]) => bytesOf(b, ptrs[i], n)) };
      } finally {
        ptrs.forEach((p) => b.memory.release(p));
      }
    });
    returns.push(result.ret);
    result.bytes.forEach((bytes, k) => results[k].push(bytes));
  }
  results.forEach((r, k) => sameBytes(`${what} (output ${k})`, r));
  return returns;
}

const nanFilled = (n: number) => new Float32Array(n).fill(NaN);

describe('gemm_f32', () => {
  const shapes: [number, number, number, number, number][] = [
    // transA, transB, M, N, K: SimpleConvNet's Affine1 (forward, dW, dx), odd edges, skinny
    [0, 0, 100, 100, 4320], [1, 0, 4320, 100, 100], [0, 1, 100, 4320, 100],
    [0, 0, 103, 97, 211], [1, 0, 131, 59, 173], [0, 1, 67, 301, 129], [1, 1, 89, 83, 157],
    [0, 0, 7, 1001, 300], [0, 1, 251, 3, 2997], [1, 1, 3, 517, 1400], [0, 0, 1003, 9, 300],
  ];
  for (const [tA, tB, M, N, K] of shapes) {
    for (const beta of [0, 0.5]) {
      it(`${tA ? 'T' : 'N'}${tB ? 'T' : 'N'} ${M}x${N}x${K} beta ${beta}`, () => {
        const A = randomF32(M * K, M + N), B = randomF32(K * N, K + 7);
        const C = beta === 0 ? nanFilled(M * N) : randomF32(M * N, 99);
        compare(`gemm ${M}x${N}x${K}`, [A, B, C], (b, [pa, pb, pc]) =>
          b.kernels.gemm_f32(tA, tB, M, N, K, 1.25, pa, tA ? M : K, pb, tB ? K : N, beta, pc, N), [[2, M * N]], 1);
      });
    }
  }
});

describe('gemm_nt_dots_f32', () => {
  // M, N, K: split by rows (M / 5 >= N / 16) and by columns, odd edges, a k of several blocks
  const shapes: [number, number, number][] = [[300, 25, 576], [30, 2501, 576], [103, 97, 211], [67, 301, 1029], [7, 1001, 300]];
  for (const [M, N, K] of shapes) {
    for (const beta of [0, 1]) {
      it(`${M}x${N}x${K} beta ${beta}`, () => {
        const A = randomF32(M * K, M + N), B = randomF32(K * N, K + 7);
        const C = beta === 0 ? nanFilled(M * N) : randomF32(M * N, 99);
        compare(`gemm_nt_dots ${M}x${N}x${K}`, [A, B, C], (b, [pa, pb, pc]) =>
          b.kernels.gemm_nt_dots_f32(M, N, K, -0.75, pa, K, pb, K, beta, pc, N), [[2, M * N]], 1);
      });
    }
  }
});

describe('conv (forward, filter / bias / input gradients)', () => {
  const cases: { x: [number, number, number, number]; w: [number, number, number, number]; stride: number; pad: number }[] = [
    { x: [100, 1, 28, 28], w: [30, 1, 5, 5], stride: 1, pad: 0 }, // SimpleConvNet
    { x: [37, 3, 17, 15], w: [11, 3, 3, 3], stride: 1, pad: 1 },
    { x: [23, 4, 19, 19], w: [16, 4, 5, 3], stride: 2, pad: 2 },
    // Winograd (convAlgo): odd channels and sizes; the deep net's conv4 and conv6 shapes (F(4x4)
    // forward and input gradient), a 6x6 output (F(2x2) throughout, src/ops/conv.ts winoTile4)
    { x: [37, 9, 13, 11], w: [11, 9, 3, 3], stride: 1, pad: 1 },
    { x: [60, 16, 6, 6], w: [16, 16, 3, 3], stride: 1, pad: 1 },
    { x: [20, 16, 14, 14], w: [32, 16, 3, 3], stride: 1, pad: 2 },
    { x: [30, 64, 8, 8], w: [64, 64, 3, 3], stride: 1, pad: 1 },
  ];
  for (const { x: xs, w: ws, stride, pad } of cases) {
    it(`x ${xs.join('x')}, w ${ws.join('x')}, stride ${stride}, pad ${pad}`, () => {
      const g = convGeom('test', xs, ws, stride, pad);
      const nx = xs.reduce((a, b) => a * b), nw = ws.reduce((a, b) => a * b), ny = g.N * g.FN * g.OH * g.OW;
      const x = randomF32(nx, 1), w = randomF32(nw, 2), bias = randomF32(g.FN, 3), dy = randomF32(ny, 4);
      compare('conv', [x, w, bias, dy, nanFilled(ny), nanFilled(nw), nanFilled(g.FN), nanFilled(nx), nanFilled(colSize(g)), nanFilled(colSize(g))],
        (b, [px, pw, pb, pdy, py, pdw, pdb, pdx, col, dcol]) => {
          convForward(b.kernels, g, px, pw, pb, py, col);
          convBackward(b.kernels, g, px, pw, pdy, pdw, pdb, pdx, col, dcol);
        }, [[4, ny], [5, nw], [6, g.FN], [7, nx]], xs[0] === 100 ? 4 : 0); // SimpleConvNet's: fwd, filter, bias and data all split
    });
  }
});

describe('conv_relu_pool_fwd_f32 and wino5_relu_pool_fwd_f32 (fused inference convolutions) and SimpleConvNet predict', () => {
  const cases: { x: [number, number, number, number]; w: [number, number, number, number]; stride: number; pad: number; pool: [number, number, number] }[] = [
    { x: [100, 1, 28, 28], w: [30, 1, 5, 5], stride: 1, pad: 0, pool: [2, 2, 0] }, // SimpleConvNet
    { x: [37, 3, 17, 15], w: [11, 3, 3, 3], stride: 1, pad: 1, pool: [1, 1, 0] }, // no pooling
    { x: [23, 4, 19, 19], w: [16, 4, 5, 3], stride: 2, pad: 2, pool: [3, 2, 1] }, // overlapping padded pool
    { x: [61, 2, 26, 27], w: [9, 2, 3, 3], stride: 1, pad: 0, pool: [2, 2, 0] }, // odd 24x25 conv output
  ];
  for (const { x: xs, w: ws, stride, pad, pool: [PK, PS, PP] } of cases) {
    it(`x ${xs.join('x')}, w ${ws.join('x')}, stride ${stride}, pad ${pad}, pool ${PK}/${PS}/${PP}`, () => {
      const g = convGeom('test', xs, ws, stride, pad);
      const PH = Math.floor((g.OH + 2 * PP - PK) / PS) + 1, PW = Math.floor((g.OW + 2 * PP - PK) / PS) + 1;
      const nx = xs.reduce((a, b) => a * b), nw = ws.reduce((a, b) => a * b), ny = g.N * g.FN * PH * PW;
      compare('conv_relu_pool', [randomF32(nx, 1), randomF32(nw, 2), randomF32(g.FN, 3), nanFilled(ny), nanFilled(colSize(g))],
        (b, [px, pw, pb, py, col]) => b.kernels.conv_relu_pool_fwd_f32(px, g.N, g.C, g.H, g.W, pw, g.FN, g.KH, g.KW,
          g.strideH, g.strideW, g.padH, g.padW, pb, 1, PK, PS, PP, py, col), [[3, ny]], 1);
    });
  }

  // wino5_relu_pool_fwd_f32: SimpleConvNet's fused conv1 (F(4x4, 5x5)), and 3 channels with pad 2, an odd pooled size
  for (const [N, C, H, W, FN, pad] of [[100, 1, 28, 28, 30, 0], [41, 3, 17, 19, 7, 2]]) {
    it(`wino5_relu_pool_fwd_f32: x ${N}x${C}x${H}x${W}, ${FN} filters 5x5, pad ${pad}`, () => {
      const PH = Math.floor((H + 2 * pad - 4) / 2), PW = Math.floor((W + 2 * pad - 4) / 2), ny = N * FN * PH * PW;
      const nu = wino5FilterFloats(FN, C);
      compare('wino5_relu_pool', [randomF32(N * C * H * W, 4), randomF32(FN * C * 25, 5), randomF32(FN, 6), nanFilled(nu), nanFilled(ny),
        nanFilled(wino5FwdScratch(C, H, W, pad))],
        (b, [px, pw, pb, pu, py, scratch]) => {
          b.kernels.wino5_filter_f32(pw, FN, C, pu);
          b.kernels.wino5_relu_pool_fwd_f32(px, N, C, H, W, pu, FN, pad, pb, 1, py, scratch);
        }, [[4, ny]], 1);
    });
  }

  it('SimpleConvNet predict (fused path), batch 100', () => {
    const x = Tensor.host(randomF32(100 * 784, 61), [100, 1, 28, 28]);
    const got = backends.map((b) => withWorkers(b, 'predict', () => {
      const net = new SimpleConvNet({ backend: b, inputDim: [1, 28, 28], convParam: { filterNum: 30, filterSize: 5, pad: 0, stride: 1 },
        hiddenSize: 100, outputSize: 10, weightInitStd: 0.1, seed: 9 });
      net.setParams({ b1: randomF32(30, 62), b2: randomF32(100, 63) });
      const y = net.predict(x).data;
      net.dispose();
      return new Uint8Array(y.buffer, y.byteOffset, y.byteLength).slice();
    }).result);
    sameBytes('predict', got);
  });
});

describe('elementwise, pooling, bias, softmax and optimizer kernels', () => {
  const n = 300_007; // odd: a scalar tail in the last share
  const P = 1501, H = 24, W = 24; // max / avg pooling planes (2x2, stride 2)
  it('activations, mul, axpby, fill, count_nonfinite', () => {
    const x = randomF32(n, 5), y = randomF32(n, 6), dy = randomF32(n, 7);
    x[17] = NaN; x[n - 2] = Infinity; x[50_000] = -0;
    compare('relu', [x, nanFilled(n), dy, nanFilled(n)], (b, [px, py, pdy, pdx]) => {
      b.kernels.relu_fwd_f32(px, py, n);
      b.kernels.relu_bwd_f32(py, pdy, pdx, n);
    }, [[1, n], [3, n]], 2);
    compare('sigmoid', [x, nanFilled(n), dy, nanFilled(n)], (b, [px, py, pdy, pdx]) => {
      b.kernels.sigmoid_fwd_f32(px, py, n);
      b.kernels.sigmoid_bwd_f32(py, pdy, pdx, n);
    }, [[1, n], [3, n]], 2);
    compare('mul / axpby / fill', [x, y, nanFilled(n), nanFilled(n)], (b, [px, py, pz, pf]) => {
      b.kernels.mul_f32(px, py, pz, n);
      b.kernels.axpby_f32(px, py, n, 0.75, -1.5);
      b.kernels.fill_f32(pf, n, 3.25);
    }, [[1, n], [2, n], [3, n]], 3);
    const counts = compare('count_nonfinite', [x], (b, [px]) => b.kernels.count_nonfinite_f32(px, n), [], 1);
    expect(counts).toEqual([2, 2, 2]);
  });

  it('optimizers', () => {
    const p = randomF32(n, 8), g = randomF32(n, 9), s1 = randomF32(n, 10).map(Math.abs), s2 = randomF32(n, 11).map(Math.abs);
    compare('sgd / momentum / nesterov', [p, g, s1], (b, [pp, pg, pv]) => {
      b.kernels.sgd_f32(pp, pg, n, 0.01);
      b.kernels.momentum_f32(pp, pg, pv, n, 0.01, 0.9);
      b.kernels.nesterov_f32(pp, pg, pv, n, 0.01, 0.9);
    }, [[0, n], [2, n]], 3);
    compare('adagrad / rmsprop', [p, g, s1], (b, [pp, pg, ph]) => {
      b.kernels.adagrad_f32(pp, pg, ph, n, 0.01);
      b.kernels.rmsprop_f32(pp, pg, ph, n, 0.01, 0.99);
    }, [[0, n], [2, n]], 2);
    compare('adam', [p, g, s1, s2], (b, [pp, pg, pm, pv]) => {
      for (let t = 1; t <= 3; t++) b.kernels.adam_f32(pp, pg, pm, pv, n, 0.001 * t, 0.9, 0.999);
    }, [[0, n], [2, n], [3, n]], 3);
  });

  it('pooling, bias adds, softmax', () => {
    const x = randomF32(P * H * W, 12), dy = randomF32(P * 144, 13), am = nanFilled(P * 144);
    compare('max pooling', [x, nanFilled(P * 144), am, dy, nanFilled(P * H * W)], (b, [px, py, pa, pdy, pdx]) => {
      b.kernels.maxpool_fwd_f32(px, P, H, W, 2, 2, 2, 2, 0, 0, py, pa);
      b.kernels.maxpool_bwd_f32(pdy, pa, P, H, W, 2, 2, 2, 2, 0, 0, pdx);
    }, [[1, P * 144], [2, P * 144], [4, P * H * W]], 2);
    compare('avg pooling', [x, nanFilled(P * 144), dy, nanFilled(P * H * W)], (b, [px, py, pdy, pdx]) => {
      b.kernels.avgpool_fwd_f32(px, P, H, W, 3, 3, 2, 2, 1, 1, py); // 3x3 windows, stride 2, pad 1: 12x12 outputs
      b.kernels.avgpool_bwd_f32(pdy, P, H, W, 3, 3, 2, 2, 1, 1, pdx);
    }, [[1, P * 144], [3, P * H * W]], 2);
    const N = 211, C = 31, HW = 97, R = 1003, bias = randomF32(C, 14), y = randomF32(N * C * HW, 15);
    compare('bias adds', [y, bias, randomF32(R * 300, 16), randomF32(300, 17)], (b, [py, pb, pr, pbr]) => {
      b.kernels.bias_add_channels_f32(py, pb, N, C, HW);
      b.kernels.bias_add_rows_f32(pr, pbr, R, 300);
    }, [[0, N * C * HW], [2, R * 300]], 2);
    compare('softmax', [randomF32(40_001 * 10, 18), nanFilled(40_001 * 10)], (b, [px, py]) => b.kernels.softmax_f32(px, py, 40_001, 10), [[1, 400_010]], 1);
  });
});

describe('splitRange', () => {
  it('cuts at multiples of the alignment, near the weights, with no empty parts', () => {
    expect(splitRange(100, 2, 5, 1)).toEqual([0, 50, 100]);
    expect(splitRange(25, 2, 2, 1)).toEqual([0, 12, 25]);
    expect(splitRange(100, 3, 5, 1)).toEqual([0, 35, 65, 100]);
    expect(splitRange(100, 2, 5, 1, [0.3, 0.7])).toEqual([0, 30, 100]);
    expect(splitRange(100, 3, 5, 60)).toEqual([0, 100]); // shares under minPer: unsplit
    expect(splitRange(100, 3, 5, 40, [0.5, 0.25, 0.25])).toEqual([0, 65, 100]); // 2 parts: worker 1's weight and the caller's (0.5 : 0.25)
    expect(splitRange(7, 3, 16, 1)).toEqual([0, 7]);
    for (let n = 1; n < 300; n += 7) {
      for (const w of [[1, 1, 1], [0.1, 0.2, 0.7], [0.7, 0.2, 0.1]]) {
        const b = splitRange(n, 3, 5, 1, w);
        expect(b[0]).toBe(0);
        expect(b[b.length - 1]).toBe(n);
        for (let i = 1; i < b.length; i++) {
          expect(b[i]).toBeGreaterThan(b[i - 1]);
          if (i < b.length - 1) expect(b[i] % 5).toBe(0);
        }
      }
    }
  });
});

describe('skewed shares (one chunk per thread, at fixed weights)', () => {
  it('any weights give the same bytes: gemm, conv and a SimpleConvNet step', () => {
    const [, two, three] = backends as [Backend, Backend, Backend];
    const skews: [Backend, number[]][] = [[two, [0.2, 0.8]], [two, [0.85, 0.15]], [three, [0.1, 0.6, 0.3]], [three, [0.5, 0.1, 0.4]]];
    const g = convGeom('test', [50, 2, 13, 11], [9, 2, 3, 3], 1, 1);
    const ny = g.N * g.FN * g.OH * g.OW, nx = 50 * 2 * 13 * 11;
    const x = randomF32(nx, 41), w = randomF32(9 * 18, 42), bias = randomF32(9, 43), dy = randomF32(ny, 44);
    const run = (b: Backend): Uint8Array[] => {
      const out: Uint8Array[] = [];
      const put = (a: Float32Array) => { const p = b.memory.alloc(a.length * 4); new Float32Array(b.memory.buffer, p, a.length).set(a); return p; };
      const A = put(randomF32(203 * 177, 45)), Bm = put(randomF32(177 * 151, 46)), C = put(nanFilled(203 * 151));
      b.kernels.gemm_f32(0, 0, 203, 151, 177, 1, A, 177, Bm, 151, 0, C, 151);
      out.push(bytesOf(b, C, 203 * 151));
      const px = put(x), pw = put(w), pb = put(bias), pdy = put(dy), py = put(nanFilled(ny)), pdw = put(nanFilled(9 * 18)),
        pdb = put(nanFilled(9)), pdx = put(nanFilled(nx)), col = put(nanFilled(colSize(g))), dcol = put(nanFilled(colSize(g)));
      convForward(b.kernels, g, px, pw, pb, py, col);
      convBackward(b.kernels, g, px, pw, pdy, pdw, pdb, pdx, col, dcol);
      out.push(bytesOf(b, py, ny), bytesOf(b, pdw, 9 * 18), bytesOf(b, pdb, 9), bytesOf(b, pdx, nx));
      for (const p of [A, Bm, C, px, pw, pb, pdy, py, pdw, pdb, pdx, col, dcol]) b.memory.release(p);
      const net = new SimpleConvNet({ backend: b, inputDim: [1, 28, 28], convParam: { filterNum: 30, filterSize: 5, pad: 0, stride: 1 },
        hiddenSize: 100, outputSize: 10, weightInitStd: 0.01, seed: 5 });
      const opt = new Adam({ backend: b });
      const xt = Tensor.host(randomF32(100 * 784, 47), [100, 1, 28, 28]);
      opt.update(net.params, net.gradient(xt, Int32Array.from({ length: 100 }, (_, i) => i % 10)));
      out.push(net.saveParams());
      opt.dispose?.();
      net.dispose();
      return out;
    };
    const ref = run(backends[0]);
    for (const [b, weights] of skews) {
      const k = b.kernels as ThreadedKernels;
      k.fixedWeights = weights;
      try {
        withWorkers(b, `weights ${weights.join('/')}`, () => run(b)).result
          .forEach((bytes, i) => sameBytes(`weights ${weights.join('/')}, output ${i}`, [ref[i], bytes]));
      } finally {
        k.fixedWeights = null;
      }
    }
  });
});

describe('a column share on the narrow path (8 < N <= 12) of a call that is not narrow', () => {
  // assembly/gemm.ts sums an element in an order set by the transposes, K and whether its row
  // is one of the 1-2 rows left after the last 5-row tile, never by N; these calls put the
  // last 10 columns on a share of their own, which takes the narrow path (and, at K < 32,
  // NT takes the broadcast path on both), with leftover rows (M % 5 = 2)
  const cases: { tA: number; tB: number; M: number; N: number; K: number; weights: number[] }[] = [
    { tA: 0, tB: 0, M: 7, N: 26, K: 6000, weights: [0.5, 0.5] },
    { tA: 1, tB: 1, M: 7, N: 26, K: 6000, weights: [0.5, 0.5] },
    { tA: 0, tB: 1, M: 42, N: 1002, K: 31, weights: [0.99, 0.01] },
    { tA: 1, tB: 0, M: 42, N: 1002, K: 31, weights: [0.99, 0.01] },
  ];
  for (const { tA, tB, M, N, K, weights } of cases) {
    it(`${tA ? 'T' : 'N'}${tB ? 'T' : 'N'} ${M}x${N}x${K}, shares ${weights.join('/')}`, () => {
      const minPer = Math.ceil(1e6 / (2 * M * K)); // MIN_FLOPS of src/backend/threads/kernels.ts
      expect(splitRange(N, 2, 16, minPer, weights), 'a last share 10 columns wide').toEqual([0, N - 10, N]);
      const [one, two] = backends as [Backend, Backend];
      const k = two.kernels as ThreadedKernels;
      const A = randomF32(M * K, M + K), B = randomF32(K * N, N + 3), C = randomF32(M * N, 5);
      const run = (b: Backend): Uint8Array => {
        const put = (a: Float32Array) => { const p = b.memory.alloc(a.length * 4); new Float32Array(b.memory.buffer, p, a.length).set(a); return p; };
        const pa = put(A), pb = put(B), pc = put(C);
        try {
          b.kernels.gemm_f32(tA, tB, M, N, K, -1.5, pa, tA ? M : K, pb, tB ? K : N, 0.75, pc, N);
          return bytesOf(b, pc, M * N);
        } finally {
          [pa, pb, pc].forEach((p) => b.memory.release(p));
        }
      };
      const ref = run(one);
      k.fixedWeights = weights;
      try {
        const { result } = withWorkers(two, `gemm ${M}x${N}x${K}`, () => {
          const runsBefore = k.pool.runs;
          const bytes = run(two);
          expect(k.pool.runs, 'the call was split').toBe(runsBefore + 1);
          return bytes;
        });
        sameBytes(`gemm ${M}x${N}x${K}`, [ref, result]);
      } finally {
        k.fixedWeights = null;
      }
    });
  }
});

describe('SimpleConvNet training', () => {
  it('a Trainer run (2 epochs of 300 MNIST images, Adam, shuffling, evaluation) gives the same histories and parameters', async () => {
    const { train, test } = loadMnistBytes({ trainLimit: 300, testLimit: 100 });
    const runs: { file: Uint8Array; result: TrainResult; chunks: number[] }[] = [];
    for (const backend of backends) {
      // every worker must have computed part of the run that is compared
      const { result, chunks } = await withWorkersAsync(backend, 'a training run', async () => {
        const net = new SimpleConvNet({ backend, inputDim: [1, 28, 28], convParam: { filterNum: 30, filterSize: 5, pad: 0, stride: 1 },
          hiddenSize: 100, outputSize: 10, weightInitStd: 0.01, seed: 42 });
        try {
          const r = await new Trainer(net, train.images, train.labels, test.images, test.labels, {
            epochs: 2, miniBatchSize: 100, optimizer: 'adam', seed: 3,
          }).train();
          return { file: net.saveParams(), result: r };
        } finally {
          net.dispose();
        }
      }, { every: true, tries: 5 });
      runs.push({ ...result, chunks });
    }
    const [one, ...more] = runs;
    expect(one.result.steps).toBe(6);
    expect(one.result.trainLossList).toHaveLength(6);
    expect(one.result.testAccList).toHaveLength(2);
    more.forEach(({ chunks }, i) => expect(chunks, `chunks per worker on ${COUNTS[i + 1]} threads`).toHaveLength(COUNTS[i + 1] - 1));
    for (const r of more) {
      expect(r.result.trainLossList).toEqual(one.result.trainLossList);
      expect(r.result.trainAccList).toEqual(one.result.trainAccList);
      expect(r.result.testAccList).toEqual(one.result.testAccList);
      expect(r.result.testAcc).toBe(one.result.testAcc);
    }
    sameBytes('saveParams()', runs.map((r) => r.file));
  });
});
