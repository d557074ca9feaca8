// Models: Sequential (the one model class), the course's presets, loaders.
export { Sequential, type Network, type ParamMap, type Labels, type SequentialOptions, type SequentialConfig } from './sequential.js';
export {
  SimpleConvNet, simpleConvNet, deepConvNet, DEEP_CONV_NET_LAYERS,
  type SimpleConvNetOptions, type SimpleConvNetConfig, type ConvParam, type DeepConvNetOptions,
} from './presets.js';
export type {
  LayerSpec, ConvolutionSpec, PoolingSpec, AffineSpec, ReluSpec, SigmoidSpec, DropoutSpec,
  BatchNormalizationSpec, SoftmaxWithLossSpec, WeightInit,
} from './layer-specs.js';
export { modelFromConfig, modelFromSafetensors, type LoadOptions } from './loaders.js';
