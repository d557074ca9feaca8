/**
 * Wasm against PyTorch CPU in paired rounds: DeepConvNet training and inference (batch 100) at
 * each thread count, on a Wasm backend and in one long-lived child python3
 * (bench/peers-torch.py THREADS serve) with the same thread count. Each round times one trial
 * of each back to back (the order alternating), so each ratio Wasm / PyTorch compares trials
 * well under a second apart: on a host whose speed drifts by 1.5x over minutes, the End to end
 * table's figures (measured minutes apart) can put the ratio anywhere in that range.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Backend } from '../src/backend/backend.js';
import type { BenchData } from './e2e.js';
import { DEEP, deepNet } from './deep.js';
import { findTorch, torchInput } from './peers-torch.js';
import { runner, trial, type ScalingBudget } from './scaling.js';
import { median } from './timing.js';
import type { Impl, PairedPeerRow } from './types.js';

/**
 * A short idle gap before every trial: threads that spin after their last task (the Wasm pool's
 * workers, PyTorch's OpenMP team) are asleep before the other side's trial starts.
 */
const pause = () => new Promise<void>((resolve) => setTimeout(resolve, 20));

/** The child's case names for the DeepConvNet rows. */
const CASES: [row: string, torchCase: string][] = [[DEEP.train, 'deep train'], [DEEP.infer100, 'deep infer']];

/** A child python3 in serve mode: ask(case, reps) resolves to its per-call ms. */
interface TorchServer {
  version: string;
  ask: (name: string, reps: number) => Promise<number>;
  close: () => void;
}

async function startServer(python: string, path: string, threads: number, input: Buffer): Promise<TorchServer> {
  const child = spawn(python, [path, String(threads), 'serve'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<string> => {
    const r = await lines.next();
    if (r.done) throw new Error(`python3 peers-torch.py ended: ${stderr.trim().split('\n').slice(-1)[0] || `exit status ${child.exitCode}`}`);
    return r.value;
  };
  child.stdin.write(input);
  const hello = JSON.parse(await next()) as { torch: string; threads: number };
  if (hello.threads !== threads) throw new Error(`torch.set_num_threads(${threads}) gave ${hello.threads} threads`);
  return {
    version: hello.torch,
    ask: async (name, reps) => {
      child.stdin.write(`${name} ${reps}\n`);
      const ms = Number(await next());
      if (!(ms > 0)) throw new Error(`python3 peers-torch.py answered ${JSON.stringify(ms)} for ${name}`);
      return ms;
    },
    close: () => { child.stdin.end('\n'); child.kill(); },
  };
}

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
    const peer = `torch-${b.threads}t`;
    const server = await startServer(found.python, found.path, b.threads, input);
    const wasm = runner(b.backend, data, { make: deepNet, train: DEEP.train, infer: DEEP.infer100 });
    try {
      for (const [name, torchCase] of CASES) {
        const fn = wasm.cases[name];
        let wasmOne = Infinity, torchOne = Infinity;
        for (let i = 0; i < budget.warmup; i++) {
          wasmOne = trial(fn, 1);
          torchOne = await server.ask(torchCase, 1);
        }
        const wasmReps = Math.max(1, Math.ceil(budget.trialMs / Math.max(wasmOne, 1e-3)));
        const torchReps = Math.max(1, Math.ceil(budget.trialMs / Math.max(torchOne, 1e-3)));
        const wasmMs: number[] = [], torchMs: number[] = [];
        const wasmTrial = async () => { await pause(); wasmMs.push(trial(fn, wasmReps)); };
        const torchTrial = async () => { await pause(); torchMs.push(await server.ask(torchCase, torchReps)); };
        for (let round = 0; round < budget.rounds; round++) {
          if (round % 2 === 0) { await wasmTrial(); await torchTrial(); } else { await torchTrial(); await wasmTrial(); }
        }
        const ratios = wasmMs.map((w, i) => torchMs[i] / w);
        const row: PairedPeerRow = {
          name, impl: b.impl, peer, threads: b.threads, rounds: budget.rounds, peerVersion: server.version,
          ms: median(wasmMs), peerMs: median(torchMs),
          ratio: median(ratios), minRatio: Math.min(...ratios), maxRatio: Math.max(...ratios),
          samplesMs: wasmMs, peerSamplesMs: torchMs,
        };
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
