// Bundles the TypeScript entries with esbuild into build/dist/ (ESM, shared chunks, so
// `wasm-cnn` and `wasm-cnn/node` share one copy of every class), embeds the Wasm kernels as
// bytes, and emits type declarations with tsc.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const external = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})];

const entries = {
  index: 'src/index.ts',
  node: 'src/node.ts',
  cli: 'src/cli/main.ts',
  bench: 'bench/main.ts',
};
const entryPoints = Object.fromEntries(Object.entries(entries).filter(([, f]) => existsSync(join(root, f))));

rmSync(join(root, 'build/dist'), { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints,
  outdir: 'build/dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'es2022',
  sourcemap: true,
  external,
  loader: { '.wasm': 'binary' },
  logLevel: 'warning',
});

// The platform-neutral entry as one self-contained file for browsers (no Node built-ins inside).
await build({
  absWorkingDir: root,
  entryPoints: { 'wasm-cnn': 'src/index.ts' },
  outdir: 'build/browser',
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  sourcemap: true,
  loader: { '.wasm': 'binary' },
  logLevel: 'warning',
});

execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
// The public classes are Disposable (`[Symbol.dispose]`): the entries' declarations name the
// lib that declares Symbol.dispose, so a consumer's tsconfig needs no `lib` entry for it.
for (const entry of ['index', 'node']) {
  const dts = join(root, 'build/dist/types', `${entry}.d.ts`);
  writeFileSync(dts, '/// <reference lib="esnext.disposable" />\n' + readFileSync(dts, 'utf8'));
}
console.log(`built build/dist (${Object.keys(entryPoints).join(', ')}) and build/browser/wasm-cnn.js`);
