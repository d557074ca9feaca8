// The bench's ONNX Runtime Web peer (bench/peers-onnx.ts) in its quick form: one child node
// per thread count runs the exported SimpleConvNet on the bench's batches and reports figures
// for both inference cases (values are the bench's business; here they only have to exist).
import { describe, expect, it } from 'vitest';
import { runOnnxRuntime, ORT_THREADS, ortImpl } from '../../bench/peers-onnx.js';
import { benchData, E2E } from '../../bench/e2e.js';
import { budgets } from '../../bench/timing.js';

describe('bench peer: ONNX Runtime Web', () => {
  it('reports infer batch 100 and 1000 at 1 and 2 threads', async () => {
    const r = await runOnnxRuntime(benchData(), budgets(true), ORT_THREADS, () => {});
    expect(r.failures).toEqual([]);
    expect(r.impls.map((i) => i.impl)).toEqual(['ort-wasm', 'ort-wasm-2t']);
    for (const t of ORT_THREADS) {
      for (const name of [E2E.infer100, E2E.infer1000]) {
        const f = r.figures.find((x) => x.impl === ortImpl(t) && x.name === name);
        expect(f, `${ortImpl(t)} ${name}`).toBeDefined();
        expect(f!.value).toBeGreaterThan(0);
        expect(f!.unit).toBe('img/s');
      }
    }
  });
});
