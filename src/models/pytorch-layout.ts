/**
 * The PyTorch layout of a parameter file: the state dict of the nn.Sequential that computes
 * what a wasm-cnn model computes (its logits; the model's SoftmaxWithLoss is left out, as
 * nn.CrossEntropyLoss takes logits).
 *
 * Modules, one per wasm-cnn layer, numbered as nn.Sequential numbers them:
 *   Convolution         -> nn.Conv2d(C, FN, kernel_size, stride, padding)  weight (FN, C, KH, KW) = W, bias = b
 *   Affine              -> nn.Linear(D, out)       weight (out, D) = W (D, out) transposed, bias = b
 *   BatchNormalization  -> nn.BatchNorm1d(D, eps, momentum = 1 - wasm-cnn's momentum)
 *                          weight = gamma, bias = beta, running_mean, running_var
 *                          (num_batches_tracked: not written; ignored when read)
 *   Pooling             -> nn.MaxPool2d / nn.AvgPool2d(kernel_size, stride, padding)
 *   Relu, Sigmoid       -> nn.ReLU(), nn.Sigmoid()
 *   Dropout             -> nn.Dropout(p)
 * plus the reshapes PyTorch needs and wasm-cnn does implicitly: nn.Flatten() before an
 * nn.Linear or nn.BatchNorm1d whose input is (N, C, H, W) (NCHW order, as wasm-cnn flattens),
 * and nn.Unflatten(1, (C, H, W)) before a convolution or pooling that follows a BatchNorm1d.
 * wasm-cnn's BatchNormalization normalizes every value of the flattened sample (as the
 * course does), so on images it is Flatten + BatchNorm1d(C*H*W), not BatchNorm2d(C).
 *
 * Dropout: wasm-cnn (the course) keeps values unscaled in training and multiplies by
 * (1 - p) in inference; nn.Dropout divides by (1 - p) in training and is the identity in
 * inference. So course_dropout(x) = (1 - p) * nn.Dropout(p)(x) in both modes, and the
 * factor (1 - p) is carried by a neighbouring layer's weights: by the weight of the next
 * Convolution/Affine, or when there is none, by the weight and bias of the previous one,
 * through ReLU, pooling and other dropouts only (they commute with a positive factor).
 * PyTorch's tensors are then wasm-cnn's times that factor (exact for p = 0.5; within one
 * float32 rounding otherwise). A dropout with no such neighbour is refused.
 */
import { FormatError, ShapeError, WasmCnnError } from '../errors.js';
import { encodeSafetensors } from '../io/safetensors.js';
import { fmtShape, shapeSize } from '../tensor.js';
import type { LayerSpec } from './layer-specs.js';
import { readParamFile, type NamedTensor } from './params-file.js';

/** The value of __metadata__.format in a file of this layout (as safetensors.torch writes it). */
export const TORCH_FORMAT = 'pt';

/** One layer of a model, as the layout needs it. */
export interface LayoutLayer {
  /** The layer's name in messages, e.g. 'Affine1'. */
  name: string;
  /** The normalized spec. */
  spec: LayerSpec;
  /** One sample's input shape, e.g. [30, 12, 12]. */
  inShape: readonly number[];
  /** The layer's tensors in a wasm-cnn file, by role (W, b; gamma, beta, runningMean, runningVar). */
  tensors: Readonly<Record<string, NamedTensor>>;
}

/** One tensor of the state dict and the wasm-cnn tensor it holds. */
export interface TorchEntry {
  /** State-dict name, e.g. '4.weight'. */
  torchName: string;
  torchShape: number[];
  source: NamedTensor;
  /** Affine's W (D, out) is nn.Linear's weight (out, D). */
  transpose: boolean;
  /** PyTorch's value = wasm-cnn's value * scale (the dropout factor this layer carries). */
  scale: number;
  /** The module, for messages: 'nn.Linear(4320, 100)'. */
  module: string;
}

export interface TorchLayout {
  /** The constructor of every module of the nn.Sequential, by index. */
  modules: string[];
  /** The state dict, in PyTorch's order. */
  entries: TorchEntry[];
  /** The num_batches_tracked names of the BatchNorm1d modules (ignored when read). */
  ignored: Set<string>;
}

const PASSES_SCALE = new Set(['Relu', 'Pooling', 'Dropout']);

