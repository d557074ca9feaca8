// Bundles library entry points from the current sources (the same esbuild settings as
// scripts/build-js.mjs) so subprocess tests run what is in src/ now, without touching build/.
// Bundles go under node_modules/.cache so that the external dependencies resolve.
import { build } from 'esbuild';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = process.cwd();

export interface Bundle {
  dir: string;
  /** Absolute path of the bundled entry, by entry name. */
  file(name: string): string;
  dispose(): void;
}

/** Bundles `entries` (name -> source path, relative to the repo) into a fresh folder. */
export async function bundle(entries: Record<string, string>): Promise<Bundle> {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies?: object; devDependencies?: object };
  const external = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})];
  const base = join(root, 'node_modules/.cache/wasm-cnn-reliability');
  mkdirSync(base, { recursive: true });
  const dir = mkdtempSync(join(base, 'bundle-'));
  await build({
    absWorkingDir: root,
    entryPoints: entries,
    outdir: dir,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'es2022',
    external,
    loader: { '.wasm': 'binary' },
    logLevel: 'error',
    outExtension: { '.js': '.mjs' },
  });
  return {
    dir,
    file: (name) => join(dir, `${name}.mjs`),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
