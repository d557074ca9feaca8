// The PyTorch layout of parameter files, without PyTorch (pytorch-torch.test.ts runs the real
// thing): names and shapes of the equivalent nn.Sequential, the transposed Linear weights, the
// dropout factor, round trips, foreign metadata, and bad state dicts that are refused with the
// PyTorch name, the expected and the actual shape, changing nothing.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createBackend } from '../../src/backend/create.js';
import type { Backend } from '../../src/backend/backend.js';
import { FormatError, ShapeError, WasmCnnError } from '../../src/errors.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.js';
import { Sequential, deepConvNet, modelFromSafetensors, simpleConvNet } from '../../src/models/index.js';
import { torchSequentialCode } from '../../src/models/pytorch-layout.js';
import { paramsOf, randomInput, sameBits, tinyNet } from './helpers.js';
import { MIXED_LAYERS, randomize } from './pytorch-helpers.js';

/** A safetensors file written by hand, for dtypes the encoder does not write (I64). */
function rawFile(entries: { name: string; dtype: string; shape: number[]; bytes: Uint8Array }[], metadata: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const e of entries) {
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [offset, offset + e.bytes.length] };
    offset += e.bytes.length;
  }
  let text = JSON.stringify(header);
  text += ' '.repeat((8 - (text.length % 8)) % 8);
  const out = new Uint8Array(8 + text.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(text.length), true);
  out.set(new TextEncoder().encode(text), 8);
  let at = 8 + text.length;
  for (const e of entries) {
    out.set(e.bytes, at);
    at += e.bytes.length;
  }
  return out;
}

type Edit = (t: { name: string; dtype: string; shape: number[]; bytes: Uint8Array }[], meta: Record<string, string>) => void;
/** Re-encodes a file with edits (tensors as raw bytes, so I64 entries survive). */
function edit(bytes: Uint8Array, fn: Edit): Uint8Array {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const meta = (header.__metadata__ ?? {}) as unknown as Record<string, string>;
  const list = Object.entries(header).filter(([k]) => k !== '__metadata__')
    .map(([name, e]) => ({ name, dtype: e.dtype, shape: [...e.shape], bytes: bytes.slice(8 + n + e.data_offsets[0], 8 + n + e.data_offsets[1]) }));
  fn(list, meta);
  return rawFile(list, meta);
}

const f32 = (values: number[]) => new Uint8Array(Float32Array.from(values).buffer);

let b: Backend;
beforeAll(async () => {
  b = await createBackend('wasm');
});

