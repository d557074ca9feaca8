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
