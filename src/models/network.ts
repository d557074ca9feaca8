/**
 * What a trainable model offers (SimpleConvNet, Sequential); the Trainer, the CLI and
 * the web app rely on this surface only.
 */
import type { Backend } from '../backend/backend.js';
import type { Tensor } from '../tensor.js';

/** Class indices (one per sample), or a one-hot (N, classes) tensor as in the course. */
export type Labels = Int32Array | Uint8Array | Tensor;

/** Parameter or gradient tensors by name ('W1', 'b1', ...), in a fixed order. */
export type ParamMap = Record<string, Tensor>;

export interface Network {
  readonly backend: Backend;
  /** Live device tensors of the parameters; optimizers update them in place. */
  readonly params: ParamMap;
  /** Input shape of one sample, e.g. [1, 28, 28]. */
  readonly inputDim: readonly number[];
  /** Number of classes. */
  readonly outputSize: number;
  /** Logits (N, classes). The returned tensor belongs to the network and is overwritten by the next call. */
  predict(x: Tensor, train?: boolean): Tensor;
  /** Mean cross-entropy of softmax(predict(x)) against t. */
  loss(x: Tensor, t: Labels, train?: boolean): number;
  /** Fraction of correct argmax predictions, evaluated in batches of `batchSize`. */
  accuracy(x: Tensor, t: Labels, batchSize?: number): number;
  /** Backprop gradients of the loss for each parameter (tensors owned by the network). */
  gradient(x: Tensor, t: Labels): ParamMap;
  /** Central-difference gradients (slow; for checking `gradient`). */
  numericalGradient(x: Tensor, t: Labels): ParamMap;
  /** Replaces parameter values (each array must match the parameter's size). */
  setParams(values: Record<string, Float32Array>): void;
  /** The parameters as a safetensors file, with the model config in __metadata__. */
  saveParams(): Uint8Array;
  /** Loads a safetensors file written by saveParams; validates everything before changing anything. */
  loadParams(bytes: Uint8Array): void;
  /** JSON-serializable description that rebuilds this architecture. */
  config(): Record<string, unknown>;
}