describe('the equivalent nn.Sequential', () => {
  it('SimpleConvNet: Conv2d, ReLU, MaxPool2d, Flatten, Linear, ReLU, Linear; PyTorch names and shapes, F32, format "pt"', () => {
    const net = simpleConvNet({ backend: b, seed: 3 });
    const file = decodeSafetensors(net.saveParams({ layout: 'pytorch' }));
    expect(file.metadata).toEqual({ format: 'pt' });
    expect([...file.tensors].map(([k, t]) => [k, t.shape])).toEqual([
      ['0.weight', [30, 1, 5, 5]], ['0.bias', [30]], ['4.weight', [100, 4320]], ['4.bias', [100]], ['6.weight', [10, 100]], ['6.bias', [10]],
    ]);
    expect(sameBits(file.tensors.get('0.weight')!.data, net.params.W1.toArray())).toBe(true);
    // nn.Linear's weight (out, in) is Affine's W (in, out) transposed
    const W2 = net.params.W2.toArray();
    const w = file.tensors.get('4.weight')!.data;
    for (const [o, d] of [[0, 0], [3, 17], [99, 4319], [42, 2000]]) expect(w[o * 4320 + d]).toBe(W2[d * 100 + o]);
  });

  it('DeepConvNet: the dropouts\' factor 0.5 is carried by the last Linear (weight 0.25, bias 0.5)', () => {
    const net = deepConvNet({ backend: b, seed: 1 });
    randomize(net, 5);
    const file = decodeSafetensors(net.saveParams({ layout: 'pytorch' }));
    expect([...file.tensors.keys()]).toEqual(['0', '2', '5', '7', '10', '12', '16', '19'].flatMap((i) => [`${i}.weight`, `${i}.bias`]));
    expect(file.tensors.get('16.weight')!.shape).toEqual([50, 1024]);
    const W8 = net.params.W8.toArray();
    const b8 = net.params.b8.toArray();
    const w = file.tensors.get('19.weight')!.data;
    for (let o = 0; o < 10; o++) for (let d = 0; d < 50; d++) expect(w[o * 50 + d]).toBe(W8[d * 10 + o] * 0.25);
    expect(Array.from(file.tensors.get('19.bias')!.data)).toEqual(Array.from(b8, (v) => v * 0.5));
    expect(sameBits(file.tensors.get('16.bias')!.data, net.params.b7.toArray())).toBe(true);
  });

  it('the README shows the nn.Sequential of SimpleConvNet and of the DeepConvNet preset exactly', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const net of [simpleConvNet({ backend: b }), deepConvNet({ backend: b })]) expect(readme).toContain(torchSequentialCode(net.torchLayout()));
  });

  it('BatchNormalization on images is Flatten + BatchNorm1d(C*H*W), with Unflatten before the next pooling', () => {
    const net = new Sequential({ backend: b, inputDim: [1, 12, 12], layers: MIXED_LAYERS });
    const layout = net.torchLayout();
    expect(layout.modules).toEqual([
      'nn.Conv2d(1, 4, kernel_size=3, stride=1, padding=1)', 'nn.Flatten()', 'nn.BatchNorm1d(576, eps=0.000001, momentum=0.1)',
      'nn.ReLU()', 'nn.Unflatten(1, (4, 12, 12))', 'nn.AvgPool2d(kernel_size=3, stride=2, padding=1)', 'nn.Dropout(p=0.3)',
      'nn.Conv2d(4, 6, kernel_size=3, stride=1, padding=0)', 'nn.Sigmoid()', 'nn.MaxPool2d(kernel_size=2, stride=2, padding=0)',
      'nn.Flatten()', 'nn.Linear(24, 20)', 'nn.BatchNorm1d(20, eps=0.00001, momentum=0.2)', 'nn.ReLU()', 'nn.Dropout(p=0.2)', 'nn.Linear(20, 10)',
    ]);
    expect(layout.entries.map((e) => `${e.torchName}=${e.source.name}*${e.scale}`)).toEqual([
      '0.weight=W1*1', '0.bias=b1*1', '2.weight=gamma1*1', '2.bias=beta1*1', '2.running_mean=runningMean1*1', '2.running_var=runningVar1*1',
      '7.weight=W2*0.7', '7.bias=b2*1', '11.weight=W3*1', '11.bias=b3*1',
      '12.weight=gamma2*1', '12.bias=beta2*1', '12.running_mean=runningMean2*1', '12.running_var=runningVar2*1', '15.weight=W4*0.8', '15.bias=b4*1',
    ]);
    expect([...layout.ignored]).toEqual(['2.num_batches_tracked', '12.num_batches_tracked']);
  });

  it('refuses what PyTorch cannot express: a dropout with no Convolution/Affine to carry its factor, pooling padded beyond half the window', () => {
    const lonely = new Sequential({ backend: b, inputDim: [6], layers: [
      { type: 'Affine', outputSize: 5 }, { type: 'Sigmoid' }, { type: 'Dropout', ratio: 0.4 }, { type: 'BatchNormalization' }, { type: 'Affine', outputSize: 3 }] });
    expect(() => lonely.saveParams({ layout: 'pytorch' })).toThrow(/^Sequential\.saveParams: Dropout1 scales by 0\.6 in inference .*nn\.Dropout does not/);
    // ratio 0 scales by nothing
    new Sequential({ backend: b, inputDim: [6], layers: [{ type: 'Sigmoid' }, { type: 'Dropout', ratio: 0 }, { type: 'BatchNormalization' }, { type: 'Affine', outputSize: 3 }] })
      .saveParams({ layout: 'pytorch' });
    const padded = new Sequential({ backend: b, inputDim: [1, 8, 8], layers: [{ type: 'Pooling', size: 3, pad: 2 }, { type: 'Affine', outputSize: 2 }] });
    expect(() => padded.saveParams({ layout: 'pytorch' })).toThrow(/Pooling1 pads by 2 around a 3x3 window; PyTorch's pooling allows at most half the window \(1\)/);
  });

  it('refuses options other than { layout: \'wasm-cnn\' | \'pytorch\' }', () => {
    const net = tinyNet(b);
    expect(() => net.saveParams({ layout: 'onnx' as 'pytorch' })).toThrow(/SimpleConvNet\.saveParams: layout must be 'wasm-cnn' or 'pytorch', got "onnx"/);
    expect(() => net.loadParams(net.saveParams(), { format: 'pt' } as object)).toThrow(/SimpleConvNet\.loadParams: unknown option "format"/);
    expect(() => net.saveParams('pytorch' as unknown as object)).toThrow(/options must be an object \{ layout \}/);
    expect(sameBits(decodeSafetensors(net.saveParams({ layout: 'wasm-cnn' })).tensors.get('W1')!.data, net.params.W1.toArray())).toBe(true);
  });
});

