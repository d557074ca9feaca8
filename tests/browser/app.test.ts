// The web app in a real headless Chromium, served by scripts/serve.mjs on 127.0.0.1: it
// loads cleanly, trains in its worker (to >= 0.8, then predicting the labels of test images
// and a drawn 1), runs 2 threads when asked, predicts drawn digits, saves and loads parameter
// files (rejecting a corrupt one without touching the model), stays responsive while
// training, and runs the benchmark. Screenshots go to test-results/browser/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createBackend } from '../../src/backend/create.js';
import type { Backend } from '../../src/backend/backend.js';
import { modelFromSafetensors } from '../../src/models/index.js';
import { ROOT, checkBuilt, launchBrowser, screenshot, serveApp, watchErrors, type Served } from './browser.js';

/** params.safetensors of a tiny `wasm-cnn train` run (the CLI of this package). */
function cliParams(): Uint8Array {
  checkBuilt('build/dist/cli.js', ['src'], 'npm run build:js');
  const out = mkdtempSync(join(tmpdir(), 'wasm-cnn-cli-'));
  try {
    execFileSync(process.execPath, [join(ROOT, 'bin/wasm-cnn.js'), 'train', '--train-size', '200', '--test-size', '100',
      '--epochs', '1', '--batch', '50', '--seed', '3', '--out', out, '--force', '--quiet'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
    return new Uint8Array(readFileSync(join(out, 'params.safetensors')));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

function fnv1a(bytes: Uint8Array): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

describe('web app (Chromium)', () => {
  let served: Served;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let backend: Backend;

  const checksum = () => page.textContent('#model-checksum');
  const text = async (sel: string) => (await page.textContent(sel))?.trim() ?? '';

  /** Draws a polyline on the drawing canvas; points in 0..1 of its size. */
  async function drawStroke(points: [number, number][]): Promise<void> {
    const box = (await page.locator('#draw').boundingBox())!;
    const at = ([x, y]: [number, number]) => [box.x + x * box.width, box.y + y * box.height] as const;
    await page.mouse.move(...at(points[0]));
    await page.mouse.down();
    for (let i = 1; i < points.length; i++) {
      const [x0, y0] = points[i - 1];
      const [x1, y1] = points[i];
      for (let k = 1; k <= 6; k++) await page.mouse.move(...at([x0 + ((x1 - x0) * k) / 6, y0 + ((y1 - y0) * k) / 6]));
    }
    await page.mouse.up();
  }

  async function probabilities(): Promise<number[]> {
    return page.$$eval('#probs .prob', (rows) => rows.map((r) => Number((r as HTMLElement).dataset.p)));
  }

  async function fill(values: Record<string, string | number>): Promise<void> {
    for (const [id, v] of Object.entries(values)) {
      const sel = `#${id}`;
      if (await page.$eval(sel, (e) => e.tagName === 'SELECT')) await page.selectOption(sel, String(v));
      else {
        await page.fill(sel, String(v));
        await page.dispatchEvent(sel, 'change'); // committed, as when the field loses focus
      }
    }
  }

  beforeAll(async () => {
    served = await serveApp({ app: true });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    errors = watchErrors(page);
    backend = await createBackend('wasm');
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await served?.close();
    backend?.dispose();
  });

  it('loads with no console errors, cross-origin isolated, showing the backend features', async () => {
    const res = await page.goto(`${served.url}?bench=quick`);
    expect(res?.headers()['cross-origin-opener-policy']).toBe('same-origin');
    expect(res?.headers()['cross-origin-embedder-policy']).toBe('require-corp');
    await page.waitForSelector('body[data-state=ready]', { timeout: 60_000 });
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    const features = await text('#features');
    expect(features).toContain('backend: Wasm');
    expect(features).toContain('✓ SIMD');
    expect(features).toMatch(/relaxed SIMD/);
    expect(features).toMatch(/threads: \d/);
    // the filters of the fresh model are drawn before any training, and a test digit with its maps
    expect(await page.$eval('#filters', (c) => (c as HTMLCanvasElement).width)).toBeGreaterThan(100);
    await page.waitForFunction(() => (document.getElementById('maps') as HTMLCanvasElement).width > 100);
    expect(await text('#model-checksum')).toMatch(/^[0-9a-f]{8}$/);
    await screenshot(page, '01-initial');
    expect(errors).toEqual([]);
  }, 90_000);

  it('runs 2 threads when asked on this cross-origin isolated page, and says why not when 1 is selected', async (ctx) => {
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    if (cores < 2) ctx.skip(`navigator.hardwareConcurrency is ${cores}: the app offers 1 thread only`);
    await fill({ backend: 'wasm', threads: 2 });
    await page.waitForSelector('#features[data-backend=wasm][data-threads-requested="2"]', { timeout: 20_000 });
    // the page is cross-origin isolated (first test) and the model runs in a worker: nothing stops 2 threads
    expect(await page.getAttribute('#features', 'data-threads')).toBe('2');
    expect(await text('#features')).toContain('✓ threads: 2');
    expect(await text('#features')).not.toMatch(/Threads: \d in use/);
    await screenshot(page, '06-threads');
    await fill({ threads: 1 });
    await page.waitForSelector('#features[data-threads-requested="1"]');
    expect(await page.getAttribute('#features', 'data-threads')).toBe('1');
    expect(await text('#features')).toMatch(/Threads: 1 in use; 1 thread selected/);
    expect(errors).toEqual([]);
  }, 30_000);

  it('refuses a negative weight decay before starting, saying which field is wrong', async () => {
    await fill({ 'weight-decay': -1 });
    await page.click('#start');
    expect(await text('#status')).toBe('Cannot start: weight decay must be a number >= 0.');
    expect(await page.getAttribute('body', 'data-state')).toBe('ready');
    await fill({ 'weight-decay': 0 });
    expect(errors).toEqual([]);
  }, 30_000);

  it('training runs in the worker: the page stays responsive, predicts while training, and Stop ends the run (JS backend)', async () => {
    await fill({ backend: 'js', threads: 1, 'train-size': 1000, 'test-size': 100, epochs: 5, 'batch-size': 50, seed: 1 });
    await page.click('#start');
    await page.waitForSelector('body[data-state=training]');
    await page.waitForFunction(() => /^\d+ \/ 100$/.test(document.getElementById('stat-step')!.textContent ?? ''), undefined, { timeout: 60_000 });
    expect(await text('#features')).toContain('backend: JS');
    // the main thread answers within a frame or two while the worker trains
    const latency = await page.evaluate(() => new Promise<number>((r) => {
      const t0 = performance.now();
      setTimeout(() => r(performance.now() - t0), 0);
    }));
    expect(latency).toBeLessThan(250);
    // a new drawing is predicted between training steps
    await page.click('#clear');
    expect(await page.getAttribute('#prediction', 'data-class')).toBeNull();
    await drawStroke([[0.5, 0.15], [0.5, 0.85]]);
    await page.waitForSelector('#prediction[data-class]', { timeout: 10_000 });
    await page.click('#stop');
    await page.waitForSelector('body[data-state=ready]', { timeout: 30_000 });
    expect(await text('#status')).toMatch(/^Stopped after \d+ steps/);
    const steps = Number((await text('#stat-step')).split(' / ')[0]);
    expect(steps).toBeLessThan(100);
    expect(errors).toEqual([]);
  }, 90_000);

  it('a short training run (1,000 images, 3 epochs) reaches 0.8 test accuracy', async () => {
    const filtersBefore = await page.$eval('#filters', (c) => (c as HTMLCanvasElement).toDataURL());
    const checksumBefore = await checksum();
    await fill({ 'train-size': 1000, 'test-size': 200, epochs: 3, 'batch-size': 50, lr: 0.002, optimizer: 'adam', backend: 'wasm', threads: 1, seed: 42 });
    await page.click('#start');
    await page.waitForSelector('#stat-test-acc[data-final=true]', { timeout: 60_000 });
    const acc = Number(await page.getAttribute('#stat-test-acc', 'data-value'));
    expect(acc).toBeGreaterThanOrEqual(0.8); // chance is 0.1
    expect(await text('#status')).toMatch(/^Done: test accuracy/);
    expect(await text('#stat-step')).toBe('60 / 60');
    expect(Number(await page.getAttribute('#stat-ips', 'data-value'))).toBeGreaterThan(0);
    // the filters were redrawn from the trained weights, and the model changed
    expect(await page.$eval('#filters', (c) => (c as HTMLCanvasElement).toDataURL())).not.toBe(filtersBefore);
    expect(await checksum()).not.toBe(checksumBefore);
    expect(await text('#model-info')).toContain('trained (60 steps)');
    await screenshot(page, '02-trained');
    expect(errors).toEqual([]);
  }, 90_000);

  it('the trained model predicts the labels of the first test images (7, 2, 1, 0, 4, 1)', async () => {
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) {
      await fill({ 'digit-index': i });
      await page.waitForFunction((n) => document.getElementById('maps-note')!.textContent!.includes(`test image #${n}:`), i, { timeout: 10_000 });
      const info = await text('#digit-info');
      const m = /^label (\d)predicted (\d) \(/.exec(info);
      expect(m, info).not.toBeNull();
      expect(m![2], `test image #${i}: ${info}`).toBe(m![1]);
      seen.push(Number(m![1]));
    }
    expect(seen).toEqual([7, 2, 1, 0, 4, 1]); // the labels of the MNIST test file
    expect(errors).toEqual([]);
  }, 30_000);

  it('a drawn vertical stroke is a 1', async () => {
    await page.click('#clear');
    await drawStroke([[0.5, 0.15], [0.5, 0.85]]);
    await page.waitForSelector('#prediction[data-class]', { timeout: 10_000 });
    expect(await page.getAttribute('#prediction', 'data-class')).toBe('1');
    const p = await probabilities();
    expect(p.indexOf(Math.max(...p))).toBe(1);
    await page.click('#clear');
    expect(errors).toEqual([]);
  }, 30_000);

  it('drawing a stroke on the canvas yields a prediction with a probability for every class', async () => {
    // a "7": top bar, then the diagonal (a class is asserted for the unambiguous "1" above)
    await drawStroke([[0.25, 0.22], [0.75, 0.22], [0.45, 0.85]]);
    await page.waitForSelector('#prediction[data-class]', { timeout: 10_000 });
    const predicted = Number(await page.getAttribute('#prediction', 'data-class'));
    const p = await probabilities();
    expect(p).toHaveLength(10);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    expect(p.indexOf(Math.max(...p))).toBe(predicted);
    await screenshot(page, '03-drawing');
    expect(errors).toEqual([]);
  }, 30_000);

  it('draws with touch too', async () => {
    await page.click('#clear');
    expect(await page.getAttribute('#prediction', 'data-class')).toBeNull();
    const box = (await page.locator('#draw').boundingBox())!;
    const cdp = await page.context().newCDPSession(page);
    const touch = (type: 'touchStart' | 'touchMove' | 'touchEnd', x: number, y: number) => cdp.send('Input.dispatchTouchEvent', {
      type, touchPoints: type === 'touchEnd' ? [] : [{ x: box.x + x * box.width, y: box.y + y * box.height }],
    });
    await touch('touchStart', 0.5, 0.15);
    for (let k = 1; k <= 12; k++) await touch('touchMove', 0.5, 0.15 + (0.7 * k) / 12);
    await touch('touchEnd', 0, 0);
    await cdp.detach();
    await page.waitForSelector('#prediction[data-class]', { timeout: 10_000 });
    const p = await probabilities();
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
    // the stroke reached the 28x28 input: a vertical bar of ink in the middle columns
    const ink = await page.$eval('#draw-input', (c) => {
      const d = (c as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, 28, 28).data;
      let sum = 0;
      for (let i = 0; i < d.length; i += 4) sum += d[i];
      return sum / 255;
    });
    expect(ink).toBeGreaterThan(20);
    expect(errors).toEqual([]);
  }, 30_000);

  it('saves the trained parameters as a .safetensors download that the library loads', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save')]);
    expect(download.suggestedFilename()).toMatch(/\.safetensors$/);
    const bytes = new Uint8Array(readFileSync(await download.path()));
    expect(fnv1a(bytes)).toBe(await checksum());
    const model = modelFromSafetensors(bytes, { backend: backend });
    expect(model.config().type).toBe('SimpleConvNet');
    model.dispose();
    expect(errors).toEqual([]);
  }, 30_000);

  it('loading a corrupt parameter file shows the error and keeps the model; the params.safetensors of the CLI loads', async () => {
    const before = await checksum();
    const predictionBefore = await probabilities();

    await page.setInputFiles('#load', { name: 'corrupt.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from('this is not a safetensors file') });
    await page.waitForSelector('#model-message[data-kind=error]', { timeout: 10_000 });
    const message = await text('#model-message');
    expect(message).toContain('Could not load corrupt.safetensors');
    expect(message).toContain('The current model is unchanged');
    expect(await checksum()).toBe(before);
    await screenshot(page, '04-load-error');

    // a real file (written by `wasm-cnn train`) cut short: also rejected, model unchanged
    const file = cliParams();
    await page.evaluate(() => { document.getElementById('model-message')!.dataset.kind = ''; });
    await page.setInputFiles('#load', { name: 'truncated.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from(file.subarray(0, file.length - 100)) });
    await page.waitForSelector('#model-message[data-kind=error]', { timeout: 10_000 });
    expect(await text('#model-message')).toContain('Could not load truncated.safetensors');
    expect(await checksum()).toBe(before);
    expect(await probabilities()).toEqual(predictionBefore);

    // the whole file loads
    await page.setInputFiles('#load', { name: 'params.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from(file) });
    await page.waitForSelector('#model-message[data-kind=ok]', { timeout: 10_000 });
    expect(await text('#model-message')).toContain('Loaded params.safetensors');
    expect(await checksum()).toBe(fnv1a(file));
    expect(await text('#model-info')).toContain('loaded from params.safetensors');
    expect(errors).toEqual([]);
  }, 30_000);

  it('runs the Wasm vs JS benchmark and shows the table', async () => {
    await page.click('#bench-run');
    await page.waitForSelector('#bench-table[data-done=true]', { timeout: 60_000 });
    const rows = await page.$$eval('#bench-table tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    expect(rows.map((r) => r[0])).toEqual([
      'GEMM 256×256×256', 'GEMM 512×512×512', 'SimpleConvNet training (batch 100, Adam)', 'SimpleConvNet inference (batch 100)',
    ]);
    for (const r of rows) {
      expect(Number(r[2].replace(/,/g, ''))).toBeGreaterThan(0); // Wasm
      expect(Number(r[3].replace(/,/g, ''))).toBeGreaterThan(0); // JS
      expect(r[4]).toMatch(/^\d+(\.\d)?×$/);
    }
    await screenshot(page, '05-benchmark');
    expect(errors).toEqual([]);
  }, 90_000);
});
