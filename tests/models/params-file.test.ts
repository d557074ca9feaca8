// saveParams / loadParams / modelFromSafetensors: round trips are bitwise, and every
// bad file (corrupt header, truncated data, wrong shapes, another architecture, NaN)
// is refused with a clear message, leaving the model exactly as it was.
import { describe, it, expect, beforeAll } from 'vitest';
import { createBackend } from '../../src/backend/create.js';
import type { Backend } from '../../src/backend/backend.js';
import { FormatError, ShapeError, WasmCnnError } from '../../src/errors.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.js';
import { SimpleConvNet, Sequential, modelFromSafetensors } from '../../src/models/index.js';
import { BACKENDS } from '../helpers/harness.js';
import { tinyNet, randomInput, paramsOf, sameBits } from './helpers.js';

/** Re-encodes a saved file with edits to its tensors and/or metadata. */
function edit(bytes: Uint8Array, fn: (t: { name: string; shape: number[]; data: Float32Array }[], meta: Record<string, string>) => void): Uint8Array {
  const { tensors, metadata } = decodeSafetensors(bytes);
  const list = [...tensors].map(([name, t]) => ({ name, shape: [...t.shape], data: Float32Array.from(t.data) }));
  const meta = { ...metadata };
  fn(list, meta);
  return encodeSafetensors(list, meta);
}

