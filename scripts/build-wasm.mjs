// Compiles assembly/ into build/kernels.<target>.wasm for every target in asconfig.json.
// Each output is written to a temporary name and renamed, so a reader never sees half a file.
import { execFileSync } from 'node:child_process';
import { readFileSync, mkdirSync, renameSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const config = JSON.parse(readFileSync(join(root, 'asconfig.json'), 'utf8'));
mkdirSync(join(root, 'build'), { recursive: true });
const asc = join(root, 'node_modules', 'assemblyscript', 'bin', 'asc.js');
for (const [target, options] of Object.entries(config.targets)) {
  const tmp = `${options.outFile}.${process.pid}.tmp`;
  const tmpText = `${options.textFile}.${process.pid}.tmp`;
  execFileSync(process.execPath, [asc, '--config', 'asconfig.json', '--target', target, '--outFile', tmp, '--textFile', tmpText],
    { cwd: root, stdio: 'inherit' });
  renameSync(join(root, tmp), join(root, options.outFile));
  renameSync(join(root, tmpText), join(root, options.textFile));
  console.log(`built ${options.outFile}`);
}

// The bench's Wasm SIMD peak microbenchmarks (bench/assembly/): plain SIMD and relaxed SIMD.
// Compiled from bench/assembly/ so the kernels' asconfig.json does not apply to them.
const peaks = [
  { entry: 'peak.ts', outFile: 'build/peak.wasm', enable: 'simd' },
  { entry: 'peak.ts', outFile: 'build/peak.relaxed.wasm', enable: 'simd,relaxed-simd' },
];
for (const { entry, outFile, enable } of peaks) {
  const tmp = join(root, `${outFile}.${process.pid}.tmp`);
  execFileSync(process.execPath, [asc, entry, '--outFile', tmp, '--enable', enable, '--runtime', 'stub',
    '--optimizeLevel', '3', '--shrinkLevel', '0', '--noAssert', '--use', 'abort=', '--noExportMemory'],
    { cwd: join(root, 'bench', 'assembly'), stdio: 'inherit' });
  renameSync(tmp, join(root, outFile));
  console.log(`built ${outFile}`);
}
