/**
 * PyTorch CPU as a peer (impl 'torch-<n>t'): bench/peers-torch.py in a child python3 with
 * torch.set_num_threads(n), for the DeepConvNet rows (bench/deep.ts) and the SimpleConvNet e2e
 * train / infer batch 100 rows, on the same first batch of the bench's images. Skipped with a
 * note where python3 or torch is missing (Debian: apt-get install python3-torch).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BATCH, E2E, SAMPLE, type BenchData } from './e2e.js';
import { DEEP } from './deep.js';
import { figure, median } from './timing.js';
import type { Failure, Figure, ImplInfo, Timing } from './types.js';

export interface TorchRun {
  figures: Figure[];
  failures: Failure[];
  impls: ImplInfo[];
  notes: string[];
}

/** bench/peers-torch.py, from bench/ (sources) or build/dist/ (the bundle). */
function script(): string | undefined {
  const here = dirname(fileURLToPath(import.meta.url));
  return [join(here, 'peers-torch.py'), join(here, '..', '..', 'bench', 'peers-torch.py'), join(process.cwd(), 'bench', 'peers-torch.py')]
    .find((p) => existsSync(p));
}

const PYTHONS = ['/usr/bin/python3', 'python3'];

const ROWS: Record<string, { group: 'deep' | 'e2e'; name: string }> = {
  'deep train': { group: 'deep', name: DEEP.train },
  'deep infer': { group: 'deep', name: DEEP.infer100 },
  'simple train': { group: 'e2e', name: E2E.train },
  'simple infer': { group: 'e2e', name: E2E.infer100 },
};

/** The python3 with torch and the peer script, or why the PyTorch peer is skipped. */
export function findTorch(): { python: string; path: string } | { skip: string } {
  const path = script();
  if (!path) return { skip: 'PyTorch peer skipped: bench/peers-torch.py not found.' };
  const python = PYTHONS.find((p) => spawnSync(p, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0);
  if (!python) return { skip: 'PyTorch peer skipped: no python3 with torch here (Debian: apt-get install python3-torch).' };
  return { python, path };
}

/** The script's stdin: the first batch's (100, 1, 28, 28) float32 images, then its 100 int32 labels. */
export function torchInput(data: BenchData): Buffer {
  return Buffer.concat([
    Buffer.from(data.x.buffer, data.x.byteOffset, BATCH * SAMPLE * 4),
    Buffer.from(data.t.buffer, data.t.byteOffset, BATCH * 4),
  ]);
}

export function runTorch(threads: number[], data: BenchData, quick: boolean, log: (s: string) => void): TorchRun {
  const run: TorchRun = { figures: [], failures: [], impls: [], notes: [] };
  const found = findTorch();
  if ('skip' in found) {
    run.notes.push(found.skip);
    return run;
  }
  const { python, path } = found;
  const input = torchInput(data);
  for (const n of threads) {
    const impl = `torch-${n}t`;
    log(`peers: PyTorch, ${n} thread${n > 1 ? 's' : ''}`);
    const child = spawnSync(python, [path, String(n), quick ? '1' : '0'], { input, encoding: 'utf8', timeout: 600_000, maxBuffer: 16 << 20 });
    let parsed: { torch: string; threads: number; cases: { name: string; ms: number[] }[] } | undefined;
    try {
      parsed = JSON.parse(child.stdout);
    } catch {
      // reported below
    }
    if (!parsed) {
      const why = (child.error?.message ?? child.stderr ?? `exit status ${child.status}`).trim().split('\n').slice(-1)[0];
      run.failures.push({ group: 'deep', name: 'PyTorch peer', impl, error: why });
      continue;
    }
    run.impls.push({ impl, description: `PyTorch ${parsed.torch} CPU (${python}), torch.set_num_threads(${n}) -> ${parsed.threads}` });
    for (const c of parsed.cases) {
      const row = ROWS[c.name];
      if (!row) continue;
      const timing: Timing = {
        medianMs: median(c.ms), minMs: Math.min(...c.ms), maxMs: Math.max(...c.ms),
        trials: c.ms.length, reps: 1, warmup: 0, samplesMs: c.ms,
      };
      const f = figure({ group: row.group, name: row.name, shape: '(100,1,28,28)', impl, unit: 'img/s', work: BATCH }, timing);
      run.figures.push(f);
      log(`peers ${impl}: ${row.name} ${f.value.toFixed(0)} img/s`);
    }
  }
  return run;
}
