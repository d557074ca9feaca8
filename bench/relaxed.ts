/**
 * The relaxed-SIMD build ('wasm-relaxed': GEMM micro-kernels with f32x4.relaxed_madd), 1
 * thread: its GEMMs, the end-to-end cases and (peers) SimpleConvNet inference against ONNX Runtime
 * Web in paired rounds, beside the plain-SIMD build. In-process where
 * the engine validates relaxed SIMD (Chromium; a future Node), else in a child
 * `node --experimental-wasm-relaxed-simd` running this bench with `--relaxed-only`, whose
 * JSON results are merged in.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { relaxedSimdSupported } from '../src/backend/wasm/load.js';
import type { BenchResults, Failure, Figure, Group, ImplInfo, PairedPeerRow } from './types.js';

export const RELAXED_IMPL = 'wasm-relaxed';
const FLAG = '--experimental-wasm-relaxed-simd';

export interface RelaxedRun {
  figures: Figure[];
  failures: Failure[];
  impls: ImplInfo[];
  notes: string[];
  /** The relaxed build against PyTorch in paired rounds (deep group), when torch is there. */
  deepTorchPaired?: PairedPeerRow[];
  /** The relaxed build against ONNX Runtime Web in paired rounds (peers group). */
  ortPaired?: PairedPeerRow[];
}

/** build/dist/bench.js, from this module in bench/ (sources) or in build/dist/ (the bundle). */
function benchEntry(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'bench.js'), join(here, '..', 'build', 'dist', 'bench.js')];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`the bench bundle is missing (looked for ${candidates.join(', ')}; run npm run build)`);
  return found;
}

/**
 * Runs the relaxed-SIMD cases. `inProcess` runs them here (runBench with relaxedOnly) when
 * the engine validates relaxed SIMD; otherwise a child node with the flag does.
 */
export async function runRelaxed(groups: Group[], quick: boolean, inProcess: (groups: Group[]) => Promise<BenchResults>,
  log: (s: string) => void): Promise<RelaxedRun> {
  const own = groups.filter((g) => g === 'kernels' || g === 'e2e' || g === 'deep' || g === 'peers');
  const failed = (error: string): RelaxedRun => ({
    figures: [], impls: [], notes: [],
    failures: [{ group: own.includes('kernels') ? 'kernels' : 'e2e', name: 'relaxed-SIMD build', impl: RELAXED_IMPL, error }],
  });
  let r: BenchResults;
  let how: string;
  if (relaxedSimdSupported()) {
    r = await inProcess(own);
    how = 'this engine accepts relaxed SIMD; measured in-process';
  } else {
    const args = [FLAG, benchEntry(), '--relaxed-only', '--only', own.join(','), '--json', '--no-write', ...(quick ? ['--quick'] : [])];
    log(`relaxed SIMD: node ${args.join(' ')}`);
    const child = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 600_000, maxBuffer: 64 << 20 });
    if (child.error) return failed(`child node ${FLAG}: ${child.error.message}`);
    let parsed: BenchResults | undefined;
    try {
      parsed = JSON.parse(child.stdout) as BenchResults;
    } catch {
      // reported below with the child's own words
    }
    if (!parsed) {
      const why = (child.stderr || child.stdout || `exit status ${child.status}`).trim().split('\n').slice(-1)[0];
      return failed(`child node ${FLAG} printed no results: ${why}`);
    }
    r = parsed;
    how = `this engine rejects relaxed SIMD without a flag; measured in a child \`node ${FLAG}\``;
  }
  return { figures: r.figures, failures: r.failures, impls: r.impls, notes: [`Wasm relaxed: ${how}.`, ...r.notes], deepTorchPaired: r.deepTorchPaired,
    ortPaired: r.ortPaired };
}
