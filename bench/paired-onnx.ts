/**
 * SimpleConvNet inference (batch 100) against ONNX Runtime Web in paired rounds
 * (bench/paired.ts): at each thread count, a Wasm backend and one long-lived child node running
 * onnxruntime-web with env.wasm.numThreads set to the same count, on the same weights
 * (benchNet exported by modelToOnnx) and the same batches.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend } from '../src/backend/backend.js';
import { BATCH, E2E, SAMPLE, type BenchData } from './e2e.js';
import { pairedRow, startServer } from './paired.js';
import { ortEntry, ortImpl, writeOrtInputs } from './peers-onnx.js';
import { SIMPLE_NET, runner, type ScalingBudget } from './scaling.js';
import type { Impl, PairedPeerRow } from './types.js';

/**
 * The child's program (CommonJS, `node -e`): argv = [ort entry, model, inputs, threads, batch,
 * sample]. Prints {"threads", "version"}, then answers each stdin line "infer100 <reps>" with the
 * per-call ms of <reps> awaited session.run calls after one untimed call; an empty line ends it.
 */
const SERVE = String.raw`
const [entry, modelPath, inputPath, threadsArg, batch, sample] = process.argv.slice(1);
const ort = require(entry);
const fs = require('fs');
const readline = require('readline');
ort.env.wasm.numThreads = Number(threadsArg);
(async () => {
  const session = await ort.InferenceSession.create(fs.readFileSync(modelPath));
  const buf = fs.readFileSync(inputPath);
  const x = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const B = Number(batch), S = Number(sample), n = Math.floor(x.length / (B * S));
  const batches = Array.from({ length: n }, (_, i) => new ort.Tensor('float32', x.subarray(i * B * S, (i + 1) * B * S), [B, 1, 28, 28]));
  let step = 0;
  const cases = { infer100: () => session.run({ input: batches[step++ % n] }) };
  process.stdout.write(JSON.stringify({ threads: ort.env.wasm.numThreads, version: ort.env.versions && ort.env.versions.web }) + '\n');
  for await (const line of readline.createInterface({ input: process.stdin })) {
    if (!line.trim()) break;
    const [name, repsArg] = line.trim().split(' ');
    const fn = cases[name], reps = Number(repsArg);
    if (!fn || !(reps >= 1)) throw new Error('bad request: ' + line);
    await fn();
    const t = performance.now();
    for (let r = 0; r < reps; r++) await fn();
    process.stdout.write(String((performance.now() - t) / reps) + '\n');
  }
  process.exit(0);
})().catch((e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });
`;

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
        ['-e', SERVE, entry, modelPath, inputPath, String(b.threads), String(BATCH), String(SAMPLE)], Buffer.alloc(0), b.threads, 'version');
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
