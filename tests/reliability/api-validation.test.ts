// Every public entry point validates its arguments: a table walks the API surface with bad
// arguments (shapes, lengths, array types, labels, batch sizes, negative / non-integer /
// NaN / Infinity options, NaN in inputs) and expects the library's own error class with a
// message that names the argument, the expectation and what was given. Calls that take a
// model or data check that a refused call changed nothing.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Adam, AdaGrad, createBackend, createOptimizer, DivergenceError, FormatError, Momentum, Nesterov,
  RMSprop, Sequential, SGD, ShapeError, SimpleConvNet, Trainer, WasmCnnError, modelFromConfig, modelFromSafetensors,
  Tensor, tensor, type Backend, type BackendName, type LayerSpec, type Network,
} from '../../src/index.js';
import { decodeSafetensors, encodeSafetensors, mnistFromIdx, parseIdx } from '../../src/index.js';
import { loadMnist, loadMnistBytes, writeFileAtomic, writeFileAtomicSync } from '../../src/node.js';
import { BatchGatherer } from '../../src/data/batch.js';
import { encodeIdx } from '../../src/data/idx.js';
import { filterGrid, featureMapGrid, pngToMnist, decodePng, encodePng, toMnist } from '../../src/viz/index.js';
import { BACKENDS } from '../helpers/harness.js';
import { type ErrorClass, expectLibError, paramBytes, sameBytes, thrown, tinyNet, uniform } from './helpers.js';
import { avgPool, conv2d, matmul, maxPool } from '../../src/ops/index.js';

interface Ctx {
  name: BackendName;
  backend: Backend;
  net: SimpleConvNet;
  /** A valid input batch (3, 1, 7, 7) and its labels. */
  x: Tensor;
  t: Int32Array;
  /** A valid device tensor (2, 2, 5, 5) and conv weights (3, 2, 3, 3). */
  img: Tensor;
  w: Tensor;
  /** A temp folder holding kept.bin, which refused writes must leave alone. */
  dir: string;
}

interface Case {
  what: string;
  run: (c: Ctx) => unknown;
  error?: ErrorClass;
  /** Every pattern must match the message: the argument, the expectation, what was given. */
  message: RegExp[];
}

const x3 = (data = uniform(3 * 49, 1)) => tensor(data, [3, 1, 7, 7]);
const withNaN = (i: number, v = NaN) => {
  const d = uniform(3 * 49, 2);
  d[i] = v;
  return x3(d);
};
const idxImages = encodeIdx([3, 4, 4], Uint8Array.from({ length: 48 }, (_, i) => i * 5));
const idxLabels = encodeIdx([3], Uint8Array.of(1, 2, 3));

