// The bench's paired rounds against peers (bench/paired.ts): ONNX Runtime Web (a dev
// dependency, always there) and PyTorch (python3 with torch: CI installs Debian's python3-torch;
// where it is missing that suite is skipped, and says so). Rows well formed, the ratio
// recomputed from the rounds' own trials, and the report's tables. Never asserts a timing.
import { describe, it, expect, afterAll } from 'vitest';
import { createBackend } from '../src/backend/create.js';
import { E2E, benchData } from '../bench/e2e.js';
import { DEEP } from '../bench/deep.js';
import { findTorch } from '../bench/peers-torch.js';
import { runTorchPaired } from '../bench/paired-torch.js';
import { runOrtPaired } from '../bench/paired-onnx.js';
import { fmtNum, renderMarkdown } from '../bench/report.js';
import { median } from '../bench/timing.js';
import type { BenchResults, PairedPeerRow } from '../bench/types.js';

const torch = findTorch();
const backends: { dispose: () => void }[] = [];
afterAll(() => { for (const b of backends) b.dispose(); });

/** The row's fields, and its ratio and medians recomputed from its own trials. */
function checkRow(r: PairedPeerRow, peer: string, rounds: number): void {
  expect(r.peer).toBe(peer);
  expect(r.peerVersion).toMatch(/^\d+\.\d+/);
  expect(r.rounds).toBe(rounds);
  expect(r.samplesMs).toHaveLength(rounds);
  expect(r.peerSamplesMs).toHaveLength(rounds);
  for (const ms of [...r.samplesMs, ...r.peerSamplesMs]) expect(Number.isFinite(ms) && ms > 0).toBe(true);
  const ratios = r.samplesMs.map((w, i) => r.peerSamplesMs[i] / w);
  expect(r.ratio).toBe(median(ratios));
  expect([r.minRatio, r.maxRatio]).toEqual([Math.min(...ratios), Math.max(...ratios)]);
  expect(r.ms).toBe(median(r.samplesMs));
  expect(r.peerMs).toBe(median(r.peerSamplesMs));
}

function report(rows: Partial<BenchResults>): string {
  return renderMarkdown({
    schema: 'wasm-cnn-bench/1', date: '2026-01-01T00:00:00.000Z', quick: true, groups: ['deep', 'peers'], durationMs: 1,
    environment: { node: '20', v8: '11', platform: 'linux', arch: 'x64', cpu: 'cpu', cores: 2 },
    impls: [], figures: [], failures: [], notes: [], ...rows,
  });
}

describe('bench: SimpleConvNet inference against ONNX Runtime Web in paired rounds', () => {
  it('measures the Wasm backend and a long-lived ORT child in alternating rounds', async () => {
    const backend = await createBackend('wasm');
    backends.push(backend);
    const rows = await runOrtPaired([{ impl: 'wasm', threads: 1, backend }], benchData(), { warmup: 1, rounds: 3, trialMs: 1 }, () => {});
    expect(rows.map((r) => r.name)).toEqual([E2E.infer100]);
    checkRow(rows[0], 'ort-wasm', 3);
    const md = report({ ortPaired: rows });
    expect(md).toContain('## Wasm against ONNX Runtime Web in paired rounds: SimpleConvNet inference, batch 100 (images/s)');
    expect(md).toContain(`| ${E2E.infer100} | Wasm | 1 | ${fmtNum(100_000 / rows[0].ms)} | ${fmtNum(100_000 / rows[0].peerMs)} | ${(rows[0].ratio).toFixed(2)}x |`);
  }, 120_000);
});

describe.skipIf('skip' in torch)(`bench: Wasm against PyTorch in paired rounds ${'skip' in torch ? `(skipped: ${torch.skip})` : ''}`, () => {
  it('measures both DeepConvNet cases in alternating rounds, the ratio from the rounds\' trials', async () => {
    const backend = await createBackend('wasm');
    backends.push(backend);
    const rounds = 3;
    const rows = await runTorchPaired([{ impl: 'wasm', threads: 1, backend }], benchData(), { warmup: 1, rounds, trialMs: 1 }, () => {});
    expect(rows.map((r) => r.name)).toEqual([DEEP.train, DEEP.infer100]);
    for (const r of rows) checkRow(r, 'torch-1t', rounds);
    const md = report({ deepTorchPaired: rows });
    expect(md).toContain('## Wasm against PyTorch in paired rounds: DeepConvNet, batch 100 (images/s)');
    expect(md).toContain(`| ${DEEP.train} | Wasm | 1 | ${fmtNum(100_000 / rows[0].ms)} | ${fmtNum(100_000 / rows[0].peerMs)} |`);
  }, 120_000);
});
