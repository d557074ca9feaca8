/**
 * Node file helpers (`wasm-cnn/node`). Writes are atomic: the bytes go to a temp file
 * in the target's directory, which is fsynced and then renamed over the target, so a
 * reader sees the old file or the new one, never a partial one. On any failure the
 * temp file is removed and the old file is left as it was.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { decodeSafetensors, type DecodedSafetensors } from './safetensors.js';
import { WasmCnnError, describeValue } from '../errors.js';

function tempPathFor(path: string): string {
  const abs = resolve(path);
  return join(dirname(abs), `.${basename(abs)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/** The mode to create the file with: the old file's permissions if it exists. */
function modeOf(st: fs.Stats | undefined): number {
  return st && st.isFile() ? st.mode & 0o7777 : 0o666;
}

/** Refuses anything but bytes before the target is touched (a number would replace it with an empty file). */
function checkBytes(where: string, bytes: unknown): void {
  if (!(bytes instanceof Uint8Array)) throw new WasmCnnError(`${where}: bytes must be a Uint8Array, got ${describeValue(bytes)}`);
}

/** Writes `bytes` to `path` atomically (temp file in the same directory + fsync + rename). */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  checkBytes('writeFileAtomic', bytes);
  const target = resolve(path);
  const tmp = tempPathFor(target);
  const old = await fsp.stat(target).catch(() => undefined);
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(tmp, 'wx', modeOf(old));
    let off = 0;
    while (off < bytes.length) {
      const { bytesWritten } = await fh.write(bytes, off, bytes.length - off);
      off += bytesWritten;
    }
    await fh.sync();
    await fh.close();
    fh = undefined;
    await fsp.rename(tmp, target);
  } catch (e) {
    if (fh) await fh.close().catch(() => {});
    await fsp.unlink(tmp).catch(() => {});
    throw e;
  }
  await syncDir(dirname(target));
}

/** The synchronous twin of writeFileAtomic. */
export function writeFileAtomicSync(path: string, bytes: Uint8Array): void {
  checkBytes('writeFileAtomicSync', bytes);
  const target = resolve(path);
  const tmp = tempPathFor(target);
  let old: fs.Stats | undefined;
  try {
    old = fs.statSync(target);
  } catch {
    old = undefined;
  }
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'wx', modeOf(old));
    let off = 0;
    while (off < bytes.length) off += fs.writeSync(fd, bytes, off, bytes.length - off);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, target);
  } catch (e) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        /* already failing */
      }
    }
    try {
      fs.unlinkSync(tmp);
    } catch {
      /* never created */
    }
    throw e;
  }
  try {
    const d = fs.openSync(dirname(target), 'r');
    try {
      fs.fsyncSync(d);
    } finally {
      fs.closeSync(d);
    }
  } catch {
    /* directories cannot be fsynced on every platform; the rename is done */
  }
}

/** Makes the rename durable where the platform allows fsync on a directory (best effort). */
async function syncDir(dir: string): Promise<void> {
  let dh: fsp.FileHandle | undefined;
  try {
    dh = await fsp.open(dir, 'r');
    await dh.sync();
  } catch {
    /* not supported here (e.g. Windows); the rename itself has happened */
  } finally {
    await dh?.close().catch(() => {});
  }
}

/** A parameter file read from disk: its tensors and metadata. */
export interface ParamsFile extends DecodedSafetensors {
  /** The file's bytes, e.g. for `net.loadParams(file.bytes)`. */
  bytes: Uint8Array;
}

/** Reads and validates a safetensors parameter file; FormatError messages start with the path. */
export async function readParamsFile(path: string): Promise<ParamsFile> {
  const buf = await fsp.readFile(path);
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  return { bytes, ...decodeSafetensors(bytes, { name: path }) };
}

/** The synchronous twin of readParamsFile. */
export function readParamsFileSync(path: string): ParamsFile {
  const buf = fs.readFileSync(path);
  const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  return { bytes, ...decodeSafetensors(bytes, { name: path }) };
}
