/**
 * modelFromOnnx: an ONNX model as a Sequential, for graphs that are a chain of the layers
 * this library has, in the layouts exporters write (wasm-cnn's own, PyTorch's Conv - Relu -
 * MaxPool - Flatten - Gemm(transB 1), and TF/Keras-style MatMul + Add, Reshape (N, -1),
 * Transpose to and from NHWC).
 *
 * The graph has one float32 input (N, ...dims), N any (dynamic or fixed), and one output;
 * every node reads the previous node's output (a chain; weights come from initializers or
 * Constant nodes). The library's tensors are NCHW: a Transpose is followed through as a
 * permutation of each sample's values, so an NHWC flatten before MatMul/Gemm becomes the
 * matching reordering of the weight rows; a Transpose that the graph begins with is absorbed
 * (the imported model takes NCHW input). Ops and what they become:
 *
 *   Conv                Convolution (square kernel, equal strides, symmetric pads, auto_pad
 *                       NOTSET/VALID/SAME_* when symmetric, dilations 1, group 1)
 *   MaxPool, AveragePool  Pooling max / avg (square window, equal strides, symmetric pads
 *                       smaller than the window, ceil_mode only where it changes nothing,
 *                       dilations 1; AveragePool count_include_pad 1, or 0 without padding)
 *   GlobalMaxPool, GlobalAveragePool  Pooling over a square H x W plane
 *   Gemm, MatMul        Affine (transA 0, alpha and beta folded in; MatMul on (N, K) only)
 *   Add                 the bias of the Conv/Gemm/MatMul right before it
 *   Mul by a scalar     folded into the Conv/Gemm/MatMul before it, or (through Relu, pooling,
 *                       Flatten, Reshape, Transpose) into the next one's weights; Dropout(r)
 *                       followed by Mul by (1 - r) is the course's Dropout and becomes one
 *   Relu, Sigmoid       Relu, Sigmoid
 *   BatchNormalization  BatchNormalization (inference form: mean and variance are the running
 *                       statistics). The library normalizes per feature (C*H*W of them); ONNX
 *                       per channel: a 4-D one becomes per-feature parameters, each channel's
 *                       repeated over its H*W positions (the same in inference; fine-tuning
 *                       then keeps per-feature statistics)
 *   Flatten (axis 1), Reshape keeping the batch, Identity, Dropout (inference: identity)
 *   Softmax             as the last node only: dropped (predict gives logits, predictProba
 *                       the softmax)
 *
 * Anything else is refused with one FormatError naming the node (index, name, op) and the
 * attribute or input at fault.
 */
import type { Backend } from '../../backend/backend.js';
import { FormatError, WasmCnnError, describeValue } from '../../errors.js';
import { outSize } from '../../geometry.js';
import type { LayerSpec } from '../../models/layer-specs.js';
import { Sequential } from '../../models/sequential.js';
import { checkLoadOptions } from '../../models/loaders.js';
import { ATTR, DT_FLOAT, DT_INT32, DT_INT64, decodeModel, type OnnxAttribute, type OnnxGraph, type OnnxNode, type OnnxTensor } from './onnx-proto.js';

/** Options of modelFromOnnx: the backend the model lives on. */
export interface OnnxImportOptions {
  backend: Backend;
}

/** The most values one sample of an imported model may hold. */
const MAX_VALUES = 1 << 26;
/**
 * The most values of an array the importer builds from declared shapes rather than from the
 * file's own data (a Transpose's permutation, per-channel BatchNormalization parameters spread
 * over a sample): 16 MB each, so a small file cannot make it allocate much more.
 */
const MAX_DERIVED = 1 << 22;

/** What the graph describes, before any backend memory is touched. */
export interface OnnxArchitecture {
  inputDim: number[];
  layers: LayerSpec[];
  /** Parameter and running-statistic values by the model's names (W1, b1, gamma1, runningMean1, ...). */
  values: Record<string, Float32Array>;
}

/** The model an ONNX file describes, with its weights; a bad or unsupported file is a FormatError. */
export function modelFromOnnx(bytes: Uint8Array, options: OnnxImportOptions): Sequential {
  const where = 'modelFromOnnx';
  checkLoadOptions(where, options);
  if (!(bytes instanceof Uint8Array)) throw new WasmCnnError(`${where}: bytes must be a Uint8Array (the .onnx file), got ${describeValue(bytes)}`);
  const arch = readOnnxArchitecture(bytes, where);
  let fileValues = 0;
  for (const v of Object.values(arch.values)) fileValues += v.length;
  let model: Sequential;
  try {
    model = new Sequential({ backend: options.backend, inputDim: arch.inputDim, layers: arch.layers },
      { name: 'Sequential', budget: { maxValues: fileValues, fileValues } });
  } catch (e) {
    if (e instanceof WasmCnnError) throw new FormatError(`${where}: the graph does not describe a model this library can build: ${e.message}`);
    throw e;
  }
  try {
    model.setParams(arch.values);
  } catch (e) {
    model.dispose();
    if (e instanceof WasmCnnError) throw new FormatError(`${where}: the graph's weights do not fit the model: ${e.message}`);
    throw e;
  }
  return model;
}

