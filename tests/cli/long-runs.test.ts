// Long runs lose nothing: `wasm-cnn train` (the built CLI, as a subprocess) interrupted by
// SIGINT or SIGTERM inside an epoch and at an epoch boundary saves a checkpoint and exits
// 130 / 143; --resume ends with a params.safetensors byte-identical to an uninterrupted run
// (on 1 or 2 threads); a second SIGINT exits at once leaving the last complete checkpoint;
// a write that fails mid-run keeps the last good checkpoint; bad output folders are refused
// with one error line, exit 2, before any training and without writing anything.
//
// The signals are sent by the process itself at a fixed step (WASM_CNN_TEST_SIGNAL_AT, see
// src/cli/long-run.ts), so nothing depends on timing.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeCheckpoint } from '../../src/train/checkpoint.js';

const BIN = join(process.cwd(), 'bin/wasm-cnn.js');
// 600 / 50 -> 12 steps per epoch, 36 in all
const RUN = ['train', '--train-size', '600', '--test-size', '100', '--batch', '50', '--epochs', '3', '--seed', '3', '--quiet'];

interface Run { code: number; signal: string | null; stdout: string; stderr: string }

function cli(args: string[], env: Record<string, string> = {}, extra: { uid?: number; gid?: number } = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, timeout: T, ...extra }, (err, stdout, stderr) => {
      const e = err as (Error & { code?: number | string; signal?: string }) | null;
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : -1) : 0, signal: e?.signal ?? null, stdout, stderr });
    });
  });
}

// generous: the subprocesses share a busy machine (no timing is asserted)
const T = 180_000;
const read = (path: string) => readFileSync(path);
/** Byte equality of two files' contents (Buffer.equals: a deep toEqual over megabytes is slow). */
const same = (a: Buffer, b: Buffer | undefined) => b !== undefined && a.equals(b);
const position = (dir: string) => decodeCheckpoint(new Uint8Array(read(join(dir, 'checkpoint.safetensors'))), dir).position;

