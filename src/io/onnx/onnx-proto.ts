/**
 * The ONNX messages this library reads and writes (field numbers of onnx/onnx.proto), as
 * plain objects, with their encoders and decoders over the wire format (protobuf.ts):
 *
 *   ModelProto         ir_version 1, producer_name 2, producer_version 3, graph 7, opset_import 8
 *   OperatorSetIdProto domain 1, version 2
 *   GraphProto         node 1, name 2, initializer 5, input 11, output 12 (value_info 13 skipped)
 *   NodeProto          input 1, output 2, name 3, op_type 4, attribute 5, domain 7
 *   AttributeProto     name 1, f 2, i 3, s 4, t 5, floats 7, ints 8, type 20 (g, graphs, ... kept as "present")
 *   TensorProto        dims 1, data_type 2, float_data 4, int32_data 5, int64_data 7, name 8,
 *                      raw_data 9, data_location 14 (external data is refused by the importer)
 *   ValueInfoProto     name 1, type 2;  TypeProto tensor_type 1;  TypeProto.Tensor elem_type 1, shape 2
 *   TensorShapeProto   dim 1;  Dimension dim_value 1, dim_param 2
 *
 * Decoding keeps tensor data as views into the file; nothing is copied or allocated from a
 * declared count before the bytes behind it were found.
 */
import { ProtoReader, ProtoWriter, WIRE_FIXED32, WIRE_LEN, WIRE_VARINT } from './protobuf.js';

export const DT_FLOAT = 1;
export const DT_INT32 = 6;
export const DT_INT64 = 7;
export const DT_DOUBLE = 11;

/** AttributeProto.AttributeType values. */
export const ATTR = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: number;
  /** raw_data (little-endian), a view into the file. */
  raw?: Uint8Array;
  /** float_data: single values and packed runs (4-byte little-endian views). */
  floatData: (number | Uint8Array)[];
  int64Data: number[];
  int32Data: number[];
  /** data_location EXTERNAL (1), or external_data entries present. */
  external: boolean;
  /** Where the tensor starts in the file (messages). */
  at: number;
}

export interface OnnxAttribute {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: string;
  t?: OnnxTensor;
  floats: number[];
  ints: number[];
  /** Fields this library does not read (a graph, strings, tensors, ...). */
  other: boolean;
}

export interface OnnxNode {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: OnnxAttribute[];
}

/** A dimension: a size, a symbolic name (dim_param), or unknown. */
export type OnnxDim = number | string | null;

export interface OnnxValueInfo {
  name: string;
  /** TensorProto.DataType of a tensor type, or undefined when the type is not a tensor or missing. */
  elemType?: number;
  /** undefined when the tensor type has no shape. */
  shape?: OnnxDim[];
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  /** sparse_initializer entries were present (not supported). */
  sparseInitializers: number;
}

export interface OnnxModel {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  opsets: { domain: string; version: number }[];
  graph?: OnnxGraph;
  metadata: { key: string; value: string }[];
}

// ---- encoding -----------------------------------------------------------------------

export function encodeTensor(t: OnnxTensor): ProtoWriter {
  const w = new ProtoWriter();
  if (t.dims.length) w.packedInts(1, t.dims);
  w.int(2, t.dataType);
  if (t.floatData.length) {
    // packed float_data: numbers and already-packed runs
    const parts = t.floatData.map((p) => (typeof p === 'number' ? new Uint8Array(Float32Array.of(p).buffer) : p));
    const packed = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) {
      packed.set(p, o);
      o += p.length;
    }
    w.bytes(4, packed);
  }
  if (t.int32Data.length) w.packedInts(5, t.int32Data);
  if (t.int64Data.length) w.packedInts(7, t.int64Data);
  w.string(8, t.name);
  if (t.raw) w.bytes(9, t.raw);
  return w;
}