describe.each(BACKENDS)('parameter files on %s', (name) => {
  let b: Backend;
  beforeAll(async () => {
    b = await createBackend(name);
  });

  it('save -> load into a fresh network gives bitwise identical predictions', () => {
    const src = tinyNet(b, { seed: 1 });
    const x = randomInput([4, 1, 7, 7], 3);
    // train a little so the parameters are not just the seed's
    for (let i = 0; i < 3; i++) {
      const g = src.gradient(x, new Int32Array([0, 1, 2, 3]));
      for (const [k, p] of Object.entries(src.params)) b.kernels.sgd_f32(p.ptr, g[k].ptr, p.size, 0.5);
    }
    const bytes = src.saveParams();
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect([...tensors.keys()]).toEqual(['W1', 'b1', 'W2', 'b2', 'W3', 'b3']);
    expect(tensors.get('W1')!.shape).toEqual([3, 1, 3, 3]);
    expect(tensors.get('W2')!.shape).toEqual([12, 5]);
    expect(metadata.format).toBe('wasm-cnn');
    expect(JSON.parse(metadata.config)).toEqual(src.config());

    const dst = tinyNet(b, { seed: 2 });
    expect(sameBits(dst.predict(x).toArray(), src.predict(x).toArray())).toBe(false);
    dst.loadParams(bytes);
    for (const [k, v] of Object.entries(paramsOf(src))) expect(sameBits(dst.params[k].toArray(), v), k).toBe(true);
    expect(sameBits(dst.predict(x).toArray(), src.predict(x).toArray())).toBe(true);

    const rebuilt = modelFromSafetensors(bytes, { backend: b });
    expect(rebuilt).toBeInstanceOf(SimpleConvNet);
    expect(rebuilt.config()).toEqual(src.config());
    expect(sameBits(rebuilt.predict(x).toArray(), src.predict(x).toArray())).toBe(true);
  });

  it('a file from the other backend loads too (same bits)', async () => {
    const other = await createBackend(name === 'wasm' ? 'js' : 'wasm');
    const src = tinyNet(other, { seed: 9 });
    const dst = tinyNet(b, { seed: 1 });
    dst.loadParams(src.saveParams());
    expect(paramsOf(dst)).toEqual(paramsOf(src));
  });

  describe('bad files are refused and change nothing', () => {
    let net: SimpleConvNet;
    let before: Record<string, Float32Array>;
    let good: Uint8Array;
    beforeAll(() => {
      net = tinyNet(b, { seed: 1 });
      before = paramsOf(net);
      good = tinyNet(b, { seed: 2 }).saveParams();
    });
    const refused = (bytes: Uint8Array, message: RegExp, type: typeof WasmCnnError = WasmCnnError) => {
      let err: unknown;
      try {
        net.loadParams(bytes);
      } catch (e) {
        err = e;
      }
      expect(err, `expected a refusal matching ${message}`).toBeInstanceOf(type);
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).toMatch(/^SimpleConvNet\.loadParams: /);
      const now = paramsOf(net);
      for (const k of Object.keys(before)) expect(sameBits(now[k], before[k]), k).toBe(true);
    };

    it('truncated files', () => {
      refused(good.subarray(0, good.length - 1), /safetensors/, FormatError);
      refused(good.subarray(0, good.length - 200), /safetensors/, FormatError);
      refused(good.subarray(0, 100), /safetensors/, FormatError);
      refused(good.subarray(0, 5), /safetensors/, FormatError);
      refused(new Uint8Array(0), /safetensors/, FormatError);
    });

    it('a flipped byte anywhere in the header', () => {
      const headerLen = Number(new DataView(good.buffer, good.byteOffset).getBigUint64(0, true));
      const fileParams = paramsOf(tinyNet(b, { seed: 2 }));
      // a flip in "format":"wasm-cnn" makes the metadata foreign: then the tensors alone are checked
      const header = new TextDecoder().decode(good.subarray(8, 8 + headerLen));
      const format = 8 + header.indexOf('"format":"wasm-cnn"');
      let accepted = 0;
      for (let i = 0; i < 8 + headerLen; i++) {
        const bad = good.slice();
        bad[i] ^= 0x01;
        try {
          net.loadParams(bad);
        } catch (e) {
          expect(e).toBeInstanceOf(WasmCnnError);
          const now = paramsOf(net);
          for (const k of Object.keys(before)) expect(sameBits(now[k], before[k]), `byte ${i}: ${k}`).toBe(true);
          continue;
        }
        // only flips that change nothing architectural (digits of the seed or of the init
        // scale) may load, and then they load exactly the file's values
        if (i < format || i >= format + '"format":"wasm-cnn"'.length) accepted++;
        expect(paramsOf(net), `byte ${i}`).toEqual(fileParams);
        net.setParams(before);
      }
      expect(accepted).toBeLessThanOrEqual(3);
      // targeted: the JSON itself, a tensor name, the header length
      const bad = good.slice();
      bad[8] ^= 0x01;
      refused(bad, /safetensors/, FormatError);
      const len = good.slice();
      len[0] ^= 0x40;
      refused(len, /safetensors/, FormatError);
    });

    it('wrong tensor shapes, missing and extra tensors, non-finite values', () => {
      refused(edit(good, (t) => {
        const w2 = t.find((e) => e.name === 'W2')!;
        w2.shape = [6, 10];
      }), /tensor "W2" has shape \(6, 10\) in the file, but this model's W2 is \(12, 5\)/, ShapeError);
      refused(edit(good, (t) => t.splice(t.findIndex((e) => e.name === 'b3'), 1)), /no tensor "b3" \(expected shape \(4\)\)/, ShapeError);
      refused(edit(good, (t) => t.push({ name: 'W4', shape: [1], data: new Float32Array(1) })), /tensor "W4" that this model does not have/, ShapeError);
      refused(edit(good, (t) => {
        t[0].data[3] = NaN;
      }), /tensor "W1" has a non-finite value \(NaN\) at index 3/, FormatError);
      // foreign metadata is information, not an error: such a file is checked by its tensors alone
      net.loadParams(edit(good, (_t, m) => {
        m.format = 'pickle';
      }));
      expect(paramsOf(net)).toEqual(paramsOf(tinyNet(b, { seed: 2 })));
      net.setParams(before);
      refused(edit(good, (_t, m) => {
        m.config = '{not json';
      }), /config is not valid JSON/, FormatError);
      refused(edit(good, (_t, m) => {
        delete m.config;
      }), /format "wasm-cnn" but has no "config"/, FormatError);
    });

    it('a file for another architecture', () => {
      refused(tinyNet(b, { hiddenSize: 6 }).saveParams(), /different architecture: hiddenSize is 6 in the file but 5 in this model/, ShapeError);
      refused(tinyNet(b, { convParam: { filterNum: 3, filterSize: 3, pad: 1, stride: 2 } }).saveParams(),
        /different architecture: convParam\.pad is 1 in the file but 0 in this model/, ShapeError);
      refused(new Sequential({ backend: b, inputDim: [1, 7, 7], layers: [{ type: 'Affine', outputSize: 4 }] }).saveParams(),
        /different architecture: type is "Sequential" in the file but "SimpleConvNet" in this model/, ShapeError);
      // without a config, the tensors alone tell
      refused(edit(tinyNet(b, { hiddenSize: 6 }).saveParams(), (_t, m) => {
        delete m.config;
        delete m.format;
      }), /tensor "W2" has shape \(12, 6\) in the file, but this model's W2 is \(12, 5\)/, ShapeError);
    });

    it('modelFromSafetensors refuses files without a config or with a bad one', () => {
      expect(() => modelFromSafetensors(edit(good, (_t, m) => {
        delete m.config;
        delete m.format;
      }), { backend: b })).toThrow(/no __metadata__\.config/);
      expect(() => modelFromSafetensors(edit(good, (_t, m) => {
        m.config = JSON.stringify({ type: 'ResNet' });
      }), { backend: b })).toThrow(/unknown model type "ResNet"/);
      expect(() => modelFromSafetensors(good.subarray(0, 50), { backend: b })).toThrow(FormatError);
    });
  });
});
