// The user-facing ops: functions over a Backend that return new host tensors.
export { conv2d, type ConvOptions } from './conv.js';
export { maxPool, avgPool, type PoolOptions } from './pool.js';
export { matmul, type MatmulOptions } from './matmul.js';