/** Parses and checks an ONNX file into layer specs and weights (no backend needed). */
export function readOnnxArchitecture(bytes: Uint8Array, where = 'readOnnxArchitecture'): OnnxArchitecture {
  const model = decodeModel(bytes, where);
  if (!model.graph) throw new FormatError(`${where}: the file has no graph (ModelProto field 7); is it an ONNX model?`);
  const opset = model.opsets.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  if (!opset) throw new FormatError(`${where}: the model imports no opset of the default ONNX domain (opset_import)`);
  if (!(opset.version >= 7)) throw new FormatError(`${where}: opset ${opset.version} is not supported (7 or newer)`);
  return new GraphReader(where, model.graph, opset.version).read();
}

/** Shortest decimal that reads back as the same float32 (0.3 for fround(0.3)). */
function f32Decimal(v: number): number {
  for (let p = 1; p <= 9; p++) {
    const d = Number(v.toPrecision(p));
    if (Math.fround(d) === v) return d;
  }
  return v;
}

const prod = (a: readonly number[]) => a.reduce((x, d) => x * d, 1);
const fmt = (a: readonly number[]) => `(${a.join(', ')})`;

interface LinearLayer {
  kind: 'conv' | 'affine';
  W: Float32Array;
  b: Float32Array;
  outputs: number;
}

class GraphReader {
  private readonly consts = new Map<string, OnnxTensor>();
  private readonly consumers = new Map<string, number>();
  private specs: LayerSpec[] = [];
  private values: Record<string, Float32Array> = {};
  private weighted = 0;
  private normalized = 0;
  private cur = '';
  /** Per-sample shape of the current value in the graph. */
  private shape: number[] = [];
  /** ONNX flat index (per sample) -> the library's flat index; null is the identity. */
  private order: Int32Array | null = null;
  private inputDim: number[] = [];
  /** Per-sample shape of the library's tensor after the layers so far. */
  private libShape: number[] = [];
  /** Only shape-agnostic layers so far: the input may still take the graph's shape. */
  private shapeFree = true;
  private last: LinearLayer | null = null;
  private pendingScale = 1;
  private pendingDropout: number | null = null;
  private at = '';

  constructor(private readonly where: string, private readonly graph: OnnxGraph, private readonly opset: number) {}

  private fail(message: string): never {
    throw new FormatError(`${this.where}: ${this.at ? `${this.at}: ` : ''}${message}`);
  }

