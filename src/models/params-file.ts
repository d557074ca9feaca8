/**
 * Saving and loading parameters as safetensors, shared by every model.
 *
 * File: the model's tensors (params W1, b1, ... then non-trainable state such as
 * BatchNormalization running statistics), F32, and
 *   __metadata__ = { "format": "wasm-cnn", "config": JSON of model.config() }.
 * (The PyTorch layout of the same tensors is in pytorch-layout.ts.)
 *
 * Any valid safetensors file is read whatever its __metadata__: the config is wasm-cnn's
 * only where "format" is "wasm-cnn" (and such a file must have one); any other metadata,
 * e.g. {"format": "pt"} from safetensors.torch, is information and checks nothing.
 *
 * Loading validates everything before touching the model: the file parses, its config
 * (if any) describes the same architecture (seed and weightInitStd may differ), it holds
 * exactly the expected tensor names with the expected shapes and only finite values. Any
 * failure throws (FormatError for a malformed file, ShapeError for another
 * architecture) and leaves the model unchanged.
 */
import { configFromMetadata, decodeSafetensors, encodeSafetensors } from '../io/safetensors.js';
import { FormatError, ShapeError, WasmCnnError, describeValue } from '../errors.js';
import { fmtShape, type Tensor } from '../tensor.js';

export const FORMAT = 'wasm-cnn';

/** Config keys that do not change the architecture (ignored when comparing configs). */
const NON_ARCHITECTURE_KEYS = new Set(['seed', 'weightInitStd']);

export interface NamedTensor {
  name: string;
  tensor: Tensor;
}

export interface ParamFile {
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
  metadata: Record<string, string>;
  /** The parsed wasm-cnn config, when the file is a wasm-cnn file. */
  config: Record<string, unknown> | undefined;
}

/** Options of saveParams / loadParams. */
export interface ParamsFileOptions {
  /**
   * 'wasm-cnn' (default): wasm-cnn's names (W1, b1, ...) and shapes, the config in
   * __metadata__. 'pytorch': the state dict of the equivalent nn.Sequential
   * (src/models/pytorch-layout.ts), for load_state_dict(..., strict=True).
   */
  layout?: ParamsLayout;
}

/** The tensor names and shapes of a parameter file. */
export type ParamsLayout = 'wasm-cnn' | 'pytorch';

const LAYOUTS: readonly ParamsLayout[] = ['wasm-cnn', 'pytorch'];

