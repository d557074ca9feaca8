/**
 * Wasm against a peer in paired rounds: the peer runs in a long-lived child process (a
 * "server" that answers "<case> <reps>" with the per-call ms of <reps> calls after one untimed
 * call), and each round times one trial of the Wasm backend and one of the peer back to back,
 * the order alternating, each after a short idle gap. Each ratio then compares trials well
 * under a second apart: on a host whose speed drifts by 1.5x over minutes, figures measured
 * minutes apart (the End to end tables) can put a ratio anywhere in that range.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { trial, type ScalingBudget } from './scaling.js';
import { median } from './timing.js';
import type { Impl, PairedPeerRow } from './types.js';

/** A peer in a child process: ask(case, reps) resolves to its per-call ms. */
export interface PeerServer {
  version: string;
  ask: (name: string, reps: number) => Promise<number>;
  close: () => void;
}

/**
 * Starts `command args` with `input` on stdin; its first stdout line is JSON with `threads`
 * (checked against `threads`) and a version under `versionKey`, each later line one answer.
 */
export async function startServer(what: string, command: string, args: string[], input: Buffer, threads: number,
  versionKey: string): Promise<PeerServer> {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  child.stdin.on('error', () => {}); // a child that died is reported by next()
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<string> => {
    const r = await lines.next();
    if (r.done) throw new Error(`${what} ended: ${stderr.trim().split('\n').slice(-1)[0] || `exit status ${child.exitCode}`}`);
    return r.value;
  };
  child.stdin.write(input);
  try {
    const hello = JSON.parse(await next()) as Record<string, unknown>;
    if (hello.threads !== threads) throw new Error(`${what} runs ${String(hello.threads)} threads, asked for ${threads}`);
    return {
      version: String(hello[versionKey] ?? ''),
      ask: async (name, reps) => {
        child.stdin.write(`${name} ${reps}\n`);
        const line = await next();
        const ms = Number(line);
        if (!(ms > 0)) throw new Error(`${what} answered ${JSON.stringify(line)} for ${name}`);
        return ms;
      },
      close: () => { child.stdin.end('\n'); child.kill(); },
    };
  } catch (e) {
    child.kill();
    throw e;
  }
}

/**
 * A short idle gap before every trial: threads that spin after their last task (the Wasm pool's
 * workers, a peer's thread team) are asleep before the other side's trial starts.
 */
const pause = () => new Promise<void>((resolve) => setTimeout(resolve, 20));

/** One case in paired rounds: `wasm` runs one call, `peerCase` is the server's name for the same work. */
export async function pairedRow(name: string, impl: Impl, threads: number, wasm: () => void, server: PeerServer,
  peer: Impl, peerCase: string, budget: ScalingBudget): Promise<PairedPeerRow> {
  let wasmOne = Infinity, peerOne = Infinity;
  for (let i = 0; i < budget.warmup; i++) {
    wasmOne = trial(wasm, 1);
    peerOne = await server.ask(peerCase, 1);
  }
  const wasmReps = Math.max(1, Math.ceil(budget.trialMs / Math.max(wasmOne, 1e-3)));
  const peerReps = Math.max(1, Math.ceil(budget.trialMs / Math.max(peerOne, 1e-3)));
  const wasmMs: number[] = [], peerMs: number[] = [];
  const wasmTrial = async () => { await pause(); wasmMs.push(trial(wasm, wasmReps)); };
  const peerTrial = async () => { await pause(); peerMs.push(await server.ask(peerCase, peerReps)); };
  for (let round = 0; round < budget.rounds; round++) {
    if (round % 2 === 0) { await wasmTrial(); await peerTrial(); } else { await peerTrial(); await wasmTrial(); }
  }
  const ratios = wasmMs.map((w, i) => peerMs[i] / w);
  return {
    name, impl, peer, threads, rounds: budget.rounds, peerVersion: server.version,
    ms: median(wasmMs), peerMs: median(peerMs),
    ratio: median(ratios), minRatio: Math.min(...ratios), maxRatio: Math.max(...ratios),
    samplesMs: wasmMs, peerSamplesMs: peerMs,
  };
}
