// wasm-cnn: the platform-neutral main entry (Node, browsers, bundlers). An explicit list:
// everything not named here is internal. README "API" mirrors these groups.

// Backends and tensors
export { createBackend, type BackendOptions } from './backend/create.js';
export { Backend, type BackendName, type BackendFeatures } from './backend/backend.js';
export { Tensor, tensor, type Shape } from './tensor.js';
export { WasmCnnError, ShapeError, FormatError, DivergenceError } from './errors.js';

// Ops: functions over a backend that return new host tensors
export { conv2d, maxPool, avgPool, matmul, type ConvOptions, type PoolOptions, type MatmulOptions } from './ops/index.js';

// Models
export {
  Sequential, SimpleConvNet, simpleConvNet, deepConvNet, DEEP_CONV_NET_LAYERS, modelFromConfig, modelFromSafetensors,
  type Network, type ParamMap, type Labels, type SequentialOptions, type SequentialConfig, type LoadOptions,
  type SimpleConvNetOptions, type SimpleConvNetConfig, type ConvParam, type DeepConvNetOptions,
  type LayerSpec, type ConvolutionSpec, type PoolingSpec, type AffineSpec, type ReluSpec, type SigmoidSpec,
  type DropoutSpec, type BatchNormalizationSpec, type SoftmaxWithLossSpec, type WeightInit,
} from './models/index.js';

// Training
export {
  SGD, Momentum, Nesterov, AdaGrad, RMSprop, Adam, createOptimizer,
  type Optimizer, type OptimizerName, type OptimizerParams, type OptimizerState,
  type SGDOptions, type MomentumOptions, type AdaGradOptions, type RMSpropOptions, type AdamOptions,
} from './train/optimizers.js';
export {
  Trainer, type TrainerOptions, type TrainResult, type IterationInfo, type EpochInfo, type DivergenceDetails,
  type ResumeOptions, type CheckpointOptions,
} from './train/trainer.js';
export { gradientCheck, type GradientCheckEntry, type GradientCheckOptions } from './train/gradient-check.js';

// Data: IDX files and MNIST (files from URLs or bytes; from disk: wasm-cnn/node)
export type { ByteImages, Inputs } from './data/dataset.js';
export { parseIdx, type IdxFile, type ParseIdxOptions } from './data/idx.js';
export {
  mnistFromIdx, mnistBytes, loadMnistFromUrls, loadMnistBytesFromUrls,
  type Mnist, type MnistOptions, type MnistBytes, type MnistBytesOptions, type MnistByteSplit, type MnistUrlOptions,
} from './data/mnist.js';

// Files: safetensors, ONNX
export {
  encodeSafetensors, decodeSafetensors, type SafetensorsTensor, type DecodedSafetensors, type DecodedTensor,
} from './io/safetensors.js';
export { modelToOnnx, modelFromOnnx, type OnnxExportOptions, type OnnxImportOptions } from './io/onnx/index.js';

// Pictures: filter and feature-map grids, PNG, charts
export type { GrayImage, RgbaImage } from './viz/image.js';
export { filterGrid, featureMapGrid, type FilterGridOptions, type FeatureMapGridOptions } from './viz/filters.js';
export { encodePng, decodePng, pngToMnist, type DecodedImage } from './viz/png.js';
export type { AccuracyHistory, AccuracyOptions, ChartOptions, LossOptions } from './viz/chart.js';
export { accuracySvg, lossSvg } from './viz/chart-svg.js';
export { accuracyPng, lossPng, type RasterOptions } from './viz/chart-raster.js';
