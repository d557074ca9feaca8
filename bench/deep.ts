/**
 * The course's DeepConvNet (`wasm-cnn train --model deep`: six 3x3 convolutions of 16-64
 * channels with ReLU, three 2x2 max-pools, affine 50 + ReLU + dropout, affine 10 + dropout,
 * softmax cross-entropy; He init, seed 42) on the Wasm backend, batch 100:
 *
 *   figures   train batch 100 (gradient + Adam lr 0.001) and infer batch 100, per thread count;
 *             the GEMMs of each convolution as src/ops/conv.ts runs them per image (forward
 *             W*col, weight gradient dy*col^T by dot products, input gradient W^T*dy), and
 *             each convolution's batched kernel call (im2col and col2im included), and the
 *             same convolutions by Winograd F(2x2, 3x3) and F(4x4, 3x3) (wino_*, wino4_*:
 *             effective GFLOP/s, the direct FLOP count)
 *   profile   each layer's forward and backward, the loss and Adam, timed one at a time
 *
 * Conv layer shapes at batch 100 (C -> FN, H x W in, pad, OH x OW out):
 *   conv1 1->16 28x28 p1 28x28; conv2 16->16 28x28 p1 28x28; pool -> 14x14
 *   conv3 16->32 14x14 p1 14x14; conv4 32->32 14x14 p2 16x16; pool -> 8x8
 *   conv5 32->64 8x8 p1 8x8; conv6 64->64 8x8 p1 8x8; pool -> 4x4 -> affine 1024->50 -> 10
 */
import type { ScalingNet } from './scaling.js';
import type { Backend } from '../src/backend/backend.js';
import { deepConvNet } from '../src/models/presets.js';
import type { Sequential } from '../src/models/sequential.js';
import { Adam } from '../src/train/optimizers.js';
import { Random } from '../src/random.js';
import { BATCH, placeBatches, type BenchData } from './e2e.js';
import { profileStep } from './step.js';
import { gemmFlops, gemmShapeLabel, type GemmShape } from './kernels.js';
import { WINO_PARTS, wino4FwdScratch, wino4SumsScratch, winoFwdScratch, winoSumsScratch } from '../src/backend/kernels.js';
import { figure, measureAuto, errorMessage, type Budget } from './timing.js';
import type { Failure, Figure, Impl, ProfileRow } from './types.js';

export const DEEP = {
  train: 'deep train batch 100 (fwd+bwd+Adam)',
  infer100: 'deep infer batch 100',
} as const;

/** The library's deepConvNet() (the CLI's --model deep), seed 42. */
export function deepNet(backend: Backend): Sequential {
  return deepConvNet({ backend, seed: 42 });
}

/** The deep net and its row names, for the paired rounds (bench/scaling.ts, bench/paired-torch.ts). */
export const DEEP_NET: ScalingNet = { make: deepNet, train: DEEP.train, infer: DEEP.infer100 };

export interface DeepConv {
  name: string;
  C: number; H: number; W: number; FN: number; pad: number;
}

/** The six convolutions (3x3, stride 1) of the deep net at their input sizes. */
export const DEEP_CONVS: DeepConv[] = [
  { name: 'conv1', C: 1, H: 28, W: 28, FN: 16, pad: 1 },
  { name: 'conv2', C: 16, H: 28, W: 28, FN: 16, pad: 1 },
  { name: 'conv3', C: 16, H: 14, W: 14, FN: 32, pad: 1 },
  { name: 'conv4', C: 32, H: 14, W: 14, FN: 32, pad: 2 },
  { name: 'conv5', C: 32, H: 8, W: 8, FN: 64, pad: 1 },
  { name: 'conv6', C: 64, H: 8, W: 8, FN: 64, pad: 1 },
];

export function convOut(c: DeepConv): { OH: number; OW: number; CKK: number; OHW: number } {
  const OH = c.H + 2 * c.pad - 2;
  const OW = c.W + 2 * c.pad - 2;
  return { OH, OW, CKK: c.C * 9, OHW: OH * OW };
}

/** FLOP of one image's forward pass through the convolutions (2 * FN * CKK * OHW each). */
export function deepConvFlopsPerImage(): number {
  return DEEP_CONVS.reduce((a, c) => { const o = convOut(c); return a + 2 * c.FN * o.CKK * o.OHW; }, 0);
}

/** The per-image GEMMs of every convolution: forward, weight gradient (dots, accumulating), input gradient. */
export function deepGemms(): GemmShape[] {
  const out: GemmShape[] = [];
  for (const c of DEEP_CONVS) {
    const { CKK, OHW } = convOut(c);
    out.push({ name: `${c.name} fwd W*col (per image)`, transA: false, transB: false, M: c.FN, N: OHW, K: CKK });
    out.push({ name: `${c.name} dW dy*col^T (per image)`, transA: false, transB: true, M: c.FN, N: CKK, K: OHW, beta: 1, dots: true });
    if (c.C > 1) out.push({ name: `${c.name} dcol W^T*dy (per image)`, transA: true, transB: false, M: CKK, N: OHW, K: c.FN });
  }
  return out;
}

