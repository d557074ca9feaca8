// Checkpoints in Chromium. The library (build/browser/wasm-cnn.js): a run stopped at step 7,
// checkpointed and resumed ends with the parameters of an uninterrupted run, the same bytes
// as the same run in Node. The web app: a stopped run resumes (Resume) to the checksum of an
// uninterrupted run; its Save checkpoint download loads later (Load) and resumes to that
// checksum again, and continues in Node's Trainer.resume to the same bytes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { createBackend } from '../../src/backend/create.js';
import { tensor } from '../../src/tensor.js';
import { Sequential } from '../../src/models/sequential.js';
import { Trainer } from '../../src/train/trainer.js';
import { decodeCheckpoint } from '../../src/train/checkpoint.js';
import { loadMnistBytes } from '../../src/data/mnist-node.js';
import { launchBrowser, serveApp, watchErrors, type Served } from './browser.js';

/**
 * The library round trip, as a function both Node and the page run (the page passes the
 * browser bundle's exports): uninterrupted vs stopped at step 7 + checkpoint + resume.
 */
async function roundTrip(lib: { createBackend: typeof createBackend; tensor: typeof tensor; Sequential: typeof Sequential; Trainer: typeof Trainer }) {
  const backend = await lib.createBackend('wasm');
  // deterministic data without a PRNG dependency: 4 classes of striped 6x6 images
  const make = (n: number, salt: number) => {
    const x = new Float32Array(n * 36);
    const t = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      t[i] = (i * 7 + salt) % 4;
      for (let j = 0; j < 36; j++) x[i * 36 + j] = ((j % 4 === t[i] ? 0.8 : 0.1) + ((i * 31 + j * 17 + salt) % 13) / 50);
    }
    return { x: lib.tensor(x, [n, 1, 6, 6]), t };
  };
  const tr = make(90, 1);
  const te = make(30, 2);
  const model = () => new lib.Sequential({
    backend, inputDim: [1, 6, 6], seed: 4, layers: [
      { type: 'Convolution', filterNum: 3, filterSize: 3, pad: 1 }, { type: 'BatchNormalization' }, { type: 'Relu' },
      { type: 'Pooling', size: 2 }, { type: 'Affine', outputSize: 10 }, { type: 'Relu' }, { type: 'Dropout', ratio: 0.2 },
      { type: 'Affine', outputSize: 4 },
    ],
  });
  const options = { epochs: 3, miniBatchSize: 20, optimizer: 'adam' as const, seed: 9 };
  const ref = model();
  await new lib.Trainer(ref, tr.x, tr.t, te.x, te.t, options).train();
  const first = model();
  const t: Trainer = new lib.Trainer(first, tr.x, tr.t, te.x, te.t, { ...options, onIteration: (i) => { if (i.step === 7) t.stop(); } });
  await t.train();
  const ckpt = t.checkpoint();
  const resumed = lib.Trainer.resume(ckpt, { backend, xTrain: tr.x, tTrain: tr.t, xTest: te.x, tTest: te.t });
  await resumed.train();
  return { reference: Array.from(ref.saveParams()), resumed: Array.from((resumed.network as Sequential).saveParams()), checkpoint: Array.from(ckpt) };
}

