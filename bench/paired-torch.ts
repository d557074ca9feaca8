/**
 * DeepConvNet training and inference (batch 100) against PyTorch CPU in paired rounds
 * (bench/paired.ts): at each thread count, a Wasm backend and one long-lived child python3
 * (bench/peers-torch.py THREADS serve) with the same thread count.
 */
import type { Backend } from '../src/backend/backend.js';
import type { BenchData } from './e2e.js';
import { DEEP, DEEP_NET } from './deep.js';
import { pairedRow, startServer } from './paired.js';
import { findTorch, torchInput } from './peers-torch.js';
import { runner, type ScalingBudget } from './scaling.js';
import type { Impl, PairedPeerRow } from './types.js';

/** The child's case names for the DeepConvNet rows. */
const CASES: [row: string, torchCase: string][] = [[DEEP.train, 'deep train'], [DEEP.infer100, 'deep infer']];

/**
 * One row per case and thread count: `backends` are the Wasm backends to compare (impl, thread
 * count). No rows where python3 with torch is missing (findTorch says why).
 */
export async function runTorchPaired(backends: { impl: Impl; threads: number; backend: Backend }[], data: BenchData,
  budget: ScalingBudget, log: (s: string) => void): Promise<PairedPeerRow[]> {
  const found = findTorch();
  if ('skip' in found) return [];
  const rows: PairedPeerRow[] = [];
  const input = torchInput(data);
  for (const b of backends) {
    const server = await startServer('python3 peers-torch.py', found.python, [found.path, String(b.threads), 'serve'], input, b.threads, 'torch');
    const wasm = runner(b.backend, data, DEEP_NET);
    try {
      for (const [name, torchCase] of CASES) {
        const row = await pairedRow(name, b.impl, b.threads, wasm.cases[name], server, `torch-${b.threads}t`, torchCase, budget);
        rows.push(row);
        log(`paired with PyTorch: ${name}, ${b.threads} thread${b.threads > 1 ? 's' : ''}: Wasm / PyTorch ${row.ratio.toFixed(2)}x (rounds ${row.minRatio.toFixed(2)}-${row.maxRatio.toFixed(2)})`);
      }
    } finally {
      wasm.dispose();
      server.close();
    }
  }
  return rows;
}