export interface DeepRun {
  figures: Figure[];
  profile: ProfileRow[];
  failures: Failure[];
  notes: string[];
}

/** Fills n floats at ptr with uniform values in [-1, 1). */
function fillRandom(backend: Backend, rng: Random, ptr: number, n: number): void {
  const v = new Float32Array(backend.memory.buffer, ptr, n);
  for (let i = 0; i < n; i++) v[i] = rng.next() * 2 - 1;
}

/** GEMM and batched conv kernel figures at the deep net's shapes on one backend. */
function convKernelFigures(backend: Backend, impl: Impl, b: { fast: Budget; slow: Budget }, log: (s: string) => void,
  figures: Figure[], failures: Failure[]): void {
  const k = backend.kernels;
  const rng = new Random(99);
  const mem = backend.memory;
  const cases: { name: string; shape: string; work: number; setup: (alloc: (n: number) => number) => () => void }[] = [];
  for (const g of deepGemms()) {
    cases.push({
      name: g.name, shape: gemmShapeLabel(g), work: gemmFlops(g),
      setup: (alloc) => {
        const { M, N, K } = g;
        const A = alloc(M * K);
        const B = alloc(K * N);
        const C = alloc(M * N);
        const lda = g.transA ? M : K;
        const ldb = g.transB ? K : N;
        let alpha = 1;
        if (g.dots) return () => { k.gemm_nt_dots_f32(M, N, K, alpha, A, lda, B, ldb, g.beta ?? 0, C, N); alpha = -alpha; };
        return () => k.gemm_f32(+g.transA, +g.transB, M, N, K, 1, A, lda, B, ldb, 0, C, N);
      },
    });
  }
  const N = BATCH;
  for (const c of DEEP_CONVS) {
    const { OH, OW, CKK, OHW } = convOut(c);
    const flops = 2 * N * c.FN * CKK * OHW;
    const shape = `x (${N},${c.C},${c.H},${c.W}) w (${c.FN},${c.C},3,3) pad ${c.pad} -> (${N},${c.FN},${OH},${OW})`;
    const scratch = CKK * (OHW + c.FN);
    cases.push({
      name: `${c.name} conv_fwd (batch)`, shape, work: flops,
      setup: (alloc) => {
        const x = alloc(N * c.C * c.H * c.W); const w = alloc(c.FN * CKK); const bb = alloc(c.FN);
        const y = alloc(N * c.FN * OHW); const col = alloc(scratch);
        return () => k.conv_fwd_f32(x, N, c.C, c.H, c.W, w, c.FN, 3, 3, 1, 1, c.pad, c.pad, bb, 1, y, col);
      },
    });
    cases.push({
      name: `${c.name} conv_bwd_filter (batch)`, shape, work: flops,
      setup: (alloc) => {
        const x = alloc(N * c.C * c.H * c.W); const dy = alloc(N * c.FN * OHW); const dw = alloc(c.FN * CKK);
        const col = alloc(scratch);
        return () => k.conv_bwd_filter_f32(x, dy, N, c.C, c.H, c.W, c.FN, 3, 3, 1, 1, c.pad, c.pad, 0, CKK, dw, col);
      },
    });
    if (c.C > 1) {
      cases.push({
        name: `${c.name} conv_bwd_data (batch)`, shape, work: flops,
        setup: (alloc) => {
          const dy = alloc(N * c.FN * OHW); const w = alloc(c.FN * CKK); const dx = alloc(N * c.C * c.H * c.W);
          const dcol = alloc(scratch);
          return () => k.conv_bwd_data_f32(dy, N, c.C, c.H, c.W, w, c.FN, 3, 3, 1, 1, c.pad, c.pad, dx, dcol);
        },
      });
    }
  }
  // the same convolutions by Winograd, both tile sizes (src/ops/conv.ts winoTile4 picks one by the
  // output size; GFLOP/s counted as the direct algorithm's FLOP, so the figures compare with the
  // conv_* rows: "effective" GFLOP/s)
  const tiles = [
    { prefix: 'wino', P: 16, filter: k.wino_filter_f32, fwd: k.wino_fwd_f32, sums: k.wino_grad_sums_f32,
      gradFilter: k.wino_grad_filter_f32, fwdScratch: winoFwdScratch, sumsScratch: winoSumsScratch },
    { prefix: 'wino4', P: 36, filter: k.wino4_filter_f32, fwd: k.wino4_fwd_f32, sums: k.wino4_grad_sums_f32,
      gradFilter: k.wino4_grad_filter_f32, fwdScratch: wino4FwdScratch, sumsScratch: wino4SumsScratch },
  ];
  for (const c of DEEP_CONVS) {
    const { OH, OW, CKK, OHW } = convOut(c);
    const flops = 2 * N * c.FN * CKK * OHW;
    const shape = `x (${N},${c.C},${c.H},${c.W}) w (${c.FN},${c.C},3,3) pad ${c.pad} -> (${N},${c.FN},${OH},${OW})`;
    for (const t of tiles) {
      const u = t.P * c.FN * c.C;
      cases.push({
        name: `${c.name} ${t.prefix}_fwd (batch, effective)`, shape, work: flops,
        setup: (alloc) => {
          const x = alloc(N * c.C * c.H * c.W); const w = alloc(c.FN * CKK); const bb = alloc(c.FN);
          const y = alloc(N * c.FN * OHW); const ut = alloc(u); const s = alloc(t.fwdScratch(N, c.C, c.FN, OH, OW));
          return () => { t.filter(w, c.FN, c.C, 0, ut); t.fwd(x, N, c.C, c.H, c.W, ut, c.FN, c.pad, bb, 1, y, s); };
        },
      });
      cases.push({
        name: `${c.name} ${t.prefix}_bwd_filter (batch, effective)`, shape, work: flops,
        setup: (alloc) => {
          const x = alloc(N * c.C * c.H * c.W); const dy = alloc(N * c.FN * OHW); const dw = alloc(c.FN * CKK);
          const sums = alloc(WINO_PARTS * u); const s = alloc(t.sumsScratch(N, c.C, c.FN, OH, OW));
          return () => {
            t.sums(x, dy, N, c.C, c.H, c.W, c.FN, c.pad, 0, WINO_PARTS, sums, s);
            t.gradFilter(sums, c.FN, c.C, dw);
          };
        },
      });
      if (c.C > 1) {
        cases.push({
          name: `${c.name} ${t.prefix}_bwd_data (batch, effective)`, shape, work: flops,
          setup: (alloc) => {
            const dy = alloc(N * c.FN * OHW); const w = alloc(c.FN * CKK); const dx = alloc(N * c.C * c.H * c.W);
            const ut = alloc(u); const s = alloc(t.fwdScratch(N, c.FN, c.C, c.H, c.W));
            return () => { t.filter(w, c.FN, c.C, 1, ut); t.fwd(dy, N, c.FN, OH, OW, ut, c.C, 2 - c.pad, 0, 0, dx, s); };
          },
        });
      }
    }
  }
  for (const cs of cases) {
    const ptrs: number[] = [];
    const alloc = (n: number) => { const p = mem.alloc(n * 4); ptrs.push(p); fillRandom(backend, rng, p, n); return p; };
    try {
      const fn = cs.setup(alloc);
      const f = figure({ group: 'deep', name: cs.name, shape: cs.shape, impl, unit: 'GFLOP/s', work: cs.work }, measureAuto(fn, b));
      figures.push(f);
      log(`deep ${impl}: ${cs.name} ${f.value.toFixed(2)} GFLOP/s`);
    } catch (e) {
      failures.push({ group: 'deep', name: cs.name, impl, error: errorMessage(e) });
    } finally {
      for (const p of ptrs) mem.release(p);
    }
  }
}

