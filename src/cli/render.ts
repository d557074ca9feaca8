// Pictures the CLI writes: the first convolution's filters and its feature maps for one image.
import type { Network } from '../models/sequential.js';
import { CliError } from './errors.js';
import { filterGrid, featureMapGrid } from '../viz/filters.js';
import { encodePng } from '../viz/png.js';
import { tensor } from '../tensor.js';
import { conv2d } from '../ops/conv.js';

/** The first convolution's weights (W1) of a network, checked to be 4-D. */
function firstConvWeights(net: Network) {
  const w = net.params.W1;
  if (!w || w.rank !== 4) throw new CliError('this model does not start with a convolution (no 4-D W1), so it has no filters to draw');
  return w;
}

/** The first layer's filters as a PNG grid (course's filter_show: gray_r, 8 columns, scaled up). */
export function filtersPng(net: Network): Uint8Array {
  const w = firstConvWeights(net);
  return encodePng(filterGrid(w.data, w.shape, { scale: 10 }));
}

/**
 * The first convolution applied to one image (the course's "applying the learned filters"):
 * the input first, then each filter's response, as a PNG grid.
 */
export function featureMapsPng(net: Network, image: Float32Array, stride: number, pad: number): Uint8Array {
  const w = firstConvWeights(net);
  const [C, H, W] = net.inputDim;
  const x = tensor(image, [1, C, H, W]);
  const y = conv2d(net.backend, x, w, net.params.b1 ?? null, { stride, pad });
  try {
    const [, FN, OH, OW] = y.shape;
    return encodePng(featureMapGrid(y.data, [FN, OH, OW], { input: { data: image.subarray(0, H * W), width: W, height: H } }));
  } finally {
    y.dispose();
  }
}
