// Helpers of the ONNX suites: ONNX Runtime (onnxruntime-web's Wasm build, in Node), MNIST
// images, graphs built by hand in the layouts other exporters write.
import * as ort from 'onnxruntime-web';
import { loadMnist } from '../../src/data/mnist-node.js';
import type { Tensor } from '../../src/tensor.js';
import { ATTR, DT_FLOAT, DT_INT64, encodeModel, type OnnxAttribute, type OnnxNode, type OnnxTensor } from '../../src/io/onnx/onnx-proto.js';

ort.env.wasm.numThreads = 1;

/** Runs an ONNX model in ONNX Runtime on one float32 input; returns its single output. */
export async function runOrt(bytes: Uint8Array, x: Float32Array, shape: number[]): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x, shape) });
    const t = out[session.outputNames[0]];
    return { data: t.data as Float32Array, dims: t.dims };
  } finally {
    await session.release();
  }
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

let mnist: Tensor | undefined;
/** The first `n` MNIST test images, (n, 1, 28, 28) in [0, 1]. */
export function mnistImages(n: number): Float32Array {
  mnist ??= loadMnist({ flatten: false, trainLimit: 0, testLimit: 200 }).xTest;
  if (n > mnist.shape[0]) throw new Error(`only ${mnist.shape[0]} images loaded`);
  return mnist.data.slice(0, n * 784);
}

// ---- hand-built graphs -------------------------------------------------------------

export const attrInt = (name: string, i: number): OnnxAttribute => ({ name, type: ATTR.INT, i, floats: [], ints: [], other: false });
export const attrInts = (name: string, ints: number[]): OnnxAttribute => ({ name, type: ATTR.INTS, ints, floats: [], other: false });
export const attrFloat = (name: string, f: number): OnnxAttribute => ({ name, type: ATTR.FLOAT, f, floats: [], ints: [], other: false });
export const attrString = (name: string, s: string): OnnxAttribute => ({ name, type: ATTR.STRING, s, floats: [], ints: [], other: false });

export function f32(name: string, dims: number[], data: ArrayLike<number>, packed = false): OnnxTensor {
  const n = dims.reduce((a, d) => a * d, 1);
  if (n !== data.length) throw new Error(`${name}: ${n} != ${data.length}`);
  if (packed) return { name, dims, dataType: DT_FLOAT, floatData: [], int64Data: [], int32Data: [], external: false, at: 0, raw: new Uint8Array(Float32Array.from(data).buffer) };
  return { name, dims, dataType: DT_FLOAT, floatData: Array.from(data), int64Data: [], int32Data: [], external: false, at: 0 };
}

export function i64(name: string, values: number[]): OnnxTensor {
  return { name, dims: [values.length], dataType: DT_INT64, floatData: [], int64Data: values, int32Data: [], external: false, at: 0 };
}

export function node(opType: string, inputs: string[], outputs: string[], attributes: OnnxAttribute[] = [], name = ''): OnnxNode {
  return { name, opType, domain: '', inputs, outputs, attributes };
}

export interface GraphSpec {
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  input: { name: string; shape: (number | string)[] };
  output: { name: string; shape: (number | string)[] };
  /** List the initializers as graph inputs too (older exporters, IR < 4). */
  initializersAsInputs?: boolean;
  opset?: number;
  irVersion?: number;
}

export function graphBytes(g: GraphSpec): Uint8Array {
  const inputs = [{ name: g.input.name, elemType: DT_FLOAT, shape: g.input.shape }];
  if (g.initializersAsInputs) for (const t of g.initializers) inputs.push({ name: t.name, elemType: t.dataType, shape: t.dims });
  return encodeModel({
    irVersion: g.irVersion ?? 8, producerName: 'test', producerVersion: '', metadata: [],
    opsets: [{ domain: '', version: g.opset ?? 17 }],
    graph: { name: 'g', nodes: g.nodes, initializers: g.initializers, inputs, outputs: [{ name: g.output.name, elemType: DT_FLOAT, shape: g.output.shape }], sparseInitializers: 0 },
  });
}

/** Deterministic values in [-scale, scale). */
export function values(n: number, seed: number, scale = 0.3): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s >>> 8) / 16777216 * 2 - 1) * scale;
  }
  return out;
}
