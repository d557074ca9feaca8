/**
 * Rebuilding a model from its config or from a parameter file written by saveParams
 * (the file's __metadata__.config says which architecture it is).
 */
import type { Backend } from '../backend/backend.js';
import { FormatError, WasmCnnError } from '../errors.js';
import { readParamFile } from './params-io.js';
import { withParamBudget } from './stack.js';
import type { LayerNet } from './layer-net.js';
import { SimpleConvNet } from './simple-conv-net.js';
import { Sequential } from './sequential.js';

/** A new model of the architecture that `config` describes (fresh weights from its seed). */
export function modelFromConfig(config: Record<string, unknown>, backend: Backend): SimpleConvNet | Sequential {
  switch (config?.type) {
    case 'SimpleConvNet':
      return SimpleConvNet.fromConfig(config, backend);
    case 'Sequential':
      return Sequential.fromConfig(config, backend);
    default:
      throw new WasmCnnError(`modelFromConfig: unknown model type ${JSON.stringify(config?.type)}; expected "SimpleConvNet" or "Sequential"`);
  }
}

/** The model a safetensors file describes, with the file's parameters loaded. */
export function modelFromSafetensors(bytes: Uint8Array, backend: Backend): SimpleConvNet | Sequential {
  const where = 'modelFromSafetensors';
  const file = readParamFile(where, bytes);
  if (!file.config) throw new FormatError(`${where}: the file has no __metadata__.config, so the architecture is unknown; build the model and call loadParams instead`);
  let model: LayerNet & (SimpleConvNet | Sequential);
  try {
    // the file must hold every parameter of the model, so a config declaring far more values
    // than the file has is refused before the model's tensors are allocated (a near miss is
    // built, and loadParams then names the first tensor that differs)
    let values = 0;
    for (const t of file.tensors.values()) values += t.data.length;
    model = withParamBudget(2 * values + (1 << 22), values, () => modelFromConfig(file.config!, backend));
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