/** The layout `options` ask for; refuses anything but { layout?: 'wasm-cnn' | 'pytorch' }. */
export function paramsLayout(where: string, options: unknown): ParamsLayout {
  if (options === undefined) return 'wasm-cnn';
  if (!options || typeof options !== 'object' || Array.isArray(options)) {
    throw new WasmCnnError(`${where}: options must be an object { layout }, got ${describeValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (key !== 'layout') throw new WasmCnnError(`${where}: unknown option "${key}"; the only option is layout`);
  }
  const layout = (options as ParamsFileOptions).layout ?? 'wasm-cnn';
  if (!LAYOUTS.includes(layout)) throw new WasmCnnError(`${where}: layout must be ${LAYOUTS.map((l) => `'${l}'`).join(' or ')}, got ${describeValue(layout)}`);
  return layout;
}

export function encodeParams(entries: readonly NamedTensor[], config: Record<string, unknown>): Uint8Array {
  return encodeSafetensors(
    entries.map((e) => ({ name: e.name, shape: [...e.tensor.shape], data: e.tensor.data })),
    { format: FORMAT, config: JSON.stringify(config) },
  );
}

/**
 * Parses a parameter file (header, tensors, metadata, config). Throws FormatError.
 * `ignore` names tensors to check but leave out (see DecodeOptions.ignore).
 */
export function readParamFile(where: string, bytes: Uint8Array, options: { ignore?: (name: string) => boolean } = {}): ParamFile {
  if (!(bytes instanceof Uint8Array)) throw new FormatError(`${where}: expected the bytes of a safetensors file (Uint8Array), got ${bytes === null ? 'null' : typeof bytes}`);
  let decoded: ReturnType<typeof decodeSafetensors>;
  try {
    decoded = decodeSafetensors(bytes, { name: `${where}: not a valid safetensors file`, ignore: options.ignore });
  } catch (e) {
    if (e instanceof WasmCnnError) throw e;
    throw new FormatError(`${where}: not a valid safetensors file: ${(e as Error)?.message ?? String(e)}`);
  }
  const metadata = decoded.metadata ?? {};
  // a file written elsewhere (another format, or none) is checked by its tensor names and
  // shapes alone: its metadata, a "config" included, belongs to whoever wrote it
  if (metadata.format !== FORMAT) return { tensors: decoded.tensors, metadata, config: undefined };
  if (metadata.config === undefined) {
    throw new FormatError(`${where}: __metadata__ says format "${FORMAT}" but has no "config"`);
  }
  // bounded size and nesting, must be a JSON object (FormatError otherwise)
  const config = configFromMetadata(metadata, where);
  return { tensors: decoded.tensors, metadata, config };
}

/**
 * Checks a parsed file against the model's tensors and config; returns the data to copy,
 * in `entries` order. Throws without side effects.
 */
export function checkParamFile(where: string, file: ParamFile, entries: readonly NamedTensor[],
  config: Record<string, unknown>): Float32Array[] {
  if (file.config) {
    const diff = configDiff(file.config, config, '');
    if (diff) throw new ShapeError(`${where}: the file is for a different architecture: ${diff}`);
  }
  const expected = new Set(entries.map((e) => e.name));
  const extra = [...file.tensors.keys()].filter((n) => !expected.has(n));
  if (extra.length > 0) {
    const torch = file.metadata.format === 'pt' || extra.some((n) => /^\d+\.(weight|bias)$/.test(n));
    throw new ShapeError(`${where}: the file has tensor${extra.length > 1 ? 's' : ''} ${extra.map((n) => JSON.stringify(n)).join(', ')} that this model does not have (it has ${entries.map((e) => e.name).join(', ')})` +
      (torch ? '; it looks like a PyTorch state dict: load it with { layout: \'pytorch\' }' : ''));
  }
  return entries.map(({ name, tensor }) => {
    const t = file.tensors.get(name);
    if (!t) throw new ShapeError(`${where}: the file has no tensor "${name}" (expected shape ${fmtShape(tensor.shape)})`);
    const same = t.shape.length === tensor.shape.length && t.shape.every((d, i) => d === tensor.shape[i]);
    if (!same) throw new ShapeError(`${where}: tensor "${name}" has shape ${fmtShape(t.shape)} in the file, but this model's ${name} is ${fmtShape(tensor.shape)}`);
    if (t.data.length !== tensor.size) throw new FormatError(`${where}: tensor "${name}" holds ${t.data.length} values, but its shape ${fmtShape(t.shape)} needs ${tensor.size}`);
    for (let i = 0; i < t.data.length; i++) {
      if (!Number.isFinite(t.data[i])) throw new FormatError(`${where}: tensor "${name}" has a non-finite value (${t.data[i]}) at index ${i}`);
    }
    return t.data;
  });
}

/** Validates `bytes` completely, then copies every tensor into the model's tensors. */
export function loadParamsInto(where: string, bytes: Uint8Array, entries: readonly NamedTensor[], config: Record<string, unknown>): void {
  const data = checkParamFile(where, readParamFile(where, bytes), entries, config);
  entries.forEach((e, i) => e.tensor.data.set(data[i]));
}

/** The first architectural difference between two configs, as a sentence; null when none. */
export function configDiff(file: unknown, model: unknown, path: string): string | null {
  const at = path || 'config';
  if (Array.isArray(file) || Array.isArray(model)) {
    if (!Array.isArray(file) || !Array.isArray(model)) return `${at} is ${short(file)} in the file but ${short(model)} in this model`;
    if (file.length !== model.length) return `${at} has ${file.length} entries in the file but ${model.length} in this model`;
    for (let i = 0; i < file.length; i++) {
      const d = configDiff(file[i], model[i], `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (file && model && typeof file === 'object' && typeof model === 'object') {
    const f = file as Record<string, unknown>;
    const m = model as Record<string, unknown>;
    const keys = new Set([...Object.keys(f), ...Object.keys(m)]);
    // own properties only: a file's "constructor" or "toString" is data, not Object.prototype's
    const own = (o: Record<string, unknown>, k: string) => (Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined);
    for (const k of keys) {
      if (NON_ARCHITECTURE_KEYS.has(k)) continue;
      const d = configDiff(own(f, k), own(m, k), path ? `${path}.${k}` : k);
      if (d) return d;
    }
    return null;
  }
  if (file === model) return null;
  return `${at} is ${short(file)} in the file but ${short(model)} in this model`;
}

function short(v: unknown): string {
  if (v === undefined) return 'missing';
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
