// Models and layers.
export type { Network, Labels, ParamMap } from './network.js';
export { LayerNet, NUMERICAL_GRADIENT_H } from './layer-net.js';
export { SimpleConvNet, type SimpleConvNetOptions, type SimpleConvNetConfig, type ConvParam } from './simple-conv-net.js';
export { Sequential, type SequentialOptions, type SequentialConfig } from './sequential.js';
export type {
  LayerSpec, ConvolutionSpec, PoolingSpec, AffineSpec, ReluSpec, SigmoidSpec, DropoutSpec,
  BatchNormalizationSpec, SoftmaxWithLossSpec,
} from './stack.js';
export type { WeightInit } from './init.js';
export { modelFromConfig, modelFromSafetensors } from './from-file.js';
export * from '../layers/index.js';
