/**
 * The files a command writes. Output locations are checked before any work starts, and
 * every file is written atomically, so a failed or refused run leaves existing files as they were.
 */
import { existsSync, mkdirSync, readdirSync, statSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { writeFileAtomicSync } from '../io/files-node.js';
import { CliError } from './errors.js';

/** The files `train` writes into its output folder. */
export const RUN_FILES = [
  'params.safetensors', 'history.json', 'accuracy.svg', 'accuracy.png', 'loss.svg', 'loss.png',
  'filters-before.png', 'filters-after.png',
] as const;

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