function encodeAttribute(a: OnnxAttribute): ProtoWriter {
  const w = new ProtoWriter().string(1, a.name);
  if (a.f !== undefined) w.float(2, a.f);
  if (a.i !== undefined) w.int(3, a.i);
  if (a.s !== undefined) w.string(4, a.s);
  if (a.t !== undefined) w.message(5, encodeTensor(a.t));
  for (const f of a.floats) w.float(7, f);
  if (a.ints.length) w.packedInts(8, a.ints);
  w.int(20, a.type);
  return w;
}

function encodeNode(n: OnnxNode): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name).string(4, n.opType);
  for (const a of n.attributes) w.message(5, encodeAttribute(a));
  if (n.domain) w.string(7, n.domain);
  return w;
}

function encodeValueInfo(v: OnnxValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.shape ?? []) {
    const dim = new ProtoWriter();
    if (typeof d === 'number') dim.int(1, d);
    else if (typeof d === 'string') dim.string(2, d);
    shape.message(1, dim);
  }
  const tensorType = new ProtoWriter().int(1, v.elemType ?? DT_FLOAT);
  if (v.shape) tensorType.message(2, shape);
  return new ProtoWriter().string(1, v.name).message(2, new ProtoWriter().message(1, tensorType));
}

export function encodeModel(m: OnnxModel): Uint8Array {
  const w = new ProtoWriter().int(1, m.irVersion).string(2, m.producerName);
  if (m.producerVersion) w.string(3, m.producerVersion);
  if (m.graph) {
    const g = new ProtoWriter();
    for (const n of m.graph.nodes) g.message(1, encodeNode(n));
    g.string(2, m.graph.name);
    for (const t of m.graph.initializers) g.message(5, encodeTensor(t));
    for (const v of m.graph.inputs) g.message(11, encodeValueInfo(v));
    for (const v of m.graph.outputs) g.message(12, encodeValueInfo(v));
    w.message(7, g);
  }
  for (const o of m.opsets) {
    const op = new ProtoWriter();
    if (o.domain) op.string(1, o.domain);
    w.message(8, op.int(2, o.version));
  }
  for (const e of m.metadata) w.message(14, new ProtoWriter().string(1, e.key).string(2, e.value));
  return w.finish();
}

// ---- decoding -----------------------------------------------------------------------

/** Decodes a ModelProto; `where` prefixes every error (a FormatError naming the byte and message). */
export function decodeModel(bytes: Uint8Array, where: string): OnnxModel {
  const r = new ProtoReader(bytes, 0, bytes.length, 'ModelProto', where);
  const m: OnnxModel = { irVersion: 0, producerName: '', producerVersion: '', opsets: [], metadata: [] };
  let graphs = 0;
  while (!r.done()) {
    const { field, wire, at } = r.tag();
    switch (field) {
      case 1: r.expect(wire, WIRE_VARINT, 'ir_version', at); m.irVersion = r.int64(); break;
      case 2: r.expect(wire, WIRE_LEN, 'producer_name', at); m.producerName = r.string(); break;
      case 3: r.expect(wire, WIRE_LEN, 'producer_version', at); m.producerVersion = r.string(); break;
      case 7:
        r.expect(wire, WIRE_LEN, 'graph', at);
        if (graphs++) r.fail('the model has more than one graph field', at);
        m.graph = decodeGraph(r.message('ModelProto.graph'));
        break;
      case 8: {
        r.expect(wire, WIRE_LEN, 'opset_import', at);
        const s = r.message(`ModelProto.opset_import[${m.opsets.length}]`);
        const o = { domain: '', version: 0 };
        while (!s.done()) {
          const t = s.tag();
          if (t.field === 1) { s.expect(t.wire, WIRE_LEN, 'domain', t.at); o.domain = s.string(); }
          else if (t.field === 2) { s.expect(t.wire, WIRE_VARINT, 'version', t.at); o.version = s.int64(); }
          else s.skip(t.wire);
        }
        m.opsets.push(o);
        break;
      }
      case 14: {
        r.expect(wire, WIRE_LEN, 'metadata_props', at);
        const s = r.message(`ModelProto.metadata_props[${m.metadata.length}]`);
        const e = { key: '', value: '' };
        while (!s.done()) {
          const t = s.tag();
          if (t.field === 1 && t.wire === WIRE_LEN) e.key = s.string();
          else if (t.field === 2 && t.wire === WIRE_LEN) e.value = s.string();
          else s.skip(t.wire);
        }
        m.metadata.push(e);
        break;
      }
      default: r.skip(wire);
    }
  }
  return m;
}

