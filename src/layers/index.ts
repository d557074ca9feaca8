// Layers: forward/backward pairs over device buffers, computed with backend kernels only.
export type { Layer, LayerType } from './layer.js';
export { DeviceBuffer } from './buffer.js';
export { Convolution, type ConvolutionOptions } from './convolution.js';
export { Pooling, type PoolingOptions, type PoolMode } from './pooling.js';
export { Affine, type AffineOptions } from './affine.js';
export { Relu, Sigmoid } from './activation.js';
export { Dropout, type DropoutOptions } from './dropout.js';
export { BatchNormalization, type BatchNormalizationOptions } from './batch-normalization.js';
export { SoftmaxWithLoss } from './softmax-with-loss.js';

