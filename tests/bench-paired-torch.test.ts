// The paired Wasm-against-PyTorch rounds of the bench (bench/paired-torch.ts): rows well formed,
// the ratio recomputed from the rounds' own trials, and the report's table. Needs python3 with
// torch (CI installs Debian's python3-torch); where it is missing the suite is skipped, and says
// so. Never asserts a timing.
import { describe, it, expect, afterAll } from 'vitest';
import { createBackend } from '../src/backend/create.js';
import { benchData } from '../bench/e2e.js';
import { DEEP } from '../bench/deep.js';
import { findTorch } from '../bench/peers-torch.js';
import { runTorchPaired } from '../bench/paired-torch.js';
import { fmtNum, renderMarkdown } from '../bench/report.js';
import { median } from '../bench/timing.js';
import type { BenchResults } from '../bench/types.js';

const torch = findTorch();
const backends: { dispose: () => void }[] = [];
afterAll(() => { for (const b of backends) b.dispose(); });

describe.skipIf('skip' in torch)(`bench: Wasm against PyTorch in paired rounds ${'skip' in torch ? `(skipped: ${torch.skip})` : ''}`, () => {
  it('measures both DeepConvNet cases in alternating rounds, the ratio from the rounds\' trials', async () => {
    const backend = await createBackend('wasm');
    backends.push(backend);
    const rounds = 3;
    const rows = await runTorchPaired([{ impl: 'wasm', threads: 1, backend }], benchData(), { warmup: 1, rounds, trialMs: 1 }, () => {});
    expect(rows.map((r) => r.name)).toEqual([DEEP.train, DEEP.infer100]);
    for (const r of rows) {
      expect(r.peer).toBe('torch-1t');
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
    const r: BenchResults = {
      schema: 'wasm-cnn-bench/1', date: '2026-01-01T00:00:00.000Z', quick: true, groups: ['deep'], durationMs: 1,
      environment: { node: '20', v8: '11', platform: 'linux', arch: 'x64', cpu: 'cpu', cores: 2 },
      impls: [], figures: [], failures: [], notes: [], deepTorchPaired: rows,
    };
    const md = renderMarkdown(r);
    expect(md).toContain('## Wasm against PyTorch in paired rounds: DeepConvNet, batch 100 (images/s)');
    expect(md).toContain(`| ${DEEP.train} | Wasm | 1 | ${fmtNum(100_000 / rows[0].ms)} | ${fmtNum(100_000 / rows[0].peerMs)} |`);
  }, 120_000);
});