describe('round trips and foreign metadata', () => {
  it('save -> load in the PyTorch layout is bitwise for SimpleConvNet and DeepConvNet (dropout 0.5), the same function for the mixed model', () => {
    const x = randomInput([3, 1, 28, 28], 4);
    for (const make of [(s: number) => simpleConvNet({ backend: b, seed: s, weightInitStd: 'he' }), (s: number) => deepConvNet({ backend: b, seed: s })]) {
      const src = make(1);
      randomize(src, 2);
      const dst = make(9);
      dst.loadParams(src.saveParams({ layout: 'pytorch' }), { layout: 'pytorch' });
      for (const [k, v] of Object.entries(paramsOf(src))) expect(sameBits(dst.params[k].toArray(), v), k).toBe(true);
      expect(sameBits(dst.predict(x).data, src.predict(x).data)).toBe(true);
    }
    const src = new Sequential({ backend: b, inputDim: [1, 12, 12], layers: MIXED_LAYERS, seed: 1 });
    randomize(src, 3);
    const dst = new Sequential({ backend: b, inputDim: [1, 12, 12], layers: MIXED_LAYERS, seed: 2 });
    dst.loadParams(src.saveParams({ layout: 'pytorch' }), { layout: 'pytorch' });
    for (const [k, t] of Object.entries({ ...src.params, ...src.buffers })) {
      const want = t.toArray();
      const got = (dst.params[k] ?? dst.buffers[k]).toArray();
      // W2 and W4 carry the factors 0.7 and 0.8: back within one float32 rounding
      for (let i = 0; i < want.length; i++) expect(Math.abs(got[i] - want[i]), `${k}[${i}]`).toBeLessThanOrEqual(Math.abs(want[i]) * 2 ** -23);
    }
    const xs = randomInput([3, 1, 12, 12], 5);
    const a = src.predict(xs).data;
    const c = dst.predict(xs).data;
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - c[i])).toBeLessThan(1e-5);
  });

  it('a file with foreign metadata ({"format": "pt"}, or a foreign "config") loads by its tensors; modelFromSafetensors needs wasm-cnn\'s config', () => {
    const src = tinyNet(b, { seed: 4 });
    const { tensors } = decodeSafetensors(src.saveParams());
    const list = [...tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data }));
    const metas: Record<string, string>[] = [{ format: 'pt' }, { format: 'np', config: 'not json at all' }, { config: '{"type":"ResNet"}' }, {}];
    for (const meta of metas) {
      const net = tinyNet(b, { seed: 5 });
      net.loadParams(encodeSafetensors(list, meta));
      expect(paramsOf(net)).toEqual(paramsOf(src));
    }
    expect(() => modelFromSafetensors(encodeSafetensors(list, { format: 'pt' }), { backend: b }))
      .toThrow(/no __metadata__\.config.*\(its format is "pt": a PyTorch state dict\? Build the model and call loadParams\(bytes, \{ layout: 'pytorch' \}\)\)/);
  });

  it('num_batches_tracked (I64, as PyTorch writes it) is ignored; anywhere else it is an extra tensor', () => {
    const src = new Sequential({ backend: b, inputDim: [1, 12, 12], layers: MIXED_LAYERS, seed: 1 });
    randomize(src, 3);
    const count = new Uint8Array(new BigInt64Array([37n]).buffer);
    const good = edit(src.saveParams({ layout: 'pytorch' }), (t) => {
      t.splice(6, 0, { name: '2.num_batches_tracked', dtype: 'I64', shape: [], bytes: count });
      t.push({ name: '12.num_batches_tracked', dtype: 'I64', shape: [], bytes: count });
    });
    const dst = new Sequential({ backend: b, inputDim: [1, 12, 12], layers: MIXED_LAYERS, seed: 2 });
    dst.loadParams(good, { layout: 'pytorch' });
    expect(sameBits(dst.buffers.runningVar2.toArray(), src.buffers.runningVar2.toArray())).toBe(true);
    const stray = edit(good, (t) => t.push({ name: '7.num_batches_tracked', dtype: 'I64', shape: [], bytes: count }));
    expect(() => dst.loadParams(stray, { layout: 'pytorch' })).toThrow(/has dtype "I64"; wasm-cnn stores and reads only F32/);
  });
});

