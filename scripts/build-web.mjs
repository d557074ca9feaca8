// Bundles the web app (web/) into build/web/ with esbuild: main.js (the page) and
// worker.js (training, prediction and the benchmark, in Web Workers), the library and
// its Wasm kernels embedded as bytes; copies index.html, style.css and uPlot's CSS.
// `npm run serve` serves the result (scripts/serve.mjs).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'build', 'web');
const require = createRequire(import.meta.url);

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  absWorkingDir: root,
  entryPoints: { main: 'web/main.ts', worker: 'web/worker.ts' },
  outdir: 'build/web',
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  sourcemap: true,
  minify: false,
  loader: { '.wasm': 'binary' },
  logLevel: 'warning',
});
copyFileSync(join(root, 'web', 'index.html'), join(out, 'index.html'));
copyFileSync(join(root, 'web', 'style.css'), join(out, 'style.css'));
copyFileSync(join(dirname(require.resolve('uplot')), 'uPlot.min.css'), join(out, 'uPlot.min.css'));
console.log('built build/web (index.html, main.js, worker.js, style.css, uPlot.min.css)');
