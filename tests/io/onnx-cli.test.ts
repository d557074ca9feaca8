// The CLI's ONNX side as a user runs it (a subprocess of the built CLI, npm run build):
// `wasm-cnn export PARAMS --out model.onnx` writes a model ONNX Runtime runs with the same
// logits, `eval` and `predict` take the .onnx file, and bad input is one line, exit code 2,
// with existing files left alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackend } from '../../src/backend/create.js';
import { simpleConvNet } from '../../src/models/index.js';
import { tensor } from '../../src/tensor.js';
import { maxAbsDiff, mnistImages, runOrt } from './onnx-helpers.js';

const BIN = join(process.cwd(), 'bin/wasm-cnn.js');

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

let dir: string;
let params: string;
let logits: Float32Array;
const x = mnistImages(20);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wasm-cnn-onnx-cli-'));
  const backend = await createBackend('wasm');
  const net = simpleConvNet({ backend, seed: 2, weightInitStd: 0.1 });
  params = join(dir, 'params.safetensors');
  writeFileSync(params, net.saveParams());
  logits = net.predict(tensor(x, [20, 1, 28, 28])).data;
  net.dispose();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('wasm-cnn export / eval / predict with ONNX', () => {
  it('export writes an ONNX model that ONNX Runtime runs with the same logits', async () => {
    const out = join(dir, 'model.onnx');
    const r = await cli(['export', params, '--out', out, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ format: 'onnx', input: { name: 'input', shape: ['N', 1, 28, 28] }, output: { name: 'logits', shape: ['N', 10] } });
    const y = await runOrt(new Uint8Array(readFileSync(out)), x, [20, 1, 28, 28]);
    expect(maxAbsDiff(y.data, logits)).toBeLessThanOrEqual(1e-4);
  });

  it('eval and predict take the .onnx file and agree with the parameter file', async () => {
    const out = join(dir, 'model.onnx');
    const [a, b] = await Promise.all([cli(['eval', params, '--test-size', '300', '--json']), cli(['eval', out, '--test-size', '300', '--json'])]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(JSON.parse(b.stdout).accuracy).toBe(JSON.parse(a.stdout).accuracy);
    expect(JSON.parse(b.stdout).confusion).toEqual(JSON.parse(a.stdout).confusion);
    const [p, q] = await Promise.all([cli(['predict', params, '--index', '7', '--json']), cli(['predict', out, '--index', '7', '--json'])]);
    expect(q.code, q.stderr).toBe(0);
    const pj = JSON.parse(p.stdout);
    const qj = JSON.parse(q.stdout);
    expect(qj.digit).toBe(pj.digit);
    expect(maxAbsDiff(qj.probabilities, pj.probabilities)).toBe(0);
  });

  it('bad input: one line, exit code 2, existing files untouched', async () => {
    const out = join(dir, 'model.onnx');
    const before = readFileSync(out);
    const again = await cli(['export', params, '--out', out]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/^error: .*model\.onnx already exists/);
    const fmt = await cli(['export', params, '--out', join(dir, 'x.pt'), '--format', 'tflite']);
    expect(fmt.code).toBe(2);
    const broken = join(dir, 'broken.onnx');
    writeFileSync(broken, before.subarray(0, 200));
    const bad = await cli(['eval', broken]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: .*broken\.onnx: modelFromOnnx: malformed ONNX file: byte \d+/);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(readFileSync(out).equals(before)).toBe(true);
  });
});