  read(): OnnxArchitecture {
    const g = this.graph;
    if (g.sparseInitializers) this.fail('sparse initializers are not supported');
    for (const t of g.initializers) {
      if (this.consts.has(t.name)) this.fail(`initializer "${t.name}" appears twice`);
      this.consts.set(t.name, t);
    }
    const inputs = g.inputs.filter((v) => !this.consts.has(v.name));
    if (inputs.length !== 1) {
      this.fail(`the graph must have exactly one input that is not an initializer, it has ${inputs.length}${inputs.length ? ` (${inputs.map((v) => JSON.stringify(v.name)).join(', ')})` : ''}`);
    }
    const input = inputs[0];
    if (input.elemType !== DT_FLOAT) this.fail(`input "${input.name}" must be a float32 tensor, its type is ${input.elemType === undefined ? 'not a tensor type' : `data type ${input.elemType}`}`);
    if (!input.shape) this.fail(`input "${input.name}" has no shape; the importer needs (N, ...) with every dimension but N known`);
    if (input.shape.length < 2) this.fail(`input "${input.name}" must be (N, ...) with at least 2 dimensions, got rank ${input.shape.length}`);
    const dims = input.shape.slice(1);
    dims.forEach((d, i) => {
      if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 1) {
        this.fail(`input "${input.name}" dimension ${i + 1} is ${d === null ? 'unknown' : JSON.stringify(d)}; every dimension but the batch must be a positive number`);
      }
    });
    if (prod(dims as number[]) > MAX_VALUES) this.fail(`input "${input.name}" ${fmt(dims as number[])} holds more than ${MAX_VALUES} values per sample`);
    if (g.outputs.length !== 1) this.fail(`the graph must have exactly one output, it has ${g.outputs.length}`);
    for (const n of g.nodes) for (const i of n.inputs) if (i) this.consumers.set(i, (this.consumers.get(i) ?? 0) + 1);
    for (const o of g.outputs) this.consumers.set(o.name, (this.consumers.get(o.name) ?? 0) + 1);
    this.cur = input.name;
    this.shape = [...dims as number[]];
    this.inputDim = [...this.shape];
    this.libShape = [...this.shape];
    g.nodes.forEach((n, i) => {
      this.at = `node ${i} (${n.name ? `"${n.name}", ` : ''}${n.opType || 'no op_type'})`;
      this.node(n);
    });
    this.at = '';
    if (this.cur !== g.outputs[0].name) {
      this.fail(`the graph output "${g.outputs[0].name}" is not the end of the chain of nodes ("${this.cur}")`);
    }
    if (this.pendingScale !== 1) this.fail(`a Mul by ${this.pendingScale} at the end of the graph cannot be folded into a layer`);
    if (this.order) this.fail('the graph ends with a Transpose the library cannot follow');
    if (this.specs.length === 0) this.fail('the graph has no layers');
    return { inputDim: this.inputDim, layers: this.specs, values: this.values };
  }

  // ---- tensors -------------------------------------------------------------------------

  private constant(name: string | undefined, what: string): OnnxTensor {
    if (!name) this.fail(`${what} is missing`);
    const t = this.consts.get(name);
    if (!t) this.fail(`${what} "${name}" must be an initializer or a Constant (computed values are not supported)`);
    if (t.external) this.fail(`${what} "${name}" keeps its data in an external file, which is not supported`);
    return t;
  }

  private tensorSize(t: OnnxTensor, what: string): number {
    let n = 1;
    for (const d of t.dims) {
      if (!Number.isSafeInteger(d) || d < 0) this.fail(`${what} "${t.name}" has dimension ${d}`);
      n *= d;
      if (n > MAX_VALUES) this.fail(`${what} "${t.name}" ${fmt(t.dims)} holds more than ${MAX_VALUES} values`);
    }
    return n;
  }

  /** The values of a float32 tensor (a fresh array), its size checked against the bytes behind it. */
  private floats(t: OnnxTensor, what: string): Float32Array {
    if (t.dataType !== DT_FLOAT) this.fail(`${what} "${t.name}" has data type ${t.dataType}; only float32 (1) weights are supported`);
    const n = this.tensorSize(t, what);
    let out: Float32Array;
    if (t.raw) {
      if (t.raw.length !== n * 4) this.fail(`${what} "${t.name}" ${fmt(t.dims)} needs ${n * 4} bytes of raw_data, it has ${t.raw.length}`);
      out = new Float32Array(n);
      const dv = new DataView(t.raw.buffer, t.raw.byteOffset, t.raw.length);
      for (let i = 0; i < n; i++) out[i] = dv.getFloat32(i * 4, true);
    } else {
      let have = 0;
      for (const p of t.floatData) have += typeof p === 'number' ? 1 : p.length / 4;
      if (have !== n) this.fail(`${what} "${t.name}" ${fmt(t.dims)} needs ${n} values, float_data has ${have}`);
      out = new Float32Array(n);
      let i = 0;
      for (const p of t.floatData) {
        if (typeof p === 'number') out[i++] = p;
        else {
          const dv = new DataView(p.buffer, p.byteOffset, p.length);
          for (let j = 0; j < p.length; j += 4) out[i++] = dv.getFloat32(j, true);
        }
      }
    }
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(out[i])) this.fail(`${what} "${t.name}" holds ${out[i]} at index ${i}; weights must be finite`);
    }
    return out;
  }

  /** The values of an int64 (or int32) tensor. */
  private integers(t: OnnxTensor, what: string): number[] {
    const n = this.tensorSize(t, what);
    if (n > 64) this.fail(`${what} "${t.name}" has ${n} values; at most 64 are expected`);
    let out: number[];
    if (t.dataType === DT_INT64) {
      if (t.raw) {
        if (t.raw.length !== n * 8) this.fail(`${what} "${t.name}" needs ${n * 8} bytes of raw_data, it has ${t.raw.length}`);
        const dv = new DataView(t.raw.buffer, t.raw.byteOffset, t.raw.length);
        out = Array.from({ length: n }, (_, i) => Number(dv.getBigInt64(i * 8, true)));
      } else out = t.int64Data;
    } else if (t.dataType === DT_INT32) {
      if (t.raw) {
        if (t.raw.length !== n * 4) this.fail(`${what} "${t.name}" needs ${n * 4} bytes of raw_data, it has ${t.raw.length}`);
        const dv = new DataView(t.raw.buffer, t.raw.byteOffset, t.raw.length);
        out = Array.from({ length: n }, (_, i) => dv.getInt32(i * 4, true));
      } else out = t.int32Data;
    } else this.fail(`${what} "${t.name}" has data type ${t.dataType}; expected int64 (7)`);
    if (out.length !== n) this.fail(`${what} "${t.name}" ${fmt(t.dims)} needs ${n} values, it has ${out.length}`);
    for (const v of out) if (!Number.isSafeInteger(v)) this.fail(`${what} "${t.name}" holds ${v}, out of range`);
    return out;
  }

  private scalar(name: string | undefined, what: string): number {
    const t = this.constant(name, what);
    const v = this.floats(t, what);
    if (v.length !== 1) this.fail(`${what} "${t.name}" must be a single value, it is ${fmt(t.dims)}`);
    return v[0];
  }

  // ---- attributes ----------------------------------------------------------------------

  private attrs(n: OnnxNode, allowed: readonly string[]): Map<string, OnnxAttribute> {
    const m = new Map<string, OnnxAttribute>();
    for (const a of n.attributes) {
      if (!allowed.includes(a.name)) this.fail(`attribute ${a.name || '(no name)'} is not supported for ${n.opType}${allowed.length ? ` (supported: ${allowed.join(', ')})` : ' (it takes none)'}`);
      if (m.has(a.name)) this.fail(`attribute ${a.name} appears twice`);
      m.set(a.name, a);
    }
    return m;
  }

  /** An attribute's value of the given type (type 0, left unset by old exporters, is accepted), or `dflt` when absent. */
  private attr<T>(m: Map<string, OnnxAttribute>, name: string, type: number, kind: string, get: (a: OnnxAttribute) => T | undefined, dflt: T): T {
    const a = m.get(name);
    if (!a) return dflt;
    const v = get(a);
    if (v === undefined || (a.type !== type && a.type !== 0)) this.fail(`attribute ${name} must be ${kind}`);
    return v;
  }

  private int(m: Map<string, OnnxAttribute>, name: string, dflt: number): number {
    const v = this.attr(m, name, ATTR.INT, 'an int', (a) => a.i, dflt);
    if (!Number.isSafeInteger(v)) this.fail(`attribute ${name} = ${v} is out of range`);
    return v;
  }

  private float(m: Map<string, OnnxAttribute>, name: string, dflt: number): number {
    return this.attr(m, name, ATTR.FLOAT, 'a float', (a) => a.f, dflt);
  }

  private ints(m: Map<string, OnnxAttribute>, name: string): number[] | undefined {
    const v = this.attr<number[] | undefined>(m, name, ATTR.INTS, 'a list of ints', (a) => a.ints, undefined);
    for (const x of v ?? []) if (!Number.isSafeInteger(x)) this.fail(`attribute ${name} holds ${x}, out of range`);
    return v;
  }

  private string(m: Map<string, OnnxAttribute>, name: string, dflt: string): string {
    return this.attr(m, name, ATTR.STRING, 'a string', (a) => a.s, dflt);
  }

  // ---- the chain -------------------------------------------------------------------------

  /** The node's data input must be the previous node's output. */
  private dataInput(n: OnnxNode, index = 0): void {
    if (n.inputs[index] !== this.cur) {
      this.fail(`input ${index} is ${n.inputs[index] === undefined ? 'missing' : `"${n.inputs[index]}"`}, not the previous node's output "${this.cur}"; only a chain of layers is supported`);
    }
  }

  /** Moves on to the node's first output; any other output must be unused. */
  private advance(n: OnnxNode): void {
    const out = n.outputs[0];
    if (!out) this.fail('the node has no output');
    for (const extra of n.outputs.slice(1)) {
      if (extra && this.consumers.has(extra)) this.fail(`output "${extra}" is used, but only the node's first output is supported`);
    }
    if ((this.consumers.get(this.cur) ?? 0) > 1) {
      this.fail(`"${this.cur}" feeds ${this.consumers.get(this.cur)} nodes or outputs; only a chain of layers is supported`);
    }
    this.cur = out;
  }

  private requireIdentityOrder(what: string): void {
    if (this.order) this.fail(`${what} needs NCHW data, but a Transpose before it left the tensor in another layout`);
  }

  /** A Conv/pool needs a (C, H, W) tensor that is the library's own. */
  private spatialInput(): [number, number, number] {
    if (this.shape.length !== 3) this.fail(`the input must be (N, C, H, W), it is (N, ${this.shape.join(', ')})`);
    this.requireIdentityOrder('it');
    if (this.shape.join() !== this.libShape.join()) {
      if (!this.shapeFree) this.fail(`the input (N, ${this.shape.join(', ')}) is a reshape of the previous layer's (N, ${this.libShape.join(', ')}), which the library cannot follow`);
      this.inputDim = [...this.shape];
      this.libShape = [...this.shape];
    }
    return this.shape as [number, number, number];
  }

  private window(m: Map<string, OnnxAttribute>, kernel: number[], H: number, W: number): { stride: number; pad: number } {
    const strides = this.ints(m, 'strides') ?? [1, 1];
    if (strides.length !== 2 || strides[0] !== strides[1] || strides[0] < 1) this.fail(`attribute strides ${fmt(strides)} is not supported (two equal positive strides)`);
    const dil = this.ints(m, 'dilations');
    if (dil && (dil.length !== 2 || dil.some((d) => d !== 1))) this.fail(`attribute dilations ${fmt(dil)} is not supported (only 1)`);
    const autoPad = this.string(m, 'auto_pad', 'NOTSET');
    const s = strides[0];
    const k = kernel[0];
    let pads: number[];
    if (autoPad === 'NOTSET') pads = this.ints(m, 'pads') ?? [0, 0, 0, 0];
    else if (autoPad === 'VALID') pads = [0, 0, 0, 0];
    else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const total = (size: number) => Math.max(0, (Math.ceil(size / s) - 1) * s + k - size);
      const th = total(H);
      const tw = total(W);
      if (th % 2 || tw % 2 || th !== tw) this.fail(`attribute auto_pad ${autoPad} pads asymmetrically here (${th} and ${tw} in total), which is not supported`);
      pads = [th / 2, tw / 2, th / 2, tw / 2];
    } else this.fail(`attribute auto_pad ${JSON.stringify(autoPad)} is not supported`);
    if (pads.length !== 4 || pads.some((p) => p !== pads[0]) || pads[0] < 0) this.fail(`attribute pads ${fmt(pads)} is not supported (four equal non-negative pads)`);
    return { stride: s, pad: pads[0] };
  }

  private addSpec(spec: LayerSpec, shapeAgnostic: boolean): void {
    this.specs.push(spec);
    if (!shapeAgnostic) this.shapeFree = false;
  }

  private node(n: OnnxNode): void {
    if (n.domain !== '' && n.domain !== 'ai.onnx') this.fail(`domain "${n.domain}" is not supported (only the default ONNX domain)`);
    const op = n.opType;
    const dropout = this.pendingDropout;
    this.pendingDropout = null;
    switch (op) {
      case 'Constant': {
        const m = this.attrs(n, ['value', 'value_float', 'value_floats', 'value_int', 'value_ints']);
        const out = n.outputs[0];
        if (!out || n.outputs.length !== 1 || n.inputs.length) this.fail('a Constant must have one output and no inputs');
        const a = [...m.values()][0];
        if (!a || m.size !== 1) this.fail('a Constant needs exactly one value attribute');
        let t: OnnxTensor;
        const base = { name: out, floatData: [] as (number | Uint8Array)[], int64Data: [] as number[], int32Data: [] as number[], external: false, at: 0 };
        if (a.name === 'value') {
          if (!a.t) this.fail('attribute value must be a tensor');
          t = { ...a.t, name: out };
        } else if (a.name === 'value_float') t = { ...base, dims: [], dataType: DT_FLOAT, floatData: [this.float(m, 'value_float', 0)] };
        else if (a.name === 'value_floats') t = { ...base, dims: [a.floats.length], dataType: DT_FLOAT, floatData: a.floats };
        else if (a.name === 'value_int') t = { ...base, dims: [], dataType: DT_INT64, int64Data: [this.int(m, 'value_int', 0)] };
        else t = { ...base, dims: [a.ints.length], dataType: DT_INT64, int64Data: this.ints(m, 'value_ints')! };
        if (this.consts.has(out)) this.fail(`value "${out}" is defined twice`);
        this.consts.set(out, t);
        this.pendingDropout = dropout;
        return;
      }
      case 'Conv': {
        const m = this.attrs(n, ['kernel_shape', 'strides', 'pads', 'dilations', 'group', 'auto_pad']);
        this.dataInput(n);
        const [C, H, W] = this.spatialInput();
        const wt = this.constant(n.inputs[1], 'weight (input 1)');
        if (wt.dims.length !== 4) this.fail(`weight "${wt.name}" must be (M, C, KH, KW), it is ${fmt(wt.dims)}`);
        const [M, WC, KH, KW] = wt.dims;
        if (this.int(m, 'group', 1) !== 1) this.fail(`attribute group ${this.int(m, 'group', 1)} is not supported (only 1)`);
        if (WC !== C) this.fail(`weight "${wt.name}" ${fmt(wt.dims)} expects ${WC} input channels, the input has ${C}`);
        const ks = this.ints(m, 'kernel_shape') ?? [KH, KW];
        if (ks.length !== 2 || ks[0] !== KH || ks[1] !== KW) this.fail(`attribute kernel_shape ${fmt(ks)} does not match the weight ${fmt(wt.dims)}`);
        if (KH !== KW) this.fail(`attribute kernel_shape ${fmt(ks)}: only square kernels are supported`);
        const { stride, pad } = this.window(m, [KH, KW], H, W);
        const Wv = this.floats(wt, 'weight');
        const b = n.inputs[2] ? this.floats(this.constant(n.inputs[2], 'bias (input 2)'), 'bias') : new Float32Array(M);
        if (b.length !== M) this.fail(`bias "${n.inputs[2]}" has ${b.length} values, expected ${M}`);
        if (n.inputs.length > 3) this.fail('Conv takes at most 3 inputs');
        this.applyPending(Wv);
        const OH = outSize(H, KH, stride, pad);
        const OW = outSize(W, KW, stride, pad);
        if (OH < 1 || OW < 1) this.fail(`a ${KH}x${KW} kernel with pad ${pad} does not fit the ${H}x${W} input`);
        this.weighted++;
        this.values[`W${this.weighted}`] = Wv;
        this.values[`b${this.weighted}`] = b;
        this.addSpec({ type: 'Convolution', filterNum: M, filterSize: KH, stride, pad }, false);
        this.shape = [M, OH, OW];
        this.libShape = [...this.shape];
        this.advance(n);
        this.last = { kind: 'conv', W: Wv, b, outputs: M };
        return;
      }
      case 'MaxPool':
      case 'AveragePool': {
        const max = op === 'MaxPool';
        const m = this.attrs(n, ['kernel_shape', 'strides', 'pads', 'auto_pad', 'ceil_mode', 'dilations', ...(max ? ['storage_order'] : ['count_include_pad'])]);
        this.dataInput(n);
        const [C, H, W] = this.spatialInput();
        const ks = this.ints(m, 'kernel_shape');
        if (!ks || ks.length !== 2) this.fail(`attribute kernel_shape must be two ints, got ${ks ? fmt(ks) : 'none'}`);
        if (ks[0] !== ks[1] || ks[0] < 1) this.fail(`attribute kernel_shape ${fmt(ks)}: only square windows are supported`);
        const k = ks[0];
        const { stride, pad } = this.window(m, ks, H, W);
        if (pad >= k) this.fail(`attribute pads ${pad} must be smaller than the window ${k}`);
        const OH = outSize(H, k, stride, pad);
        const OW = outSize(W, k, stride, pad);
        if (OH < 1 || OW < 1) this.fail(`a ${k}x${k} window with pad ${pad} does not fit the ${H}x${W} input`);
        if (this.int(m, 'ceil_mode', 0) !== 0) {
          const ceil = (size: number) => Math.ceil((size + 2 * pad - k) / stride) + 1;
          if (ceil(H) !== OH || ceil(W) !== OW) this.fail('attribute ceil_mode 1 changes the output size here, which is not supported');
        }
        if (max && this.int(m, 'storage_order', 0) !== 0) this.fail('attribute storage_order 1 is not supported');
        if (!max && this.int(m, 'count_include_pad', 0) !== 1 && pad > 0) {
          this.fail('attribute count_include_pad 0 with padding is not supported (the library counts padding as zeros: count_include_pad 1)');
        }
        if (max && this.pendingScale < 0) this.fail(`a Mul by ${this.pendingScale} before MaxPool cannot be folded`);
        this.addSpec({ type: 'Pooling', size: k, stride, pad, mode: max ? 'max' : 'avg' }, false);
        this.shape = [C, OH, OW];
        this.libShape = [...this.shape];
        break;
      }
      case 'GlobalMaxPool':
      case 'GlobalAveragePool': {
        this.attrs(n, []);
        this.dataInput(n);
        const [C, H, W] = this.spatialInput();
        if (H !== W) this.fail(`the input plane is ${H}x${W}; only square planes are supported`);
        if (op === 'GlobalMaxPool' && this.pendingScale < 0) this.fail(`a Mul by ${this.pendingScale} before GlobalMaxPool cannot be folded`);
        this.addSpec({ type: 'Pooling', size: H, stride: H, pad: 0, mode: op === 'GlobalMaxPool' ? 'max' : 'avg' }, false);
        this.shape = [C, 1, 1];
        this.libShape = [...this.shape];
        break;
      }
      case 'Relu':
      case 'Sigmoid': {
        this.attrs(n, []);
        this.dataInput(n);
        if (op === 'Relu' ? this.pendingScale < 0 : this.pendingScale !== 1) {
          this.fail(`a Mul by ${this.pendingScale} before ${op} cannot be folded into a layer`);
        }
        this.addSpec({ type: op }, true);
        break;
      }
      case 'Identity':
        this.attrs(n, []);
        this.dataInput(n);
        this.advance(n);
        return;
      case 'Dropout': {
        const m = this.attrs(n, ['ratio', 'seed', 'is_test']);
        this.dataInput(n);
        let ratio = this.float(m, 'ratio', 0.5);
        if (this.opset >= 12 && m.has('ratio')) this.fail('attribute ratio is an input since opset 12');
        if (n.inputs[1]) ratio = this.scalar(n.inputs[1], 'ratio (input 1)');
        if (n.inputs[2]) {
          const t = this.constant(n.inputs[2], 'training_mode (input 2)');
          const v = t.raw ? Array.from(t.raw) : t.int32Data;
          if (v.some((x) => x !== 0)) this.fail('training_mode (input 2) is true; only inference graphs are supported');
        }
        if (!(ratio >= 0 && ratio < 1)) this.fail(`ratio ${ratio} must be in [0, 1)`);
        this.advance(n);
        this.pendingDropout = ratio;
        return;
      }
      case 'Mul': {
        this.attrs(n, []);
        const other = n.inputs[0] === this.cur ? n.inputs[1] : n.inputs[0];
        if (n.inputs[0] !== this.cur && n.inputs[1] !== this.cur) this.dataInput(n);
        if (n.inputs.length !== 2) this.fail('Mul takes 2 inputs');
        const s = this.scalar(other, 'factor');
        this.advance(n);
        if (dropout !== null && Math.abs(s - (1 - dropout)) <= 1e-6) {
          // the course's Dropout: identity then (1 - ratio) in inference
          this.addSpec({ type: 'Dropout', ratio: f32Decimal(Math.fround(dropout)) }, true);
          this.last = null;
          return;
        }
        if (this.last) {
          for (let i = 0; i < this.last.W.length; i++) this.last.W[i] *= s;
          for (let i = 0; i < this.last.b.length; i++) this.last.b[i] *= s;
        } else this.pendingScale *= s;
        return;
      }
      case 'Add': {
        this.attrs(n, []);
        if (n.inputs.length !== 2) this.fail('Add takes 2 inputs');
        if (n.inputs[0] !== this.cur && n.inputs[1] !== this.cur) this.dataInput(n);
        const other = n.inputs[0] === this.cur ? n.inputs[1] : n.inputs[0];
        const L = this.last;
        if (!L) this.fail('Add is supported only as the bias of the Conv, Gemm or MatMul right before it');
        const t = this.constant(other, 'addend');
        const v = this.floats(t, 'addend');
        const d = t.dims.filter((x) => x !== 1);
        const ok = v.length === L.outputs && (L.kind === 'affine'
          ? t.dims.length <= 2 && t.dims[t.dims.length - 1] === L.outputs
          : (t.dims.length === 3 || t.dims.length === 4) && t.dims[t.dims.length - 3] === L.outputs && d.length <= 1);
        if (!ok && !(v.length === 1)) this.fail(`addend "${t.name}" ${fmt(t.dims)} is not a bias for the ${L.outputs} outputs before it`);
        for (let i = 0; i < L.b.length; i++) L.b[i] += v.length === 1 ? v[0] : v[i];
        this.advance(n);
        return;
      }
      case 'Gemm':
      case 'MatMul': {
        const gemm = op === 'Gemm';
        const m = this.attrs(n, gemm ? ['alpha', 'beta', 'transA', 'transB'] : []);
        this.dataInput(n);
        if (this.shape.length !== 1) this.fail(`the input must be (N, K), it is (N, ${this.shape.join(', ')}); flatten it first (Flatten or Reshape)`);
        const K = this.shape[0];
        if (gemm && this.int(m, 'transA', 0) !== 0) this.fail('attribute transA 1 is not supported');
        const transB = gemm ? this.int(m, 'transB', 0) : 0;
        const alpha = gemm ? this.float(m, 'alpha', 1) : 1;
        const beta = gemm ? this.float(m, 'beta', 1) : 1;
        const bt = this.constant(n.inputs[1], 'B (input 1)');
        if (bt.dims.length !== 2) this.fail(`B "${bt.name}" must be 2-D, it is ${fmt(bt.dims)}`);
        const [r, c] = bt.dims;
        const [BK, M] = transB ? [c, r] : [r, c];
        if (BK !== K) this.fail(`B "${bt.name}" ${fmt(bt.dims)}${transB ? ' (transB 1)' : ''} expects ${BK} inputs, the input has ${K}`);
        const Bv = this.floats(bt, 'B');
        const scale = alpha * this.pendingScale;
        this.pendingScale = 1;
        const Wv = new Float32Array(K * M);
        const order = this.order;
        for (let i = 0; i < K; i++) {
          const row = order ? order[i] : i;
          for (let j = 0; j < M; j++) Wv[row * M + j] = (transB ? Bv[j * K + i] : Bv[i * M + j]) * scale;
        }
        const b = new Float32Array(M);
        if (gemm && n.inputs[2]) {
          const ct = this.constant(n.inputs[2], 'C (input 2)');
          const cv = this.floats(ct, 'C');
          if (!(cv.length === 1 || (cv.length === M && ct.dims[ct.dims.length - 1] === M && ct.dims.length <= 2))) {
            this.fail(`C "${ct.name}" ${fmt(ct.dims)} is not a bias of ${M} values`);
          }
          for (let j = 0; j < M; j++) b[j] = beta * (cv.length === 1 ? cv[0] : cv[j]);
        }
        if (n.inputs.length > (gemm ? 3 : 2)) this.fail(`${op} takes at most ${gemm ? 3 : 2} inputs`);
        this.weighted++;
        this.values[`W${this.weighted}`] = Wv;
        this.values[`b${this.weighted}`] = b;
        this.addSpec({ type: 'Affine', outputSize: M }, false);
        this.shape = [M];
        this.libShape = [M];
        this.order = null;
        this.advance(n);
        this.last = { kind: 'affine', W: Wv, b, outputs: M };
        return;
      }
      case 'BatchNormalization': {
        const m = this.attrs(n, ['epsilon', 'momentum', 'spatial', 'training_mode', 'is_test', 'consumed_inputs']);
        this.dataInput(n);
        if (this.int(m, 'training_mode', 0) !== 0) this.fail('attribute training_mode 1 is not supported (inference graphs only)');
        if (this.pendingScale !== 1) this.fail(`a Mul by ${this.pendingScale} before BatchNormalization cannot be folded`);
        const spatial = this.int(m, 'spatial', 1);
        const eps = this.float(m, 'epsilon', 1e-5);
        const momentum = this.float(m, 'momentum', 0.9);
        if (!(eps > 0)) this.fail(`attribute epsilon ${eps} must be positive`);
        if (!(momentum >= 0 && momentum <= 1)) this.fail(`attribute momentum ${momentum} must be in [0, 1]`);
        const D = prod(this.shape);
        const C = this.shape[0];
        const perFeature = this.shape.length === 1 || spatial === 0;
        const per = perFeature ? D : C;
        const names = ['scale', 'B', 'input_mean', 'input_var'];
        const params = names.map((what, i) => {
          const t = this.constant(n.inputs[i + 1], `${what} (input ${i + 1})`);
          const v = this.floats(t, what);
          if (v.length !== per) this.fail(`${what} "${t.name}" has ${v.length} values, expected ${per} (${perFeature ? 'one per feature' : 'one per channel'})`);
          return v;
        });
        if (params[3].some((x) => x < 0)) this.fail(`input_var "${n.inputs[4]}" holds a negative variance`);
        if (!perFeature && D > MAX_DERIVED) this.fail(`per-channel BatchNormalization of (N, ${this.shape.join(', ')}) is supported up to ${MAX_DERIVED} values per sample`);
        const plane = D / C;
        const out = params.map(() => new Float32Array(D));
        const order = this.order;
        for (let i = 0; i < D; i++) {
          const src = perFeature ? i : Math.floor(i / plane);
          const dst = order ? order[i] : i;
          for (let p = 0; p < 4; p++) out[p][dst] = params[p][src];
        }
        this.normalized++;
        const k = this.normalized;
        [this.values[`gamma${k}`], this.values[`beta${k}`], this.values[`runningMean${k}`], this.values[`runningVar${k}`]] = out;
        this.addSpec({ type: 'BatchNormalization', momentum: f32Decimal(Math.fround(momentum)), eps: f32Decimal(Math.fround(eps)) }, true);
        this.advance(n);
        this.last = null;
        return;
      }
      case 'Flatten': {
        const m = this.attrs(n, ['axis']);
        this.dataInput(n);
        let axis = this.int(m, 'axis', 1);
        if (axis < 0) axis += this.shape.length + 1;
        if (axis !== 1) this.fail(`attribute axis ${this.int(m, 'axis', 1)} is not supported (only 1: keep the batch)`);
        this.shape = [prod(this.shape)];
        this.advance(n);
        this.last = null;
        return;
      }
      case 'Reshape': {
        const m = this.attrs(n, ['allowzero']);
        this.dataInput(n);
        const target = this.integers(this.constant(n.inputs[1], 'shape (input 1)'), 'shape');
        const allowzero = this.int(m, 'allowzero', 0);
        const full = [-2, ...this.shape]; // -2 stands for the batch
        // 0 copies the input's dimension (unless allowzero); -1 is inferred (at most one)
        const dims = target.map((d, i) => {
          if (d !== 0 || allowzero) return d;
          if (i >= full.length) this.fail(`shape ${fmt(target)}: the 0 at ${i} has no input dimension to copy`);
          return full[i];
        });
        if (dims.length < 2 || (dims[0] !== -2 && dims[0] !== -1)) {
          this.fail(`shape ${fmt(target)} does not keep the batch dimension first (0 or -1 there, then the sample's dimensions)`);
        }
        const rest = dims.slice(1);
        if (rest.some((d) => d === -2 || d < -1 || d === 0)) this.fail(`shape ${fmt(target)} is not supported (sizes must be positive, or one -1)`);
        const per = prod(this.shape);
        const unknown = dims.filter((d) => d === -1).length;
        if (unknown > 1) this.fail(`shape ${fmt(target)} has more than one -1`);
        const known = prod(rest.filter((d) => d !== -1));
        if (rest.includes(-1)) {
          if (per % known !== 0) this.fail(`shape ${fmt(target)} does not divide the ${per} values of a sample`);
          rest[rest.indexOf(-1)] = per / known;
        } else if (known !== per) this.fail(`shape ${fmt(target)} holds ${known} values per sample, the input has ${per}`);
        this.shape = rest;
        this.advance(n);
        this.last = null;
        return;
      }
      case 'Transpose': {
        const m = this.attrs(n, ['perm']);
        this.dataInput(n);
        const perm = this.ints(m, 'perm');
        const r = this.shape.length + 1;
        if (!perm || perm.length !== r || perm[0] !== 0 || [...perm].sort((a, b) => a - b).some((p, i) => p !== i)) {
          this.fail(`attribute perm ${perm ? fmt(perm) : '(none)'} is not supported (a permutation of the ${r} axes that keeps the batch first)`);
        }
        const p = perm.slice(1).map((x) => x - 1);
        const S = this.shape;
        const S2 = p.map((x) => S[x]);
        const D = prod(S);
        if (p.some((x, i) => x !== i)) {
          if (D > MAX_DERIVED) this.fail(`a Transpose of (N, ${S.join(', ')}) is supported up to ${MAX_DERIVED} values per sample`);
          // new flat index -> old flat index
          const strides = S.map((_, i) => prod(S.slice(i + 1)));
          const next = new Int32Array(D);
          const idx = new Array(S2.length).fill(0);
          for (let f = 0; f < D; f++) {
            let old = 0;
            for (let j = 0; j < S2.length; j++) old += idx[j] * strides[p[j]];
            next[f] = this.order ? this.order[old] : old;
            for (let j = S2.length - 1; j >= 0; j--) {
              if (++idx[j] < S2[j]) break;
              idx[j] = 0;
            }
          }
          let identity = true;
          for (let f = 0; f < D && identity; f++) identity = next[f] === f;
          this.order = identity ? null : next;
          // a transpose of the graph's input before any layer: the model takes the transposed layout
          if (this.specs.length === 0 && this.order) {
            this.order = null;
            this.inputDim = [...S2];
            this.libShape = [...S2];
          }
        }
        this.shape = S2;
        this.advance(n);
        this.last = null;
        return;
      }
      case 'Softmax': {
        const m = this.attrs(n, ['axis']);
        this.dataInput(n);
        const axis = this.int(m, 'axis', this.opset >= 13 ? -1 : 1);
        if (this.shape.length !== 1 || (axis !== 1 && axis !== -1)) this.fail(`Softmax over axis ${axis} of (N, ${this.shape.join(', ')}) is not supported (class scores (N, classes), axis 1)`);
        this.advance(n);
        if (this.consumers.get(this.cur) !== 1 || this.graph.outputs[0].name !== this.cur) this.fail('Softmax is supported only as the last node, writing the graph output');
        this.last = null;
        return;
      }
      default:
        this.fail(`op ${op ? JSON.stringify(op) : '(empty)'} is not supported; supported ops: Conv, MaxPool, AveragePool, GlobalMaxPool, GlobalAveragePool, Gemm, MatMul, Add (bias), Mul (scalar), Relu, Sigmoid, BatchNormalization, Dropout, Flatten, Reshape, Transpose, Identity, Constant, Softmax (last)`);
    }
    // layers that keep the chain going (pooling, activations): a following Add or Mul no longer folds into a linear layer
    this.advance(n);
    this.last = null;
  }

  /** Folds a pending scalar factor into the weights of the next linear layer. */
  private applyPending(W: Float32Array): void {
    if (this.pendingScale === 1) return;
    for (let i = 0; i < W.length; i++) W[i] *= this.pendingScale;
    this.pendingScale = 1;
  }
}
