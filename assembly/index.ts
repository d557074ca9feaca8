// The kernel ABI exported by build/kernels.*.wasm. Signatures and buffer shapes are
// documented once, in src/backend/kernels.ts; each family lives in its own file.
export * from './gemm';
export * from './im2col';
export * from './pool';
export * from './activation';
export * from './bias';
export * from './elementwise';
export * from './loss';
export * from './norm';
export * from './optim';

/** First byte of linear memory not used by the module's static data: the TS memory plan starts here. */
export function heap_base(): usize {
  return __heap_base;
}
