// wasm-cnn/node: everything of the main entry plus the Node-only helpers (files).
export * from './index.js';

// Platform-neutral file formats (also re-exported here until the main entry lists them).
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

// Node only.
export { mnistDataDir, loadMnist, loadMnistBytes, readIdxFile, type NodeMnistOptions } from './data/mnist-node.js';
export { writeFileAtomic, writeFileAtomicSync, readParamsFile, readParamsFileSync, type ParamsFile } from './io/files-node.js';
