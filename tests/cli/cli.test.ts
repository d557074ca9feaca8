// The `wasm-cnn` command as a user runs it: a subprocess of the built CLI (npm run build).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, writeFileSync, rmSync, statSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeSafetensors } from '../../src/io/safetensors.js';
import { decodePng, encodePng } from '../../src/viz/png.js';
import { createBackend } from '../../src/backend/create.js';
import { modelFromSafetensors } from '../../src/models/loaders.js';
import { SimpleConvNet } from '../../src/models/presets.js';

const BIN = join(process.cwd(), 'bin/wasm-cnn.js');

interface Run { code: number; stdout: string; stderr: string }

function cli(args: string[], cwd = process.cwd()): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd, timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

let dir: string;
let run: string;
let trainResult: Run;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wasm-cnn-cli-'));
  run = join(dir, 'run');
  trainResult = await cli(['train', '--epochs', '2', '--train-size', '500', '--test-size', '200', '--batch', '50', '--seed', '3', '--out', run, '--json']);
}, 120_000);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('wasm-cnn train (tiny run)', () => {
  it('exits 0 and prints machine-readable results on stdout', () => {
    expect(trainResult.code, trainResult.stderr).toBe(0);
    const summary = JSON.parse(trainResult.stdout);
    expect(summary).toMatchObject({ model: 'simple', backend: 'wasm', epochs: 2, batch: 50, trainSize: 500, testSize: 200 });
    expect(summary.finalTestAcc).toBeGreaterThan(0.3); // well above chance (0.1) after 2 epochs on 500 images
    expect(summary.imagesPerSecond).toBeGreaterThan(0);
    expect(trainResult.stderr).toMatch(/epoch 2\/2 .*test acc/);
    expect(trainResult.stderr).toMatch(/done: test accuracy/);
  });

  it('writes a parameter file that parses and rebuilds the model', async () => {
    const bytes = new Uint8Array(readFileSync(join(run, 'params.safetensors')));
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect([...tensors.keys()].sort()).toEqual(['W1', 'W2', 'W3', 'b1', 'b2', 'b3']);
    expect(tensors.get('W1')!.shape).toEqual([30, 1, 5, 5]);
    expect(JSON.parse(metadata.config).type).toBe('SimpleConvNet');
    const backend = await createBackend('wasm');
    const net = modelFromSafetensors(bytes, { backend: backend });
    expect(net.params.W3.shape).toEqual([100, 10]);
    expect(Array.from(net.params.b3.data)).toEqual(Array.from(tensors.get('b3')!.data));
  });

  it('writes a history with one entry per epoch', () => {
    const history = JSON.parse(readFileSync(join(run, 'history.json'), 'utf8'));
    expect(history.trainAccList).toHaveLength(2);
    expect(history.testAccList).toHaveLength(2);
    expect(history.trainLossList).toHaveLength(2 * (500 / 50));
    // accuracies are counts of the 500 training / 200 test images; the last epoch's is the final one
    for (const v of history.trainAccList) expect(Math.abs(v * 500 - Math.round(v * 500))).toBeLessThan(1e-6);
    for (const v of history.testAccList) expect(Math.abs(v * 200 - Math.round(v * 200))).toBeLessThan(1e-6);
    expect(history.testAccList[1]).toBe(JSON.parse(trainResult.stdout).finalTestAcc);
  });

  it('draws the accuracy chart (SVG and PNG) and the filters before and after', () => {
    const svg = readFileSync(join(run, 'accuracy.svg'), 'utf8');
    expect(svg).toContain('<svg');
    expect(svg).toContain('epochs');
    expect(svg).toContain('accuracy');
    const chart = decodePng(readFileSync(join(run, 'accuracy.png')));
    expect(chart.width).toBeGreaterThan(400);
    const before = decodePng(readFileSync(join(run, 'filters-before.png')));
    const after = decodePng(readFileSync(join(run, 'filters-after.png')));
    // 30 filters of 5x5 in 8 columns x 4 rows, each scaled to 50x50 with spacing
    expect(before.width).toBeGreaterThan(8 * 50);
    expect(before.height).toBeGreaterThan(4 * 50);
    expect([after.width, after.height]).toEqual([before.width, before.height]);
    expect(Buffer.from(after.data).equals(Buffer.from(before.data))).toBe(false);
  });

  it('refuses to overwrite an existing run without --force, leaving it as it was', async () => {
    const path = join(run, 'params.safetensors');
    const old = readFileSync(path);
    const mtime = statSync(path).mtimeMs;
    const r = await cli(['train', '--epochs', '1', '--train-size', '100', '--test-size', '100', '--out', run]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/already holds a run.*--force/);
    expect(readFileSync(path).equals(old)).toBe(true);
    expect(statSync(path).mtimeMs).toBe(mtime);
  });
});