/** The equivalent nn.Sequential of `layers` (see the file's head); refuses what PyTorch cannot express. */
export function torchLayout(where: string, layers: readonly LayoutLayer[]): TorchLayout {
  const factors = dropoutFactors(where, layers);
  const modules: string[] = [];
  const entries: TorchEntry[] = [];
  const ignored = new Set<string>();
  let flat = layers.length > 0 && layers[0].inShape.length === 1;
  const add = (module: string, tensors: [string, NamedTensor, number[], boolean, number][] = []): void => {
    const i = modules.length;
    modules.push(module);
    for (const [field, source, torchShape, transpose, scale] of tensors) {
      entries.push({ torchName: `${i}.${field}`, torchShape, source, transpose, scale, module });
    }
  };
  const spatial = (s: readonly number[]): void => {
    if (flat) add(`nn.Unflatten(1, (${s.join(', ')}))`);
    flat = false;
  };
  const flatten = (): void => {
    if (!flat) add('nn.Flatten()');
    flat = true;
  };
  layers.forEach((l, i) => {
    const s = l.spec;
    const t = l.tensors;
    const f = factors[i];
    switch (s.type) {
      case 'Convolution': {
        spatial(l.inShape);
        const w = t.W.tensor.shape;
        add(`nn.Conv2d(${l.inShape[0]}, ${s.filterNum}, kernel_size=${s.filterSize}, stride=${s.stride ?? 1}, padding=${s.pad ?? 0})`, [
          ['weight', t.W, [...w], false, f.w], ['bias', t.b, [s.filterNum], false, f.b]]);
        break;
      }
      case 'Affine': {
        flatten();
        const D = shapeSize(l.inShape);
        add(`nn.Linear(${D}, ${s.outputSize})`, [
          ['weight', t.W, [s.outputSize, D], true, f.w], ['bias', t.b, [s.outputSize], false, f.b]]);
        break;
      }
      case 'BatchNormalization': {
        flatten();
        const D = shapeSize(l.inShape);
        add(`nn.BatchNorm1d(${D}, eps=${pyNumber(s.eps ?? 1e-6)}, momentum=${pyNumber(1 - (s.momentum ?? 0.9))})`, [
          ['weight', t.gamma, [D], false, 1], ['bias', t.beta, [D], false, 1],
          ['running_mean', t.runningMean, [D], false, 1], ['running_var', t.runningVar, [D], false, 1]]);
        ignored.add(`${modules.length - 1}.num_batches_tracked`);
        break;
      }
      case 'Pooling': {
        spatial(l.inShape);
        const pad = s.pad ?? 0;
        if (2 * pad > s.size) {
          throw new ShapeError(`${where}: ${l.name} pads by ${pad} around a ${s.size}x${s.size} window; PyTorch's pooling allows at most half the window (${Math.floor(s.size / 2)})`);
        }
        add(`nn.${s.mode === 'avg' ? 'AvgPool2d' : 'MaxPool2d'}(kernel_size=${s.size}, stride=${s.stride ?? s.size}, padding=${pad})`);
        break;
      }
      case 'Relu':
        add('nn.ReLU()');
        break;
      case 'Sigmoid':
        add('nn.Sigmoid()');
        break;
      case 'Dropout':
        add(`nn.Dropout(p=${pyNumber(s.ratio ?? 0.5)})`);
        break;
      case 'SoftmaxWithLoss':
        break;
    }
  });
  return { modules, entries, ignored };
}

/** Python source of the nn.Sequential (with `from torch import nn`), one module a line with its index. */
export function torchSequentialCode(layout: TorchLayout): string {
  const width = Math.max(...layout.modules.map((m) => m.length)) + 1;
  return `nn.Sequential(\n${layout.modules.map((m, i) => `    ${`${m},`.padEnd(width)}  # ${i}`).join('\n')}\n)`;
}

/** The state dict as a safetensors file: PyTorch's names and shapes, F32, __metadata__ {"format": "pt"}. */
export function encodeTorchParams(layout: TorchLayout): Uint8Array {
  return encodeSafetensors(layout.entries.map((e) => ({ name: e.torchName, shape: e.torchShape, data: toTorch(e) })), { format: TORCH_FORMAT });
}

/**
 * Validates a PyTorch state dict completely against the layout (every name and shape, the
 * first mismatch named with PyTorch's name, the expected and the actual shape; no extra
 * tensors; finite values), then copies it into the model's tensors. A bad file changes nothing.
 */
