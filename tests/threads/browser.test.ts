// Threads and relaxed SIMD in a real Chromium, with the browser bundle
// (build/browser/wasm-cnn.js) on a cross-origin isolated page (COOP + COEP headers):
//  - on the page's main thread, threads: 2 runs on 1 thread and threadsNote says why;
//  - inside a Web Worker, threads: 2 and 3 start nested kernel workers (Blob URL bootstrap),
//    and SimpleConvNet training steps give the same bytes as threads: 1, in runs where the
//    kernel workers computed chunks;
//  - relaxedSimd: 'auto' picks the relaxed build in Chromium, threaded too, and its training
//    steps stay within float tolerance of the plain-SIMD ones.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser, serveApp, watchErrors, type Served } from '../browser/browser.js';

const ISOLATED = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/** Runs in a module Web Worker (plain JavaScript: vitest must not rewrite its import()). */
const WORKER_CODE = `
self.onmessage = async ({ data: base }) => {
  try {
    const lib = await import(base + 'lib/wasm-cnn.js');
    // one training run; on several threads it is repeated until the kernel workers took chunks
    // of it (the calling thread may take every chunk of a call when they are slow to wake)
    const run = async (opts) => {
      const backend = await lib.createBackend('wasm', opts);
      const pool = backend.kernels.pool;
      for (let attempt = 1; ; attempt++) {
        const before = pool ? [...pool.chunksTaken] : [];
        const net = new lib.SimpleConvNet({ backend, inputDim: [1, 28, 28], convParam: { filterNum: 30, filterSize: 5, pad: 0, stride: 1 },
          hiddenSize: 100, outputSize: 10, weightInitStd: 0.01, seed: 42 });
        const opt = new lib.Adam({ backend });
        let s = 99;
        const x = Float32Array.from({ length: 100 * 784 }, () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32));
        const t = Int32Array.from({ length: 100 }, (_, i) => (i * 3) % 10);
        const xt = lib.Tensor.host(x, [100, 1, 28, 28]);
        const losses = [];
        for (let k = 0; k < 3; k++) {
          opt.update(net.params, net.gradient(xt, t));
          losses.push(net.loss(xt, t));
        }
        const bytes = net.saveParams();
        net.dispose();
        const chunks = pool ? pool.chunksTaken.map((c, w) => c - before[w]) : [];
        if (!pool || chunks.some((c) => c > 0) || attempt >= 10) {
          const features = { ...backend.features };
          backend.dispose();
          return { bytes, losses, features, chunks, attempts: attempt };
        }
      }
    };
    const out = {};
    for (const [name, opts] of [['t1', { threads: 1 }], ['t2', { threads: 2 }], ['t3', { threads: 3 }],
      ['relaxed', { relaxedSimd: 'auto' }], ['relaxed2', { relaxedSimd: 'auto', threads: 2 }]]) {
      out[name] = await run(opts);
    }
    self.postMessage({ ok: true, out });
  } catch (e) {
    self.postMessage({ ok: false, error: String(e && e.stack || e) });
  }
};`;

const PAGE_RUN = `async ({ base, code }) => {
  const lib = await import(base + 'lib/wasm-cnn.js');
  const main = await lib.createBackend('wasm', { threads: 2 });
  const mainFeatures = { ...main.features };
  main.dispose();
  const url = URL.createObjectURL(new Blob([code], { type: 'text/javascript' }));
  const worker = new Worker(url, { type: 'module' });
  const result = await new Promise((resolve, reject) => {
    worker.onmessage = (e) => resolve(e.data);
    worker.onerror = (e) => reject(new Error('worker error: ' + e.message));
    worker.postMessage(base);
  });
  worker.terminate();
  if (!result.ok) throw new Error(result.error);
  const enc = (b) => { let s = ''; for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000)); return btoa(s); };
  const out = {};
  for (const [k, v] of Object.entries(result.out)) out[k] = { ...v, bytes: enc(v.bytes) };
  return { isolated: self.crossOriginIsolated, mainFeatures, out };
}`;

interface RunOut { bytes: string; losses: number[]; features: Record<string, unknown>; chunks: number[]; attempts: number }

describe('Chromium: threads in a Web Worker, relaxed SIMD', () => {
  let served: Served;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    served = await serveApp({ app: false });
    browser = await launchBrowser();
    page = await browser.newPage();
    errors = watchErrors(page);
    await page.route(`${served.url}threads.html`, (route) => route.fulfill({
      contentType: 'text/html', headers: ISOLATED, body: '<!doctype html><title>threads</title>',
    }));
    await page.goto(`${served.url}threads.html`);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await served?.close();
  });

  it('refuses threads on the page, runs them bit-identically in a worker, and picks relaxed SIMD for auto', async () => {
    const r = await page.evaluate(`(${PAGE_RUN})(${JSON.stringify({ base: served.url, code: WORKER_CODE })})`) as {
      isolated: boolean; mainFeatures: Record<string, unknown>; out: Record<string, RunOut>;
    };
    expect(r.isolated).toBe(true);
    expect(r.mainFeatures).toMatchObject({ threads: 1 });
    expect(String(r.mainFeatures.threadsNote)).toMatch(/main thread may not block in Atomics.wait; create the backend inside a Web Worker/);
    const { t1, t2, t3, relaxed, relaxed2 } = r.out;
    expect(t1.features).toMatchObject({ simd: true, relaxedSimd: false, threads: 1 });
    expect(t2.features).toMatchObject({ relaxedSimd: false, threads: 2 });
    expect(t3.features).toMatchObject({ relaxedSimd: false, threads: 3 });
    expect(t2.features.threadsNote).toBeUndefined();
    // the compared runs had the kernel workers compute chunks of them
    for (const [name, run] of Object.entries({ t2, t3, relaxed2 })) {
      expect(run.chunks.some((c) => c > 0), `${name}: chunks per kernel worker ${run.chunks.join(', ')} (after ${run.attempts} runs)`).toBe(true);
    }
    expect(t1.chunks).toEqual([]);
    expect(t2.bytes).toBe(t1.bytes);
    expect(t3.bytes).toBe(t1.bytes);
    expect(t2.losses).toEqual(t1.losses);
    expect(relaxed.features).toMatchObject({ relaxedSimd: true, threads: 1 });
    expect(relaxed2.features).toMatchObject({ relaxedSimd: true, threads: 2 });
    expect(relaxed2.bytes).toBe(relaxed.bytes); // threads do not change the relaxed build's results either
    relaxed.losses.forEach((l, i) => expect(Math.abs(l - t1.losses[i])).toBeLessThan(1e-4));
    expect(errors).toEqual([]);
  }, 120_000);
});
