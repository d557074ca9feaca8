// The kernel ABI exported by build/kernels.*.wasm. Signatures and buffer shapes are
// documented once, in src/backend/kernels.ts; each family lives in its own file.
// gemm_scratch_bytes / gemm_set_scratch are not kernels: the threads runtime gives each
// worker's instance its own GEMM packing scratch with them (src/backend/threads/).
export { gemm_scratch_bytes, gemm_set_scratch, gemm_f32, gemm_nt_dots_f32 } from './gemm';
export { im2col_f32, col2im_f32 } from './im2col';
export * from './conv';
export { wino_filter_f32, wino_grad_filter_f32 } from './winograd';
export { wino4_filter_f32, wino4_grad_filter_f32 } from './winograd4';
export { wino5_filter_f32, wino5_relu_pool_fwd_f32 } from './winograd5';
export { wino_fwd_f32, wino4_fwd_f32, wino_grad_sums_f32, wino4_grad_sums_f32 } from './winograd-conv';
export * from './conv-fused';
export * from './pool';
export * from './activation';
export { bias_add_rows_f32, bias_add_channels_f32, bias_grad_rows_f32, bias_grad_channels_f32 } from './bias';
export * from './elementwise';
export * from './loss';
export * from './norm';
export * from './optim';

/** First byte of linear memory not used by the module's static data: the TS memory plan starts here. */
export function heap_base(): usize {
  return __heap_base;
}
