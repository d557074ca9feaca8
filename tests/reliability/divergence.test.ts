// Divergence: when the loss or a parameter becomes NaN or Infinity, training stops with a
// DivergenceError naming the step and the first non-finite tensor, and the parameters of the
// last finite step are kept. SGD with lr 1e30 really overflows (a learning rate of 1e3 does
// not: the course's +1e-7 in the log caps the cross-entropy at ~16.1 and the weights stay
// finite). The CLI, run as a subprocess, exits 1, says so and saves those parameters.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend } from '../../src/backend/create.js';
import type { BackendName } from '../../src/backend/backend.js';
import { DivergenceError, WasmCnnError } from '../../src/errors.js';
import { decodeSafetensors } from '../../src/io/safetensors.js';
import { modelFromSafetensors } from '../../src/models/index.js';
import { tensor } from '../../src/tensor.js';
import { SGD, Trainer, type DivergenceDetails, type Optimizer } from '../../src/train/index.js';
import { BACKENDS } from '../helpers/harness.js';
import { expectLibError, paramBytes, sameBytes, thrown, tinyNet, uniform } from './helpers.js';
import { bundle, type Bundle } from './subprocess.js';

const N = 40;
const x = tensor(uniform(N * 49, 5), [N, 1, 7, 7]);
const t = Int32Array.from({ length: N }, (_, i) => (i * 7) % 4);

async function diverge(name: BackendName, optimizer: string, lr: number, snapshot = true) {
  const backend = await createBackend(name);
  const net = tinyNet(backend);
  const initial = paramBytes(net);
  // the parameters after every step that passed the checks (onIteration runs after them)
  const finite: Uint8Array[] = [];
  const trainer = new Trainer(net, x, t, x, t, {
    epochs: 3, miniBatchSize: 10, optimizer, optimizerParam: { lr }, snapshot,
    onIteration: () => void finite.push(paramBytes(net)),
  });
  const e = await thrown(() => trainer.train());
  return { net, initial, finite, trainer, e };
}

describe.each(BACKENDS)('divergence (%s backend)', (name) => {
  it('SGD lr 1e30: DivergenceError naming the step and the first non-finite tensor; the last finite parameters are kept', async () => {
    const { net, initial, finite, trainer, e } = await diverge(name, 'sgd', 1e30);
    expectLibError(e, DivergenceError, /^Trainer: training diverged at epoch \d+, iteration \d+ \(step \d+ of 12\): /,
      /parameter "(W1|b1|W2|b2|W3|b3)" \(\d+(, \d+)*\) holds \d+ NaN\/Infinity values|the loss is (NaN|Infinity|-Infinity)/,
      /The parameters were restored to (their values after step \d+|their initial values)/);
    const details = (e as DivergenceError & { details: DivergenceDetails }).details;
    expect(details.restored).toBe(true);
    expect(details.step).toBe(finite.length + 1);
    expect(details.step).toBeLessThanOrEqual(3); // it blows up at once
    expect(e.message).toContain(`(step ${details.step} of 12)`);
    expect(e.message).toContain(details.tensor === 'loss' ? 'the loss is' : `parameter "${details.tensor}"`);
    // the first non-finite tensor in the model's order
    if (details.tensor !== 'loss') expect(Object.keys(net.params)).toContain(details.tensor);
    // kept: the values after the last finite step, bit for bit, all finite
    expect(sameBytes(paramBytes(net), finite.length ? finite[finite.length - 1] : initial)).toBe(true);
    for (const p of Object.values(net.params)) expect(p.toArray().every(Number.isFinite)).toBe(true);
    expect(trainer.trainLossList.length).toBe(details.step);
    // and the model still works
    expect(Number.isFinite(net.loss(x, t))).toBe(true);
  });

  it('Adam and momentum with huge learning rates stop the same way', async () => {
    for (const [opt, lr] of [['momentum', 1e30], ['adam', 1e38]] as const) {
      const { net, finite, initial, e } = await diverge(name, opt, lr);
      expectLibError(e, DivergenceError, /training diverged at epoch \d+, iteration \d+ \(step \d+ of 12\)/);
      expect(sameBytes(paramBytes(net), finite.length ? finite[finite.length - 1] : initial)).toBe(true);
    }
  });

  it('lr 1e3 saturates the loss at ~16.1 (-log 1e-7) but stays finite: no false alarm', async () => {
    const backend = await createBackend(name);
    const net = tinyNet(backend);
    const r = await new Trainer(net, x, t, x, t, { epochs: 2, miniBatchSize: 10, optimizer: 'sgd', optimizerParam: { lr: 1e3 } }).train();
    expect(r.steps).toBe(8);
    expect(r.trainLossList.every((l) => Number.isFinite(l) && l <= 16.2)).toBe(true);
  });

  it('a step that fails half-way (the optimizer throws after updating some parameters) leaves the last complete step', async () => {
    const backend = await createBackend(name);
    const net = tinyNet(backend);
    const sgd = new SGD({ backend, lr: 0.1 });
    let calls = 0;
    const flaky: Optimizer = {
      name: 'Flaky',
      update(params, grads) {
        if (++calls < 3) return sgd.update(params, grads);
        // update W1 and b1, then fail
        sgd.update({ W1: params.W1, b1: params.b1 }, grads);
        throw new WasmCnnError('Flaky: the device went away');
      },
    };
    const finite: Uint8Array[] = [];
    const e = await thrown(() => new Trainer(net, x, t, x, t, {
      epochs: 1, miniBatchSize: 10, optimizer: flaky, onIteration: () => void finite.push(paramBytes(net)),
    }).train());
    expectLibError(e, WasmCnnError, /Flaky: the device went away/);
    expect(finite.length).toBe(2);
    expect(sameBytes(paramBytes(net), finite[1])).toBe(true);
  });

  it('snapshot: false says the parameters were not restored', async () => {
    const { e } = await diverge(name, 'sgd', 1e30, false);
    expectLibError(e, DivergenceError, /The parameters were NOT restored \(snapshot: false\)/);
  });
});

