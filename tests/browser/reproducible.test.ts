// The same seed and data give bitwise-identical trained weights in Node and in Chromium, on
// 1 and 2 threads: the plain-SIMD Wasm build, the same Wasm and the same arithmetic. Node
// trains from the sources (vitest); the page imports the browser bundle
// build/browser/wasm-cnn.js, fetches the MNIST IDX files from the app server and trains the
// same way (on 2 threads inside a Web Worker of a cross-origin isolated page, where a page
// may run kernel threads). The four saveParams() files must be equal byte for byte, from
// 2-thread runs in which the kernel worker computed chunks.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { createBackend } from '../../src/backend/create.js';
import { loadMnistBytes } from '../../src/data/mnist-node.js';
import { SimpleConvNet } from '../../src/models/index.js';
import { Trainer } from '../../src/train/trainer.js';
import { launchBrowser, serveApp, watchErrors, type Served } from './browser.js';
import { withWorkersAsync } from '../threads/workers.js';

/** The run both sides do: SimpleConvNet seed 7, the first 300 MNIST training images, 1 epoch, batch 50, Adam. */
const RUN = { modelSeed: 7, trainLimit: 300, testLimit: 100, epochs: 1, batch: 50, lr: 0.001, shuffleSeed: 7 } as const;

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

type Result = { bytes: Uint8Array; testAcc: number | null; features: Record<string, unknown>; chunks: number[] };

/** The run in Node, from the sources; on 2 threads repeated until the kernel worker took chunks of it. */
async function trainInNode(threads: number): Promise<Result> {
  const backend = await createBackend('wasm', { threads });
  try {
    const { train, test } = loadMnistBytes({ trainLimit: RUN.trainLimit, testLimit: RUN.testLimit });
    const { result, chunks } = await withWorkersAsync(backend, 'the training run', async () => {
      const net = new SimpleConvNet({
        backend, inputDim: [1, 28, 28], convParam: { filterNum: 30, filterSize: 5, pad: 0, stride: 1 },
        hiddenSize: 100, outputSize: 10, weightInitStd: 0.01, seed: RUN.modelSeed,
      });
      const trainer = new Trainer(net, train.images, train.labels, test.images, test.labels, {
        epochs: RUN.epochs, miniBatchSize: RUN.batch, optimizer: 'adam', optimizerParam: { lr: RUN.lr }, seed: RUN.shuffleSeed,
      });
      const r = await trainer.train();
      const bytes = net.saveParams();
      net.dispose();
      return { bytes, testAcc: r.testAcc };
    }, { tries: 5 });
    return { ...result, features: { ...backend.features }, chunks };
  } finally {
    backend.dispose();
  }
}

/**
 * The same run with the browser bundle, in plain JavaScript (vitest would rewrite a dynamic
 * import() inside a function): `lib` is the bundle. On several threads it is repeated until
 * the kernel workers took chunks of it (at most 5 times). Returns the file as base64.
 */
const TRAIN = `async (lib, base, run, threads) => {
  const get = async (name, magic, header) => {
    const res = await fetch(base + 'mnist/' + name);
    if (!res.ok) throw new Error(name + ': HTTP ' + res.status);
    const b = new Uint8Array(await res.arrayBuffer());
    const m = new DataView(b.buffer).getUint32(0);
    if (m !== magic) throw new Error(name + ': magic ' + m + ', expected ' + magic);
    return b.subarray(header);
  };
  const images = (b, n) => ({ kind: 'bytes', data: b.subarray(0, n * 784), shape: [n, 1, 28, 28], scale: 1 / 255 });
  const [xTrain, tTrain, xTest, tTest] = await Promise.all([
    get('train-images-idx3-ubyte', 2051, 16), get('train-labels-idx1-ubyte', 2049, 8),
    get('t10k-images-idx3-ubyte', 2051, 16), get('t10k-labels-idx1-ubyte', 2049, 8),
  ]);
  const backend = await lib.createBackend('wasm', { threads });
  const pool = backend.kernels.pool;
  for (let attempt = 1; ; attempt++) {
    const before = pool ? [...pool.chunksTaken] : [];
    const net = new lib.SimpleConvNet({
      backend, inputDim: [1, 28, 28], convParam: { filterNum: 30, filterSize: 5, pad: 0, stride: 1 },
      hiddenSize: 100, outputSize: 10, weightInitStd: 0.01, seed: run.modelSeed,
    });
    const trainer = new lib.Trainer(net, images(xTrain, run.trainLimit), tTrain.subarray(0, run.trainLimit),
      images(xTest, run.testLimit), tTest.subarray(0, run.testLimit), {
        epochs: run.epochs, miniBatchSize: run.batch, optimizer: 'adam', optimizerParam: { lr: run.lr }, seed: run.shuffleSeed,
      });
    const r = await trainer.train();
    const bytes = net.saveParams();
    net.dispose();
    const chunks = pool ? pool.chunksTaken.map((c, w) => c - before[w]) : [];
    if (!pool || chunks.some((c) => c > 0) || attempt >= 5) {
      let bin = '';
      for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      const features = { ...backend.features };
      backend.dispose();
      return { base64: btoa(bin), testAcc: r.testAcc, features, chunks };
    }
  }
}`;