let dir: string;
let reference: Buffer;
/** The checkpoint at the end of epoch 1 (from the SIGTERM run), which other runs must match byte for byte. */
let epoch1: Buffer | undefined;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wasm-cnn-long-'));
  const r = await cli([...RUN, '--out', join(dir, 'ref')]);
  expect(r.code, r.stderr).toBe(0);
  reference = read(join(dir, 'ref', 'params.safetensors'));
  // the finished run's checkpoint is its last epoch end
  expect(position(join(dir, 'ref'))).toMatchObject({ epoch: 3, step: 36, evaluated: true });
}, T);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('interrupted and resumed runs', () => {
  it('SIGINT inside epoch 2 (after step 15): checkpoint + run files, exit 130; --resume on 2 threads ends byte-identical', async () => {
    const out = join(dir, 'int');
    const r = await cli([...RUN, '--out', out], { WASM_CNN_TEST_SIGNAL_AT: '15' });
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toContain(`resume with: wasm-cnn train --resume ${out}`);
    expect(r.stderr).toContain('after step 15 of 36');
    expect(position(out)).toMatchObject({ epoch: 2, iteration: 3, step: 15, evaluated: false });
    for (const f of ['params.safetensors', 'history.json', 'loss.png', 'accuracy.png', 'filters-before.png', 'filters-after.png']) {
      expect(existsSync(join(out, f)), f).toBe(true);
    }
    const history = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8'));
    expect(history).toMatchObject({ interrupted: 'SIGINT', finalTestAcc: null });
    expect(history.trainLossList).toHaveLength(15);
    expect(same(read(join(out, 'params.safetensors')), reference)).toBe(false);

    const resumed = await cli(['train', '--resume', out, '--threads', '2', '--quiet']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(same(read(join(out, 'params.safetensors')), reference)).toBe(true);
    expect(same(read(join(out, 'filters-before.png')), read(join(dir, 'ref', 'filters-before.png')))).toBe(true);
    const done = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8'));
    const refHistory = JSON.parse(readFileSync(join(dir, 'ref', 'history.json'), 'utf8'));
    expect(done.trainLossList).toEqual(refHistory.trainLossList);
    expect(done.testAccList).toEqual(refHistory.testAccList);
    expect(done).toMatchObject({ interrupted: null, resumedAtStep: 15 });
  }, T);

  it('SIGTERM at the end of epoch 1 (with --checkpoint-every 5): exit 143; --resume ends byte-identical', async () => {
    const out = join(dir, 'term');
    const r = await cli([...RUN, '--out', out, '--checkpoint-every', '5'], { WASM_CNN_TEST_SIGNAL_AT: 'e1', WASM_CNN_TEST_SIGNAL: 'SIGTERM' });
    expect(r.code, r.stderr).toBe(143);
    expect(r.stderr).toMatch(/SIGTERM/);
    expect(position(out)).toMatchObject({ epoch: 1, iteration: 12, step: 12, evaluated: true });
    epoch1 = read(join(out, 'checkpoint.safetensors'));
    const resumed = await cli(['train', '--resume', out, '--quiet']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(same(read(join(out, 'params.safetensors')), reference)).toBe(true);
  }, T);

  it('a second SIGINT exits at once (130), leaving the last complete checkpoint (the epoch-1 one, byte for byte)', async () => {
    const out = join(dir, 'twice');
    // --checkpoint-every 5: checkpoints at steps 5, 10, 12 (epoch end); both signals at step 14
    const r = await cli([...RUN, '--out', out, '--checkpoint-every', '5'], { WASM_CNN_TEST_SIGNAL_AT: '14,14' });
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/SIGINT again: exiting now/);
    expect(position(out)).toMatchObject({ epoch: 1, step: 12, evaluated: true }); // not 14: exited before writing it
    expect(existsSync(join(out, 'params.safetensors'))).toBe(false);
    expect(readdirSync(out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // the same bytes as the epoch-1 checkpoint of the SIGTERM run, which resumed to the reference
    expect(epoch1).toBeDefined();
    expect(same(read(join(out, 'checkpoint.safetensors')), epoch1)).toBe(true);
  }, T);

  it('a write that fails mid-run (ENOSPC at the epoch 2 checkpoint) keeps the epoch 1 checkpoint and says so', async () => {
    const out = join(dir, 'full');
    const r = await cli([...RUN, '--out', out], { WASM_CNN_TEST_FAIL_WRITES_AFTER: '1' });
    expect(r.code, r.stderr).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: cannot write to .*ENOSPC.*the last good checkpoint is .*checkpoint\.safetensors \(epoch 1, step 12 of 36\); resume with: wasm-cnn train --resume /);
    expect(position(out)).toMatchObject({ epoch: 1, step: 12, evaluated: true });
    expect(readdirSync(out)).toEqual(['checkpoint.safetensors']);
    // intact: the epoch-1 checkpoint of the SIGTERM run, byte for byte (that one resumed to the reference)
    expect(same(read(join(out, 'checkpoint.safetensors')), epoch1)).toBe(true);
  }, T);

  it('--resume refuses conflicting options and a folder without a checkpoint, with exit 2', async () => {
    const out = join(dir, 'ref');
    const before = read(join(out, 'checkpoint.safetensors'));
    const r = await cli(['train', '--resume', out, '--epochs', '5', '--lr', '0.01', '--seed', '3', '--lr-decay', '0.8', '--weight-decay', '0.001']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`error: --resume ${out}: --epochs 5 conflicts with the run's --epochs 3; --lr 0.01 conflicts with the run's --lr 0.001; ` +
      "--lr-decay 0.8 conflicts with the run's --lr-decay 1; --weight-decay 0.001 conflicts with the run's --weight-decay 0 " +
      '(a resumed run keeps the options it started with; leave them out or start a new run)');
    const other = await cli(['train', '--resume', out, '--out', join(dir, 'elsewhere')]);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/^error: --out .* conflicts with --resume/);
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const none = await cli(['train', '--resume', empty]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^error: --resume .*: there is no checkpoint\.safetensors in that folder/);
    expect(same(read(join(out, 'checkpoint.safetensors')), before)).toBe(true);
  }, T);
});

describe('output folders checked before any work', { timeout: T }, () => {
  // --full --epochs 50 would train for many minutes: an answer within the timeout means no training started
  const BIG = ['train', '--full', '--epochs', '50'];

  async function refused(out: string, reason: RegExp, env: Record<string, string> = {}, extra = {}) {
    const r = await cli([...BIG, '--out', out], env, extra);
    expect(r.code, r.stderr).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: /);
    expect(lines[0]).toContain(out);
    expect(lines[0]).toMatch(reason);
    expect(r.stdout).toBe('');
    return r;
  }

  it('a path through a file', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    await refused(join(file, 'run'), /a-file is a file, not a folder/);
    expect(readFileSync(file, 'utf8')).toBe('x');
    if (existsSync('/etc/passwd')) await refused('/etc/passwd/x', /\/etc\/passwd is a file, not a folder/);
  });

  it('an existing file as the folder', async () => {
    const file = join(dir, 'b-file');
    writeFileSync(file, 'y');
    await refused(file, /exists and is not a folder/);
  });

  it.runIf(process.platform === 'linux')('/proc and /sys (pseudo filesystems)', async () => {
    await refused('/proc/x', /pseudo filesystem \(proc\)/);
    await refused('/sys/x/y', /pseudo filesystem \(sysfs\)/);
  });

  it('an existing run without --force', async () => {
    await refused(join(dir, 'ref'), /already holds a run .*pass --force/);
  });

  it('no space left (free space as statfs reports it, replaced by the test hook)', async () => {
    const out = join(dir, 'nospace');
    await refused(out, /no space left: 0\.0 MB free/, { WASM_CNN_TEST_FREE_BYTES: '4096' });
    expect(existsSync(out)).toBe(false);
  });

  it('a folder that is not writable', async () => {
    const ro = join(dir, 'readonly');
    mkdirSync(ro);
    chmodSync(ro, 0o555);
    // root writes anywhere: run the command as nobody then
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    chmodSync(dir, 0o755);
    await refused(join(ro, 'run'), /readonly is not writable \(EACCES\)/, {}, asNobody);
    expect(readdirSync(ro)).toEqual([]);
  });
});
