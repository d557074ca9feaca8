import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FormatError } from '../../src/errors.js';
import { encodeSafetensors } from '../../src/io/safetensors.js';
import {
  readParamsFile,
  readParamsFileSync,
  writeFileAtomic,
  writeFileAtomicSync,
} from '../../src/io/files-node.js';
import { bundle, type Bundle } from '../reliability/subprocess.js';

/** Failures to simulate inside the fs modules that files-node.ts uses. */
const fail = vi.hoisted(() => ({ rename: false, sync: false, write: false, renameSync: false, fsyncSync: false, writeSync: false }));

const simulated = (what: string) => Object.assign(new Error(`EIO: simulated ${what} failure`), { code: 'EIO' });

vi.mock('node:fs/promises', async (importOriginal) => {
  const orig = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...orig,
    rename: async (a: string, b: string) => {
      if (fail.rename) throw simulated('rename');
      return orig.rename(a, b);
    },
    open: async (...args: Parameters<typeof orig.open>) => {
      const fh = await orig.open(...args);
      return new Proxy(fh, {
        get(target, prop) {
          if (prop === 'sync' && fail.sync) return async () => Promise.reject(simulated('fsync'));
          if (prop === 'write' && fail.write) {
            // writes a few bytes, then fails: a partial temp file
            return async (buf: Uint8Array) => {
              await target.write(buf, 0, Math.min(3, buf.length));
              throw simulated('write');
            };
          }
          const v = Reflect.get(target, prop, target);
          return typeof v === 'function' ? v.bind(target) : v;
        },
      });
    },
  };
});

vi.mock('node:fs', async (importOriginal) => {
  const orig = await importOriginal<typeof import('node:fs')>();
  return {
    ...orig,
    renameSync: (a: string, b: string) => {
      if (fail.renameSync) throw simulated('rename');
      return orig.renameSync(a, b);
    },
    fsyncSync: (fd: number) => {
      if (fail.fsyncSync) throw simulated('fsync');
      return orig.fsyncSync(fd);
    },
    writeSync: (fd: number, buf: Uint8Array, ...rest: unknown[]) => {
      if (fail.writeSync) {
        orig.writeSync(fd, buf, 0, Math.min(3, buf.length));
        throw simulated('write');
      }
      return (orig.writeSync as (...a: unknown[]) => number)(fd, buf, ...rest);
    },
  };
});

