/**
 * The model presets `wasm-cnn train --model` offers, and loading a model from a parameter
 * file (whose __metadata__.config names the architecture).
 */
import type { Backend } from '../backend/backend.js';
import { FormatError, WasmCnnError } from '../errors.js';
import type { Network, Sequential } from '../models/sequential.js';
import { deepConvNet, simpleConvNet } from '../models/presets.js';
import { modelFromSafetensors } from '../models/loaders.js';
import { modelFromOnnx } from '../io/onnx/import.js';
import type { LayerSpec } from '../models/layer-specs.js';
import { readInput } from './artifacts.js';
import { CliError } from './errors.js';

export const MODEL_PRESETS = ['simple', 'deep'] as const;
export type ModelPreset = (typeof MODEL_PRESETS)[number];

/** The course's learning-rate defaults per optimizer (Adam 0.001, the others 0.01). */
export const DEFAULT_LR: Record<string, number> = {
  sgd: 0.01, momentum: 0.01, nesterov: 0.01, adagrad: 0.01, rmsprop: 0.01, adam: 0.001,
};

export function buildModel(preset: ModelPreset, backend: Backend, seed: number): Network {
  if (preset === 'deep') return deepConvNet({ backend, seed });
  return simpleConvNet({ backend, seed });
}

/**
 * The model a parameter file (.safetensors) or an ONNX model (.onnx) describes, with its
 * parameters; a bad file is a one-line CliError.
 */
export function loadModelFile(path: string, backend: Backend, options: ModelFileOptions = {}): Sequential {
  if (options.layout === 'pytorch') return loadTorchFile(path, backend, options.model);
  if (options.model !== undefined) throw new CliError('--model goes with --layout pytorch only: a wasm-cnn file names its own architecture');
  const onnx = /\.onnx$/i.test(path);
  const bytes = readInput(path, onnx ? 'ONNX model' : 'parameter file');
  try {
    return onnx ? modelFromOnnx(bytes, { backend }) : modelFromSafetensors(bytes, { backend: backend });
  } catch (e) {
    const torch = e instanceof FormatError && /its format is "pt"/.test(e.message) ? ' (here: --layout pytorch --model simple|deep)' : '';
    if (e instanceof FormatError) throw new CliError(`${path}: ${e.message}${torch}`);
    throw e;
  }
}

/** How `eval` reads a parameter file: wasm-cnn's own (the default), or a PyTorch state dict for a preset. */
export interface ModelFileOptions {
  layout?: 'wasm-cnn' | 'pytorch';
  model?: ModelPreset;
}

/** A preset with the parameters of a PyTorch state dict (its equivalent nn.Sequential's; see the README's PyTorch section). */
function loadTorchFile(path: string, backend: Backend, model: ModelPreset | undefined): Sequential {
  if (model === undefined) throw new CliError('--layout pytorch needs --model simple|deep: a PyTorch state dict does not name its architecture');
  const bytes = readInput(path, 'parameter file');
  const net = model === 'deep' ? deepConvNet({ backend }) : simpleConvNet({ backend });
  try {
    net.loadParams(bytes, { layout: 'pytorch' });
  } catch (e) {
    net.dispose();
    if (e instanceof WasmCnnError) throw new CliError(`${path}: ${e.message}`);
    throw e;
  }
  return net;
}

/** Stride and pad of the model's first convolution. */
export function firstConvOptions(net: Network): { stride: number; pad: number } {
  const config = net.config() as { type?: string; convParam?: { stride: number; pad: number }; layers?: LayerSpec[] };
  if (config.type === 'SimpleConvNet' && config.convParam) return { stride: config.convParam.stride, pad: config.convParam.pad };
  const first = config.layers?.[0];
  if (first?.type === 'Convolution') return { stride: first.stride ?? 1, pad: first.pad ?? 0 };
  throw new CliError('this model does not start with a convolution, so it has no feature maps to draw');
}
