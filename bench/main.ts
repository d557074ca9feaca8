/**
 * `npm run bench` (build/dist/bench.js): Wasm vs JS vs TF.js, and the Wasm SIMD peak.
 *
 *   npm run bench                      the full run (< 10 min), table on stdout,
 *                                      bench/results/<date>.json, <date>.md, latest.md
 *                                      (latest.md: full runs only)
 *   npm run bench -- --quick           smoke test
 *   npm run bench -- --only kernels    one group: peak | kernels | e2e | peers
 *
 * Library use (tests, `wasm-cnn bench`): import { runBench, benchMain } from this module or,
 * from another bundle entry, from './run.js' (importing this entry module from another entry
 * would move its top level into a shared chunk; the entry check below copes with that).
 */
import { realpathSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchMain } from './run.js';

export { runBench, benchMain, renderText, renderMarkdown, GROUPS } from './run.js';
export type { BenchOptions, BenchResults, Figure, Failure, Group } from './types.js';

/** True when this module is the program node was started with (build/dist/bench.js or bench/main.ts). */
function isEntry(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    if (realpathSync(script) === realpathSync(fileURLToPath(import.meta.url))) return true;
  } catch {
    // fall through to the name check
  }
  return /^bench\.(c|m)?js$/.test(basename(script));
}

if (isEntry()) {
  benchMain(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (e: unknown) => {
      process.stderr.write(`bench failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
