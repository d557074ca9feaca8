// ONNX export and import, verified by ONNX Runtime (onnxruntime-web's Wasm build in Node):
// every layer kind and the course's models exported, run in ONNX Runtime and compared with
// predict() on real MNIST images (max abs difference <= 1e-4) on both backends; graphs in
// PyTorch's layout (Conv, BatchNormalization per channel, MaxPool, Flatten, Gemm transB 1,
// initializers listed as inputs) and in a TF/Keras-like one (NHWC input, Transpose, Reshape
// (N, -1), MatMul + Add, Softmax) imported and compared again; round trips; an imported model
// trains; unsupported graphs are refused naming the node, op and attribute.
import { beforeAll, describe, expect, it } from 'vitest';
import { createBackend } from '../../src/backend/create.js';
import type { Backend, BackendName } from '../../src/backend/backend.js';
import { FormatError } from '../../src/errors.js';
import { DEEP_CONV_NET_LAYERS, Sequential, simpleConvNet, type LayerSpec } from '../../src/models/index.js';
import { modelFromOnnx, modelToOnnx, readOnnxArchitecture } from '../../src/io/onnx/index.js';
import { decodeModel } from '../../src/io/onnx/onnx-proto.js';
import { tensor } from '../../src/tensor.js';
import { Trainer } from '../../src/train/trainer.js';
import { loadMnist } from '../../src/data/mnist-node.js';
import { BACKENDS } from '../helpers/harness.js';
import { expectLibError, thrownSync } from '../reliability/helpers.js';
import { attrFloat, attrInt, attrInts, f32, graphBytes, i64, maxAbsDiff, mnistImages, node, runOrt, values, type GraphSpec } from './onnx-helpers.js';

const TOL = 1e-4;
const N = 100;

/** Random (seeded) BatchNormalization parameters and running statistics, so the layers do something. */
function perturbNorms(model: Sequential, seed: number): void {
  const v: Record<string, Float32Array> = {};
  for (const [name, t] of [...Object.entries(model.params), ...Object.entries(model.buffers)]) {
    if (name.startsWith('gamma')) v[name] = values(t.size, seed++, 0.5).map((x) => 1 + x);
    else if (name.startsWith('beta') || name.startsWith('runningMean')) v[name] = values(t.size, seed++, 0.2);
    else if (name.startsWith('runningVar')) v[name] = values(t.size, seed++, 0.5).map((x) => 0.6 + x);
    else if (name.startsWith('b')) v[name] = values(t.size, seed++, 0.1);
  }
  model.setParams(v);
}

const LAYER_CASES: { name: string; inputDim: number[]; layers: LayerSpec[] }[] = [
  { name: 'Convolution (pad 1, stride 2)', inputDim: [1, 28, 28], layers: [{ type: 'Convolution', filterNum: 4, filterSize: 3, pad: 1, stride: 2 }, { type: 'Affine', outputSize: 10 }] },
  { name: 'Pooling max (3x3, stride 2, pad 1)', inputDim: [1, 28, 28], layers: [{ type: 'Convolution', filterNum: 3, filterSize: 5 }, { type: 'Pooling', size: 3, stride: 2, pad: 1 }, { type: 'Affine', outputSize: 10 }] },
  { name: 'Pooling avg (2x2, pad 1: padding counted)', inputDim: [1, 28, 28], layers: [{ type: 'Convolution', filterNum: 3, filterSize: 5 }, { type: 'Pooling', size: 2, pad: 1, mode: 'avg' }, { type: 'Affine', outputSize: 10 }] },
  { name: 'Relu', inputDim: [1, 28, 28], layers: [{ type: 'Convolution', filterNum: 3, filterSize: 3 }, { type: 'Relu' }, { type: 'Affine', outputSize: 10 }] },
  { name: 'Sigmoid, Affine on flat input', inputDim: [784], layers: [{ type: 'Affine', outputSize: 30 }, { type: 'Sigmoid' }, { type: 'Affine', outputSize: 10 }] },
  { name: 'Dropout (scaled by 1 - ratio in inference)', inputDim: [784], layers: [{ type: 'Affine', outputSize: 30 }, { type: 'Relu' }, { type: 'Dropout', ratio: 0.3 }, { type: 'Affine', outputSize: 10 }] },
  { name: 'BatchNormalization after a convolution (per feature)', inputDim: [1, 28, 28], layers: [{ type: 'Convolution', filterNum: 3, filterSize: 3, pad: 1 }, { type: 'BatchNormalization' }, { type: 'Relu' }, { type: 'Pooling', size: 2 }, { type: 'Affine', outputSize: 10 }] },
  { name: 'BatchNormalization after an affine layer', inputDim: [1, 28, 28], layers: [{ type: 'Affine', outputSize: 20 }, { type: 'BatchNormalization', eps: 1e-5, momentum: 0.8 }, { type: 'Relu' }, { type: 'Affine', outputSize: 10 }] },
];