describe('wasm-cnn commands on a parameter file', () => {
  it('eval prints the test accuracy and a 10x10 confusion matrix', async () => {
    const r = await cli(['eval', join(run, 'params.safetensors'), '--test-size', '300', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.testImages).toBe(300);
    expect(out.confusion).toHaveLength(10);
    const total = out.confusion.flat().reduce((a: number, b: number) => a + b, 0);
    const diagonal = out.confusion.reduce((a: number, row: number[], i: number) => a + row[i], 0);
    expect(total).toBe(300);
    expect(out.accuracy).toBeCloseTo(diagonal / 300, 10);
    const text = await cli(['eval', join(run, 'params.safetensors'), '--test-size', '300']);
    expect(text.stdout).toMatch(/test accuracy 0\.\d{4} \(\d+ of 300\)/);
    expect(text.stdout).toMatch(/confusion matrix/);
  });

  // predictions need a model that has learnt: a short seeded run of its own (3 epochs on
  // 1,000 images, ~1 s), trained to >= 0.8 test accuracy
  let trained: string;
  beforeAll(async () => {
    trained = join(dir, 'trained');
    const r = await cli(['train', '--epochs', '3', '--train-size', '1000', '--test-size', '200', '--batch', '50', '--lr', '0.002',
      '--seed', '3', '--out', trained, '--json', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).finalTestAcc).toBeGreaterThanOrEqual(0.8);
  }, 120_000);

  it('train --lr-decay and --weight-decay: the schedule and the L2 decay, announced and recorded', async () => {
    const r = await cli(['train', '--epochs', '2', '--train-size', '200', '--test-size', '100', '--lr-decay', '0.5',
      '--weight-decay', '0.0005', '--out', join(dir, 'decay'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ lr: 0.001, lrDecay: 0.5, weightDecay: 0.0005 });
    expect(r.stderr).toMatch(/adam lr 0\.001 \(x 0\.5 per epoch\), weight decay 0\.0005,/);
    const bad = await cli(['train', '--lr-decay', '0', '--out', join(dir, 'decay0')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--lr-decay/);
    const badDecay = await cli(['train', '--weight-decay', '-1', '--out', join(dir, 'decay1')]);
    expect(badDecay.code).toBe(2);
    expect(badDecay.stderr).toMatch(/--weight-decay.*expected a number >= 0, got "-1"/);
  }, 120_000);

  it("train's accuracy chart starts its y axis at a round value below the run's lowest accuracy", () => {
    const h = JSON.parse(readFileSync(join(trained, 'history.json'), 'utf8'));
    const lowest = Math.min(...h.trainAccList, ...h.testAccList);
    const labels = [...readFileSync(join(trained, 'accuracy.svg'), 'utf8').matchAll(/<text class="y-label"[^>]*>([^<]*)</g)].map((m) => Number(m[1]));
    expect(labels.length).toBeGreaterThanOrEqual(3);
    expect(labels[0]).toBeGreaterThan(0.5);
    expect(labels[0]).toBeLessThan(lowest);
    expect(lowest - labels[0]).toBeLessThan((1 - labels[0]) / 2);
    expect(labels[labels.length - 1]).toBe(1);
  });

  it('predict --index prints the digit and ten probabilities summing to 1; a trained model predicts the labels', async () => {
    // the first six MNIST test images (7, 2, 1, 0, 4, 1): clear digits, each classified correctly
    const runs = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => cli(['predict', join(trained, 'params.safetensors'), '--index', String(i), '--json'])));
    const labels: number[] = [];
    for (const [i, r] of runs.entries()) {
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.source).toBe(`test image ${i}`);
      expect(out.probabilities).toHaveLength(10);
      expect(out.probabilities.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 5);
      expect(out.digit).toBe(out.probabilities.indexOf(Math.max(...out.probabilities)));
      expect(out.digit, `test image ${i}: predicted ${out.digit}, label ${out.label}`).toBe(out.label);
      labels.push(out.label);
    }
    expect(labels).toEqual([7, 2, 1, 0, 4, 1]); // the labels of the MNIST test file
  });

  it('predict converts a PNG of any size: a vertical stroke is a 1', async () => {
    // a dark vertical stroke on white, 90x120 RGBA
    const width = 90;
    const height = 120;
    const data = new Uint8Array(width * height * 4).fill(255);
    for (let y = 15; y < 105; y++) for (let x = 40; x < 52; x++) data.fill(0, (y * width + x) * 4, (y * width + x) * 4 + 3);
    const png = join(dir, 'one.png');
    writeFileSync(png, encodePng({ width, height, channels: 4, data }));
    const r = await cli(['predict', join(trained, 'params.safetensors'), png, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.digit).toBe(1);
    expect(out.digit).toBe(out.probabilities.indexOf(Math.max(...out.probabilities)));
  });

  it('filters and feature-maps write PNG grids', async () => {
    const f = join(dir, 'filters.png');
    const m = join(dir, 'maps.png');
    expect((await cli(['filters', join(run, 'params.safetensors'), '--out', f])).code).toBe(0);
    expect((await cli(['feature-maps', join(run, 'params.safetensors'), '--index', '3', '--out', m])).code).toBe(0);
    expect(decodePng(readFileSync(f)).width).toBeGreaterThan(400);
    const maps = decodePng(readFileSync(m));
    // the input and 30 maps of 24x24 in 8 columns -> 4 rows
    expect(maps.width).toBeGreaterThan(8 * 24);
    expect(maps.height).toBeGreaterThan(4 * 24);
    const again = await cli(['filters', join(run, 'params.safetensors'), '--out', f]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists/);
  });
});

describe('wasm-cnn bad input: one line, exit code 2', () => {
  const oneLineError = (r: Run) => {
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: /);
  };

  it('unknown flags and bad values', async () => {
    const bogus = await cli(['train', '--bogus']);
    oneLineError(bogus);
    expect(bogus.stderr).toMatch(/--bogus/);
    const epochs = await cli(['train', '--epochs', '0']);
    oneLineError(epochs);
    expect(epochs.stderr).toMatch(/--epochs.*positive integer/);
    const opt = await cli(['train', '--optimizer', 'lbfgs']);
    oneLineError(opt);
    expect(opt.stderr).toMatch(/lbfgs/);
  });

  it('a missing parameter file', async () => {
    const r = await cli(['eval', join(dir, 'nope.safetensors')]);
    oneLineError(r);
    expect(r.stderr).toMatch(/does not exist/);
  });

  it('a corrupt (truncated) parameter file', async () => {
    const bad = join(dir, 'truncated.safetensors');
    writeFileSync(bad, readFileSync(join(run, 'params.safetensors')).subarray(0, 5000));
    const r = await cli(['eval', bad]);
    oneLineError(r);
    expect(r.stderr).toMatch(/truncated\.safetensors/);
  });

  it('a parameter file for a different architecture, with no output overwritten', async () => {
    const backend = await createBackend('js');
    const other = new SimpleConvNet({ backend, inputDim: [1, 28, 28], convParam: { filterNum: 8, filterSize: 3, pad: 0, stride: 1 }, hiddenSize: 20, outputSize: 10 });
    const bytes = other.saveParams();
    // the file claims SimpleConvNet with 30 filters but holds 8-filter tensors
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true))));
    const patched = text.replace('\\"filterNum\\":8', '\\"filterNum\\":9'); // inside the JSON-encoded config string
    expect(patched).not.toBe(text);
    const mismatched = new Uint8Array(bytes);
    mismatched.set(new TextEncoder().encode(patched), 8);
    const path = join(dir, 'other.safetensors');
    writeFileSync(path, mismatched);
    const out = join(dir, 'keep.png');
    writeFileSync(out, 'existing');
    const r = await cli(['filters', path, '--out', out, '--force']);
    oneLineError(r);
    expect(r.stderr).toMatch(/W1/);
    expect(readFileSync(out, 'utf8')).toBe('existing');
  });

  it('predict without an image or an index', async () => {
    const r = await cli(['predict', join(run, 'params.safetensors')]);
    oneLineError(r);
    expect(r.stderr).toMatch(/IMAGE\.png or --index/);
  });

  it('leaves no stray files behind in the output folder', () => {
    expect(readdirSync(run).filter((f) => f.includes('.tmp'))).toEqual([]);
    expect(existsSync(join(run, 'params.safetensors'))).toBe(true);
  });
});
