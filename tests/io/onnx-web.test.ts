// The web app's ONNX side in a real headless Chromium (served on 127.0.0.1): "Save .onnx"
// downloads the current model as an ONNX file that ONNX Runtime runs with the logits the
// library gives and the weights of the .safetensors save; "Load" takes an .onnx file (here
// one in PyTorch's layout) and refuses a corrupt one, keeping the model.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { createBackend } from '../../src/backend/create.js';
import type { Backend } from '../../src/backend/backend.js';
import { modelFromSafetensors } from '../../src/models/index.js';
import { modelFromOnnx } from '../../src/io/onnx/index.js';
import { tensor } from '../../src/tensor.js';
import { launchBrowser, serveApp, watchErrors, type Served } from '../browser/browser.js';
import { attrInt, f32, graphBytes, maxAbsDiff, mnistImages, node, runOrt, values } from './onnx-helpers.js';

/** A PyTorch-layout MNIST net (Conv 4x5x5 - Relu - MaxPool - Flatten - Gemm transB 1). */
function pytorchNet(): Uint8Array {
  return graphBytes({
    input: { name: 'input.1', shape: ['batch', 1, 28, 28] }, output: { name: 'out', shape: ['batch', 10] },
    initializers: [f32('c.w', [4, 1, 5, 5], values(100, 1, 0.4)), f32('c.b', [4], values(4, 2, 0.1)), f32('fc.w', [10, 576], values(5760, 3, 0.1), true), f32('fc.b', [10], values(10, 4, 0.1))],
    nodes: [
      node('Conv', ['input.1', 'c.w', 'c.b'], ['a']), node('Relu', ['a'], ['b']),
      node('MaxPool', ['b'], ['c'], [{ name: 'kernel_shape', type: 7, ints: [2, 2], floats: [], other: false }, { name: 'strides', type: 7, ints: [2, 2], floats: [], other: false }]),
      node('Flatten', ['c'], ['d'], [attrInt('axis', 1)]), node('Gemm', ['d', 'fc.w', 'fc.b'], ['out'], [attrInt('transB', 1)]),
    ],
  });
}

describe('web app: ONNX save and load (Chromium)', () => {
  let served: Served;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let backend: Backend;
  const text = async (sel: string) => (await page.textContent(sel))?.trim() ?? '';

  beforeAll(async () => {
    served = await serveApp({ app: true });
    browser = await launchBrowser();
    page = await browser.newPage();
    errors = watchErrors(page);
    backend = await createBackend('wasm');
    await page.goto(served.url);
    await page.waitForSelector('body[data-state=ready]', { timeout: 60_000 });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await served?.close();
    backend?.dispose();
  });

  it('Save .onnx downloads the model: ONNX Runtime agrees with the library, and the weights are the .safetensors save\'s', async () => {
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#save-onnx')]);
    expect(dl.suggestedFilename()).toBe('wasm-cnn-model.onnx');
    const onnx = new Uint8Array(readFileSync(await dl.path()));
    const [dl2] = await Promise.all([page.waitForEvent('download'), page.click('#save')]);
    const params = new Uint8Array(readFileSync(await dl2.path()));
    const fromOnnx = modelFromOnnx(onnx, { backend });
    const fromParams = modelFromSafetensors(params, { backend });
    for (const [name, t] of Object.entries(fromParams.params)) expect(Array.from(fromOnnx.params[name].data), name).toEqual(Array.from(t.data));
    const x = mnistImages(50);
    const ours = fromParams.predict(tensor(x, [50, 1, 28, 28]));
    const theirs = await runOrt(onnx, x, [50, 1, 28, 28]);
    expect(maxAbsDiff(theirs.data, ours.data)).toBeLessThanOrEqual(1e-4);
    fromOnnx.dispose();
    fromParams.dispose();
    expect(errors).toEqual([]);
  }, 60_000);

  it('Load takes an .onnx file; a corrupt one is refused and the model kept', async () => {
    const before = await text('#model-checksum');
    const bytes = pytorchNet();
    await page.setInputFiles('#load', { name: 'corrupt.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from(bytes.subarray(0, 300)) });
    await page.waitForSelector('#model-message[data-kind=error]', { timeout: 10_000 });
    expect(await text('#model-message')).toMatch(/Could not load corrupt\.onnx: modelFromOnnx: malformed ONNX file: byte \d+/);
    expect(await text('#model-checksum')).toBe(before);
    await page.setInputFiles('#load', { name: 'pytorch.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from(bytes) });
    await page.waitForSelector('#model-message[data-kind=ok]', { timeout: 10_000 });
    expect(await text('#model-message')).toContain('Loaded pytorch.onnx');
    expect(await text('#model-info')).toContain('loaded from pytorch.onnx');
    expect(await text('#model-checksum')).not.toBe(before);
    // the page's predictions now come from the loaded weights: its checksum is the library's
    const m = modelFromOnnx(bytes, { backend });
    let h = 0x811c9dc5;
    for (const b of m.saveParams()) { h ^= b; h = Math.imul(h, 0x01000193); }
    expect(await text('#model-checksum')).toBe((h >>> 0).toString(16).padStart(8, '0'));
    m.dispose();
    expect(errors).toEqual([]);
  }, 60_000);
});
