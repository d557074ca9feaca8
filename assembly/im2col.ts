// im2col.ts — PLACEHOLDER, replaced by the real kernels. Shapes: see src/backend/kernels.ts.

export function im2col_f32(x: usize, C: i32, H: i32, W: i32, KH: i32, KW: i32, strideH: i32, strideW: i32, padH: i32, padW: i32, col: usize): void { unreachable(); }
export function col2im_f32(col: usize, C: i32, H: i32, W: i32, KH: i32, KW: i32, strideH: i32, strideW: i32, padH: i32, padW: i32, x: usize): void { unreachable(); }
