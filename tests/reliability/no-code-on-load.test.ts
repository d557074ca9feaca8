// Loading never evaluates code: a safetensors header full of JS-looking strings, __proto__,
// constructor and prototype keys is data. Nothing is evaluated, no prototype is polluted,
// the keys come back as ordinary own properties / map entries.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createBackend } from '../../src/backend/create.js';
import type { Backend } from '../../src/backend/backend.js';
import { WasmCnnError } from '../../src/errors.js';
import { configFromMetadata, decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.js';
import { modelFromSafetensors } from '../../src/models/index.js';
import { expectLibError, paramBytes, sameBytes, tinyNet } from './helpers.js';

const g = globalThis as Record<string, unknown>;
const FLAG = '__wasmCnnPwned';
/** Strings that set the flag if anything ever evaluated them. */
const PAYLOADS = [
  `globalThis.${FLAG} = 1`,
  `'); globalThis.${FLAG} = 1; //`,
  `\${globalThis.${FLAG} = 1}`,
  `"}; globalThis.${FLAG} = 1; ({"`,
  `require('child_process').execSync('false'); globalThis.${FLAG} = 1`,
  `function () { globalThis.${FLAG} = 1 }()`,
  `(() => { globalThis.${FLAG} = 1 })()`,
];
const SPECIAL = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', 'then'];

function cleanPrototypes(): void {
  for (const proto of [Object.prototype, Array.prototype, Function.prototype, Map.prototype]) {
    for (const k of ['polluted', 'filterNum', 'hiddenSize', FLAG, '0']) expect(Object.prototype.hasOwnProperty.call(proto, k), `${k} on a prototype`).toBe(false);
  }
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(g[FLAG]).toBeUndefined();
}

/** A header written by hand (the encoder refuses "__metadata__" as a tensor name, not these). */
function rawFile(header: string, data: Uint8Array): Uint8Array {
  const h = new TextEncoder().encode(header);
  const n = Math.ceil(h.length / 8) * 8;
  const out = new Uint8Array(8 + n + data.length).fill(0x20);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  out.set(h, 8);
  out.set(data, 8 + n);
  return out;
}

describe('loading never evaluates code', () => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await createBackend('wasm');
  });
  afterEach(() => {
    cleanPrototypes();
    vi.restoreAllMocks();
  });

  it('tensor names and metadata that look like code or prototype keys are plain data', () => {
    const evalSpy = vi.spyOn(globalThis, 'eval');
    const names = [...SPECIAL, ...PAYLOADS];
    const tensors = names.map((name, i) => ({ name, shape: [1], data: Float32Array.of(i) }));
    const metadata = Object.fromEntries([...SPECIAL, ...PAYLOADS].map((k, i) => [k, PAYLOADS[i % PAYLOADS.length]]));
    // Object.fromEntries makes "__proto__" an own property, as a JSON header would
    expect(Object.prototype.hasOwnProperty.call(metadata, '__proto__')).toBe(true);
    const bytes = encodeSafetensors(tensors, metadata);
    const file = decodeSafetensors(bytes);
    expect([...file.tensors.keys()]).toEqual(names);
    names.forEach((n, i) => expect(file.tensors.get(n)!.data[0]).toBe(i));
    expect(Object.getPrototypeOf(file.metadata)).toBe(Object.prototype);
    for (const k of SPECIAL) {
      expect(Object.prototype.hasOwnProperty.call(file.metadata, k), k).toBe(true);
      expect(typeof file.metadata[k]).toBe('string');
    }
    for (const n of names) expect(file.tensors.get(n)!.data).toBeInstanceOf(Float32Array);
    expect(evalSpy).not.toHaveBeenCalled();
  });

  it('a hand-written header with __proto__ objects and duplicate-looking keys cannot reach a prototype', () => {
    const data = new Float32Array(2);
    const bytes = rawFile(
      `{"__metadata__":{"__proto__":"{\\"polluted\\":true}","constructor":"x"},` +
      `"__proto__":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"constructor":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`,
      new Uint8Array(data.buffer));
    const file = decodeSafetensors(bytes);
    expect([...file.tensors.keys()]).toEqual(['__proto__', 'constructor']);
    expect(file.metadata.__proto__).toBe('{"polluted":true}');
    // a tensor entry that is itself a __proto__ object is refused as a malformed entry, not merged
    const e = (() => {
      try {
        decodeSafetensors(rawFile('{"W1":{"__proto__":{"dtype":"F32"},"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', new Uint8Array(4)));
      } catch (err) {
        return err;
      }
      return undefined;
    })();
    expectLibError(e, WasmCnnError, /tensor "W1" has unknown field "__proto__"/);
  });

  it('a model config with __proto__ / constructor keys or code strings is refused or ignored as data, never run', () => {
    const net = tinyNet(backend);
    const before = paramBytes(net);
    const valid = net.saveParams();
    const config = net.config() as Record<string, unknown>;
    const evil = [
      `{"type":"SimpleConvNet","__proto__":{"polluted":true,"hiddenSize":5},"inputDim":[1,7,7],"convParam":{"filterNum":3,"filterSize":3,"pad":0,"stride":1},"hiddenSize":5,"outputSize":4,"weightInitStd":0.3,"seed":7}`,
      `{"type":"SimpleConvNet","constructor":{"prototype":{"polluted":true}},"inputDim":[1,7,7],"convParam":{"filterNum":3,"filterSize":3,"pad":0,"stride":1},"hiddenSize":5,"outputSize":4,"weightInitStd":0.3,"seed":7}`,
      `{"type":"SimpleConvNet","inputDim":[1,7,7],"convParam":{"__proto__":{"filterNum":3},"filterSize":3,"pad":0,"stride":1},"hiddenSize":5,"outputSize":4,"weightInitStd":0.3,"seed":7}`,
      JSON.stringify({ ...config, type: PAYLOADS[0] }),
      JSON.stringify({ ...config, weightInitStd: PAYLOADS[2] }),
      JSON.stringify({ ...config, seed: PAYLOADS[1] }),
    ];
    const evalSpy = vi.spyOn(globalThis, 'eval');
    for (const c of evil) {
      expect(configFromMetadata({ config: c })).toBeTypeOf('object');
      const tensors = decodeSafetensors(valid).tensors;
      const bytes = encodeSafetensors([...tensors].map(([name, t]) => ({ name, shape: t.shape, data: t.data })), { format: 'wasm-cnn', config: c });
      for (const load of [() => net.loadParams(bytes), () => modelFromSafetensors(bytes, { backend: backend }).dispose()]) {
        try {
          load();
        } catch (e) {
          expectLibError(e, WasmCnnError);
        }
        cleanPrototypes();
      }
      expect(sameBytes(paramBytes(net), before)).toBe(true);
    }
    expect(evalSpy).not.toHaveBeenCalled();
  });

  it('the loading code has no eval, no Function constructor and no JSON reviver', () => {
    const files: string[] = [];
    const walk = (d: string) => {
      for (const f of readdirSync(d)) {
        const p = join(d, f);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith('.ts')) files.push(p);
      }
    };
    for (const d of ['src/io', 'src/data', 'src/models']) walk(d);
    expect(files.length).toBeGreaterThan(8);
    for (const f of files) {
      const src = readFileSync(f, 'utf8');
      expect(src, f).not.toMatch(/\beval\s*\(|new\s+Function\s*\(|\bFunction\s*\(\s*['"`]|JSON\.parse\([^)]*,|\bimport\s*\(\s*[a-z]/);
    }
  });
});
