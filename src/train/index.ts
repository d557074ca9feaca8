// Training: optimizers and the Trainer.
export {
  SGD, Momentum, Nesterov, AdaGrad, RMSprop, Adam, createOptimizer, OPTIMIZER_NAMES,
  type Optimizer, type OptimizerName, type OptimizerParams,
  type SGDOptions, type MomentumOptions, type AdaGradOptions, type RMSpropOptions, type AdamOptions,
} from './optimizers.js';
export {
  Trainer, type TrainerOptions, type TrainResult, type IterationInfo, type EpochInfo, type DivergenceDetails,
} from './trainer.js';
