/**
 * Weight initialization scales, as in the course: a fixed standard deviation, or one
 * derived from the fan-in n of the layer (inputs per output: C*FH*FW for a
 * convolution, D for an affine layer):
 *   'relu' / 'he'        std = sqrt(2 / n)
 *   'sigmoid' / 'xavier' std = sqrt(1 / n)
 */
import { WasmCnnError } from '../errors.js';

export type WeightInit = number | 'relu' | 'he' | 'sigmoid' | 'xavier';

export function checkWeightInit(where: string, w: unknown): WeightInit {
  if (typeof w === 'number') {
    if (!(Number.isFinite(w) && w >= 0)) throw new WasmCnnError(`${where}: weightInitStd must be a non-negative number, got ${w}`);
    return w;
  }
  if (w === 'relu' || w === 'he' || w === 'sigmoid' || w === 'xavier') return w;
  throw new WasmCnnError(`${where}: weightInitStd must be a number, 'relu'/'he' or 'sigmoid'/'xavier', got ${JSON.stringify(w)}`);
}

/** The standard deviation for a layer with `fanIn` inputs per output. */
export function initStd(w: WeightInit, fanIn: number): number {
  if (typeof w === 'number') return w;
  if (w === 'relu' || w === 'he') return Math.sqrt(2 / fanIn);
  return Math.sqrt(1 / fanIn);
}
