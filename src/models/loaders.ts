/**
 * Rebuilding a model from its config, or from a parameter file written by saveParams
 * (the file's __metadata__.config says which architecture it is). Both take an options
 * object with the backend; a wrong argument is the caller's error (WasmCnnError), a bad
 * file the file's (FormatError, naming what is wrong with it).
 */
import type { Backend } from '../backend/backend.js';
import { FormatError, WasmCnnError, describeValue } from '../errors.js';
import { readParamFile } from './params-file.js';
import { Sequential, checkBackendOption, checkKeys, type BuildSettings, type SequentialConfig } from './sequential.js';
import { SimpleConvNet, type SimpleConvNetConfig } from './presets.js';

/** Options of modelFromConfig / modelFromSafetensors. */
export interface LoadOptions {
  /** The backend the model's tensors live on (from createBackend()). */
  backend: Backend;
}

/** A new model of the architecture that `config` (a model's config()) describes, with fresh weights from its seed. */
export function modelFromConfig(config: Record<string, unknown>, options: LoadOptions): Sequential {
  const where = 'modelFromConfig';
  checkLoadOptions(where, options);
  return buildFromConfig(where, config, options.backend, {});
}

/** The model a safetensors file describes (its __metadata__.config), with the file's parameters loaded. */
export function modelFromSafetensors(bytes: Uint8Array, options: LoadOptions): Sequential {
  const where = 'modelFromSafetensors';
  checkLoadOptions(where, options);
  const file = readParamFile(where, bytes);
  if (!file.config) {
    const format = file.metadata.format;
    throw new FormatError(`${where}: the file has no __metadata__.config, so the architecture is unknown; build the model and call loadParams instead` +
      (format === undefined ? '' : format === 'pt'
        ? ` (its format is "pt": a PyTorch state dict? Build the model and call loadParams(bytes, { layout: 'pytorch' }))`
        : ` (its format is ${JSON.stringify(format)}, not "wasm-cnn")`));
  }
  let model: Sequential;
  try {
    // the file must hold every parameter of the model, so a config declaring far more values
    // than the file has is refused before the model's tensors are allocated (a near miss is
    // built, and loadParams then names the first tensor that differs)
    let values = 0;
    for (const t of file.tensors.values()) values += t.data.length;
    model = buildFromConfig(where, file.config, options.backend, { budget: { maxValues: 2 * values + (1 << 22), fileValues: values } });
  } catch (e) {
    if (e instanceof WasmCnnError) throw new FormatError(`${where}: the file's config does not describe a valid model: ${e.message}`);
    throw e;
  }
  try {
    model.loadParams(bytes);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return model;
}

/** Checks a loader's options: an object with a Backend from createBackend() and nothing else. */
export function checkLoadOptions(where: string, options: unknown): asserts options is LoadOptions {
  if (options && typeof options === 'object' && !('backend' in options) && 'kernels' in options) {
    throw new WasmCnnError(`${where}: pass the backend in an options object, { backend }, got the backend itself`);
  }
  checkBackendOption(where, options);
  checkKeys(where, 'option', options as object, ['backend']);
}

function buildFromConfig(where: string, config: Record<string, unknown>, backend: Backend, settings: BuildSettings): Sequential {
  if (!config || typeof config !== 'object') throw new WasmCnnError(`${where}: config must be an object (a model's config()), got ${describeValue(config)}`);
  switch (config.type) {
    case 'SimpleConvNet': {
      const c = config as unknown as SimpleConvNetConfig;
      return new SimpleConvNet({
        backend, inputDim: c.inputDim, convParam: c.convParam, hiddenSize: c.hiddenSize, outputSize: c.outputSize,
        weightInitStd: c.weightInitStd, seed: c.seed,
      }, settings);
    }
    case 'Sequential': {
      const c = config as unknown as SequentialConfig;
      return new Sequential({ backend, inputDim: c.inputDim, layers: c.layers, weightInitStd: c.weightInitStd, seed: c.seed }, settings);
    }
    default:
      throw new WasmCnnError(`${where}: unknown model type ${JSON.stringify(config.type)}; expected "SimpleConvNet" or "Sequential"`);
  }
}
