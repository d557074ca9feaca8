/**
 * Data sets as the Trainer sees them. Images may be float tensors (as the course's
 * load_mnist returns them) or bytes with a scale (value = byte * scale), converted
 * per mini-batch so a large data set never sits in memory as floats.
 */
import type { Tensor } from '../tensor.js';

/** Images kept as bytes (value = byte * scale), as MNIST loaders return them; the Trainer converts batches on the fly. */
export interface ByteImages {
  readonly kind: 'bytes';
  /** N * C * H * W bytes, sample-major. */
  readonly data: Uint8Array;
  /** (N, C, H, W) or (N, D) when flattened. */
  readonly shape: readonly number[];
  /** value = byte * scale (1/255 to normalize to [0, 1], 1 to keep 0..255). */
  readonly scale: number;
}

/** Inputs of a data set: a float tensor whose first axis is the sample, or bytes. */
export type Inputs = Tensor | ByteImages;

export function isByteImages(x: unknown): x is ByteImages {
  return typeof x === 'object' && x !== null && (x as ByteImages).kind === 'bytes';
}
