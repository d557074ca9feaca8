import { defineConfig, type Plugin } from 'vitest/config';
import { readFileSync } from 'node:fs';

/** Imports build/*.wasm as a Uint8Array, like esbuild's `binary` loader does for the bundles. */
function wasmBytes(): Plugin {
  return {
    name: 'wasm-bytes',
    enforce: 'pre',
    load(id) {
      if (!id.endsWith('.wasm')) return null;
      const b64 = readFileSync(id).toString('base64');
      return `export default Uint8Array.from(atob(${JSON.stringify(b64)}), (c) => c.charCodeAt(0));`;
    },
  };
}

export default defineConfig({
  plugins: [wasmBytes()],
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
