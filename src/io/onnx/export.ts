/**
 * modelToOnnx: a model's layer specs and parameters as an ONNX model (opset 13, IR 7).
 *
 *   graph input  "input":  float32 (N, ...inputDim), N a dynamic dimension ("N")
 *   graph output "logits": float32 (N, classes), what predict() returns; with
 *                { softmax: true } a trailing Softmax (axis 1) gives "probabilities" instead
 *   initializers: the model's own parameter names (W1, b1, gamma1, runningMean1, ...)
 *
 * Layer -> nodes:
 *   Convolution         Conv (kernel_shape, strides, pads [p, p, p, p], W (FN, C, KH, KW), b)
 *   Pooling max / avg   MaxPool / AveragePool (kernel_shape, strides, pads, ceil_mode 0;
 *                       AveragePool count_include_pad 1: the library divides by KH*KW with
 *                       padding counted as zeros)
 *   Affine              Flatten(axis 1) when its input is not (N, D), then Gemm (transB 0:
 *                       W is (in, out)); the flattening is C*H*W order, as the library's
 *   Relu / Sigmoid      Relu / Sigmoid
 *   Dropout             the course's Dropout is not inverted: in inference it scales by
 *                       (1 - ratio). So: Dropout (ratio as input 2, no training_mode: the
 *                       identity in inference) then Mul by the scalar (1 - ratio); the importer
 *                       reads that pair back as a Dropout layer
 *   BatchNormalization  the library normalizes per feature over (N, D), D = C*H*W for 4-D
 *                       inputs; ONNX's BatchNormalization normalizes axis 1. So: on (N, D)
 *                       directly; on (N, C, H, W) as Flatten(axis 1) - BatchNormalization with
 *                       (D) parameters - Reshape to (-1, C, H, W). Inference form: scale =
 *                       gamma, B = beta, input_mean / input_var = the running statistics,
 *                       epsilon and momentum as the layer's.
 *   SoftmaxWithLoss     nothing (logits), or Softmax with { softmax: true }
 */
