// Threads do not change results: the same computation on 1, 2 and 3 threads gives the same
// bytes. Covers every kernel the threaded kernel set splits (on sizes large enough to be
// split, with odd remainders), GEMM in all four transposes incl. edge tiles and beta != 0,
// conv forward / backward, and full SimpleConvNet training steps with Adam (saveParams()).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createBackend } from '../../src/backend/create.js';
import type { Backend } from '../../src/backend/backend.js';
import { SimpleConvNet } from '../../src/models/simple-conv-net.js';
import { Adam } from '../../src/train/optimizers.js';
import { Tensor } from '../../src/tensor.js';
import { convGeom, colSize, convForward, convBackward } from '../../src/ops/conv.js';
import { randomF32 } from '../helpers/harness.js';

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
 */
function compare(what: string, inputs: Float32Array[], call: (b: Backend, p: number[]) => unknown, outputs: [number, number][]): unknown[] {
  const results: Uint8Array[][] = outputs.map(() => []);
  const returns: unknown[] = [];
  for (const b of backends) {
    const ptrs = inputs.map((a) => {
      const p = b.memory.alloc(a.length * 4);
      new Float32Array(b.memory.buffer, p, a.length).set(a);
      return p;
    });
    try {
      returns.push(call(b, ptrs));
      outputs.forEach(([i, n], k) => results[k].push(bytesOf(b, ptrs[i], n)));
    } finally {
      ptrs.forEach((p) => b.memory.release(p));
    }
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
    [0, 0, 7, 1001, 300], [0, 1, 251, 3, 997], [1, 1, 3, 517, 400], [0, 0, 1003, 9, 100],
  ];
  for (const [tA, tB, M, N, K] of shapes) {
    for (const beta of [0, 0.5]) {
      it(`${tA ? 'T' : 'N'}${tB ? 'T' : 'N'} ${M}x${N}x${K} beta ${beta}`, () => {
        const A = randomF32(M * K, M + N), B = randomF32(K * N, K + 7);
        const C = beta === 0 ? nanFilled(M * N) : randomF32(M * N, 99);
        compare(`gemm ${M}x${N}x${K}`, [A, B, C], (b, [pa, pb, pc]) =>
          b.kernels.gemm_f32(tA, tB, M, N, K, 1.25, pa, tA ? M : K, pb, tB ? K : N, beta, pc, N), [[2, M * N]]);
      });
    }
  }
});

describe('conv (forward, filter / bias / input gradients)', () => {
  const cases: { x: [number, number, number, number]; w: [number, number, number, number]; stride: number; pad: number }[] = [
    { x: [100, 1, 28, 28], w: [30, 1, 5, 5], stride: 1, pad: 0 }, // SimpleConvNet
    { x: [37, 3, 17, 15], w: [11, 3, 3, 3], stride: 1, pad: 1 },
    { x: [23, 4, 19, 19], w: [16, 4, 5, 3], stride: 2, pad: 2 },
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
        }, [[4, ny], [5, nw], [6, g.FN], [7, nx]]);
    });
  }
});