function decodeGraph(r: ProtoReader): OnnxGraph {
  const g: OnnxGraph = { name: '', nodes: [], initializers: [], inputs: [], outputs: [], sparseInitializers: 0 };
  while (!r.done()) {
    const { field, wire, at } = r.tag();
    switch (field) {
      case 1: r.expect(wire, WIRE_LEN, 'node', at); g.nodes.push(decodeNode(r.message(`GraphProto.node[${g.nodes.length}]`))); break;
      case 2: r.expect(wire, WIRE_LEN, 'name', at); g.name = r.string(); break;
      case 5: r.expect(wire, WIRE_LEN, 'initializer', at); g.initializers.push(decodeTensor(r.message(`GraphProto.initializer[${g.initializers.length}]`))); break;
      case 11: r.expect(wire, WIRE_LEN, 'input', at); g.inputs.push(decodeValueInfo(r.message(`GraphProto.input[${g.inputs.length}]`))); break;
      case 12: r.expect(wire, WIRE_LEN, 'output', at); g.outputs.push(decodeValueInfo(r.message(`GraphProto.output[${g.outputs.length}]`))); break;
      case 15: g.sparseInitializers++; r.skip(wire); break;
      default: r.skip(wire);
    }
  }
  return g;
}

function decodeNode(r: ProtoReader): OnnxNode {
  const n: OnnxNode = { name: '', opType: '', domain: '', inputs: [], outputs: [], attributes: [] };
  while (!r.done()) {
    const { field, wire, at } = r.tag();
    switch (field) {
      case 1: r.expect(wire, WIRE_LEN, 'input', at); n.inputs.push(r.string()); break;
      case 2: r.expect(wire, WIRE_LEN, 'output', at); n.outputs.push(r.string()); break;
      case 3: r.expect(wire, WIRE_LEN, 'name', at); n.name = r.string(); break;
      case 4: r.expect(wire, WIRE_LEN, 'op_type', at); n.opType = r.string(); break;
      case 5: r.expect(wire, WIRE_LEN, 'attribute', at); n.attributes.push(decodeAttribute(r.message(`${r.path}.attribute[${n.attributes.length}]`))); break;
      case 7: r.expect(wire, WIRE_LEN, 'domain', at); n.domain = r.string(); break;
      default: r.skip(wire);
    }
  }
  return n;
}

function decodeAttribute(r: ProtoReader): OnnxAttribute {
  const a: OnnxAttribute = { name: '', type: 0, floats: [], ints: [], other: false };
  while (!r.done()) {
    const { field, wire, at } = r.tag();
    switch (field) {
      case 1: r.expect(wire, WIRE_LEN, 'name', at); a.name = r.string(); break;
      case 2: r.expect(wire, WIRE_FIXED32, 'f', at); a.f = r.float32(); break;
      case 3: r.expect(wire, WIRE_VARINT, 'i', at); a.i = r.int64(); break;
      case 4: r.expect(wire, WIRE_LEN, 's', at); {
        const sat = r.pos;
        const v = r.bytesView();
        try {
          a.s = new TextDecoder('utf-8', { fatal: true }).decode(v);
        } catch {
          r.fail('attribute string s is not valid UTF-8', sat);
        }
      } break;
      case 5: r.expect(wire, WIRE_LEN, 't', at); a.t = decodeTensor(r.message(`${r.path}.t`)); break;
      case 7: {
        const parts: (number | Uint8Array)[] = [];
        r.floats(wire, parts, 'floats');
        for (const p of parts) {
          if (typeof p === 'number') a.floats.push(p);
          else {
            const dv = new DataView(p.buffer, p.byteOffset, p.length);
            for (let i = 0; i < p.length; i += 4) a.floats.push(dv.getFloat32(i, true));
          }
        }
        break;
      }
      case 8: r.int64s(wire, a.ints, 'ints'); break;
      case 20: r.expect(wire, WIRE_VARINT, 'type', at); a.type = r.int64(); break;
      default: a.other = true; r.skip(wire);
    }
  }
  return a;
}

