/**
 * The package as a user meets it: the repo packed with `npm pack` and installed from the
 * tarball into an empty project under os.tmpdir(), lifecycle scripts disabled (as a registry
 * install behaves), from npm's cache where it can (`npm ci` leaves it warm).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, sep } from 'node:path';
import { ROOT, checkBuilt } from '../browser/browser.js';

export { ROOT };

export interface PackedFile {
  path: string;
  size: number;
}

/** What `npm pack --json` reports of the tarball. */
export interface PackInfo {
  filename: string;
  /** bytes of the .tgz */
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: PackedFile[];
}

export interface Consumer {
  /** the temporary folder holding the tarball and the project */
  tmp: string;
  tarball: string;
  pack: PackInfo;
  /** the consumer project (package.json with "type": "module", node_modules/wasm-cnn) */
  dir: string;
  /** node_modules/wasm-cnn inside it */
  installed: string;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The environment for npm and node in the consumer: without the variables an enclosing
 * `npm test` sets (npm_config_prefix, npm_package_*, ...), which would point npm back at
 * the repo, and without node_modules/.bin folders on PATH (a dev dependency of the repo
 * brings an old `npm` there): `npm` and `npx` are the system's.
 */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    const lk = k.toLowerCase();
    if (lk.startsWith('npm_package_') || lk.startsWith('npm_lifecycle_') || k === 'INIT_CWD') continue;
    if (['npm_config_prefix', 'npm_config_local_prefix', 'npm_config_global_prefix', 'npm_command'].includes(lk)) continue;
    if (k === 'NODE_OPTIONS' || k.startsWith('VITEST') || k === 'NODE_ENV') continue;
    env[k] = v;
  }
  env.PATH = (process.env.PATH ?? '').split(delimiter).filter((p) => !p.includes(`node_modules${sep}.bin`)).join(delimiter);
  return env;
}

/** Runs a command to its end (never throws on a non-zero exit); `timeout` in ms kills it. */
export function run(cmd: string, args: string[], opts: { cwd: string; timeout?: number }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeout ?? 120_000);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

export interface Started {
  /** the match of `ready` in the command's stdout */
  match: RegExpExecArray;
  /** Ends the command (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
}

/** Starts a long-running command (a server) and resolves once its stdout matches `ready`. */
export function start(cmd: string, args: string[], opts: { cwd: string; ready: RegExp; timeout?: number }): Promise<Started> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const exited = new Promise<void>((r) => child.on('exit', () => r()));
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    };
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${cmd} ${args.join(' ')}: no ${opts.ready} on stdout within ${opts.timeout ?? 30_000} ms\n${stdout}\n${stderr}`));
    }, opts.timeout ?? 30_000);
    child.stderr.on('data', (d) => { stderr += d; });
    child.stdout.on('data', (d) => {
      stdout += d;
      const match = opts.ready.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve({ match, stop });
      }
    });
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} ${args.join(' ')} exited with ${code} before it was ready\n${stdout}\n${stderr}`));
    });
  });
}

/** Like run(), but a non-zero exit is an error that shows the command's output. */
export async function runOk(cmd: string, args: string[], opts: { cwd: string; timeout?: number }): Promise<RunResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} (in ${opts.cwd}) exited with ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  }
  return r;
}

/**
 * Packs the repo's current build and installs the tarball into a new empty project.
 * `npm test` builds before vitest runs, so the pack skips the build that `prepare` runs
 * (--ignore-scripts) and takes build/ as it is; stale output is refused up front.
 */
export async function packAndInstall(): Promise<Consumer> {
  checkBuilt('build/dist/index.js', ['src'], 'npm run build:js');
  checkBuilt('build/dist/cli.js', ['src'], 'npm run build:js');
  checkBuilt('build/browser/wasm-cnn.js', ['src'], 'npm run build:js');
  checkBuilt('build/web/worker.js', ['web', 'src'], 'npm run build:web');

  const tmp = mkdtempSync(join(tmpdir(), 'wasm-cnn-package-'));
  try {
    const packed = await runOk('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], { cwd: ROOT });
    const [pack] = JSON.parse(packed.stdout) as PackInfo[];
    const tarball = join(tmp, pack.filename);

    const dir = join(tmp, 'consumer');
    mkdirSync(dir);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }, null, 2));
    await runOk('npm', ['install', tarball, '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: dir, timeout: 150_000 });
    return { tmp, tarball, pack, dir, installed: join(dir, 'node_modules', 'wasm-cnn') };
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** The fenced code blocks of a README section whose first line is a comment naming a file (`// app.mjs`, `<!-- index.html -->`). */
export function readmeFiles(section: string): Map<string, string> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n## ${section}\n`);
  if (start < 0) throw new Error(`README.md: no "## ${section}" section`);
  const end = readme.indexOf('\n## ', start + 1);
  const text = readme.slice(start, end < 0 ? undefined : end);
  const files = new Map<string, string>();
  for (const m of text.matchAll(/```[a-z]*\n([\s\S]*?)```/g)) {
    const name = /^(?:\/\/ |<!-- )([\w.-]+\.(?:mjs|cjs|js|ts|json|html))(?: -->)?\n/.exec(m[1]);
    if (name) files.set(name[1], m[1]);
  }
  return files;
}
