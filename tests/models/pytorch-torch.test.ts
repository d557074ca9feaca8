// PyTorch interop against the real thing: torch (Debian's python3-torch, in one Python process
// for the whole file: tests/helpers/torch_peer.py) builds the equivalent nn.Sequential, loads
// wasm-cnn's file with strict=True and computes logits of real MNIST test images; it also writes
// its own state dict, which wasm-cnn loads. Both directions must agree within 1e-4 (inference).
// Where python3 or torch is missing the suite is skipped, and says so.
import { spawnSync, execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend } from '../../src/backend/create.js';
import type { Backend } from '../../src/backend/backend.js';
import { loadMnist } from '../../src/data/mnist-node.js';
import { decodeSafetensors } from '../../src/io/safetensors.js';
import { Sequential, deepConvNet, simpleConvNet } from '../../src/models/index.js';
import { torchSequentialCode } from '../../src/models/pytorch-layout.js';
import type { Tensor } from '../../src/tensor.js';
import { MIXED_LAYERS, randomize } from './pytorch-helpers.js';

const PEER = join(process.cwd(), 'tests/helpers/torch_peer.py');
const IMAGES = 100;
const TOLERANCE = 1e-4;

/** The first python3 that has torch (Debian's lives in /usr/bin; a python3 on PATH may not), or why there is none. */
function findTorch(): { python: string; reason?: undefined } | { python?: undefined; reason: string } {
  const probe = 'import importlib.util, sys; sys.exit(0 if importlib.util.find_spec("torch") else 3)';
  let found = false;
  for (const python of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(python, ['-c', probe], { stdio: 'ignore', timeout: 20_000 });
    if (r.status === 0) return { python };
    if (r.status === 3) found = true;
  }
  return { reason: found ? 'python3 has no torch module (apt-get install python3-torch)' : 'no python3 found' };
}

const torch = findTorch();
if (torch.reason) console.warn(`tests/models/pytorch-torch.test.ts: SKIPPED, ${torch.reason}`);

interface Case { name: string; make: (b: Backend, seed: number) => Sequential; seed: number }
const CASES: Case[] = [
  { name: 'SimpleConvNet', seed: 11, make: (b, seed) => simpleConvNet({ backend: b, seed, weightInitStd: 'he' }) },
  { name: 'DeepConvNet', seed: 12, make: (b, seed) => deepConvNet({ backend: b, seed }) },
  { name: 'BatchNormalization, avg pooling, dropout 0.3/0.2', seed: 13, make: (b, seed) => new Sequential({ backend: b, inputDim: [1, 28, 28], layers: MIXED_LAYERS, seed }) },
];

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const maxAbs = (a: Float32Array) => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

describe.skipIf(!torch.python)(`PyTorch ${torch.python ? `(${torch.python})` : `skipped: ${torch.reason}`}: the equivalent nn.Sequential, both ways`, () => {
  let dir: string;
  let backend: Backend;
  let x: Tensor;
  let report: { torch: string; cases: Record<string, { read: string[]; metadata: Record<string, string>; written: string[] }> };
  const nets = new Map<string, Sequential>();
  const file = (c: Case, what: string) => join(dir, `${c.seed}-${what}`);
  const f32 = (path: string) => {
    const buf = readFileSync(path);
    return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wasm-cnn-torch-'));
    backend = await createBackend('wasm');
    x = loadMnist({ flatten: false, trainLimit: 1, testLimit: IMAGES }).xTest;
    writeFileSync(join(dir, 'images.f32'), x.data);
    const cases = CASES.map((c) => {
      const net = c.make(backend, c.seed);
      randomize(net, c.seed);
      nets.set(c.name, net);
      writeFileSync(file(c, 'wasm.safetensors'), net.saveParams({ layout: 'pytorch' }));
      return {
        name: c.name, seed: c.seed, code: torchSequentialCode(net.torchLayout()), images: join(dir, 'images.f32'), shape: [IMAGES, 1, 28, 28],
        wasm_file: file(c, 'wasm.safetensors'), wasm_logits: file(c, 'wasm-logits.f32'),
        torch_file: file(c, 'torch.safetensors'), torch_logits: file(c, 'torch-logits.f32'),
      };
    });
    writeFileSync(join(dir, 'job.json'), JSON.stringify({ cases }));
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(torch.python!, [PEER, join(dir, 'job.json')], { timeout: 120_000, maxBuffer: 1 << 24 }, (err, out, errOut) => {
        if (err) reject(new Error(`${PEER} failed: ${err.message}\n${errOut}`));
        else resolve(out);
      });
    });
    report = JSON.parse(stdout);
  }, 180_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.each(CASES)('$name: torch loads wasm-cnn\'s file with strict=True and gives its logits (<= 1e-4 on 100 MNIST images)', (c) => {
    const net = nets.get(c.name)!;
    const ours = net.predict(x).data;
    const theirs = f32(file(c, 'wasm-logits.f32'));
    // logits of a size that makes 1e-4 a real test
    expect(maxAbs(ours)).toBeGreaterThan(0.2);
    const diff = maxAbsDiff(ours, theirs);
    if (process.env.WASM_CNN_TORCH_STATS) console.log(c.name, "wasm->torch", diff, maxAbs(ours));
    expect(diff, `${c.name}: max |wasm-cnn - torch| over ${IMAGES} images`).toBeLessThanOrEqual(TOLERANCE);
    expect(report.cases[c.name].metadata).toEqual({ format: 'pt' });
    expect(report.cases[c.name].read).toEqual([...decodeSafetensors(readFileSync(file(c, 'wasm.safetensors'))).tensors.keys()].sort());
  });

  it.each(CASES)('$name: wasm-cnn loads the state dict torch wrote and gives torch\'s logits (<= 1e-4)', (c) => {
    const net = c.make(backend, c.seed + 100);
    const bytes = new Uint8Array(readFileSync(file(c, 'torch.safetensors')));
    net.loadParams(bytes, { layout: 'pytorch' });
    const theirs = f32(file(c, 'torch-logits.f32'));
    expect(maxAbs(theirs)).toBeGreaterThan(0.2);
    expect(maxAbsDiff(net.predict(x).data, theirs), `${c.name}: max |wasm-cnn - torch|`).toBeLessThanOrEqual(TOLERANCE);
    // and back: the same file again, in PyTorch's names
    expect(report.cases[c.name].written).toEqual(expect.arrayContaining(report.cases[c.name].read));
    net.dispose();
  });

  it('the state dict torch wrote has num_batches_tracked (I64) in each BatchNorm1d, which wasm-cnn ignores', () => {
    expect(report.cases[CASES[2].name].written.filter((n) => n.endsWith('num_batches_tracked'))).toEqual(['12.num_batches_tracked', '2.num_batches_tracked']);
    expect(report.cases[CASES[2].name].read.some((n) => n.endsWith('num_batches_tracked'))).toBe(false);
    expect(report.torch).toMatch(/^\d+\.\d+/);
  });
});