/**
 * Runs TRAIN on the page (1 thread) or, for threads (which a page's main thread may not
 * block on), in a module Web Worker of the cross-origin isolated page.
 */
const PAGE_RUN = `async ({ base, run, threads }) => {
  if (threads === 1) return (${TRAIN})(await import(base + 'lib/wasm-cnn.js'), base, run, 1);
  const code = 'const train = (' + ${JSON.stringify(TRAIN)} + ');\\n'
    + 'self.onmessage = async ({ data }) => {\\n'
    + '  try { self.postMessage({ ok: true, out: await train(await import(data.base + "lib/wasm-cnn.js"), data.base, data.run, data.threads) }); }\\n'
    + '  catch (e) { self.postMessage({ ok: false, error: String(e && e.stack || e) }); }\\n'
    + '};';
  const worker = new Worker(URL.createObjectURL(new Blob([code], { type: 'text/javascript' })), { type: 'module' });
  const result = await new Promise((resolve, reject) => {
    worker.onmessage = (e) => resolve(e.data);
    worker.onerror = (e) => reject(new Error('worker error: ' + e.message));
    worker.postMessage({ base, run, threads });
  });
  worker.terminate();
  if (!result.ok) throw new Error(result.error);
  return result.out;
}`;

async function trainInPage(page: Page, base: string, run: typeof RUN, threads: number): Promise<Result> {
  const r = await page.evaluate(`(${PAGE_RUN})(${JSON.stringify({ base, run, threads })})`) as Omit<Result, 'bytes'> & { base64: string };
  return { bytes: new Uint8Array(Buffer.from(r.base64, 'base64')), testAcc: r.testAcc, features: r.features, chunks: r.chunks };
}

describe('Node and Chromium train bitwise-identical weights', () => {
  let served: Served;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    served = await serveApp({ app: false });
    browser = await launchBrowser();
    page = await browser.newPage();
    errors = watchErrors(page);
    // a blank page of the server's origin (the app itself would start its own workers)
    // cross-origin isolated (COOP + COEP), so a Web Worker of the page can run kernel threads
    await page.route(`${served.url}repro.html`, (route) => route.fulfill({
      contentType: 'text/html', headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
      body: '<!doctype html><title>repro</title>',
    }));
    await page.goto(`${served.url}repro.html`);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await served?.close();
  });

  it('SimpleConvNet seed 7, 300 MNIST images, 1 epoch, batch 50, Adam: the same saveParams() bytes on 1 and 2 threads', async () => {
    const node = await trainInNode(1);
    const node2 = await trainInNode(2);
    const web = await trainInPage(page, served.url, RUN, 1);
    const web2 = await trainInPage(page, served.url, RUN, 2);
    // the same configuration on every side: plain SIMD, no relaxed SIMD, one or two threads
    for (const [what, r, threads] of [['Node', node, 1], ['Node', node2, 2], ['Chromium', web, 1], ['Chromium', web2, 2]] as const) {
      expect(r.features, `${what}, ${threads} thread(s)`).toMatchObject({ simd: true, relaxedSimd: false, threads });
      // the 2-thread runs compared had the kernel worker compute chunks of them
      if (threads === 2) expect(r.chunks[0], `${what}: chunks the kernel worker took`).toBeGreaterThan(0);
      expect(r.bytes.length).toBe(node.bytes.length);
      if (sha256(r.bytes) !== sha256(node.bytes)) {
        const i = r.bytes.findIndex((b, k) => b !== node.bytes[k]);
        expect.fail(`${what} on ${threads} thread(s): the file differs from Node's on 1 thread first at byte ${i} of ${r.bytes.length} `
          + `(sha256 ${sha256(node.bytes)} in Node, ${sha256(r.bytes)} here)`);
      }
      expect(r.testAcc, `${what}, ${threads} thread(s)`).toBe(node.testAcc);
    }
    expect(node.testAcc).toBeGreaterThan(0.2); // it did learn something
    expect(errors).toEqual([]);
  }, 180_000);
});
