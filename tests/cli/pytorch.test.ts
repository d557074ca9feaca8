// `wasm-cnn export --format pytorch` and `wasm-cnn eval --layout pytorch --model ...`, as a user
// runs them: a subprocess of the built CLI (npm run build).
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend } from '../../src/backend/create.js';
import { decodeSafetensors } from '../../src/io/safetensors.js';
import { simpleConvNet } from '../../src/models/index.js';
import { torchSequentialCode } from '../../src/models/pytorch-layout.js';
import { randomize } from '../models/pytorch-helpers.js';

const BIN = join(process.cwd(), 'bin/wasm-cnn.js');

interface Run { code: number; stdout: string; stderr: string }

function cli(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

let dir: string;
let params: string;
let torchFile: string;
let code: string;
let exported: Run;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wasm-cnn-cli-torch-'));
  const net = simpleConvNet({ backend: await createBackend('wasm'), seed: 5, weightInitStd: 'he' });
  randomize(net, 6);
  code = torchSequentialCode(net.torchLayout());
  params = join(dir, 'params.safetensors');
  torchFile = join(dir, 'model.safetensors');
  writeFileSync(params, net.saveParams());
  exported = await cli(['export', params, '--format', 'pytorch', '--out', torchFile]);
}, 120_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('wasm-cnn export --format pytorch / eval --layout pytorch', () => {
  it('export writes the state dict and prints the nn.Sequential it is for', () => {
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout.trim()).toBe(code);
    expect(exported.stderr).toMatch(/^wrote .*model\.safetensors \(PyTorch state dict, 6 F32 tensors, \d+ bytes\)/);
    const file = decodeSafetensors(new Uint8Array(readFileSync(torchFile)));
    expect(file.metadata).toEqual({ format: 'pt' });
    expect([...file.tensors.keys()]).toEqual(['0.weight', '0.bias', '4.weight', '4.bias', '6.weight', '6.bias']);
  });

  it('eval of the exported file with --layout pytorch --model simple gives the original file\'s results', async () => {
    const [a, b] = await Promise.all([
      cli(['eval', params, '--test-size', '300', '--json']),
      cli(['eval', torchFile, '--layout', 'pytorch', '--model', 'simple', '--test-size', '300', '--json']),
    ]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const ra = JSON.parse(a.stdout);
    const rb = JSON.parse(b.stdout);
    expect(rb.testImages).toBe(300);
    expect(rb.accuracy).toBe(ra.accuracy);
    expect(rb.confusion).toEqual(ra.confusion);
  });

  it('bad combinations and files: one error line, exit code 2, nothing written', async () => {
    const runs = await Promise.all([
      cli(['eval', torchFile]),
      cli(['eval', torchFile, '--layout', 'pytorch']),
      cli(['eval', torchFile, '--layout', 'pytorch', '--model', 'deep']),
      cli(['eval', params, '--model', 'simple']),
      cli(['export', params, '--format', 'pytorch', '--out', torchFile]),
      cli(['export', params, '--format', 'pytorch', '--softmax', '--out', join(dir, 'x.safetensors')]),
    ]);
    const expected = [
      /no __metadata__\.config.*its format is "pt": a PyTorch state dict\?.* \(here: --layout pytorch --model simple\|deep\)$/m,
      /--layout pytorch needs --model simple\|deep/,
      /model\.safetensors: DeepConvNet\.loadParams: tensor "0\.weight" \(nn\.Conv2d\(1, 16, kernel_size=3, stride=1, padding=1\)\) has shape \(30, 1, 5, 5\) in the file, expected \(16, 1, 3, 3\)/,
      /--model goes with --layout pytorch only/,
      /already exists; choose another --out or pass --force/,
      /--softmax is for --format onnx only/,
    ];
    runs.forEach((r, i) => {
      expect(r.code, `case ${i}: ${r.stderr}`).toBe(2);
      expect(r.stderr.trim().split('\n'), `case ${i}`).toHaveLength(1);
      expect(r.stderr, `case ${i}`).toMatch(/^error: /);
      expect(r.stderr, `case ${i}`).toMatch(expected[i]);
    });
    expect(existsSync(join(dir, 'x.safetensors'))).toBe(false);
  });
});
