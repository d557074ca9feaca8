import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { FormatError } from '../../src/errors.js';
import { encodeIdx, isGzip, parseIdx } from '../../src/data/idx.js';
import { loadMnist, loadMnistBytes, readIdxFile } from '../../src/data/mnist-node.js';
import { fetchMnistFiles, loadMnistFromUrls, MNIST_FILE_NAMES } from '../../src/data/mnist.js';

/** Labels file 2049 with 3 labels, written out by hand. */
const LABELS = new Uint8Array([0, 0, 0x08, 0x01, 0, 0, 0, 3, 7, 2, 1]);
/** Images file 2051 with 2 images of 2x3, written out by hand. */
const IMAGES = new Uint8Array([
  0, 0, 0x08, 0x03, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3,
  1, 2, 3, 4, 5, 6,
  250, 251, 252, 253, 254, 255,
]);

function errorOf(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('parseIdx', () => {
  it('parses a hand-built labels file (magic 2049, 1 dimension)', () => {
    const f = parseIdx(LABELS);
    expect(f.magic).toBe(2049);
    expect(f.dims).toEqual([3]);
    expect([...f.data]).toEqual([7, 2, 1]);
  });

  it('parses a hand-built images file (magic 2051, 3 dimensions) without copying', () => {
    const f = parseIdx(IMAGES);
    expect(f.magic).toBe(2051);
    expect(f.dims).toEqual([2, 2, 3]);
    expect([...f.data]).toEqual([1, 2, 3, 4, 5, 6, 250, 251, 252, 253, 254, 255]);
    expect(f.data.buffer).toBe(IMAGES.buffer);
    expect(f.data.byteOffset).toBe(16);
  });

  it('works on a view at an offset into a larger buffer', () => {
    const big = new Uint8Array(100);
    big.set(LABELS, 37);
    const f = parseIdx(big.subarray(37, 37 + LABELS.length));
    expect([...f.data]).toEqual([7, 2, 1]);
  });

  it('accepts empty data sets', () => {
    expect(parseIdx(encodeIdx([0], new Uint8Array(0))).dims).toEqual([0]);
    expect(parseIdx(encodeIdx([0, 28, 28], new Uint8Array(0))).dims).toEqual([0, 28, 28]);
  });

  it('encodeIdx is its inverse', () => {
    expect([...encodeIdx([3], new Uint8Array([7, 2, 1]))]).toEqual([...LABELS]);
    expect([...encodeIdx([2, 2, 3], IMAGES.subarray(16))]).toEqual([...IMAGES]);
  });

  const bad = (bytes: Uint8Array | number[], ...parts: (string | RegExp)[]) => {
    const e = errorOf(() => parseIdx(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes), { name: 'f.idx' }));
    expect(e).toBeInstanceOf(FormatError);
    expect(e.message.startsWith('f.idx: ')).toBe(true);
    for (const p of parts) expect(e.message).toMatch(p);
    return e;
  };

  it('rejects a file shorter than the magic number', () => {
    bad([], /0 bytes/, /byte 0/);
    bad([0, 0, 8], /3 bytes/);
  });

  it('rejects a bad magic (bytes 0-1 not zero)', () => {
    const b = LABELS.slice();
    b[0] = 0x12;
    bad(b, /bad magic/, /byte 0/, /0x12/);
    const c = LABELS.slice();
    c[1] = 1;
    bad(c, /bad magic/);
  });

  it('rejects a data type other than unsigned byte (byte 2)', () => {
    const b = LABELS.slice();
    b[2] = 0x0d;
    bad(b, /byte 2/, /0x0d \(float\)/, /only 0x08/);
    b[2] = 0x42;
    bad(b, /byte 2/, /0x42 \(not an IDX type\)/);
  });

  it('rejects a number of dimensions other than 1 or 3 (byte 3)', () => {
    for (const nd of [0, 2, 4, 255]) {
      const b = LABELS.slice();
      b[3] = nd;
      bad(b, /magic number/, new RegExp(`${nd} dimensions`), /2049/, /2051/);
    }
  });

  it('rejects the other kind of file when one is expected', () => {
    const e = errorOf(() => parseIdx(LABELS, { name: 'imgs', expect: 2051 }));
    expect(e).toBeInstanceOf(FormatError);
    expect(e.message).toMatch(/imgs: magic number at byte 0 is 2049 \(labels/);
    expect(e.message).toMatch(/2051 \(images/);
  });

  it('rejects a truncated header', () => {
    bad(IMAGES.subarray(0, 10), /truncated header/, /16-byte header/, /byte 10/);
    bad(LABELS.subarray(0, 6), /truncated header/, /8-byte header/);
  });

  it('rejects truncated data, saying how many bytes were expected and how many there are', () => {
    bad(IMAGES.subarray(0, IMAGES.length - 1), /truncated/, /\(2, 2, 3\)/, /should be 28 bytes, but it is 27/, /1 bytes missing/, /byte 27/);
    bad(LABELS.subarray(0, 8), /should be 11 bytes, but it is 8/);
  });

  it('rejects extra bytes after the data, naming where they start', () => {
    const b = new Uint8Array(LABELS.length + 5);
    b.set(LABELS);
    bad(b, /5 unexpected bytes/, /starting at byte 11/, /should be 11 bytes, but it is 16/);
  });

  it('rejects dimensions whose product cannot match any file', () => {
    const b = IMAGES.slice();
    b.set([0xff, 0xff, 0xff, 0xff], 4);
    bad(b, /truncated/, /4294967295/);
  });

  it('recognizes gzip data and tells the caller to inflate it', () => {
    const gz = gzipSync(LABELS);
    expect(isGzip(gz)).toBe(true);
    expect(isGzip(LABELS)).toBe(false);
    expect(isGzip(new Uint8Array([0x1f]))).toBe(false);
    bad(new Uint8Array(gz), /gzip/, /1f 8b/);
  });
});

describe('gzip is handled by the loaders', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wasm-cnn-idx-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  // A tiny MNIST-like set: 3 train and 2 test images of 2x3.
  const trainImages = encodeIdx([3, 2, 3], Uint8Array.from({ length: 18 }, (_, i) => i * 10));
  const trainLabels = encodeIdx([3], new Uint8Array([5, 0, 9]));
  const testImages = encodeIdx([2, 2, 3], Uint8Array.from({ length: 12 }, (_, i) => 255 - i));
  const testLabels = encodeIdx([2], new Uint8Array([1, 2]));
  const files = { trainImages, trainLabels, testImages, testLabels };

  it('Node: readIdxFile inflates gzip by its magic, with or without a .gz name', () => {
    const p1 = join(dir, 'labels.gz');
    const p2 = join(dir, 'labels-no-suffix');
    writeFileSync(p1, gzipSync(LABELS));
    writeFileSync(p2, gzipSync(LABELS));
    expect([...readIdxFile(p1, 2049).data]).toEqual([7, 2, 1]);
    expect([...readIdxFile(p2).data]).toEqual([7, 2, 1]);
  });

  it('Node: a corrupt gzip file or a bad IDX file names the path', () => {
    const p = join(dir, 'corrupt.gz');
    const gz = gzipSync(LABELS);
    writeFileSync(p, gz.subarray(0, gz.length - 6));
    const e = errorOf(() => readIdxFile(p));
    expect(e).toBeInstanceOf(FormatError);
    expect(e.message).toContain(p);
    expect(e.message).toMatch(/gzip/);
    const q = join(dir, 'short');
    writeFileSync(q, LABELS.subarray(0, 9));
    const e2 = errorOf(() => readIdxFile(q));
    expect(e2).toBeInstanceOf(FormatError);
    expect(e2.message).toContain(q);
  });

  it('Node: loadMnist reads a directory of .gz files', () => {
    const d = join(dir, 'gz');
    mkdirSync(d);
    for (const [k, v] of Object.entries(files)) {
      writeFileSync(join(d, MNIST_FILE_NAMES[k as keyof typeof files] + '.gz'), gzipSync(v));
    }
    const m = loadMnist({ dir: d, normalize: false });
    expect(m.xTrain.shape).toEqual([3, 6]);
    expect([...m.xTrain.data]).toEqual(Array.from({ length: 18 }, (_, i) => i * 10));
    expect([...m.tTrain]).toEqual([5, 0, 9]);
    expect([...m.tTest]).toEqual([1, 2]);
    const b = loadMnistBytes({ dir: d });
    expect(b.train.images.shape).toEqual([3, 1, 2, 3]);
    expect(b.test.images.scale).toBeCloseTo(1 / 255);
  });

  it('Node: a wrong kind of file in the set is named', () => {
    const d = join(dir, 'swapped');
    mkdirSync(d);
    writeFileSync(join(d, MNIST_FILE_NAMES.trainImages), trainLabels); // labels where images belong
    writeFileSync(join(d, MNIST_FILE_NAMES.trainLabels), trainLabels);
    writeFileSync(join(d, MNIST_FILE_NAMES.testImages), testImages);
    writeFileSync(join(d, MNIST_FILE_NAMES.testLabels), testLabels);
    const e = errorOf(() => loadMnist({ dir: d }));
    expect(e).toBeInstanceOf(FormatError);
    expect(e.message).toContain(MNIST_FILE_NAMES.trainImages);
    expect(e.message).toMatch(/2051/);
  });

  it('browser path: fetch + DecompressionStream inflate gzipped files', async () => {
    const served = new Map<string, Uint8Array>();
    for (const [k, v] of Object.entries(files)) {
      const name = MNIST_FILE_NAMES[k as keyof typeof files];
      // two gzipped, two plain: each file is detected by its magic
      served.set(`http://x/mnist/${name}`, k.startsWith('train') ? new Uint8Array(gzipSync(v)) : v);
    }
    const fetched: string[] = [];
    const fakeFetch = async (url: string) => {
      fetched.push(url);
      const body = served.get(url);
      return body ? new Response(body as BlobPart) : new Response('nope', { status: 404, statusText: 'Not Found' });
    };
    const raw = await fetchMnistFiles('http://x/mnist/', { fetch: fakeFetch });
    expect([...raw.trainLabels]).toEqual([...trainLabels]);
    expect(fetched.sort()).toEqual([...served.keys()].sort());

    const m = await loadMnistFromUrls('http://x/mnist', { fetch: fakeFetch, flatten: false, oneHotLabel: true });
    expect(m.xTrain.shape).toEqual([3, 1, 2, 3]);
    expect(m.tTrain.shape).toEqual([3, 10]);
    expect(m.xTest.data[0]).toBeCloseTo(1);

    await expect(loadMnistFromUrls('http://x/elsewhere', { fetch: fakeFetch })).rejects.toThrow(/http:\/\/x\/elsewhere\/.*HTTP 404/);

    const gz = gzipSync(trainLabels);
    served.set(`http://x/mnist/${MNIST_FILE_NAMES.trainLabels}`, new Uint8Array(gz.subarray(0, gz.length - 8)));
    await expect(fetchMnistFiles('http://x/mnist', { fetch: fakeFetch })).rejects.toThrow(FormatError);
  });
});
