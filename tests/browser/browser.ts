/**
 * Shared set-up of the browser suites: a headless Chromium from @sparticuz/chromium (which
 * `npm ci` installs; CHROMIUM_PATH overrides it with a system Chromium), driven by
 * playwright-core, and the app server of scripts/serve.mjs on 127.0.0.1, port 0.
 */
import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';
import { startServer, type StartedServer } from '../../scripts/serve.mjs';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Screenshots land here (git-ignored). */
export const ARTIFACTS = join(ROOT, 'test-results', 'browser');

const ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The Chromium executable. @sparticuz/chromium extracts its binary to /tmp/chromium on
 * first use and treats an existing file as done, so two suites starting at once could
 * launch a half-written binary: the extraction runs under a lock directory.
 */
async function executablePath(): Promise<string> {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`CHROMIUM_PATH=${fromEnv} does not exist`);
    return fromEnv;
  }
  const lock = join(tmpdir(), 'wasm-cnn-chromium.lock');
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // a lock older than two minutes belongs to a process that died
      try {
        if (Date.now() - statSync(lock).mtimeMs > 120_000) rmdirSync(lock);
      } catch { /* gone already */ }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
      await sleep(100);
    }
  }
  try {
    const { default: Chromium } = await import('@sparticuz/chromium');
    return await Chromium.executablePath();
  } finally {
    rmdirSync(lock);
  }
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: await executablePath(), args: ARGS, headless: true, timeout: 60_000 });
}

export interface Served {
  url: string;
  close(): Promise<void>;
}

function newestFile(dir: string): { path: string; mtimeMs: number } {
  let best = { path: dir, mtimeMs: 0 };
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    const f = e.isDirectory() ? newestFile(p) : { path: p, mtimeMs: statSync(p).mtimeMs };
    if (f.mtimeMs > best.mtimeMs) best = f;
  }
  return best;
}

/** Fails clearly when a bundle is missing or older than its sources (tests would check stale code). */
export function checkBuilt(output: string, sources: string[], command: string): void {
  const out = join(ROOT, output);
  if (!existsSync(out)) throw new Error(`${output} is missing: run \`${command}\` (or \`npm run build\`) before the browser tests`);
  const built = statSync(out).mtimeMs;
  for (const src of sources) {
    const newest = newestFile(join(ROOT, src));
    if (newest.mtimeMs > built) {
      throw new Error(`${output} is older than ${newest.path.slice(ROOT.length + 1)}: run \`${command}\` (or \`npm run build\`) before the browser tests`);
    }
  }
}

/**
 * The app server on 127.0.0.1, a free port. `app`: the web app (build/web) is needed
 * too, not only the library bundle (build/browser/wasm-cnn.js).
 */
export async function serveApp(opts: { app: boolean }): Promise<Served> {
  checkBuilt('build/browser/wasm-cnn.js', ['src'], 'npm run build:js');
  if (opts.app) {
    checkBuilt('build/web/worker.js', ['web', 'src'], 'npm run build:web');
    checkBuilt('build/web/main.js', ['web'], 'npm run build:web');
  }
  const s: StartedServer = await startServer({ port: 0, host: '127.0.0.1' });
  return { url: s.url, close: s.close };
}

/** Collects console errors and uncaught page errors (the page must have none). */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m: ConsoleMessage) => {
    if (m.type() === 'error') errors.push(`console.error: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  return errors;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
