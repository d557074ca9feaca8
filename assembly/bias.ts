// bias.ts — PLACEHOLDER, replaced by the real kernels. Shapes: see src/backend/kernels.ts.

export function bias_add_rows_f32(y: usize, b: usize, rows: i32, cols: i32): void { unreachable(); }
export function bias_add_channels_f32(y: usize, b: usize, N: i32, C: i32, HW: i32): void { unreachable(); }
export function bias_grad_rows_f32(dy: usize, db: usize, rows: i32, cols: i32): void { unreachable(); }
export function bias_grad_channels_f32(dy: usize, db: usize, N: i32, C: i32, HW: i32): void { unreachable(); }
