import { chromium } from 'playwright-core';
import Chromium from '@sparticuz/chromium';
import { startServer } from '/work/main/scripts/serve.mjs';
const s = await startServer({ port: 0, webDir: '/tmp/wtest' });
console.log(s.url);
const t0 = Date.now();
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? await Chromium.executablePath(), args: ['--no-sandbox','--disable-gpu','--disable-quic','--no-first-run','--disable-background-networking','--disable-component-update','--disable-sync'], headless: true });
console.log('launched', Date.now() - t0, browser.version());
const page = await browser.newPage();
page.on('console', m => console.log('console', m.type(), m.text()));
page.on('pageerror', e => console.log('pageerror', e.message));
await page.goto(s.url);
const r = await page.evaluate(async () => {
  const out = { coi: crossOriginIsolated };
  try {
    const m = await import('/lib/wasm-cnn.js');
    const b = await m.createBackend('wasm');
    out.features = b.features;
    const net = new m.SimpleConvNet({ backend: b, seed: 7 });
    out.ok = net.saveParams().length;
  } catch (e) { out.err = String(e); }
  out.relaxed = WebAssembly.validate(new Uint8Array([0,97,115,109,1,0,0,0]));
  return out;
});
console.log(JSON.stringify(r));
const r2 = await page.evaluate(async () => {
  const src = `import('/lib/wasm-cnn.js').then(async m => { try { const b = await m.createBackend('wasm'); postMessage(JSON.stringify(b.features)); } catch (e) { postMessage('ERR ' + e); } });`;
  const w = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })), { type: 'module' });
  return await new Promise(r => { w.onmessage = e => r(e.data); w.onerror = e => r('onerror ' + e.message); });
});
console.log('worker:', r2);
await browser.close(); await s.close();