export function loadTorchParams(where: string, bytes: Uint8Array, layout: TorchLayout): void {
  const file = readParamFile(where, bytes, { ignore: (name) => layout.ignored.has(name) });
  const names = [...file.tensors.keys()];
  const hint = file.metadata.format === 'wasm-cnn' || file.tensors.has('W1')
    ? ' (this is a wasm-cnn file: load it without { layout: \'pytorch\' })' : '';
  const values = layout.entries.map((e) => {
    const t = file.tensors.get(e.torchName);
    if (!t) {
      const prefixed = names.find((n) => n.endsWith(`.${e.torchName}`));
      const more = prefixed ? ` (the file has "${prefixed}": the names must be the nn.Sequential's own, without "${prefixed.slice(0, -e.torchName.length)}")` : hint;
      throw new ShapeError(`${where}: the file has no tensor "${e.torchName}" (${e.module}, shape ${fmtShape(e.torchShape)})${more}`);
    }
    const same = t.shape.length === e.torchShape.length && t.shape.every((d, i) => d === e.torchShape[i]);
    if (!same) throw new ShapeError(`${where}: tensor "${e.torchName}" (${e.module}) has shape ${fmtShape(t.shape)} in the file, expected ${fmtShape(e.torchShape)}`);
    for (let i = 0; i < t.data.length; i++) {
      if (!Number.isFinite(t.data[i])) throw new FormatError(`${where}: tensor "${e.torchName}" has a non-finite value (${t.data[i]}) at index ${i}`);
    }
    const v = fromTorch(e, t.data);
    if (e.scale !== 1 && !v.every(Number.isFinite)) {
      throw new FormatError(`${where}: tensor "${e.torchName}" has values too large for float32 once divided by the dropout factor ${e.scale} this layer carries`);
    }
    return v;
  });
  const expected = new Set(layout.entries.map((e) => e.torchName));
  const extra = names.filter((n) => !expected.has(n));
  if (extra.length > 0) {
    throw new ShapeError(`${where}: the file has tensor${extra.length > 1 ? 's' : ''} ${extra.slice(0, 5).map((n) => JSON.stringify(n)).join(', ')}${extra.length > 5 ? ', ...' : ''} that the equivalent nn.Sequential does not have (it has ${[...expected].join(', ')})`);
  }
  layout.entries.forEach((e, i) => e.source.tensor.data.set(values[i]));
}

/** Per layer, the factors its weight and bias carry for the dropouts around it (1 when none). */
function dropoutFactors(where: string, layers: readonly LayoutLayer[]): { w: number; b: number }[] {
  const factors = layers.map(() => ({ w: 1, b: 1 }));
  const weighted = (j: number) => layers[j].spec.type === 'Convolution' || layers[j].spec.type === 'Affine';
  layers.forEach((l, i) => {
    if (l.spec.type !== 'Dropout' || !l.spec.ratio) return;
    const keep = 1 - l.spec.ratio;
    let j = i + 1;
    while (j < layers.length && PASSES_SCALE.has(layers[j].spec.type)) j++;
    if (j < layers.length && weighted(j)) {
      factors[j].w *= keep;
      return;
    }
    j = i - 1;
    while (j >= 0 && PASSES_SCALE.has(layers[j].spec.type)) j--;
    if (j >= 0 && weighted(j)) {
      factors[j].w *= keep;
      factors[j].b *= keep;
      return;
    }
    throw new WasmCnnError(`${where}: ${l.name} scales by ${pyNumber(keep)} in inference (the course's dropout), which nn.Dropout does not; ` +
      'the PyTorch layout carries that factor in the weights of a Convolution or Affine layer reached through ReLU, pooling or dropout only, and this model has none');
  });
  return factors;
}

/** A wasm-cnn tensor's values in PyTorch's layout. */
function toTorch(e: TorchEntry): Float32Array {
  const src = e.source.tensor.data;
  const out = new Float32Array(src.length);
  if (e.transpose) {
    const [D, O] = e.source.tensor.shape;
    for (let d = 0; d < D; d++) for (let o = 0; o < O; o++) out[o * D + d] = src[d * O + o] * e.scale;
  } else {
    for (let i = 0; i < src.length; i++) out[i] = src[i] * e.scale;
  }
  return out;
}

/** PyTorch's values (in its layout) as the wasm-cnn tensor's. */
function fromTorch(e: TorchEntry, data: Float32Array): Float32Array {
  const out = new Float32Array(data.length);
  if (e.transpose) {
    const [D, O] = e.source.tensor.shape;
    for (let o = 0; o < O; o++) for (let d = 0; d < D; d++) out[d * O + o] = data[o * D + d] / e.scale;
  } else {
    for (let i = 0; i < data.length; i++) out[i] = data[i] / e.scale;
  }
  return out;
}

/** A number as Python source, without float noise (1 - 0.9 -> 0.1). */
function pyNumber(x: number): string {
  return String(Number(x.toPrecision(12)));
}
