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