describe.each(BACKENDS)('ONNX export -> ONNX Runtime (%s backend)', (name: BackendName) => {
  let backend: Backend;
  let x: Float32Array;
  beforeAll(async () => {
    backend = await createBackend(name);
    x = mnistImages(N);
  });

  /** Exports, runs in ONNX Runtime, compares with predict; returns the bytes. */
  async function agree(model: Sequential, opts: { softmax?: boolean } = {}): Promise<Uint8Array> {
    const bytes = modelToOnnx(model, opts);
    const shape = [N, ...model.inputDim];
    const ours = opts.softmax ? model.predictProba(tensor(x, shape)) : model.predict(tensor(x, shape));
    const theirs = await runOrt(bytes, x, shape);
    expect(theirs.dims).toEqual([N, model.outputSize]);
    expect(maxAbsDiff(theirs.data, ours.data)).toBeLessThanOrEqual(TOL);
    return bytes;
  }

  it.each(LAYER_CASES)('$name', async ({ inputDim, layers }) => {
    const model = new Sequential({ backend, inputDim, layers, seed: 5 });
    perturbNorms(model, 11);
    await agree(model);
    model.dispose();
  });

  it('SimpleConvNet (the course\'s defaults), as logits and as probabilities', async () => {
    const net = simpleConvNet({ backend, seed: 1, weightInitStd: 0.1 });
    const bytes = await agree(net);
    await agree(net, { softmax: true });
    // the documented interface: input "input" (N, 1, 28, 28) with a symbolic batch, output "logits"
    const g = decodeModel(bytes, 'test').graph!;
    expect(g.inputs.map((v) => [v.name, v.shape])).toEqual([['input', ['N', 1, 28, 28]]]);
    expect(g.outputs.map((v) => [v.name, v.shape])).toEqual([['logits', ['N', 10]]]);
    expect(decodeModel(bytes, 'test').opsets).toEqual([{ domain: '', version: 13 }]);
    // the batch is dynamic: one image gives the first row
    const one = await runOrt(bytes, x.subarray(0, 784), [1, 1, 28, 28]);
    expect(maxAbsDiff(one.data, net.predict(tensor(x.slice(0, 784), [1, 1, 28, 28])).data)).toBeLessThanOrEqual(TOL);
    net.dispose();
  });

  it('DeepConvNet\'s layers (six convolutions, dropout)', async () => {
    const model = new Sequential({ backend, inputDim: [1, 28, 28], layers: DEEP_CONV_NET_LAYERS, weightInitStd: 'he', seed: 3 });
    perturbNorms(model, 3);
    await agree(model);
    model.dispose();
  });
});

