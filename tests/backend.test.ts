import { describe, it, expect } from 'vitest';
import { createBackend } from '../src/backend/create.js';
import { KERNEL_NAMES } from '../src/backend/kernels.js';

describe('createBackend', () => {
  it('wasm exports the whole kernel ABI and reports SIMD', async () => {
    const b = await createBackend('wasm');
    for (const name of KERNEL_NAMES) expect(typeof b.kernels[name]).toBe('function');
    expect(b.features.simd).toBe(true);
  });
  it('js provides the whole kernel ABI', async () => {
    const b = await createBackend('js');
    for (const name of KERNEL_NAMES) expect(typeof b.kernels[name]).toBe('function');
  });
  it('rejects an unknown backend name', async () => {
    await expect(createBackend('gpu' as never)).rejects.toThrow(/unknown backend "gpu"/);
  });
});

describe('importedMemoryMinPages', () => {
  it('reads the memory minimum the module declares (as the .wat shows it)', async () => {
    const { readFileSync } = await import('node:fs');
    const { importedMemoryMinPages } = await import('../src/backend/wasm/binary.js');
    const wasm = new Uint8Array(readFileSync('build/kernels.simd.wasm'));
    const wat = readFileSync('build/kernels.simd.wat', 'utf8');
    const declared = Number(/\(import "env" "memory" \(memory \$\d+ (\d+)/.exec(wat)![1]);
    expect(importedMemoryMinPages(wasm)).toBe(declared);
  });
});