const root = mkdtempSync(join(tmpdir(), 'wasm-cnn-files-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let dir: string;
let n = 0;
beforeEach(() => {
  dir = join(root, `case-${n++}`);
  mkdirSync(dir);
});
afterEach(() => {
  for (const k of Object.keys(fail) as (keyof typeof fail)[]) fail[k] = false;
});

const asRoot = process.getuid?.() === 0;
let nobodyBundle: Bundle | undefined;
afterAll(() => nobodyBundle?.dispose());

/**
 * Root writes through any permission bits, so as root the write of the EACCES test runs in
 * a child process as uid/gid 65534 (nobody), from a bundle of src/io/files-node.ts; returns
 * the error code it failed with ('' when it succeeded).
 */
async function writeAsNobody(fn: 'writeFileAtomic' | 'writeFileAtomicSync', p: string): Promise<string> {
  if (!nobodyBundle) {
    nobodyBundle = await bundle({ files: 'src/io/files-node.ts' });
    chmodSync(nobodyBundle.dir, 0o755);
    chmodSync(nobodyBundle.file('files'), 0o644);
  }
  chmodSync(root, 0o755); // mkdtemp made it 0700: nobody must reach the case folder
  const script = `import(${JSON.stringify(nobodyBundle.file('files'))}).then(async (m) => {
    try { await m.${fn}(${JSON.stringify(p)}, new Uint8Array(1000)); console.log(''); } catch (e) { console.log(e.code); }
  });`;
  return execFileSync(process.execPath, ['-e', script], { uid: 65534, gid: 65534, encoding: 'utf8', timeout: 30_000 }).trim();
}

const OLD = new TextEncoder().encode('old contents');
const NEW = Uint8Array.from({ length: 100_000 }, (_, i) => i * 7);

const variants = [
  { name: 'writeFileAtomic', write: (p: string, b: Uint8Array) => writeFileAtomic(p, b), rename: 'rename', sync: 'sync', write_: 'write' },
  { name: 'writeFileAtomicSync', write: async (p: string, b: Uint8Array) => writeFileAtomicSync(p, b), rename: 'renameSync', sync: 'fsyncSync', write_: 'writeSync' },
] as const;

for (const v of variants) {
  describe(v.name, () => {
    it('writes a new file and leaves no temp file', async () => {
      const p = join(dir, 'model.safetensors');
      await v.write(p, NEW);
      expect(new Uint8Array(readFileSync(p))).toEqual(NEW);
      expect(readdirSync(dir)).toEqual(['model.safetensors']);
    });

    it('replaces an existing file, keeping its permissions', async () => {
      const p = join(dir, 'f.bin');
      writeFileSync(p, OLD);
      chmodSync(p, 0o600);
      await v.write(p, NEW);
      expect(new Uint8Array(readFileSync(p))).toEqual(NEW);
      expect(statSync(p).mode & 0o777).toBe(0o600);
      expect(readdirSync(dir)).toEqual(['f.bin']);
    });

    it('writes an empty file', async () => {
      const p = join(dir, 'empty');
      await v.write(p, new Uint8Array(0));
      expect(readFileSync(p).length).toBe(0);
    });

    for (const [what, key] of [
      ['rename', v.rename],
      ['fsync', v.sync],
      ['a partial write', v.write_],
    ] as const) {
      it(`a failing ${what} leaves the old file intact and removes the temp file`, async () => {
        const p = join(dir, 'f.bin');
        writeFileSync(p, OLD);
        fail[key] = true;
        await expect(v.write(p, NEW)).rejects.toThrow(/simulated/);
        fail[key] = false;
        expect(new Uint8Array(readFileSync(p))).toEqual(OLD);
        expect(readdirSync(dir)).toEqual(['f.bin']);
      });
    }

    it('a missing target directory fails and creates nothing', async () => {
      const p = join(dir, 'no', 'such', 'dir', 'f.bin');
      await expect(v.write(p, NEW)).rejects.toMatchObject({ code: 'ENOENT' });
      expect(readdirSync(dir)).toEqual([]);
    });

    it('a target that is a directory fails (rename) and leaves it and no temp file', async () => {
      const p = join(dir, 'taken');
      mkdirSync(p);
      writeFileSync(join(p, 'inside'), OLD);
      await expect(v.write(p, NEW)).rejects.toThrow();
      expect(readdirSync(dir)).toEqual(['taken']);
      expect(new Uint8Array(readFileSync(join(p, 'inside')))).toEqual(OLD);
    });

    it.skipIf(process.platform === 'win32')(
      `a directory that is not writable fails with EACCES and leaves the old file${asRoot ? ' (written by uid 65534: root may write anywhere)' : ''}`,
      async () => {
        const p = join(dir, 'f.bin');
        writeFileSync(p, OLD);
        chmodSync(dir, 0o555);
        try {
          if (asRoot) expect(await writeAsNobody(v.name, p)).toBe('EACCES');
          else await expect(v.write(p, NEW)).rejects.toMatchObject({ code: 'EACCES' });
        } finally {
          chmodSync(dir, 0o755);
        }
        expect(new Uint8Array(readFileSync(p))).toEqual(OLD);
        expect(readdirSync(dir)).toEqual(['f.bin']);
      },
      60_000,
    );

    it('a regular file where a directory is expected fails (ENOTDIR, for root too) and leaves it', async () => {
      const file = join(dir, 'plain');
      writeFileSync(file, OLD);
      await expect(v.write(join(file, 'f.bin'), NEW)).rejects.toMatchObject({ code: 'ENOTDIR' });
      expect(new Uint8Array(readFileSync(file))).toEqual(OLD);
      expect(readdirSync(dir)).toEqual(['plain']);
    });
  });
}

describe('writeFileAtomic under concurrency', () => {
  it('concurrent writers to one path leave one complete file and no temp files', async () => {
    const p = join(dir, 'race.bin');
    const contents = Array.from({ length: 16 }, (_, k) => new Uint8Array(50_000).fill(k + 1));
    await Promise.all(contents.map((c) => writeFileAtomic(p, c)));
    const got = new Uint8Array(readFileSync(p));
    expect(got.length).toBe(50_000);
    expect(got.every((b) => b === got[0])).toBe(true);
    expect(readdirSync(dir)).toEqual(['race.bin']);
  });
});

describe('readParamsFile', () => {
  const file = encodeSafetensors([{ name: 'W1', shape: [2, 2], data: new Float32Array([1, 2, 3, 4]) }], { config: '{"a":1}' });

  it('reads back what writeFileAtomic wrote, with the raw bytes', async () => {
    const p = join(dir, 'p.safetensors');
    await writeFileAtomic(p, file);
    const r = await readParamsFile(p);
    expect(r.bytes).toEqual(file);
    expect(r.metadata).toEqual({ config: '{"a":1}' });
    expect([...r.tensors.get('W1')!.data]).toEqual([1, 2, 3, 4]);
    expect(readParamsFileSync(p).tensors.get('W1')!.shape).toEqual([2, 2]);
  });

  it('a corrupt file is a FormatError that names the path', async () => {
    const p = join(dir, 'bad.safetensors');
    writeFileSync(p, file.subarray(0, file.length - 1));
    const e = await readParamsFile(p).catch((x: unknown) => x as Error);
    expect(e).toBeInstanceOf(FormatError);
    expect((e as Error).message.startsWith(`${p}: `)).toBe(true);
    expect(() => readParamsFileSync(p)).toThrow(FormatError);
  });
});
