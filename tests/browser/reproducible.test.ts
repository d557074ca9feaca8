// The same seed and data give bitwise-identical trained weights in Node and in Chromium:
// the plain-SIMD Wasm build on one thread, the same Wasm and the same arithmetic. Node
// trains from the sources (vitest); the page imports the browser bundle
// build/browser/wasm-cnn.js, fetches the MNIST IDX files from the app server and trains the
// same way. The two saveParams() files must be equal byte for byte.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { createBackend } from '../../src/backend/create.js';
import { loadMnistBytes } from '../../src/data/mnist-node.js';
import { SimpleConvNet } from '../../src/models/index.js';
import { Trainer } from '../../src/train/trainer.js';
import { launchBrowser, serveApp, watchErrors, type Served } from './browser.js';

/** The run both sides do: SimpleConvNet seed 7, the first 300 MNIST training images, 1 epoch, batch 50, Adam. */
const RUN = { modelSeed: 7, trainLimit: 300, testLimit: 100, epochs: 1, batch: 50, lr: 0.001, shuffleSeed: 7 } as const;

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function trainInNode(): Promise<{ bytes: Uint8Array; testAcc: number | null; features: unknown }> {
  const backend = await createBackend('wasm', { threads: 1 });
  try {
    const { train, test } = loadMnistBytes({ trainLimit: RUN.trainLimit, testLimit: RUN.testLimit });
    const net = new SimpleConvNet({
      backend, inputDim: [1, 28, 28], convParam: { filterNum: 30, filterSize: 5, pad: 0, stride: 1 },
      hiddenSize: 100, outputSize: 10, weightInitStd: 0.01, seed: RUN.modelSeed,
    });
    const trainer = new Trainer(net, train.images, train.labels, test.images, test.labels, {
      epochs: RUN.epochs, miniBatchSize: RUN.batch, optimizer: 'adam', optimizerParam: { lr: RUN.lr }, seed: RUN.shuffleSeed,
    });
    const r = await trainer.train();
    return { bytes: net.saveParams(), testAcc: r.testAcc, features: { ...backend.features } };
  } finally {
    backend.dispose();
  }
}

/**
 * The same run in the page, with the browser bundle; returns the file as base64. Plain
 * JavaScript source (vitest would rewrite a dynamic import() inside a function).
 */
const PAGE_RUN = `async ({ base, run }) => {
  const lib = await import(base + 'lib/wasm-cnn.js');
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
  const backend = await lib.createBackend('wasm', { threads: 1 });
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
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  const features = { ...backend.features };
  backend.dispose();
  return { base64: btoa(bin), testAcc: r.testAcc, features };
}`;

async function trainInPage(page: Page, base: string, run: typeof RUN): Promise<{ base64: string; testAcc: number | null; features: unknown }> {
  return page.evaluate(`(${PAGE_RUN})(${JSON.stringify({ base, run })})`);
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
    await page.route(`${served.url}repro.html`, (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>repro</title>' }));
    await page.goto(`${served.url}repro.html`);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await served?.close();
  });

  it('SimpleConvNet seed 7, 300 MNIST images, 1 epoch, batch 50, Adam: the same saveParams() bytes', async () => {
    const [node, web] = await Promise.all([trainInNode(), trainInPage(page, served.url, RUN)]);
    const webBytes = new Uint8Array(Buffer.from(web.base64, 'base64'));
    // the same configuration on both sides: plain SIMD, no relaxed SIMD, one thread
    expect(web.features).toMatchObject({ simd: true, relaxedSimd: false, threads: 1 });
    expect(node.features).toMatchObject({ simd: true, relaxedSimd: false, threads: 1 });
    expect(webBytes.length).toBe(node.bytes.length);
    if (sha256(webBytes) !== sha256(node.bytes)) {
      const i = webBytes.findIndex((b, k) => b !== node.bytes[k]);
      expect.fail(`the files differ first at byte ${i} of ${webBytes.length} (sha256 ${sha256(node.bytes)} in Node, ${sha256(webBytes)} in Chromium)`);
    }
    expect(web.testAcc).toBe(node.testAcc);
    expect(node.testAcc).toBeGreaterThan(0.2); // it did learn something
    expect(errors).toEqual([]);
  }, 120_000);
});
