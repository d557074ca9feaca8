// wasm-cnn: the platform-neutral main entry (Node, browsers, bundlers).
export { createBackend, type BackendOptions } from './backend/create.js';
export { Backend, type BackendName, type BackendFeatures, type ConvOptions, type PoolOptions, type MatmulOptions } from './backend/backend.js';
export type { Kernels } from './backend/kernels.js';
export { Tensor, tensor, type Shape } from './tensor.js';
export { WasmCnnError, ShapeError, FormatError, DivergenceError } from './errors.js';
export * from './train/index.js';
export { BatchGatherer, type BatchGathererOptions } from './data/batch.js';
export * from './models/index.js';
export { gradientCheck, type GradientCheckEntry, type GradientCheckOptions } from './train/gradient-check.js';
export { isByteImages, type ByteImages, type Inputs } from './data/dataset.js';
// Data sets and parameter files.
export { parseIdx, encodeIdx, isGzip, IDX_IMAGES, IDX_LABELS, type IdxFile, type IdxMagic, type ParseIdxOptions } from './data/idx.js';
export {
  mnistFromIdx,
  mnistBytes,
  loadMnistFromUrls,
  loadMnistBytesFromUrls,
  fetchMnistFiles,
  MNIST_FILE_NAMES,
  MNIST_CLASSES,
  type Mnist,
  type MnistOptions,
  type MnistLabels,
  type MnistBytes,
  type MnistBytesOptions,
  type MnistByteSplit,
  type MnistUrlOptions,
  type MnistFiles,
  type IdxInput,
} from './data/mnist.js';
export {
  encodeSafetensors,
  decodeSafetensors,
  encodeParams,
  decodeParams,
  configFromMetadata,
  SAFETENSORS_MAX_HEADER,
  type SafetensorsTensor,
  type DecodedSafetensors,
  type DecodedTensor,
  type DecodedParams,
  type ParamLike,
} from './io/safetensors.js';
// Pictures: filter grids, feature maps, PNG, chart specs (pure data; charts to SVG/PNG live in wasm-cnn/node).
export * from './viz/index.js';