describe('checkpoints in Chromium', () => {
  let served: Served;
  let browser: Browser;

  beforeAll(async () => {
    served = await serveApp({ app: true });
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await served?.close();
  });

  it('library: checkpoint -> Trainer.resume ends byte-identical to an uninterrupted run, and to Node', async () => {
    const page = await browser.newPage();
    const errors = watchErrors(page);
    try {
      await page.route(`${served.url}lib/checkpoint.html`, (r) => r.fulfill({ contentType: 'text/html', body: '<!doctype html><title>checkpoint</title>' }));
      await page.goto(`${served.url}lib/checkpoint.html`);
      // a string, so that the test runner does not rewrite the page's import()
      const inPage = await page.evaluate(`(async () => {
        const lib = await import(new URL('wasm-cnn.js', location.href).href);
        return (${roundTrip.toString()})(lib);
      })()`) as Awaited<ReturnType<typeof roundTrip>>;
      expect(inPage.resumed).toEqual(inPage.reference);
      expect(decodeCheckpoint(Uint8Array.from(inPage.checkpoint), 'page').position).toMatchObject({ step: 7, epoch: 2, iteration: 3 });
      const inNode = await roundTrip({ createBackend, tensor, Sequential, Trainer });
      expect(inNode.resumed).toEqual(inNode.reference);
      expect(inPage.reference).toEqual(inNode.reference);
      expect(inPage.checkpoint).toEqual(inNode.checkpoint);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  }, 90_000);

  it('web app: Stop, Resume, Save checkpoint and Load + Resume all end at the uninterrupted checksum', async () => {
    const page: Page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors = watchErrors(page);
    const checksum = async () => (await page.textContent('#model-checksum'))?.trim();
    const done = () => page.waitForSelector('#stat-test-acc[data-final=true]', { timeout: 60_000 });
    try {
      await page.goto(served.url);
      await page.waitForSelector('body[data-state=ready]', { timeout: 60_000 });
      const settings: Record<string, string> = { 'train-size': '500', 'test-size': '100', epochs: '3', 'batch-size': '50', lr: '0.002', 'weight-decay': '0.001', seed: '7' };
      for (const [id, v] of Object.entries(settings)) {
        await page.fill(`#${id}`, v);
        await page.dispatchEvent(`#${id}`, 'change');
      }
      await page.selectOption('#optimizer', 'adam');
      // uninterrupted
      await page.click('#start');
      await done();
      const reference = await checksum();
      const [paramsDownload] = await Promise.all([page.waitForEvent('download'), page.click('#save')]);
      const referenceParams = readFileSync(await paramsDownload.path());
      expect(await page.isDisabled('#resume')).toBe(true); // a finished run has nothing to resume

      // stopped after a few steps, checkpoint downloaded, resumed
      await page.click('#start');
      await page.waitForFunction(() => Number((document.getElementById('stat-step')!.textContent ?? '0').split(' / ')[0]) >= 3, undefined, { timeout: 60_000 });
      await page.click('#stop');
      await page.waitForSelector('body[data-state=ready]', { timeout: 30_000 });
      expect(await page.textContent('#status')).toMatch(/^Stopped after \d+ steps/);
      expect(await checksum()).not.toBe(reference);
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save-checkpoint')]);
      expect(download.suggestedFilename()).toMatch(/^wasm-cnn-checkpoint-step\d+\.safetensors$/);
      const ckpt = new Uint8Array(readFileSync(await download.path()));
      const c = decodeCheckpoint(ckpt, 'download');
      expect(c.position.step).toBeGreaterThanOrEqual(3);
      expect(c.settings.weightDecay).toBe(0.001); // the form's weight decay reached the Trainer
      expect(c.position.step).toBeLessThan(30);
      await page.click('#resume');
      await done();
      expect(await checksum()).toBe(reference);

      // the download, loaded later, resumes to the same bytes
      await page.setInputFiles('#load', { name: download.suggestedFilename(), mimeType: 'application/octet-stream', buffer: Buffer.from(ckpt) });
      await page.waitForFunction(() => /Loaded checkpoint/.test(document.getElementById('model-message')!.textContent ?? ''), undefined, { timeout: 30_000 });
      expect(await page.isDisabled('#resume')).toBe(false);
      await page.click('#resume');
      await done();
      expect(await checksum()).toBe(reference);

      // and in Node, from the same MNIST images
      const backend = await createBackend('wasm');
      const data = loadMnistBytes({ trainLimit: 500, testLimit: 100 });
      const t = Trainer.resume(ckpt, { backend, xTrain: data.train.images, tTrain: data.train.labels, xTest: data.test.images, tTest: data.test.labels });
      await t.train();
      expect(Buffer.from((t.network as Sequential).saveParams()).equals(referenceParams)).toBe(true);
      backend.dispose();
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  }, 180_000);
});