/** The deep net end to end (and, with `kernels`, its conv GEMMs and kernels; with `profile`, the step profile) on one backend. */
export function runDeep(backend: Backend, impl: Impl, data: BenchData, b: { fast: Budget; slow: Budget },
  log: (s: string) => void, opts: { kernels: boolean; profile?: Budget }): DeepRun {
  const run: DeepRun = { figures: [], profile: [], failures: [], notes: [] };
  if (opts.kernels) convKernelFigures(backend, impl, b, log, run.figures, run.failures);
  const net = deepNet(backend);
  const opt = new Adam({ lr: 0.001, backend });
  const { X, xb, tb } = placeBatches(backend, data);
  const nb = xb.length;
  let step = 0;
  let trained = 0;
  const cases = [
    { name: DEEP.train, fn: () => { const i = step++ % nb; trained++; opt.update(net.params, net.gradient(xb[i], tb[i])); } },
    { name: DEEP.infer100, fn: () => { net.predict(xb[step++ % nb]); } },
  ];
  try {
    const loss0 = net.loss(xb[0], tb[0]);
    for (const c of cases) {
      try {
        const f = figure({ group: 'deep', name: c.name, shape: '(100,1,28,28)', impl, unit: 'img/s', work: BATCH }, measureAuto(c.fn, b));
        run.figures.push(f);
        log(`deep ${impl}: ${c.name} ${f.value.toFixed(0)} img/s`);
      } catch (e) {
        run.failures.push({ group: 'deep', name: c.name, impl, error: errorMessage(e) });
      }
    }
    const loss1 = net.loss(xb[0], tb[0]);
    if (!Number.isFinite(loss1)) run.failures.push({ group: 'deep', name: DEEP.train, impl, error: `the loss is ${loss1} after ${trained} training steps` });
    else run.notes.push(`${impl}: DeepConvNet loss on batch 0 went ${loss0.toFixed(4)} -> ${loss1.toFixed(4)} over ${trained} training steps`);
    if (opts.profile) {
      try {
        run.profile = profileStep(impl, net, opt, xb[0], tb[0], opts.profile);
      } catch (e) {
        run.failures.push({ group: 'deep', name: 'deep step profile', impl, error: errorMessage(e) });
      }
    }
  } finally {
    opt.dispose();
    X.dispose();
    net.dispose();
  }
  return run;
}