describe.each(BACKENDS)('ONNX import (%s backend)', (name: BackendName) => {
  let backend: Backend;
  let x: Float32Array;
  beforeAll(async () => {
    backend = await createBackend(name);
    x = mnistImages(N);
  });

  async function compareWithOrt(bytes: Uint8Array, ortShape: number[], proba = false): Promise<Sequential> {
    const model = modelFromOnnx(bytes, { backend });
    const theirs = await runOrt(bytes, x, ortShape);
    const input = tensor(x, [N, ...model.inputDim]);
    const ours = proba ? model.predictProba(input) : model.predict(input);
    expect(maxAbsDiff(theirs.data, ours.data)).toBeLessThanOrEqual(TOL);
    return model;
  }

  it('wasm-cnn\'s own files: the same logits, the same layers, and export round-trips byte for byte', async () => {
    for (const c of [...LAYER_CASES, { inputDim: [1, 28, 28], layers: DEEP_CONV_NET_LAYERS as LayerSpec[] }]) {
      const model = new Sequential({ backend, inputDim: c.inputDim, layers: c.layers, seed: 9 });
      perturbNorms(model, 2);
      const bytes = modelToOnnx(model);
      const back = modelFromOnnx(bytes, { backend });
      expect(back.specs).toEqual(model.specs);
      expect(back.inputDim).toEqual(model.inputDim);
      const input = tensor(x, [N, ...model.inputDim]);
      expect(maxAbsDiff(back.predict(input).data, model.predict(input).data)).toBe(0);
      expect(Buffer.from(modelToOnnx(back)).equals(Buffer.from(bytes))).toBe(true);
      model.dispose();
      back.dispose();
    }
  });

  /** PyTorch's torch.onnx.export layout of a small conv net with BatchNorm2d. */
  function pytorchGraph(asInputs: boolean): GraphSpec {
    return {
      input: { name: 'input.1', shape: ['batch_size', 1, 28, 28] },
      output: { name: '21', shape: ['batch_size', 10] },
      initializersAsInputs: asInputs,
      opset: asInputs ? 9 : 17,
      irVersion: asInputs ? 3 : 8,
      initializers: [
        f32('conv1.weight', [6, 1, 5, 5], values(150, 1, 0.4), true), f32('conv1.bias', [6], values(6, 2, 0.1)),
        f32('bn1.weight', [6], values(6, 3, 0.3).map((v) => 1 + v)), f32('bn1.bias', [6], values(6, 4, 0.2)),
        f32('bn1.running_mean', [6], values(6, 5, 0.2)), f32('bn1.running_var', [6], values(6, 6, 0.3).map((v) => 0.7 + v)),
        f32('fc1.weight', [32, 864], values(32 * 864, 7, 0.08), true), f32('fc1.bias', [32], values(32, 8, 0.1), true),
        f32('fc2.weight', [10, 32], values(320, 9, 0.3)), f32('fc2.bias', [10], values(10, 10, 0.1)),
      ],
      nodes: [
        node('Conv', ['input.1', 'conv1.weight', 'conv1.bias'], ['11'], [attrInts('dilations', [1, 1]), attrInt('group', 1), attrInts('kernel_shape', [5, 5]), attrInts('pads', [0, 0, 0, 0]), attrInts('strides', [1, 1])], '/conv1/Conv'),
        node('BatchNormalization', ['11', 'bn1.weight', 'bn1.bias', 'bn1.running_mean', 'bn1.running_var'], ['12'], [attrFloat('epsilon', 1e-5), attrFloat('momentum', 0.9)], '/bn1/BatchNormalization'),
        node('Relu', ['12'], ['13'], [], '/Relu'),
        node('MaxPool', ['13'], ['14'], [attrInts('kernel_shape', [2, 2]), attrInts('pads', [0, 0, 0, 0]), attrInts('strides', [2, 2]), ...(asInputs ? [] : [attrInt('ceil_mode', 0)])], '/pool/MaxPool'),
        node('Flatten', ['14'], ['15'], [attrInt('axis', 1)], '/Flatten'),
        node('Gemm', ['15', 'fc1.weight', 'fc1.bias'], ['16'], [attrFloat('alpha', 1), attrFloat('beta', 1), attrInt('transB', 1)], '/fc1/Gemm'),
        node('Relu', ['16'], ['17'], [], '/Relu_1'),
        node('Dropout', ['17'], ['18'], asInputs ? [attrFloat('ratio', 0.5)] : [], '/dropout/Dropout'),
        node('Gemm', ['18', 'fc2.weight', 'fc2.bias'], ['21'], [attrFloat('alpha', 1), attrFloat('beta', 1), attrInt('transB', 1)], '/fc2/Gemm'),
      ],
    };
  }

  it('PyTorch\'s layout (Conv, BatchNormalization per channel, MaxPool, Flatten, Gemm transB 1, Dropout), initializers as inputs or not', async () => {
    for (const asInputs of [false, true]) {
      const bytes = graphBytes(pytorchGraph(asInputs));
      const model = await compareWithOrt(bytes, [N, 1, 28, 28]);
      expect(model.specs.map((s) => s.type)).toEqual(['Convolution', 'BatchNormalization', 'Relu', 'Pooling', 'Affine', 'Relu', 'Affine', 'SoftmaxWithLoss']);
      // and what it exports runs in ONNX Runtime with the same logits
      const again = await runOrt(modelToOnnx(model), x, [N, 1, 28, 28]);
      expect(maxAbsDiff(again.data, (await runOrt(bytes, x, [N, 1, 28, 28])).data)).toBeLessThanOrEqual(TOL);
      model.dispose();
    }
  });

  it('a TF/Keras-like layout: NHWC input, Transpose in and out, Reshape (N, -1), MatMul + Add, Softmax', async () => {
    const C = 5;
    const H = 12; // 28 - 5 + 1 = 24, pooled to 12
    const D = H * H * C;
    const g: GraphSpec = {
      input: { name: 'x', shape: ['unk__1', 28, 28, 1] },
      output: { name: 'probs', shape: ['unk__1', 10] },
      initializers: [
        f32('k', [C, 1, 5, 5], values(C * 25, 21, 0.4)), f32('kb', [1, C, 1, 1], values(C, 22, 0.1)),
        i64('flat', [-1, D]),
        f32('w1', [D, 24], values(D * 24, 23, 0.08), true), f32('b1', [24], values(24, 24, 0.1)),
        f32('w2', [24, 10], values(240, 25, 0.3)), f32('b2', [1, 10], values(10, 26, 0.1)),
        f32('two', [], [2]),
      ],
      nodes: [
        node('Transpose', ['x'], ['t0'], [attrInts('perm', [0, 3, 1, 2])]),
        node('Conv', ['t0', 'k'], ['c0'], [attrInts('strides', [1, 1])]),
        node('Add', ['c0', 'kb'], ['c1']),
        node('Relu', ['c1'], ['r0']),
        node('MaxPool', ['r0'], ['p0'], [attrInts('kernel_shape', [2, 2]), attrInts('strides', [2, 2])]),
        node('Transpose', ['p0'], ['t1'], [attrInts('perm', [0, 2, 3, 1])]),
        node('Reshape', ['t1', 'flat'], ['f0']),
        node('Identity', ['f0'], ['f1']),
        node('MatMul', ['f1', 'w1'], ['m0']),
        node('Add', ['b1', 'm0'], ['a0']),
        node('Mul', ['a0', 'two'], ['s0']),
        node('Relu', ['s0'], ['r1']),
        node('MatMul', ['r1', 'w2'], ['m1']),
        node('Add', ['m1', 'b2'], ['a1']),
        node('Softmax', ['a1'], ['probs'], [attrInt('axis', -1)]),
      ],
    };
    const bytes = graphBytes(g);
    // one channel: the NHWC input and the imported model's NCHW input are the same bytes
    const model = await compareWithOrt(bytes, [N, 28, 28, 1], true);
    expect(model.inputDim).toEqual([1, 28, 28]);
    expect(model.specs.map((s) => s.type)).toEqual(['Convolution', 'Relu', 'Pooling', 'Affine', 'Relu', 'Affine', 'SoftmaxWithLoss']);
    // a Reshape to (N, 1, 28, 28) of a flat input is taken as the model's input shape
    const flat: GraphSpec = { ...g, input: { name: 'x', shape: ['n', 784] }, initializers: [...g.initializers, i64('img', [0, 28, 28, 1])],
      nodes: [node('Reshape', ['x', 'img'], ['x4']), { ...g.nodes[0], inputs: ['x4'] }, ...g.nodes.slice(1)] };
    const m2 = await compareWithOrt(graphBytes(flat), [N, 784], true);
    expect(m2.inputDim).toEqual([1, 28, 28]);
    model.dispose();
    m2.dispose();
  });

  it('the other accepted forms: Constant, auto_pad SAME_UPPER, AveragePool with padding, GlobalAveragePool, Gemm alpha/beta, BatchNormalization on (N, D), Softmax (opset 11)', async () => {
    const g: GraphSpec = {
      opset: 11,
      input: { name: 'x', shape: [N, 1, 28, 28] },
      output: { name: 'y', shape: [N, 10] },
      initializers: [
        f32('w', [4, 1, 3, 3], values(36, 31, 0.5)), f32('w2', [6, 4, 3, 3], values(216, 32, 0.3)), f32('b2', [6], values(6, 33, 0.1)),
        f32('g', [6], values(6, 34, 0.3).map((v) => 1 + v)), f32('be', [6], values(6, 35, 0.1)), f32('mu', [6], values(6, 36, 0.1)), f32('va', [6], values(6, 37, 0.2).map((v) => 0.5 + v)),
        f32('fc', [6, 10], values(60, 38, 0.5)), f32('fcb', [1, 10], values(10, 39, 0.2)),
      ],
      nodes: [
        node('Conv', ['x', 'w'], ['c0'], [attrInts('kernel_shape', [3, 3]), { name: 'auto_pad', type: 3, s: 'SAME_UPPER', floats: [], ints: [], other: false }]),
        node('Sigmoid', ['c0'], ['s0']),
        node('AveragePool', ['s0'], ['p0'], [attrInts('kernel_shape', [3, 3]), attrInts('strides', [2, 2]), attrInts('pads', [1, 1, 1, 1]), attrInt('count_include_pad', 1)]),
        node('Conv', ['p0', 'w2', 'b2'], ['c1'], [attrInts('pads', [1, 1, 1, 1])]),
        node('GlobalAveragePool', ['c1'], ['p1']),
        node('Constant', [], ['shape'], [{ name: 'value', type: 4, t: i64('', [0, -1]), floats: [], ints: [], other: false }]),
        node('Reshape', ['p1', 'shape'], ['f0']),
        node('BatchNormalization', ['f0', 'g', 'be', 'mu', 'va'], ['n0'], [attrFloat('epsilon', 1e-3)]),
        node('Gemm', ['n0', 'fc', 'fcb'], ['z'], [attrFloat('alpha', 0.5), attrFloat('beta', 2)]),
        node('Softmax', ['z'], ['y'], [attrInt('axis', 1)]),
      ],
    };
    const model = await compareWithOrt(graphBytes(g), [N, 1, 28, 28], true);
    expect(model.specs.map((s) => s.type)).toEqual(['Convolution', 'Sigmoid', 'Pooling', 'Convolution', 'Pooling', 'BatchNormalization', 'Affine', 'SoftmaxWithLoss']);
    expect(model.specs[0]).toMatchObject({ filterSize: 3, pad: 1, stride: 1 });
    expect(model.specs[2]).toMatchObject({ size: 3, stride: 2, pad: 1, mode: 'avg' });
    expect(model.specs[4]).toMatchObject({ size: 14, stride: 14, pad: 0, mode: 'avg' });
    model.dispose();
  });

  it('an imported model trains: a few Adam steps lower the loss', async () => {
    const model = modelFromOnnx(graphBytes(pytorchGraph(false)), { backend });
    const d = loadMnist({ flatten: false, trainLimit: 200, testLimit: 50 });
    const before = model.loss(d.xTrain, d.tTrain);
    await new Trainer(model, d.xTrain, d.tTrain, d.xTest, d.tTest, { epochs: 2, miniBatchSize: 20, optimizer: 'adam', optimizerParam: { lr: 0.002 }, seed: 1 }).train();
    const after = model.loss(d.xTrain, d.tTrain);
    expect(after).toBeLessThan(before * 0.8);
    model.dispose();
  });

  it('unsupported ops and attributes: one FormatError naming the node, op and attribute; nothing is allocated', () => {
    const base = pytorchGraph(false);
    const used = backend.memoryStats().used;
    const refuse = (g: GraphSpec, ...patterns: RegExp[]) => {
      const e = thrownSync(() => modelFromOnnx(graphBytes(g), { backend }));
      expectLibError(e, FormatError, /^modelFromOnnx: /, ...patterns);
      expect(backend.memoryStats().used).toBe(used);
    };
    const withNode = (i: number, n: Partial<GraphSpec['nodes'][number]>): GraphSpec => ({ ...base, nodes: base.nodes.map((m, j) => (j === i ? { ...m, ...n } : m)) });
    refuse(withNode(2, { opType: 'LeakyRelu' }), /node 2 \("\/Relu", LeakyRelu\): op "LeakyRelu" is not supported; supported ops: Conv/);
    refuse(withNode(0, { attributes: [...base.nodes[0].attributes.filter((a) => a.name !== 'dilations'), attrInts('dilations', [2, 2])] }),
      /node 0 \("\/conv1\/Conv", Conv\): attribute dilations \(2, 2\) is not supported \(only 1\)/);
    refuse(withNode(0, { attributes: [...base.nodes[0].attributes, attrFloat('leak', 0.1)] }), /node 0 \("\/conv1\/Conv", Conv\): attribute leak is not supported for Conv/);
    refuse(withNode(3, { attributes: [attrInts('kernel_shape', [2, 3]), attrInts('strides', [2, 2])] }), /node 3 .*MaxPool\): attribute kernel_shape \(2, 3\): only square windows/);
    refuse(withNode(4, { attributes: [attrInt('axis', 0)] }), /node 4 .*Flatten\): attribute axis 0 is not supported/);
    refuse(withNode(5, { attributes: [attrInt('transA', 1)] }), /node 5 .*Gemm\): attribute transA 1 is not supported/);
    refuse(withNode(6, { inputs: ['nope'] }), /node 6 .*Relu\): input 0 is "nope", not the previous node's output "16"; only a chain/);
    refuse(withNode(6, { inputs: ['15'] }), /node 5 .*Gemm\): "15" feeds 2 nodes or outputs; only a chain of layers/);
    refuse({ ...base, initializers: base.initializers.filter((t) => t.name !== 'fc1.bias') }, /graph must have exactly one input that is not an initializer|"fc1.bias" must be an initializer/);
    refuse(withNode(1, { domain: 'com.microsoft' }), /node 1 .*: domain "com.microsoft" is not supported/);
  });

  it('readOnnxArchitecture describes the graph without a backend', () => {
    const a = readOnnxArchitecture(graphBytes(pytorchGraph(false)));
    expect(a.inputDim).toEqual([1, 28, 28]);
    expect(Object.keys(a.values)).toEqual(['W1', 'b1', 'gamma1', 'beta1', 'runningMean1', 'runningVar1', 'W2', 'b2', 'W3', 'b3']);
    // per-channel parameters spread over each channel's 24 x 24 positions
    expect(a.values.gamma1.length).toBe(6 * 24 * 24);
    expect(a.values.gamma1[24 * 24]).toBe(a.values.gamma1[2 * 24 * 24 - 1]);
  });
});