import { WasmCnnError } from '../../errors.js';
import type { Tensor } from '../../tensor.js';
import type { LayerSpec } from '../../models/layer-specs.js';
import { outSize } from '../../geometry.js';
import { ATTR, DT_FLOAT, DT_INT64, encodeModel, type OnnxAttribute, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from './onnx-proto.js';

export const ONNX_OPSET = 13;
export const ONNX_IR_VERSION = 7;
export const ONNX_INPUT = 'input';
export const ONNX_OUTPUT = 'logits';
export const ONNX_OUTPUT_PROBA = 'probabilities';
export const ONNX_BATCH_DIM = 'N';

/** What modelToOnnx reads from a model (every Sequential, SimpleConvNet included, has it). */
export interface OnnxExportable {
  readonly specs: readonly LayerSpec[];
  readonly inputDim: readonly number[];
  readonly params: Readonly<Record<string, Tensor>>;
  readonly buffers: Readonly<Record<string, Tensor>>;
}

/** Options of modelToOnnx / model.toOnnx(). */
export interface OnnxExportOptions {
  /** End with Softmax and name the output "probabilities" (default false: "logits"). */
  softmax?: boolean;
  /** The graph's name (default "wasm-cnn"). */
  graphName?: string;
}

const int = (name: string, i: number): OnnxAttribute => ({ name, type: ATTR.INT, i, floats: [], ints: [], other: false });
const ints = (name: string, v: number[]): OnnxAttribute => ({ name, type: ATTR.INTS, ints: v, floats: [], other: false });
const float = (name: string, f: number): OnnxAttribute => ({ name, type: ATTR.FLOAT, f, floats: [], ints: [], other: false });

function floatTensor(name: string, dims: number[], data: Float32Array): OnnxTensor {
  const raw = new Uint8Array(data.length * 4);
  const dv = new DataView(raw.buffer);
  for (let i = 0; i < data.length; i++) dv.setFloat32(i * 4, data[i], true);
  return { name, dims, dataType: DT_FLOAT, raw, floatData: [], int64Data: [], int32Data: [], external: false, at: 0 };
}

function int64Tensor(name: string, values: number[]): OnnxTensor {
  return { name, dims: [values.length], dataType: DT_INT64, int64Data: values, floatData: [], int32Data: [], external: false, at: 0 };
}

/** The model as the bytes of an ONNX file (see the head of this file for the mapping). */
export function modelToOnnx(model: OnnxExportable, options: OnnxExportOptions = {}): Uint8Array {
  const where = 'modelToOnnx';
  if (!model || typeof model !== 'object' || !Array.isArray(model.specs) || !Array.isArray(model.inputDim) || !model.params) {
    throw new WasmCnnError(`${where}: expected a model (a Sequential or SimpleConvNet, with specs, inputDim and params)`);
  }
  if (!options || typeof options !== 'object') throw new WasmCnnError(`${where}: options must be an object { softmax?, graphName? }`);
  for (const k of Object.keys(options)) {
    if (k !== 'softmax' && k !== 'graphName') throw new WasmCnnError(`${where}: unknown option "${k}"; valid options are softmax, graphName`);
  }
  const nodes: OnnxNode[] = [];
  const inits: OnnxTensor[] = [];
  const param = (name: string, dims: number[], from: Readonly<Record<string, Tensor>> = model.params): string => {
    const t = from[name];
    if (!t) throw new WasmCnnError(`${where}: the model has no parameter ${name}`);
    const data = t.toArray();
    if (data.length !== dims.reduce((a, d) => a * d, 1)) throw new WasmCnnError(`${where}: ${name} has ${data.length} values, expected (${dims.join(', ')})`);
    inits.push(floatTensor(name, dims, data));
    return name;
  };
  let value = ONNX_INPUT;
  let shape = [...model.inputDim]; // per sample
  let weighted = 0;
  let normalized = 0;
  const counts = new Map<string, number>();
  const node = (opType: string, inputs: string[], attributes: OnnxAttribute[] = [], label = opType): string => {
    const k = (counts.get(label) ?? 0) + 1;
    counts.set(label, k);
    const name = `${label}${k}`;
    const out = `${name}_out`;
    nodes.push({ name, opType, domain: '', inputs, outputs: [out], attributes });
    value = out;
    return out;
  };
  const flatten = () => {
    if (shape.length === 1) return;
    node('Flatten', [value], [int('axis', 1)]);
    shape = [shape.reduce((a, d) => a * d, 1)];
  };
  for (const spec of model.specs) {
    switch (spec.type) {
      case 'Convolution': {
        weighted++;
        const [C, H, W] = shape;
        const k = spec.filterSize;
        const s = spec.stride ?? 1;
        const p = spec.pad ?? 0;
        node('Conv', [value, param(`W${weighted}`, [spec.filterNum, C, k, k]), param(`b${weighted}`, [spec.filterNum])],
          [ints('kernel_shape', [k, k]), ints('strides', [s, s]), ints('pads', [p, p, p, p]), ints('dilations', [1, 1]), int('group', 1)]);
        shape = [spec.filterNum, outSize(H, k, s, p), outSize(W, k, s, p)];
        break;
      }
      case 'Pooling': {
        const [C, H, W] = shape;
        const k = spec.size;
        const s = spec.stride ?? k;
        const p = spec.pad ?? 0;
        const attrs = [ints('kernel_shape', [k, k]), ints('strides', [s, s]), ints('pads', [p, p, p, p]), int('ceil_mode', 0)];
        if (spec.mode === 'avg') node('AveragePool', [value], [...attrs, int('count_include_pad', 1)]);
        else node('MaxPool', [value], attrs);
        shape = [C, outSize(H, k, s, p), outSize(W, k, s, p)];
        break;
      }
      case 'Affine': {
        weighted++;
        flatten();
        node('Gemm', [value, param(`W${weighted}`, [shape[0], spec.outputSize]), param(`b${weighted}`, [spec.outputSize])],
          [float('alpha', 1), float('beta', 1), int('transA', 0), int('transB', 0)]);
        shape = [spec.outputSize];
        break;
      }
      case 'Relu':
        node('Relu', [value]);
        break;
      case 'Sigmoid':
        node('Sigmoid', [value]);
        break;
      case 'Dropout': {
        const k = (counts.get('Dropout') ?? 0) + 1;
        const ratio = `Dropout${k}_ratio`;
        const r = spec.ratio ?? 0.5;
        inits.push(floatTensor(ratio, [], Float32Array.of(r)));
        node('Dropout', [value, ratio]);
        const scale = `Dropout${k}_keep`;
        inits.push(floatTensor(scale, [], Float32Array.of(1 - r)));
        node('Mul', [value, scale], [], 'DropoutScale');
        break;
      }
      case 'BatchNormalization': {
        normalized++;
        const restore = shape.length > 1 ? [...shape] : null;
        flatten();
        const D = shape[0];
        node('BatchNormalization', [value, param(`gamma${normalized}`, [D]), param(`beta${normalized}`, [D]),
          param(`runningMean${normalized}`, [D], model.buffers), param(`runningVar${normalized}`, [D], model.buffers)],
        [float('epsilon', spec.eps ?? 1e-6), float('momentum', spec.momentum ?? 0.9)]);
        if (restore) {
          const target = `BatchNormalization${normalized}_shape`;
          inits.push(int64Tensor(target, [-1, ...restore]));
          node('Reshape', [value, target]);
          shape = restore;
        }
        break;
      }
      case 'SoftmaxWithLoss':
        break;
      default:
        throw new WasmCnnError(`${where}: layer type ${(spec as { type: string }).type} cannot be exported`);
    }
  }
  if (options.softmax) node('Softmax', [value], [int('axis', 1)]);
  // the last node writes the graph output
  const outName = options.softmax ? ONNX_OUTPUT_PROBA : ONNX_OUTPUT;
  if (nodes.length === 0) throw new WasmCnnError(`${where}: the model has no layers`);
  nodes[nodes.length - 1].outputs[0] = outName;
  const input: OnnxValueInfo = { name: ONNX_INPUT, elemType: DT_FLOAT, shape: [ONNX_BATCH_DIM, ...model.inputDim] };
  const output: OnnxValueInfo = { name: outName, elemType: DT_FLOAT, shape: [ONNX_BATCH_DIM, shape[0]] };
  return encodeModel({
    irVersion: ONNX_IR_VERSION, producerName: 'wasm-cnn', producerVersion: '',
    opsets: [{ domain: '', version: ONNX_OPSET }],
    graph: { name: options.graphName ?? 'wasm-cnn', nodes, initializers: inits, inputs: [input], outputs: [output], sparseInitializers: 0 },
    metadata: [],
  });
}