describe('wasm-cnn train that diverges (CLI subprocess)', () => {
  let cli: Bundle;
  let dir: string;
  beforeAll(async () => {
    cli = await bundle({ cli: 'src/cli/main.ts' });
    dir = mkdtempSync(join(tmpdir(), 'wasm-cnn-diverge-'));
  });
  afterAll(() => {
    cli?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exits 1, names the step and the tensor, and saves the last finite parameters', async () => {
    const out = join(dir, 'run');
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, [cli.file('cli'), 'train', '--epochs', '1', '--train-size', '200', '--test-size', '100',
        '--optimizer', 'sgd', '--lr', '1e30', '--out', out, '--quiet'], { timeout: 120_000 }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
      });
    });
    expect(r.code, r.stderr).toBe(1);
    const m = /^error: Trainer: training diverged at epoch 1, iteration ([12]) \(step ([12]) of 2\): (parameter "\w+" \(\d+(, \d+)*\) holds \d+ NaN\/Infinity values|the loss is (NaN|Infinity|-Infinity))/m.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    // whichever step it was (1 or 2 of this run), the message restores to the step before it
    const step = Number(m![2]);
    expect(Number(m![1])).toBe(step);
    expect(r.stderr).toContain(`The parameters were restored to ${step === 1 ? 'their initial values' : 'their values after step 1'}`);
    expect(r.stderr).toContain(`the parameters of the last finite step were saved to ${out}/params.safetensors`);
    expect(readdirSync(out)).toContain('params.safetensors');
    expect(readdirSync(out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const bytes = new Uint8Array(readFileSync(join(out, 'params.safetensors')));
    const file = decodeSafetensors(bytes);
    expect([...file.tensors.keys()]).toEqual(['W1', 'b1', 'W2', 'b2', 'W3', 'b3']);
    for (const [k, v] of file.tensors) expect(v.data.every(Number.isFinite), k).toBe(true);
    const net = modelFromSafetensors(bytes, { backend: await createBackend('wasm') });
    expect(net.params.W1.shape).toEqual([30, 1, 5, 5]);
    const history = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8'));
    expect(history.diverged).toMatch(/training diverged/);
  }, 120_000);
});
