/**
 * The files a command writes. Output locations are checked before any work starts, and
 * every file is written atomically, so a failed or refused run leaves existing files as they were.
 */
import { accessSync, constants, existsSync, mkdirSync, readdirSync, statSync, statfsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { writeFileAtomicSync } from '../io/files-node.js';
import { CliError } from './errors.js';

/** The files `train` writes into its output folder. */
export const RUN_FILES = [
  'params.safetensors', 'history.json', 'accuracy.svg', 'accuracy.png', 'loss.svg', 'loss.png',
  'filters-before.png', 'filters-after.png', 'checkpoint.safetensors',
] as const;

/** Linux statfs f_type of filesystems that hold no files (kernel interfaces). */
const PSEUDO_FILESYSTEMS = new Map<number, string>([
  [0x9fa0, 'proc'], [0x62656572, 'sysfs'], [0x64626720, 'debugfs'], [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'], [0x27e0eb, 'cgroup'], [0x63677270, 'cgroup2'], [0x1cd1, 'devpts'],
  [0xcafe4a11, 'bpf'], [0x6165676c, 'pstore'], [0x62656570, 'configfs'], [0x65735543, 'fusectl'],
  [0xde5e81e4, 'efivarfs'], [0x42494e4d, 'binfmt_misc'], [0x19800202, 'mqueue'], [0x6e736673, 'nsfs'],
  [0xf97cff8c, 'selinuxfs'],
]);

/**
 * Free bytes on the filesystem of `path` for an unprivileged writer. The test hook
 * WASM_CNN_TEST_FREE_BYTES replaces the figure (a full disk cannot be made on demand).
 */
function freeBytes(path: string): number {
  const fake = process.env.WASM_CNN_TEST_FREE_BYTES;
  if (fake !== undefined && /^\d+$/.test(fake)) return Number(fake);
  const s = statfsSync(path);
  return s.bavail * s.bsize;
}

/**
 * Checks an output folder before any work starts, without writing anything: every existing
 * part of the path is a folder, the nearest existing one is writable, not on a pseudo
 * filesystem (/proc, /sys, ...), with at least `needBytes` free. Throws a CliError naming
 * the path and the reason.
 */
export function checkOutputDir(flag: string, dir: string, needBytes: number): void {
  const target = resolve(dir);
  let base = target;
  // the nearest existing ancestor (a file on the way fails: "/etc/passwd/x")
  for (;;) {
    let st;
    try {
      st = statSync(base);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        const up = dirname(base);
        if (up === base) throw new CliError(`${flag} ${dir}: no part of the path exists`);
        base = up;
        continue;
      }
      if (code === 'ENOTDIR') {
        base = dirname(base);
        continue;
      }
      throw new CliError(`${flag} ${dir}: cannot inspect ${base}: ${(e as Error).message}`);
    }
    if (!st.isDirectory()) {
      throw new CliError(base === target ? `${flag} ${dir} exists and is not a folder` : `${flag} ${dir}: ${base} is a file, not a folder`);
    }
    break;
  }
  if (process.platform === 'linux') {
    const fs = PSEUDO_FILESYSTEMS.get(statfsSync(base).type);
    if (fs) throw new CliError(`${flag} ${dir} is on a pseudo filesystem (${fs}) that cannot hold files; choose a folder on a disk`);
  }
  try {
    accessSync(base, constants.W_OK | constants.X_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(`${flag} ${dir}: ${base} is not writable (${code === 'EROFS' ? 'read-only filesystem' : code ?? (e as Error).message})`);
  }
  const free = freeBytes(base);
  if (free < needBytes) {
    const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
    throw new CliError(`${flag} ${dir}: no space left: ${mb(free)} free on its filesystem, the run needs about ${mb(needBytes)}`);
  }
}

/** A new folder under runs/ named for the time and model, e.g. runs/2026-11-28T00-15-02-simple. */
export function defaultRunDir(model: string, now = new Date()): string {
  const stamp = now.toISOString().slice(0, 19).replace(/:/g, '-');
  let dir = join('runs', `${stamp}-${model}`);
  for (let i = 2; existsSync(dir); i++) dir = join('runs', `${stamp}-${model}-${i}`);
  return dir;
}

/** Refuses an output folder that already holds a run, unless `force`. */
export function checkRunDir(dir: string, force: boolean): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new CliError(`--out ${dir} exists and is not a folder`);
  const clash = readdirSync(dir).filter((f) => (RUN_FILES as readonly string[]).includes(f));
  if (clash.length > 0 && !force) {
    throw new CliError(`--out ${dir} already holds a run (${clash.join(', ')}); choose another folder or pass --force to overwrite`);
  }
}

/** Refuses to overwrite an existing output file unless `force`. */
export function checkOutFile(path: string, force: boolean): void {
  if (existsSync(path) && !force) throw new CliError(`${path} already exists; choose another --out or pass --force to overwrite`);
}

/** Writes `name` into `dir` (created if needed) atomically. */
export function writeOut(dir: string, name: string, data: Uint8Array | string): string {
  return writeOutFile(join(dir, name), data);
}

/** Writes a file atomically, creating its folder if needed. */
export function writeOutFile(path: string, data: Uint8Array | string): string {
  mkdirSync(dirname(path), { recursive: true });
  // synchronous: the write (and any error) is done before the command reports it
  writeFileAtomicSync(path, typeof data === 'string' ? new TextEncoder().encode(data) : data);
  return path;
}

/** Reads a file the user named, with a one-line error when it is missing or unreadable. */
export function readInput(path: string, what: string): Uint8Array {
  const full = resolve(path);
  if (!existsSync(full)) throw new CliError(`${what} ${path} does not exist`);
  if (statSync(full).isDirectory()) throw new CliError(`${what} ${path} is a folder, not a file`);
  try {
    const buf = readFileSync(full);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    throw new CliError(`cannot read ${what} ${path}: ${(e as Error).message}`);
  }
}