describe('bad state dicts are refused and change nothing', () => {
  let net: ReturnType<typeof simpleConvNet>;
  let before: Record<string, Float32Array>;
  let good: Uint8Array;
  beforeAll(() => {
    net = simpleConvNet({ backend: b, seed: 1 });
    before = paramsOf(net);
    good = simpleConvNet({ backend: b, seed: 2 }).saveParams({ layout: 'pytorch' });
  });
  const refused = (bytes: Uint8Array, message: RegExp, type: typeof WasmCnnError = WasmCnnError, layout: 'pytorch' | 'wasm-cnn' = 'pytorch') => {
    let err: unknown;
    try {
      net.loadParams(bytes, { layout });
    } catch (e) {
      err = e;
    }
    expect(err, `expected a refusal matching ${message}`).toBeInstanceOf(type);
    expect((err as Error).message).toMatch(/^SimpleConvNet\.loadParams: /);
    expect((err as Error).message).toMatch(message);
    const now = paramsOf(net);
    for (const k of Object.keys(before)) expect(sameBits(now[k], before[k]), k).toBe(true);
  };

  it('a wrong shape names the PyTorch tensor, its module, the file\'s and the expected shape', () => {
    refused(edit(good, (t) => {
      const w = t.find((e) => e.name === '4.weight')!;
      w.shape = [4320, 100]; // Affine's layout instead of nn.Linear's
    }), /tensor "4\.weight" \(nn\.Linear\(4320, 100\)\) has shape \(4320, 100\) in the file, expected \(100, 4320\)/, ShapeError);
    refused(edit(good, (t) => {
      t.find((e) => e.name === '0.bias')!.shape = [5, 6];
    }), /tensor "0\.bias" \(nn\.Conv2d\(1, 30, kernel_size=5, stride=1, padding=0\)\) has shape \(5, 6\) in the file, expected \(30\)/, ShapeError);
  });

  it('missing, extra and prefixed tensors; a wasm-cnn file; F64 values; NaN; truncation', () => {
    refused(edit(good, (t) => t.splice(t.findIndex((e) => e.name === '6.bias'), 1)), /the file has no tensor "6\.bias" \(nn\.Linear\(100, 10\), shape \(10\)\)/, ShapeError);
    refused(edit(good, (t) => t.push({ name: '7.weight', dtype: 'F32', shape: [1], bytes: f32([1]) })),
      /the file has tensor "7\.weight" that the equivalent nn\.Sequential does not have \(it has 0\.weight, 0\.bias, 4\.weight/, ShapeError);
    refused(edit(good, (t) => t.forEach((e) => (e.name = `net.${e.name}`))), /no tensor "0\.weight" .*the file has "net\.0\.weight": the names must be the nn\.Sequential's own, without "net\."/, ShapeError);
    refused(simpleConvNet({ backend: b, seed: 2 }).saveParams(), /no tensor "0\.weight" .*this is a wasm-cnn file: load it without \{ layout: 'pytorch' \}/, ShapeError);
    refused(edit(good, (t) => {
      const e = t.find((x) => x.name === '6.bias')!;
      e.dtype = 'F64';
      e.bytes = new Uint8Array(Float64Array.from({ length: 10 }, () => 0.5).buffer);
    }), /tensor "6\.bias" has dtype "F64"; wasm-cnn stores and reads only F32/, FormatError);
    refused(edit(good, (t) => {
      t.find((x) => x.name === '4.bias')!.bytes.set(f32([NaN]), 8);
    }), /tensor "4\.bias" has a non-finite value \(NaN\) at index 2/, FormatError);
    refused(good.subarray(0, good.length - 3), /not a valid safetensors file/, FormatError);
  });

  it('a PyTorch state dict loaded without the layout says how to load it', () => {
    refused(good, /the file has tensors "0\.weight", .* that this model does not have .*it looks like a PyTorch state dict: load it with \{ layout: 'pytorch' \}/, ShapeError, 'wasm-cnn');
  });
});
