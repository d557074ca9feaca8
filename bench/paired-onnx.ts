/**
 * SimpleConvNet inference (batch 100) against ONNX Runtime Web in paired rounds
 * (bench/paired.ts): at each thread count, a Wasm backend and one long-lived child node running
 * onnxruntime-web with env.wasm.numThreads set to the same count (peers-onnx.ts's child program
 * in its serve mode), on the same weights (benchNet exported by modelToOnnx) and the same batches.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend } from '../src/backend/backend.js';
import { BATCH, BIG_BATCH, E2E, SAMPLE, type BenchData } from './e2e.js';
import { pairedRow, startServer } from './paired.js';
import { ORT_CHILD, ortEntry, ortImpl, writeOrtInputs } from './peers-onnx.js';
import { SIMPLE_NET, runner, type ScalingBudget } from './scaling.js';
import type { Impl, PairedPeerRow } from './types.js';

/** One row per Wasm backend (impl, thread count): SimpleConvNet inference against ORT web at the same thread count. */
export async function runOrtPaired(backends: { impl: Impl; threads: number; backend: Backend }[], data: BenchData,
  budget: ScalingBudget, log: (s: string) => void): Promise<PairedPeerRow[]> {
  const entry = ortEntry();
  const dir = mkdtempSync(join(tmpdir(), 'wasm-cnn-bench-ort-paired-'));
  const rows: PairedPeerRow[] = [];
  try {
    const { modelPath, inputPath } = await writeOrtInputs(dir, data);
    for (const b of backends) {
      const server = await startServer('the ONNX Runtime child', process.execPath,
        ['-e', ORT_CHILD, entry, modelPath, inputPath, String(b.threads), 'serve', String(BIG_BATCH), String(BATCH), String(SAMPLE)], Buffer.alloc(0), b.threads, 'version');
      const wasm = runner(b.backend, data, SIMPLE_NET);
      try {
        const row = await pairedRow(E2E.infer100, b.impl, b.threads, wasm.cases[E2E.infer100], server, ortImpl(b.threads), 'infer100', budget);
        rows.push(row);
        log(`paired with ORT web: ${E2E.infer100}, ${b.threads} thread${b.threads > 1 ? 's' : ''}: Wasm / ORT ${row.ratio.toFixed(2)}x (rounds ${row.minRatio.toFixed(2)}-${row.maxRatio.toFixed(2)})`);
      } finally {
        wasm.dispose();
        server.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