const cases: Case[] = [
  // ---- createBackend ----
  { what: 'createBackend: unknown name', run: () => createBackend('gpu' as BackendName), message: [/createBackend/, /unknown backend "gpu"/, /"wasm" or "js"/] },
  { what: 'createBackend: threads 0', run: (c) => createBackend(c.name, { threads: 0 }), message: [/threads must be a positive integer, got 0/] },
  { what: 'createBackend: threads 1.5', run: (c) => createBackend(c.name, { threads: 1.5 }), message: [/threads must be a positive integer, got 1.5/] },
  { what: 'createBackend: threads NaN', run: (c) => createBackend(c.name, { threads: NaN }), message: [/threads must be a positive integer, got NaN/] },
  { what: 'createBackend: threads -2', run: (c) => createBackend(c.name, { threads: -2 }), message: [/threads must be a positive integer, got -2/] },
  { what: 'createBackend: initialBytes -1', run: (c) => createBackend(c.name, { initialBytes: -1 }), message: [/initialBytes/, /non-negative/, /got -1/] },
  { what: 'createBackend: initialBytes NaN', run: (c) => createBackend(c.name, { initialBytes: NaN }), message: [/initialBytes/, /got NaN/] },
  { what: 'createBackend: initialBytes Infinity', run: (c) => createBackend(c.name, { initialBytes: Infinity }), message: [/initialBytes/, /got Infinity/] },
  { what: 'createBackend: initialBytes 1e12 (over the 4 GiB of Wasm memory)', run: (c) => createBackend(c.name, { initialBytes: 1e12 }), message: [/initialBytes/, /4 GiB|4294967296/, /got 1000000000000/] },
  { what: 'createBackend: unknown option', run: (c) => createBackend(c.name, { thread: 2 } as never), message: [/createBackend: unknown option "thread"; valid options are initialBytes, threads/] },
  { what: "createBackend: relaxedSimd 'yes'", run: (c) => createBackend(c.name, { relaxedSimd: 'yes' as never }), message: [/relaxedSimd must be true, false or 'auto', got "yes"/] },
  { what: 'createBackend: maximumBytes NaN', run: (c) => createBackend(c.name, { threads: 2, maximumBytes: NaN }), message: [/maximumBytes must be a positive number of at most 4294967296 \(4 GiB\), got NaN/] },
  { what: 'backend.empty: beyond a shared memory\'s maximumBytes', run: async () => {
    const b = await createBackend('wasm', { threads: 2, maximumBytes: 8 << 20 });
    try {
      return b.empty([4 << 20]);
    } finally {
      b.dispose();
    }
  }, message: [/out of memory: cannot grow the backend memory from \d+ to \d+ bytes/] },
  { what: 'createBackend: options not an object', run: (c) => createBackend(c.name, null as never), message: [/createBackend: options must be an object/] },

  // ---- tensor() and backend.tensor() ----
  { what: 'tensor: length mismatch', run: () => tensor([1, 2, 3], [2, 2]), message: [/tensor: shape \(2, 2\) holds 4 values, but data has 3/] },
  { what: 'tensor: negative dimension', run: () => tensor([1, 2], [-1, -2]), message: [/shape must be an array of non-negative integers, got \[-1,-2\]/] },
  { what: 'tensor: non-integer dimension', run: () => tensor([1, 2], [2.5]), message: [/non-negative integers, got \[2.5\]/] },
  { what: 'tensor: NaN dimension', run: () => tensor([1, 2], [NaN]), message: [/non-negative integers/] },
  { what: 'tensor: shape not an array', run: () => tensor([1, 2], 2 as never), message: [/shape must be an array/, /got 2/] },
  { what: 'tensor: data null', run: () => tensor(null as never), message: [/tensor: data must be an array of numbers/, /got null/] },
  { what: 'tensor: data a string', run: () => tensor('12' as never), message: [/tensor: data must be an array of numbers/, /got "12"/] },
  { what: 'Tensor.host: a Float64Array', run: () => Tensor.host(new Float64Array(4) as never, [4]), message: [/Tensor.host: data must be a Float32Array \(tensor\(\) copies other arrays\), got Float64Array/] },
  { what: 'Tensor.host: length mismatch', run: () => Tensor.host(new Float32Array(3), [2, 2]), message: [/Tensor.host: shape \(2, 2\) holds 4 values, but data has 3/] },
  { what: 'backend.tensor: length mismatch', run: (c) => c.backend.tensor(new Float32Array(5), [2, 3]), error: ShapeError, message: [/tensor: shape \(2, 3\) holds 6 values, but data has 5/] },
  { what: 'backend.tensor: data undefined', run: (c) => c.backend.tensor(undefined as never, [2]), message: [/tensor: data must be an array of numbers/, /undefined/] },
  { what: 'backend.empty: larger than Wasm memory can hold', run: (c) => c.backend.empty([2 ** 31]), message: [/8589934592 bytes|8 GiB/, /4 GiB/] },

  // ---- backend.conv2d ----
  { what: 'conv2d: x a Float32Array', run: (c) => conv2d(c.backend, new Float32Array(50) as never, c.w, null), message: [/conv2d: x must be a Tensor/, /Float32Array/] },
  { what: 'conv2d: w null', run: (c) => conv2d(c.backend, c.img, null as never, null), message: [/conv2d: w must be a Tensor/, /null/] },
  { what: 'conv2d: b a plain array', run: (c) => conv2d(c.backend, c.img, c.w, [1, 2, 3] as never), message: [/conv2d: b must be a Tensor or null, got \[1,2,3\]/] },
  { what: 'conv2d: 3-D input', run: (c) => conv2d(c.backend, tensor(new Float32Array(50), [2, 5, 5]), c.w, null), error: ShapeError, message: [/conv2d: input must be 4-D \(N, C, H, W\), got \(2, 5, 5\)/] },
  { what: 'conv2d: channel mismatch', run: (c) => conv2d(c.backend, tensor(new Float32Array(75), [1, 3, 5, 5]), c.w, null), error: ShapeError, message: [/weights \(3, 2, 3, 3\) expect 2 input channels, but the input \(1, 3, 5, 5\) has 3/] },
  { what: 'conv2d: bias of the wrong size', run: (c) => conv2d(c.backend, c.img, c.w, tensor([1, 2])), error: ShapeError, message: [/conv2d: bias must have shape \(3\) for 3 filters, got \(2\)/] },
  { what: 'conv2d: stride 0', run: (c) => conv2d(c.backend, c.img, c.w, null, { stride: 0 }), error: ShapeError, message: [/conv2d: stride must be a positive integer, got 0/] },
  { what: 'conv2d: stride 1.5', run: (c) => conv2d(c.backend, c.img, c.w, null, { stride: 1.5 }), error: ShapeError, message: [/stride must be a positive integer, got 1.5/] },
  { what: 'conv2d: pad -1', run: (c) => conv2d(c.backend, c.img, c.w, null, { pad: -1 }), error: ShapeError, message: [/conv2d: pad must be a non-negative integer, got -1/] },
  { what: 'conv2d: pad NaN', run: (c) => conv2d(c.backend, c.img, c.w, null, { pad: NaN }), error: ShapeError, message: [/pad must be a non-negative integer, got NaN/] },
  { what: 'conv2d: pad Infinity', run: (c) => conv2d(c.backend, c.img, c.w, null, { pad: Infinity }), error: ShapeError, message: [/pad must be a non-negative integer, got Infinity/] },
  { what: 'conv2d: filter larger than the input', run: (c) => conv2d(c.backend, tensor(new Float32Array(8), [1, 2, 2, 2]), c.w, null), error: ShapeError, message: [/a 3x3 filter with pad 0 does not fit the 2x2 input/] },
  { what: 'conv2d: options null', run: (c) => conv2d(c.backend, c.img, c.w, null, null as never), message: [/conv2d: options must be an object/, /null/] },

  // ---- backend.maxPool / avgPool ----
  { what: 'maxPool: no options', run: (c) => maxPool(c.backend, c.img, undefined as never), message: [/maxPool: options \{ size, stride\?, pad\? \} are required/] },
  { what: 'maxPool: size 0', run: (c) => maxPool(c.backend, c.img, { size: 0 }), error: ShapeError, message: [/maxPool: window size must be a positive integer, got 0/] },
  { what: 'maxPool: size 2.5', run: (c) => maxPool(c.backend, c.img, { size: 2.5 }), error: ShapeError, message: [/window size must be a positive integer, got 2.5/] },
  { what: 'maxPool: size NaN', run: (c) => maxPool(c.backend, c.img, { size: NaN }), error: ShapeError, message: [/window size must be a positive integer, got NaN/] },
  { what: 'maxPool: stride -1', run: (c) => maxPool(c.backend, c.img, { size: 2, stride: -1 }), error: ShapeError, message: [/maxPool: stride must be a positive integer, got -1/] },
  { what: 'maxPool: pad >= size', run: (c) => maxPool(c.backend, c.img, { size: 2, pad: 2 }), error: ShapeError, message: [/pad 2 must be smaller than the window size 2/] },
  { what: 'maxPool: 2-D input', run: (c) => maxPool(c.backend, tensor(new Float32Array(4), [2, 2]), { size: 2 }), error: ShapeError, message: [/maxPool: input must be 4-D \(N, C, H, W\), got \(2, 2\)/] },
  { what: 'maxPool: x a number array', run: (c) => maxPool(c.backend, [1, 2, 3, 4] as never, { size: 2 }), message: [/maxPool: x must be a Tensor, got \[1,2,3,4\]/] },
  { what: 'avgPool: window larger than the input', run: (c) => avgPool(c.backend, c.img, { size: 6 }), error: ShapeError, message: [/avgPool: a 6x6 window with pad 0 does not fit the 5x5 input/] },
  { what: 'avgPool: size Infinity', run: (c) => avgPool(c.backend, c.img, { size: Infinity }), error: ShapeError, message: [/avgPool: window size must be a positive integer, got Infinity/] },
  { what: 'avgPool: x undefined', run: (c) => avgPool(c.backend, undefined as never, { size: 2 }), message: [/avgPool: x must be a Tensor/, /undefined/] },

  // ---- backend.matmul ----
  { what: 'matmul: inner sizes differ', run: (c) => matmul(c.backend, tensor(new Float32Array(6), [2, 3]), tensor(new Float32Array(8), [4, 2])), error: ShapeError, message: [/matmul: inner sizes differ: op\(a\) is \(2, 3\) and op\(b\) is \(4, 2\)/] },
  { what: 'matmul: 3-D operand', run: (c) => matmul(c.backend, c.img, tensor(new Float32Array(4), [2, 2])), error: ShapeError, message: [/matmul: both operands must be 2-D, got \(2, 2, 5, 5\) and \(2, 2\)/] },
  { what: 'matmul: a Float32Array operand', run: (c) => matmul(c.backend, new Float32Array(4) as never, tensor(new Float32Array(4), [2, 2])), message: [/matmul: a must be a Tensor/, /Float32Array/] },
  { what: 'matmul: transA not a boolean', run: (c) => matmul(c.backend, tensor(new Float32Array(4), [2, 2]), tensor(new Float32Array(4), [2, 2]), { transA: 'yes' as never }), message: [/matmul: transA must be a boolean, got "yes"/] },

  // ---- SimpleConvNet constructor ----
  { what: 'SimpleConvNet: no backend', run: () => new SimpleConvNet({} as never), message: [/SimpleConvNet: options.backend is required/] },
  { what: 'SimpleConvNet: backend not a Backend', run: () => new SimpleConvNet({ backend: {} as never }), message: [/SimpleConvNet: options.backend must be a Backend from createBackend/] },
  { what: 'SimpleConvNet: inputDim [28, 28]', run: (c) => new SimpleConvNet({ backend: c.backend, inputDim: [28, 28] }), message: [/inputDim must be \[C, H, W\], got \[28,28\]/] },
  { what: 'SimpleConvNet: inputDim with 0', run: (c) => new SimpleConvNet({ backend: c.backend, inputDim: [1, 0, 28] }), message: [/inputDim must be a non-empty array of positive integers.*got \[1,0,28\]/] },
  { what: 'SimpleConvNet: filterNum 0', run: (c) => tinyNet(c.backend, { convParam: { filterNum: 0, filterSize: 3 } }), message: [/convParam.filterNum must be a positive integer, got 0/] },
  { what: 'SimpleConvNet: filterSize 2.5', run: (c) => tinyNet(c.backend, { convParam: { filterNum: 2, filterSize: 2.5 } }), message: [/convParam.filterSize must be a positive integer, got 2.5/] },
  { what: 'SimpleConvNet: pad -1', run: (c) => tinyNet(c.backend, { convParam: { filterNum: 2, filterSize: 3, pad: -1 } }), message: [/convParam.pad must be a non-negative integer, got -1/] },
  { what: 'SimpleConvNet: stride NaN', run: (c) => tinyNet(c.backend, { convParam: { filterNum: 2, filterSize: 3, stride: NaN } }), message: [/convParam.stride must be a positive integer, got NaN/] },
  { what: "SimpleConvNet: the course's snake_case convParam keys", run: (c) => tinyNet(c.backend, { convParam: { filter_num: 2, filter_size: 3 } as never }), message: [/SimpleConvNet: unknown convParam key "filter_num"/, /filterNum, filterSize, pad, stride/] },
  { what: 'SimpleConvNet: unknown option', run: (c) => tinyNet(c.backend, { hidden_size: 5 } as never), message: [/SimpleConvNet: unknown option "hidden_size"/, /hiddenSize/] },
  { what: 'SimpleConvNet: filter larger than the input', run: (c) => tinyNet(c.backend, { convParam: { filterNum: 2, filterSize: 9 } }), error: ShapeError, message: [/SimpleConvNet: Conv1/, /9x9 filter with pad 0 does not fit the 7x7 input/] },
  { what: 'SimpleConvNet: hiddenSize 0', run: (c) => tinyNet(c.backend, { hiddenSize: 0 }), message: [/hiddenSize must be a positive integer, got 0/] },
  { what: 'SimpleConvNet: outputSize 2.5', run: (c) => tinyNet(c.backend, { outputSize: 2.5 }), message: [/outputSize must be a positive integer, got 2.5/] },
  { what: 'SimpleConvNet: weightInitStd -1', run: (c) => tinyNet(c.backend, { weightInitStd: -1 }), message: [/weightInitStd must be a non-negative number, got -1/] },
  { what: 'SimpleConvNet: weightInitStd NaN', run: (c) => tinyNet(c.backend, { weightInitStd: NaN }), message: [/weightInitStd must be a non-negative number, got NaN/] },
  { what: "SimpleConvNet: weightInitStd 'kaiming'", run: (c) => tinyNet(c.backend, { weightInitStd: 'kaiming' as never }), message: [/weightInitStd must be a number, 'relu'\/'he' or 'sigmoid'\/'xavier', got "kaiming"/] },
  { what: 'SimpleConvNet: seed Infinity', run: (c) => tinyNet(c.backend, { seed: Infinity }), message: [/seed must be a finite number, got Infinity/] },
  { what: 'SimpleConvNet: hiddenSize too large for Wasm memory', run: (c) => tinyNet(c.backend, { hiddenSize: 2 ** 30 }), message: [/SimpleConvNet: Affine1/, /12884901888 values|parameters/, /4 GiB/] },

  // ---- Sequential constructor ----
  { what: 'Sequential: layers not an array', run: (c) => new Sequential({ backend: c.backend, inputDim: [4], layers: 'Affine' as never }), message: [/Sequential: layers must be an array of layer specs/] },
  { what: 'Sequential: unknown layer type', run: (c) => new Sequential({ backend: c.backend, inputDim: [4], layers: [{ type: 'Dense' } as never] }), message: [/layer 1 \(Dense\): type must be one of Convolution, Pooling, Affine/] },
  { what: 'Sequential: Convolution without filterNum', run: (c) => new Sequential({ backend: c.backend, inputDim: [1, 7, 7], layers: [{ type: 'Convolution', filterSize: 3 } as never] }), message: [/layer 1 \(Convolution\): filterNum must be a positive integer, got undefined/] },
  { what: 'Sequential: misspelled layer field', run: (c) => new Sequential({ backend: c.backend, inputDim: [1, 7, 7], layers: [{ type: 'Convolution', filterNum: 2, filterSize: 3, padding: 1 } as never, { type: 'Affine', outputSize: 2 }] }), message: [/layer 1 \(Convolution\): unknown field "padding"/, /filterNum, filterSize, stride, pad, weightInitStd/] },
  { what: 'Sequential: Affine outputSize 0', run: (c) => new Sequential({ backend: c.backend, inputDim: [4], layers: [{ type: 'Affine', outputSize: 0 }] }), message: [/layer 1 \(Affine\): outputSize must be a positive integer, got 0/] },
  { what: 'Sequential: Dropout ratio 1', run: (c) => new Sequential({ backend: c.backend, inputDim: [4], layers: [{ type: 'Dropout', ratio: 1 }, { type: 'Affine', outputSize: 2 }] }), message: [/ratio must be in \[0, 1\), got 1/] },
  { what: 'Sequential: Dropout ratio NaN', run: (c) => new Sequential({ backend: c.backend, inputDim: [4], layers: [{ type: 'Dropout', ratio: NaN }, { type: 'Affine', outputSize: 2 }] }), message: [/ratio must be in \[0, 1\), got NaN/] },
  { what: 'Sequential: BatchNormalization eps 0', run: (c) => new Sequential({ backend: c.backend, inputDim: [4], layers: [{ type: 'BatchNormalization', eps: 0 }, { type: 'Affine', outputSize: 2 }] }), message: [/eps must be positive, got 0/] },
  { what: 'Sequential: BatchNormalization momentum Infinity', run: (c) => new Sequential({ backend: c.backend, inputDim: [4], layers: [{ type: 'BatchNormalization', momentum: Infinity }, { type: 'Affine', outputSize: 2 }] }), message: [/momentum must be in \[0, 1\], got Infinity/] },
  { what: 'Sequential: Pooling mode "min"', run: (c) => new Sequential({ backend: c.backend, inputDim: [1, 4, 4], layers: [{ type: 'Pooling', size: 2, mode: 'min' as never }, { type: 'Affine', outputSize: 2 }] }), message: [/mode must be "max" or "avg", got "min"/] },
  { what: 'Sequential: does not end with class scores', run: (c) => new Sequential({ backend: c.backend, inputDim: [1, 7, 7], layers: [{ type: 'Convolution', filterNum: 2, filterSize: 3 }] }), error: ShapeError, message: [/the last layer must give class scores \(N, classes\), but it gives \(N, 2, 5, 5\)/] },
  { what: 'Sequential: convolution on flat input', run: (c) => new Sequential({ backend: c.backend, inputDim: [49], layers: [{ type: 'Convolution', filterNum: 2, filterSize: 3 }, { type: 'Affine', outputSize: 2 }] }), error: ShapeError, message: [/Convolution1: a convolution needs \(C, H, W\) samples, but its input is \(49\)/] },
  { what: 'Sequential: SoftmaxWithLoss not last', run: (c) => new Sequential({ backend: c.backend, inputDim: [4], layers: [{ type: 'SoftmaxWithLoss' }, { type: 'Affine', outputSize: 2 }] }), message: [/SoftmaxWithLoss can only be the last layer/] },
  { what: 'Sequential: Affine too large for Wasm memory', run: (c) => new Sequential({ backend: c.backend, inputDim: [1 << 20], layers: [{ type: 'Affine', outputSize: 1 << 12 }] }), message: [/Sequential: Affine1/, /4294967296 values|parameters/, /4 GiB/] },
  { what: 'modelFromConfig: unknown type', run: (c) => modelFromConfig({ type: 'ResNet' }, { backend: c.backend }), message: [/modelFromConfig: unknown model type "ResNet"/] },

  // ---- predict / loss / accuracy / gradient ----
  { what: 'predict: x a Float32Array', run: (c) => c.net.predict(new Float32Array(49) as never), message: [/SimpleConvNet.predict: x must be a Tensor, got Float32Array/] },
  { what: 'predict: wrong sample shape', run: (c) => c.net.predict(tensor(new Float32Array(64), [1, 1, 8, 8])), error: ShapeError, message: [/SimpleConvNet.predict: input must have shape \(N, 1, 7, 7\), got \(1, 1, 8, 8\)/] },
  { what: 'predict: empty batch', run: (c) => c.net.predict(tensor(new Float32Array(0), [0, 1, 7, 7])), error: ShapeError, message: [/SimpleConvNet.predict: the input batch \(0, 1, 7, 7\) is empty/] },
  { what: 'predict: NaN in x', run: (c) => c.net.predict(withNaN(100)), message: [/SimpleConvNet.predict: x holds 1 NaN\/Infinity value/, /first at index 100: NaN/] },
  { what: 'loss: labels of the wrong count', run: (c) => c.net.loss(c.x, Int32Array.of(0, 1)), error: ShapeError, message: [/SimpleConvNet.loss: 2 labels for 3 inputs/] },
  { what: 'loss: label out of range', run: (c) => c.net.loss(c.x, Int32Array.of(0, 4, 1)), message: [/SimpleConvNet.loss: label 4 at index 1 is out of range: expected a class index in 0..3/] },
  { what: 'loss: negative label', run: (c) => c.net.loss(c.x, Int32Array.of(0, -1, 1)), message: [/label -1 at index 1 is out of range/] },
  { what: 'loss: fractional labels', run: (c) => c.net.loss(c.x, Float32Array.of(0, 0.5, 1) as never), message: [/label 0.5 at index 1 is not a class index/] },
  { what: 'loss: one-hot with the wrong number of classes', run: (c) => c.net.loss(c.x, tensor(new Float32Array(9), [3, 3])), error: ShapeError, message: [/one-hot labels must have shape \(3, 4\) for 3 inputs and 4 classes, got \(3, 3\)/] },
  { what: 'loss: one-hot row that is not one-hot', run: (c) => c.net.loss(c.x, tensor(new Float32Array(12), [3, 4])), message: [/row 0 of the one-hot labels is not one-hot/] },
  { what: 'loss: labels null', run: (c) => c.net.loss(c.x, null as never), message: [/SimpleConvNet.loss: labels must be class indices \(Int32Array or Uint8Array\) or a one-hot Tensor, got null/] },
  { what: 'loss: Infinity in x', run: (c) => c.net.loss(withNaN(60, Infinity), c.t), message: [/SimpleConvNet.loss: x holds 1 NaN\/Infinity value/, /first at index 60: Infinity/] },
  { what: 'accuracy: batchSize 0', run: (c) => c.net.accuracy(c.x, c.t, 0), message: [/SimpleConvNet.accuracy: batchSize must be a positive integer, got 0/] },
  { what: 'accuracy: batchSize 1.5', run: (c) => c.net.accuracy(c.x, c.t, 1.5), message: [/batchSize must be a positive integer, got 1.5/] },
  { what: 'accuracy: batchSize NaN', run: (c) => c.net.accuracy(c.x, c.t, NaN), message: [/batchSize must be a positive integer, got NaN/] },
  { what: 'accuracy: labels of the wrong count', run: (c) => c.net.accuracy(c.x, Int32Array.of(1)), error: ShapeError, message: [/SimpleConvNet.accuracy: 1 labels for 3 inputs/] },
  { what: 'accuracy: NaN in x', run: (c) => c.net.accuracy(withNaN(7), c.t), message: [/SimpleConvNet.accuracy: x holds 1 NaN\/Infinity value/, /index 7: NaN/] },
  { what: 'gradient: NaN in x', run: (c) => c.net.gradient(withNaN(0), c.t), message: [/SimpleConvNet.gradient: x holds 1 NaN\/Infinity value/, /index 0: NaN/] },
  { what: 'gradient: label out of range', run: (c) => c.net.gradient(c.x, Uint8Array.of(0, 1, 200)), message: [/SimpleConvNet.gradient: label 200 at index 2 is out of range/] },
  { what: 'gradient: flat input of the wrong size', run: (c) => c.net.gradient(tensor(new Float32Array(3 * 50), [3, 50]), c.t), error: ShapeError, message: [/input must have shape \(N, 1, 7, 7\), got \(3, 50\)/] },
  { what: 'numericalGradient: h 0', run: (c) => c.net.numericalGradient(c.x, c.t, 0), message: [/numericalGradient: h must be a positive finite number, got 0/] },
  { what: 'numericalGradient: h Infinity', run: (c) => c.net.numericalGradient(c.x, c.t, Infinity), message: [/numericalGradient: h must be a positive finite number, got Infinity/] },

  // ---- setParams / loadParams ----
  { what: 'setParams: unknown name', run: (c) => c.net.setParams({ W9: new Float32Array(3) }), message: [/SimpleConvNet.setParams: unknown parameter "W9"; this model has W1, b1, W2, b2, W3, b3/] },
  { what: 'setParams: wrong length', run: (c) => c.net.setParams({ b1: new Float32Array(4) }), error: ShapeError, message: [/SimpleConvNet.setParams: b1 needs 3 values \(shape \(3\)\), got 4/] },
  { what: 'setParams: a number instead of an array', run: (c) => c.net.setParams({ b1: 3 as never }), message: [/setParams: b1 must be a Float32Array \(or an array of numbers, or a Tensor\), got 3/] },
  { what: 'setParams: NaN value (after a valid entry: nothing changes)', run: (c) => c.net.setParams({ W1: new Float32Array(27), b1: Float32Array.of(0, NaN, 0) }), message: [/SimpleConvNet.setParams: b1 has a non-finite value \(NaN\) at index 1/] },
  { what: 'setParams: -Infinity value', run: (c) => c.net.setParams({ b3: Float32Array.of(0, 0, -Infinity, 0) }), message: [/b3 has a non-finite value \(-Infinity\) at index 2/] },
  { what: 'setParams: not an object', run: (c) => c.net.setParams(null as never), message: [/setParams: expected an object of parameter arrays/] },
  { what: 'loadParams: an ArrayBuffer', run: (c) => c.net.loadParams(new ArrayBuffer(8) as never), error: FormatError, message: [/SimpleConvNet.loadParams: expected the bytes of a safetensors file \(Uint8Array\)/] },
  { what: 'loadParams: another architecture', run: (c) => c.net.loadParams(tinyNet(c.backend, { hiddenSize: 6 }).saveParams()), error: ShapeError, message: [/SimpleConvNet.loadParams: the file is for a different architecture: hiddenSize is 6 in the file but 5 in this model/] },
  { what: 'loadParams: empty file', run: (c) => c.net.loadParams(new Uint8Array(0)), error: FormatError, message: [/loadParams/, /the file is 0 bytes; it must start with an 8-byte header length/] },
  { what: 'modelFromSafetensors: random bytes', run: (c) => modelFromSafetensors(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9), { backend: c.backend }), error: FormatError, message: [/modelFromSafetensors/, /header length/] },

  // ---- Trainer ----
  ...trainerOptionCases(),

  // ---- optimizers ----
  { what: 'SGD: lr 0', run: () => new SGD({ lr: 0 }), message: [/SGD: lr must be a positive finite number, got 0/] },
  { what: 'SGD: lr NaN', run: () => new SGD({ lr: NaN }), message: [/SGD: lr must be a positive finite number, got NaN/] },
  { what: 'SGD: options null', run: () => new SGD(null as never), message: [/SGD: options must be an object, got null/] },
  { what: 'Momentum: momentum 1', run: () => new Momentum({ momentum: 1 }), message: [/Momentum: momentum must be a number in \[0, 1\), got 1/] },
  { what: 'Nesterov: momentum -0.1', run: () => new Nesterov({ momentum: -0.1 }), message: [/Nesterov: momentum must be a number in \[0, 1\), got -0.1/] },
  { what: 'AdaGrad: lr Infinity', run: () => new AdaGrad({ lr: Infinity }), message: [/AdaGrad: lr must be a positive finite number, got Infinity/] },
  { what: 'RMSprop: decayRate 1.5', run: () => new RMSprop({ decayRate: 1.5 }), message: [/RMSprop: decayRate must be a number in \[0, 1\), got 1.5/] },
  { what: 'RMSprop: decay_rate and decayRate', run: () => new RMSprop({ decayRate: 0.9, decay_rate: 0.9 }), message: [/give decayRate or decay_rate, not both/] },
  { what: 'Adam: beta2 NaN', run: () => new Adam({ beta2: NaN }), message: [/Adam: beta2 must be a number in \[0, 1\), got NaN/] },
  { what: 'Adam: lr as a string', run: () => new Adam({ lr: '0.1' as never }), message: [/Adam: lr must be a positive finite number, got "0.1"/] },
  { what: 'Adam: unknown option', run: () => new Adam({ learning_rate: 0.1 } as never), message: [/Adam: unknown option "learning_rate"; valid options are lr, beta1, beta2/] },
  { what: 'createOptimizer: unknown name', run: () => createOptimizer('lbfgs'), message: [/unknown optimizer "lbfgs"; valid names are sgd, momentum, nesterov, adagrad, rmsprop, adam/] },
  { what: 'optimizer.update: gradient of the wrong shape', run: (c) => new SGD({ backend: c.backend }).update({ W: c.backend.zeros([4]) }, { W: c.backend.zeros([5]) }), error: ShapeError, message: [/SGD: gradient "W" has shape \(5\), but the parameter has shape \(4\)/] },
  { what: 'optimizer.update: missing gradient', run: (c) => new Adam({ backend: c.backend }).update({ W: c.backend.zeros([4]) }, {}), message: [/Adam: no gradient for parameter "W"/] },
  { what: 'optimizer.update: host tensors', run: (c) => new SGD({ backend: c.backend }).update({ W: tensor([1, 2]) }, { W: tensor([1, 2]) }), message: [/SGD: parameter "W" is not a tensor on the optimizer's \w+ backend/] },

  // ---- BatchGatherer ----
  { what: 'BatchGatherer: batch size 0', run: (c) => new BatchGatherer(c.backend, c.x, c.t, 0), message: [/BatchGatherer: batch size must be a positive integer, got 0/] },
  { what: 'BatchGatherer: labels out of range', run: (c) => new BatchGatherer(c.backend, c.x, Int32Array.of(0, 1, 9), 2, { classes: 4 }), message: [/BatchGatherer: label 9 at index 2 is out of range: expected a class index in 0\.\.3/] },
  { what: 'BatchGatherer: gather past the end', run: (c) => new BatchGatherer(c.backend, c.x, c.t, 2).gather([0, 1, 2], 3), message: [/BatchGatherer: no samples to gather at position 3 of 3 indices/] },
  { what: 'BatchGatherer: index out of range', run: (c) => new BatchGatherer(c.backend, c.x, c.t, 2).gather([0, 7]), message: [/BatchGatherer: sample index 7 outside \[0, 3\)/] },

  // ---- MNIST loaders and IDX ----
  { what: 'loadMnist: trainLimit -1', run: () => loadMnist({ trainLimit: -1 }), message: [/MNIST: trainLimit must be a non-negative integer, got -1/] },
  { what: 'loadMnist: testLimit 2.5', run: () => loadMnist({ testLimit: 2.5 }), message: [/MNIST: testLimit must be a non-negative integer, got 2.5/] },
  { what: 'loadMnist: trainLimit NaN', run: () => loadMnist({ trainLimit: NaN }), message: [/trainLimit must be a non-negative integer, got NaN/] },
  { what: "loadMnist: the course's one_hot_label", run: () => loadMnist({ one_hot_label: true } as never), message: [/loadMnist: unknown option "one_hot_label"/, /oneHotLabel/] },
  { what: 'loadMnist: normalize "false"', run: () => loadMnist({ normalize: 'false' as never }), message: [/loadMnist: normalize must be a boolean, got "false"/] },
  { what: 'loadMnist: a folder without the files', run: () => loadMnist({ dir: tmpdir() + '/no-such-mnist-dir' }), message: [/MNIST file not found: .*no-such-mnist-dir.*train-images-idx3-ubyte/] },
  { what: 'loadMnistBytes: trainLimit Infinity', run: () => loadMnistBytes({ trainLimit: Infinity }), message: [/trainLimit must be a non-negative integer, got Infinity/] },
  { what: 'mnistFromIdx: images and labels swapped', run: () => mnistFromIdx(idxLabels, idxImages, idxImages, idxLabels), error: FormatError, message: [/train images: magic number at byte 0 is 2049 \(labels \(1 dimension\)\), but 2051 \(images \(3 dimensions\)\) was expected/] },
  { what: 'mnistFromIdx: label 12', run: () => mnistFromIdx(idxImages, encodeIdx([3], Uint8Array.of(1, 12, 3)), idxImages, idxLabels), error: FormatError, message: [/train labels: label 12 of sample 1 \(byte 9\) is outside 0..9/] },
  { what: 'mnistFromIdx: counts differ', run: () => mnistFromIdx(idxImages, encodeIdx([2], Uint8Array.of(1, 2)), idxImages, idxLabels), error: FormatError, message: [/train images holds 3 images but train labels holds 2 labels/] },
  { what: 'parseIdx: a string', run: () => parseIdx('IDX' as never), error: FormatError, message: [/IDX file: expected a Uint8Array, got \[object String\]/] },
  { what: 'parseIdx: expect 1234', run: () => parseIdx(idxImages, { expect: 1234 as never }), message: [/parseIdx: expect must be 2049 \(labels\) or 2051 \(images\), got 1234/] },
  { what: 'parseIdx: truncated', run: () => parseIdx(idxImages.subarray(0, 30), { name: 'imgs' }), error: FormatError, message: [/imgs: truncated: dimensions \(3, 4, 4\) at bytes 4-15 declare 48 data bytes, so the file should be 64 bytes, but it is 30/] },
  { what: 'encodeIdx: 2 dimensions', run: () => encodeIdx([2, 2], new Uint8Array(4)), error: ShapeError, message: [/encodeIdx: expected 1 or 3 dimensions, got 2/] },

  // ---- safetensors ----
  { what: 'decodeSafetensors: a plain array', run: () => decodeSafetensors([1, 2, 3] as never), error: FormatError, message: [/safetensors file: expected a Uint8Array, got \[object Array\]/] },
  { what: 'decodeSafetensors: header length past the end', run: () => decodeSafetensors(Uint8Array.of(255, 255, 255, 255, 255, 255, 255, 255, 0x7b, 0x7d)), error: FormatError, message: [/header length 18446744073709551615 \(bytes 0-7, u64 little-endian\) is larger than the 2 bytes that follow/] },
  { what: 'encodeSafetensors: data a plain array', run: () => encodeSafetensors([{ name: 'a', shape: [2], data: [1, 2] as never }]), message: [/encodeSafetensors: tensor "a": data must be a Float32Array/] },
  { what: 'encodeSafetensors: shape / length mismatch', run: () => encodeSafetensors([{ name: 'a', shape: [3], data: new Float32Array(2) }]), message: [/tensor "a": shape \(3\) holds 3 values, but data has 2/] },
  { what: 'writeFileAtomicSync: bytes a number (would replace the file with an empty one)', run: (c) => writeFileAtomicSync(join(c.dir, 'kept.bin'), 5 as never), message: [/writeFileAtomicSync: bytes must be a Uint8Array, got 5/] },
  { what: 'writeFileAtomic: bytes an object', run: (c) => writeFileAtomic(join(c.dir, 'kept.bin'), {} as never), message: [/writeFileAtomic: bytes must be a Uint8Array, got \{\}/] },

  // ---- visualization ----
  { what: 'filterGrid: wrong rank', run: () => filterGrid(new Float32Array(9), [3, 3]), error: ShapeError, message: [/filterGrid: shape must be \[FN, C, KH, KW\] of non-negative integers, got \[3,3\]/] },
  { what: 'filterGrid: length mismatch', run: () => filterGrid(new Float32Array(10), [1, 1, 3, 3]), error: ShapeError, message: [/filterGrid: weights of shape \(1, 1, 3, 3\) need 9 values, got 10/] },
  { what: 'filterGrid: channel out of range', run: () => filterGrid(new Float32Array(9), [1, 1, 3, 3], { channel: 1 }), error: ShapeError, message: [/channel must be an integer in \[0, 1\), got 1/] },
  { what: 'filterGrid: scale 0', run: () => filterGrid(new Float32Array(9), [1, 1, 3, 3], { scale: 0 }), error: ShapeError, message: [/filterGrid: scale must be an integer >= 1, got 0/] },
  { what: 'filterGrid: columns -1', run: () => filterGrid(new Float32Array(9), [1, 1, 3, 3], { columns: -1 }), error: ShapeError, message: [/columns must be an integer >= 1, got -1/] },
  { what: 'filterGrid: weights null', run: () => filterGrid(null as never, [1, 1, 3, 3]), error: ShapeError, message: [/filterGrid: weights must be an array of numbers, got null/] },
  { what: 'featureMapGrid: input of the wrong size', run: () => featureMapGrid(new Float32Array(4), [1, 2, 2], { input: { data: new Float32Array(3), width: 2, height: 2 } }), error: ShapeError, message: [/featureMapGrid: input of 2x2 needs 4 values, got 3/] },
  { what: 'pngToMnist: not a PNG', run: () => pngToMnist(Uint8Array.of(1, 2, 3)), error: FormatError, message: [/not a PNG file: the first 8 bytes should be 89 50 4e 47 0d 0a 1a 0a, got 01 02 03/] },
  { what: 'pngToMnist: a string', run: () => pngToMnist('digit.png' as never), error: FormatError, message: [/PNG: expected a Uint8Array or ArrayBuffer of file bytes/] },
  { what: 'pngToMnist: truncated PNG', run: () => pngToMnist(encodePng({ width: 8, height: 8, data: new Uint8Array(64).fill(200) }).subarray(0, 40)), error: FormatError, message: [/PNG/] },
  { what: 'decodePng: over maxPixels', run: () => decodePng(encodePng({ width: 8, height: 8, data: new Uint8Array(64) }), { maxPixels: 10 }), error: FormatError, message: [/PNG: image is 8x8 = 64 pixels, more than the limit of 10/] },
  { what: 'toMnist: samples of the wrong count', run: () => toMnist({ width: 2, height: 2, channels: 1, data: new Uint8Array(3) }), error: ShapeError, message: [/toMnist: expected a 2x2 image with 1-4 channels of 8-bit samples, got 3 samples/] },
];

function trainerOptionCases(): Case[] {
  const T = (opts: Record<string, unknown>, data?: Partial<{ x: Tensor; t: unknown; xt: Tensor; tt: unknown }>) => (c: Ctx) =>
    new Trainer(c.net, data?.x ?? c.x, (data?.t ?? c.t) as Int32Array, data?.xt ?? c.x, (data?.tt ?? c.t) as Int32Array, { miniBatchSize: 3, ...opts });
  return [
    { what: 'Trainer: epochs 0', run: T({ epochs: 0 }), message: [/Trainer: epochs must be a positive integer, got 0/] },
    { what: 'Trainer: epochs -1', run: T({ epochs: -1 }), message: [/Trainer: epochs must be a positive integer, got -1/] },
    { what: 'Trainer: epochs 2.5', run: T({ epochs: 2.5 }), message: [/epochs must be a positive integer, got 2.5/] },
    { what: 'Trainer: epochs Infinity', run: T({ epochs: Infinity }), message: [/epochs must be a positive integer, got Infinity/] },
    { what: 'Trainer: miniBatchSize 0', run: T({ miniBatchSize: 0 }), message: [/Trainer: miniBatchSize must be a positive integer, got 0/] },
    { what: 'Trainer: miniBatchSize NaN', run: T({ miniBatchSize: NaN }), message: [/miniBatchSize must be a positive integer, got NaN/] },
    { what: 'Trainer: miniBatchSize larger than the data', run: T({ miniBatchSize: 4 }), message: [/Trainer: miniBatchSize 4 is larger than the training set \(3 samples\)/] },
    { what: 'Trainer: evaluateSampleNumPerEpoch 0', run: T({ evaluateSampleNumPerEpoch: 0 }), message: [/evaluateSampleNumPerEpoch must be a positive integer, got 0/] },
    { what: 'Trainer: seed NaN', run: T({ seed: NaN }), message: [/Trainer: seed must be a finite number, got NaN/] },
    { what: 'Trainer: unknown option (the course\'s spelling)', run: T({ mini_batch_size: 10 }), message: [/Trainer: unknown option "mini_batch_size"; valid options are epochs, miniBatchSize/] },
    { what: 'Trainer: unknown optimizer', run: T({ optimizer: 'lbfgs' }), message: [/unknown optimizer "lbfgs"/] },
    { what: 'Trainer: lr -1', run: T({ optimizer: 'adam', optimizerParam: { lr: -1 } }), message: [/Adam: lr must be a positive finite number, got -1/] },
    { what: 'Trainer: lr NaN', run: T({ optimizer: 'sgd', optimizerParam: { lr: NaN } }), message: [/SGD: lr must be a positive finite number, got NaN/] },
    { what: 'Trainer: optimizerParam for another optimizer', run: T({ optimizer: 'sgd', optimizerParam: { beta1: 0.9 } }), message: [/SGD: unknown option "beta1"; valid options are lr/] },
    { what: 'Trainer: onEpoch not a function', run: T({ onEpoch: 'log' }), message: [/Trainer: onEpoch must be a function/] },
    { what: 'Trainer: verbose "yes"', run: T({ verbose: 'yes' }), message: [/Trainer: verbose must be a boolean, got "yes"/] },
    { what: 'Trainer: snapshot 0', run: T({ snapshot: 0 }), message: [/Trainer: snapshot must be a boolean, got 0/] },
    { what: 'Trainer: network not a network', run: (c) => new Trainer({} as never, c.x, c.t, c.x, c.t), message: [/Trainer: network must implement the Network interface/] },
    { what: 'Trainer: xTrain a Float32Array', run: T({}, { x: new Float32Array(147) as never }), message: [/Trainer: xTrain: inputs must be a Tensor or ByteImages/] },
    { what: 'Trainer: xTrain samples of another shape', run: T({}, { x: tensor(new Float32Array(3 * 64), [3, 1, 8, 8]) }), error: ShapeError, message: [/Trainer: xTrain samples have shape \(1, 8, 8\), but the network expects \(1, 7, 7\)/] },
    { what: 'Trainer: NaN in xTrain', run: T({}, { x: withNaN(52) }), message: [/Trainer: xTrain holds 1 NaN\/Infinity value/, /first at index 52 \(sample 1\): NaN/] },
    { what: 'Trainer: Infinity in xTest', run: T({}, { xt: withNaN(146, -Infinity) }), message: [/Trainer: xTest holds 1 NaN\/Infinity value/, /index 146 \(sample 2\): -Infinity/] },
    { what: 'Trainer: tTrain of the wrong count', run: T({}, { t: Int32Array.of(0, 1) }), error: ShapeError, message: [/Trainer: tTrain: 2 labels for 3 inputs/] },
    { what: 'Trainer: tTest out of range', run: T({}, { tt: Int32Array.of(0, 1, 4) }), message: [/Trainer: tTest: label 4 at index 2 is out of range: expected a class index in 0\.\.3/] },
    { what: 'Trainer: labels a string', run: T({}, { t: '012' }), message: [/Trainer: tTrain: labels must be class indices \(Int32Array or Uint8Array\) or a one-hot Tensor, got "012"/] },
    { what: 'Trainer: empty training set', run: T({}, { x: tensor(new Float32Array(0), [0, 1, 7, 7]), t: new Int32Array(0) }), message: [/Trainer: the training set is empty/] },
  ];
}

// Every refused call is also checked to leave the model, the input and the files alone.
const VARIANTS: [string, BackendName, { threads?: number }][] = [...BACKENDS.map((b) => [b, b, {}] as [string, BackendName, object]), ['wasm, 2 threads', 'wasm', { threads: 2 }]];

describe.each(VARIANTS)('every public entry point validates its arguments (%s backend)', (_label, name, options) => {
  let ctx: Ctx;
  beforeAll(async () => {
    const backend = await createBackend(name, options);
    const dir = mkdtempSync(join(tmpdir(), 'wasm-cnn-api-'));
    writeFileSync(join(dir, 'kept.bin'), 'keep me');
    ctx = {
      name, backend, net: tinyNet(backend), x: x3(), t: Int32Array.of(0, 3, 1),
      img: backend.tensor(uniform(100, 3), [2, 2, 5, 5]), w: backend.tensor(uniform(54, 4), [3, 2, 3, 3]), dir,
    };
  });
  afterAll(() => {
    rmSync(ctx.dir, { recursive: true, force: true });
    ctx.backend.dispose();
  });

  it.each(cases.map((c) => [c.what, c] as const))('%s', async (_what, c) => {
    const before = paramBytes(ctx.net);
    const input = ctx.x.toArray();
    const e = await thrown(() => c.run(ctx));
    expectLibError(e, c.error ?? WasmCnnError, ...c.message);
    // never an engine error dressed up: the message is ours, the class is ours
    expect(e.name).toBe((c.error ?? e.constructor).name);
    expect(sameBytes(paramBytes(ctx.net), before), 'the model was changed by a refused call').toBe(true);
    expect(ctx.x.toArray()).toEqual(input);
    expect(readFileSync(join(ctx.dir, 'kept.bin'), 'utf8')).toBe('keep me');
    expect(readdirSync(ctx.dir)).toEqual(['kept.bin']);
  });

  it('the table covers the documented API surface', () => {
    const covered = cases.map((c) => c.what.split(':')[0]);
    for (const api of ['createBackend', 'tensor', 'backend.tensor', 'conv2d', 'maxPool', 'avgPool', 'matmul', 'SimpleConvNet',
      'Sequential', 'predict', 'loss', 'accuracy', 'gradient', 'setParams', 'loadParams', 'modelFromSafetensors', 'Trainer',
      'SGD', 'Adam', 'Momentum', 'Nesterov', 'AdaGrad', 'RMSprop', 'createOptimizer', 'loadMnist', 'mnistFromIdx', 'parseIdx',
      'decodeSafetensors', 'encodeSafetensors', 'filterGrid', 'featureMapGrid', 'pngToMnist', 'BatchGatherer']) {
      expect(covered, api).toContain(api);
    }
  });

  it('valid calls next to the refused ones work (the checks do not reject good input)', async () => {
    const { backend, net, x, t } = ctx;
    expect(net.predict(x).shape).toEqual([3, 4]);
    expect(Number.isFinite(net.loss(x, t))).toBe(true);
    // accuracy is the share of rows whose largest score is the label
    const scores = net.predict(x).toArray();
    const hits = Array.from(t, (label, i) => {
      const row = Array.from(scores.subarray(i * 4, i * 4 + 4));
      return row.indexOf(Math.max(...row)) === label ? 1 : 0;
    }).reduce<number>((a, b) => a + b, 0);
    expect(net.accuracy(x, t, 100)).toBe(hits / t.length);
    expect(net.accuracy(x, t, 2)).toBe(hits / t.length);
    expect(Object.keys(net.gradient(x, t))).toEqual(['W1', 'b1', 'W2', 'b2', 'W3', 'b3']);
    const y = conv2d(backend, ctx.img, ctx.w, null, { stride: 1, pad: 1 });
    expect(y.shape).toEqual([2, 3, 5, 5]);
    expect(maxPool(backend, y, { size: 2 }).shape).toEqual([2, 3, 2, 2]);
    expect(avgPool(backend, y, { size: 3, stride: 1, pad: 1 }).shape).toEqual([2, 3, 5, 5]);
    expect(matmul(backend, tensor(new Float32Array(6), [2, 3]), tensor(new Float32Array(6), [2, 3]), { transB: true }).shape).toEqual([2, 2]);
    const seq = new Sequential({ backend, inputDim: [1, 7, 7], layers: [
      { type: 'Convolution', filterNum: 2, filterSize: 3, pad: 1, weightInitStd: 'he' }, { type: 'BatchNormalization', momentum: 0.9, eps: 1e-5 },
      { type: 'Relu' }, { type: 'Pooling', size: 2, stride: 2, mode: 'avg' }, { type: 'Dropout', ratio: 0.2 }, { type: 'Affine', outputSize: 4 },
      { type: 'SoftmaxWithLoss' },
    ] satisfies LayerSpec[] });
    expect(seq.predict(x).shape).toEqual([3, 4]);
    // a file round trip, labels as Uint8Array and one-hot
    const copy = tinyNet(backend, { seed: 99 });
    copy.loadParams(net.saveParams());
    expect(sameBytes(paramBytes(copy), paramBytes(net))).toBe(true);
    expect(net.loss(x, Uint8Array.of(0, 3, 1))).toBe(net.loss(x, t));
    const r = await new Trainer(copy as Network, x, t, x, t, { epochs: 1, miniBatchSize: 3, verbose: false, snapshot: true }).train();
    expect(r.steps).toBe(1);
    expect(mnistFromIdx(idxImages, idxLabels, idxImages, idxLabels, { flatten: false, trainLimit: 2 }).xTrain.shape).toEqual([2, 1, 4, 4]);
    // the library's error classes: catchable as WasmCnnError, named for their class
    const d = new DivergenceError('training diverged');
    expect(d).toBeInstanceOf(WasmCnnError);
    expect(d).toBeInstanceOf(Error);
    expect([d.name, d.message]).toEqual(['DivergenceError', 'training diverged']);
  });
});
