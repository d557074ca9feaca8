// wasm-cnn/node: everything of the main entry plus the Node-only helpers (files).
export * from './index.js';

// Node only.
export { mnistDataDir, loadMnist, loadMnistBytes, readIdxFile, type NodeMnistOptions } from './data/mnist-node.js';
export { writeFileAtomic, writeFileAtomicSync, readParamsFile, readParamsFileSync, type ParamsFile } from './io/files-node.js';
export { accuracySvg, lossSvg, specToSvg, svgToPng, type SvgToPngOptions } from './viz/accuracy-plot-node.js';