describe('elementwise, pooling, bias, softmax and optimizer kernels', () => {
  const n = 100_003; // odd: a scalar tail in the last share
  const P = 1501, H = 24, W = 24; // max / avg pooling planes (2x2, stride 2)
  it('activations, mul, axpby, fill, count_nonfinite', () => {
    const x = randomF32(n, 5), y = randomF32(n, 6), dy = randomF32(n, 7);
    x[17] = NaN; x[n - 2] = Infinity; x[50_000] = -0;
    compare('relu', [x, nanFilled(n), dy, nanFilled(n)], (b, [px, py, pdy, pdx]) => {
      b.kernels.relu_fwd_f32(px, py, n);
      b.kernels.relu_bwd_f32(py, pdy, pdx, n);
    }, [[1, n], [3, n]]);
    compare('sigmoid', [x, nanFilled(n), dy, nanFilled(n)], (b, [px, py, pdy, pdx]) => {
      b.kernels.sigmoid_fwd_f32(px, py, n);
      b.kernels.sigmoid_bwd_f32(py, pdy, pdx, n);
    }, [[1, n], [3, n]]);
    compare('mul / axpby / fill', [x, y, nanFilled(n), nanFilled(n)], (b, [px, py, pz, pf]) => {
      b.kernels.mul_f32(px, py, pz, n);
      b.kernels.axpby_f32(px, py, n, 0.75, -1.5);
      b.kernels.fill_f32(pf, n, 3.25);
    }, [[1, n], [2, n], [3, n]]);
    const counts = compare('count_nonfinite', [x], (b, [px]) => b.kernels.count_nonfinite_f32(px, n), []);
    expect(counts).toEqual([2, 2, 2]);
  });

  it('optimizers', () => {
    const p = randomF32(n, 8), g = randomF32(n, 9), s1 = randomF32(n, 10).map(Math.abs), s2 = randomF32(n, 11).map(Math.abs);
    compare('sgd / momentum / nesterov', [p, g, s1], (b, [pp, pg, pv]) => {
      b.kernels.sgd_f32(pp, pg, n, 0.01);
      b.kernels.momentum_f32(pp, pg, pv, n, 0.01, 0.9);
      b.kernels.nesterov_f32(pp, pg, pv, n, 0.01, 0.9);
    }, [[0, n], [2, n]]);
    compare('adagrad / rmsprop', [p, g, s1], (b, [pp, pg, ph]) => {
      b.kernels.adagrad_f32(pp, pg, ph, n, 0.01);
      b.kernels.rmsprop_f32(pp, pg, ph, n, 0.01, 0.99);
    }, [[0, n], [2, n]]);
    compare('adam', [p, g, s1, s2], (b, [pp, pg, pm, pv]) => {
      for (let t = 1; t <= 3; t++) b.kernels.adam_f32(pp, pg, pm, pv, n, 0.001 * t, 0.9, 0.999);
    }, [[0, n], [2, n], [3, n]]);
  });

  it('pooling, bias adds, softmax', () => {
    const x = randomF32(P * H * W, 12), dy = randomF32(P * 144, 13), am = nanFilled(P * 144);
    compare('max pooling', [x, nanFilled(P * 144), am, dy, nanFilled(P * H * W)], (b, [px, py, pa, pdy, pdx]) => {
      b.kernels.maxpool_fwd_f32(px, P, H, W, 2, 2, 2, 2, 0, 0, py, pa);
      b.kernels.maxpool_bwd_f32(pdy, pa, P, H, W, 2, 2, 2, 2, 0, 0, pdx);
    }, [[1, P * 144], [2, P * 144], [4, P * H * W]]);
    compare('avg pooling', [x, nanFilled(P * 144), dy, nanFilled(P * H * W)], (b, [px, py, pdy, pdx]) => {
      b.kernels.avgpool_fwd_f32(px, P, H, W, 3, 3, 2, 2, 1, 1, py); // 3x3 windows, stride 2, pad 1: 12x12 outputs
      b.kernels.avgpool_bwd_f32(pdy, P, H, W, 3, 3, 2, 2, 1, 1, pdx);
    }, [[1, P * 144], [3, P * H * W]]);
    const N = 211, C = 31, HW = 97, bias = randomF32(C, 14), y = randomF32(N * C * HW, 15);
    compare('bias adds', [y, bias, randomF32(N * 300, 16), randomF32(300, 17)], (b, [py, pb, pr, pbr]) => {
      b.kernels.bias_add_channels_f32(py, pb, N, C, HW);
      b.kernels.bias_add_rows_f32(pr, pbr, N, 300);
    }, [[0, N * C * HW], [2, N * 300]]);
    compare('softmax', [randomF32(4001 * 10, 18), nanFilled(4001 * 10)], (b, [px, py]) => b.kernels.softmax_f32(px, py, 4001, 10), [[1, 40010]]);
  });
});

describe('SimpleConvNet training', () => {
  it('3 steps of gradient + Adam at batch 100 give the same parameters and losses', () => {
    const B = 100;
    const x = randomF32(B * 784, 21).map((v) => (v + 1) / 2);
    const t = Int32Array.from({ length: B }, (_, i) => (i * 7) % 10);
    const files: Uint8Array[] = [];
    const losses: number[][] = [];
    for (const backend of backends) {
      const net = new SimpleConvNet({ backend, inputDim: [1, 28, 28], convParam: { filterNum: 30, filterSize: 5, pad: 0, stride: 1 },
        hiddenSize: 100, outputSize: 10, weightInitStd: 0.01, seed: 42 });
      const opt = new Adam({ backend, lr: 0.001 });
      const xt = Tensor.host(x, [B, 1, 28, 28]);
      const l: number[] = [];
      for (let s = 0; s < 3; s++) {
        opt.update(net.params, net.gradient(xt, t));
        l.push(net.loss(xt, t));
      }
      files.push(net.saveParams());
      losses.push(l);
      opt.dispose?.();
      net.dispose();
    }
    expect(losses[1]).toEqual(losses[0]);
    expect(losses[2]).toEqual(losses[0]);
    sameBytes('saveParams()', files);
  });
});