function decodeTensor(r: ProtoReader): OnnxTensor {
  const t: OnnxTensor = { name: '', dims: [], dataType: 0, floatData: [], int64Data: [], int32Data: [], external: false, at: r.pos };
  while (!r.done()) {
    const { field, wire, at } = r.tag();
    switch (field) {
      case 1: r.int64s(wire, t.dims, 'dims'); break;
      case 2: r.expect(wire, WIRE_VARINT, 'data_type', at); t.dataType = r.int64(); break;
      case 4: r.floats(wire, t.floatData, 'float_data'); break;
      case 5: r.int64s(wire, t.int32Data, 'int32_data'); break;
      case 7: r.int64s(wire, t.int64Data, 'int64_data'); break;
      case 8: r.expect(wire, WIRE_LEN, 'name', at); t.name = r.string(); break;
      case 9: r.expect(wire, WIRE_LEN, 'raw_data', at); t.raw = r.bytesView(); break;
      case 13: t.external = true; r.skip(wire); break;
      case 14: r.expect(wire, WIRE_VARINT, 'data_location', at); if (r.int64() === 1) t.external = true; break;
      default: r.skip(wire);
    }
  }
  return t;
}

function decodeValueInfo(r: ProtoReader): OnnxValueInfo {
  const v: OnnxValueInfo = { name: '' };
  while (!r.done()) {
    const { field, wire, at } = r.tag();
    if (field === 1) { r.expect(wire, WIRE_LEN, 'name', at); v.name = r.string(); }
    else if (field === 2) {
      r.expect(wire, WIRE_LEN, 'type', at);
      const tp = r.message(`${r.path}.type`);
      while (!tp.done()) {
        const a = tp.tag();
        if (a.field !== 1) { tp.skip(a.wire); continue; }
        tp.expect(a.wire, WIRE_LEN, 'tensor_type', a.at);
        const tt = tp.message(`${r.path}.type.tensor_type`);
        while (!tt.done()) {
          const b = tt.tag();
          if (b.field === 1) { tt.expect(b.wire, WIRE_VARINT, 'elem_type', b.at); v.elemType = tt.int64(); }
          else if (b.field === 2) {
            tt.expect(b.wire, WIRE_LEN, 'shape', b.at);
            const sh = tt.message(`${r.path}.type.tensor_type.shape`);
            const dims: OnnxDim[] = [];
            while (!sh.done()) {
              const c = sh.tag();
              if (c.field !== 1) { sh.skip(c.wire); continue; }
              sh.expect(c.wire, WIRE_LEN, 'dim', c.at);
              const d = sh.message(`${r.path}.type.tensor_type.shape.dim[${dims.length}]`);
              let dim: OnnxDim = null;
              while (!d.done()) {
                const e = d.tag();
                if (e.field === 1) { d.expect(e.wire, WIRE_VARINT, 'dim_value', e.at); dim = d.int64(); }
                else if (e.field === 2) { d.expect(e.wire, WIRE_LEN, 'dim_param', e.at); dim = d.string(); }
                else d.skip(e.wire);
              }
              dims.push(dim);
            }
            v.shape = dims;
          } else tt.skip(b.wire);
        }
      }
    } else r.skip(wire);
  }
  return v;
}
