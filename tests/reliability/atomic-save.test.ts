// Saves are atomic: a child process writes a large parameter file over and over with
// writeFileAtomic / writeFileAtomicSync and is killed with SIGKILL at random moments; the
// file is then always one of the complete versions (it decodes, byte for byte the same),
// never a torn mix. A reader running while the child writes sees only complete versions too.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.js';
import { sameBytes } from './helpers.js';
import { bundle, type Bundle } from './subprocess.js';

/** 2M floats: an 8 MB file, so that a random kill usually lands inside a write. */
const VALUES = 2 * 1024 * 1024;
const KILLS = 16;

const CHILD = `
import { readFileSync } from 'node:fs';
import { writeFileAtomic, writeFileAtomicSync } from './files.mjs';
const [target, mode, ...versionPaths] = process.argv.slice(2);
const versions = versionPaths.map((p) => new Uint8Array(readFileSync(p)));
let i = 0;
process.stdout.write('ready\\n');
for (;;) {
  const v = versions[i++ % versions.length];
  if (mode === 'sync') writeFileAtomicSync(target, v);
  else await writeFileAtomic(target, v);
}
`;

function version(k: number): Uint8Array {
  const data = new Float32Array(VALUES);
  for (let i = 0; i < VALUES; i++) data[i] = k * 1e6 + i;
  return encodeSafetensors([{ name: 'W', shape: [VALUES], data }], { version: String(k) });
}

/** Deterministic delays (mulberry32), so the schedule of kills repeats from run to run. */
function delays(n: number, seed: number, maxMs: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * maxMs);
  });
}

function startWriter(script: string, target: string, mode: 'sync' | 'async', paths: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, [script, target, mode, ...paths], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    child.stdout!.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`writer exited early (${code}): ${err}`)));
  });
}

function kill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

describe('atomic saves survive SIGKILL mid-write', () => {
  let lib: Bundle;
  let dir: string;
  let versions: Uint8Array[];
  let paths: string[];
  beforeAll(async () => {
    lib = await bundle({ files: 'src/io/files-node.ts' });
    writeFileSync(join(lib.dir, 'child.mjs'), CHILD);
    dir = mkdtempSync(join(tmpdir(), 'wasm-cnn-atomic-'));
    versions = [1, 2, 3].map(version);
    paths = versions.map((v, i) => {
      const p = join(dir, `version-${i}.bin`);
      writeFileSync(p, v);
      return p;
    });
  });
  afterAll(() => {
    lib?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const which = (bytes: Uint8Array) => versions.findIndex((v) => sameBytes(v, bytes));

  it(`${KILLS} kills at random moments: the file is always a complete version`, async () => {
    const target = join(dir, 'params.safetensors');
    writeFileSync(target, versions[0]);
    const seen = new Set<number>();
    let tornTemps = 0;
    const schedule = delays(KILLS, 2026, 60);
    for (let k = 0; k < KILLS; k++) {
      const child = await startWriter(join(lib.dir, 'child.mjs'), target, k % 2 ? 'async' : 'sync', paths);
      await new Promise((r) => setTimeout(r, 5 + schedule[k]));
      await kill(child);
      const bytes = new Uint8Array(readFileSync(target));
      const v = which(bytes);
      expect(v, `after kill ${k} the file is ${bytes.length} bytes and matches no complete version`).toBeGreaterThanOrEqual(0);
      seen.add(v);
      const file = decodeSafetensors(bytes, { name: target });
      expect(file.metadata.version).toBe(String(v + 1));
      // a kill inside a write leaves its temp file (hidden, named for the target) and nothing else
      const temps = readdirSync(dir).filter((f) => f.endsWith('.tmp'));
      for (const f of temps) expect(f).toMatch(/^\.params\.safetensors\.\d+\.[0-9a-f]{12}\.tmp$/);
      tornTemps += temps.length;
      for (const f of temps) rmSync(join(dir, f));
    }
    // the kills really did land inside writes, and the writers did replace the file
    expect(tornTemps).toBeGreaterThan(0);
    expect(seen.size).toBeGreaterThan(1);
  }, 120_000);

  it('a reader never sees a partial file while the writer runs', async () => {
    const target = join(dir, 'read.safetensors');
    writeFileSync(target, versions[0]);
    const child = await startWriter(join(lib.dir, 'child.mjs'), target, 'sync', paths);
    const seen = new Set<number>();
    try {
      const end = Date.now() + 400;
      while (Date.now() < end) {
        const v = which(new Uint8Array(readFileSync(target)));
        expect(v).toBeGreaterThanOrEqual(0);
        seen.add(v);
        await new Promise((r) => setImmediate(r));
      }
    } finally {
      await kill(child);
    }
    expect(seen.size).toBeGreaterThan(1);
  }, 60_000);
});
