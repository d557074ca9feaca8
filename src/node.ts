// wasm-cnn/node: the Node-only helpers (files). Everything else comes from 'wasm-cnn'.
export { loadMnist, loadMnistBytes, readIdxFile, type NodeMnistOptions } from './data/mnist-node.js';
export { writeFileAtomic, writeFileAtomicSync, readParamsFile, type ParamsFile } from './io/files-node.js';
