// pool.ts — PLACEHOLDER, replaced by the real kernels. Shapes: see src/backend/kernels.ts.

export function maxpool_fwd_f32(x: usize, P: i32, H: i32, W: i32, KH: i32, KW: i32, strideH: i32, strideW: i32, padH: i32, padW: i32, y: usize, argmax: usize): void { unreachable(); }
export function maxpool_bwd_f32(dy: usize, argmax: usize, P: i32, H: i32, W: i32, KH: i32, KW: i32, strideH: i32, strideW: i32, padH: i32, padW: i32, dx: usize): void { unreachable(); }
export function avgpool_fwd_f32(x: usize, P: i32, H: i32, W: i32, KH: i32, KW: i32, strideH: i32, strideW: i32, padH: i32, padW: i32, y: usize): void { unreachable(); }
export function avgpool_bwd_f32(dy: usize, P: i32, H: i32, W: i32, KH: i32, KW: i32, strideH: i32, strideW: i32, padH: i32, padW: i32, dx: usize): void { unreachable(); }
