// The plain-JS kernel set: scalar, cache-friendly twins of assembly/*.ts with the same ABI.
import { KERNEL_NAMES, type Kernels } from '../kernels.js';
import { Heap } from './heap.js';
import * as gemm from './gemm.js';
import * as im2col from './im2col.js';
import * as conv from './conv.js';
import * as winograd from './winograd-conv.js';
import * as convFused from './conv-fused.js';
import * as winograd5 from './winograd5.js';
import * as pool from './pool.js';
import * as activation from './activation.js';
import * as bias from './bias.js';
import * as elementwise from './elementwise.js';
import * as loss from './loss.js';
import * as norm from './norm.js';
import * as optim from './optim.js';

const families = [gemm, im2col, conv, winograd, winograd5, convFused, pool, activation, bias, elementwise, loss, norm, optim];

/** Binds every JS kernel to the views of `memory`, giving the same call surface as the Wasm exports. */
export function createJsKernels(memory: WebAssembly.Memory): Kernels {
  const heap = new Heap(memory);
  const table: Record<string, unknown> = {};
  for (const family of families) {
    for (const [name, fn] of Object.entries(family)) {
      table[name] = (fn as (h: Heap, ...args: number[]) => unknown).bind(null, heap);
    }
  }
  for (const name of KERNEL_NAMES) {
    if (typeof table[name] !== 'function') throw new Error(`JS kernels: ${name} is missing`);
  }
  return table as unknown as Kernels;
}
