// loss.ts — PLACEHOLDER, replaced by the real kernels. Shapes: see src/backend/kernels.ts.

export function softmax_f32(x: usize, y: usize, N: i32, C: i32): void { unreachable(); }
export function softmax_xent_fwd_f32(x: usize, labels: usize, y: usize, N: i32, C: i32): f32 { unreachable(); return 0; }
export function softmax_xent_bwd_f32(y: usize, labels: usize, dx: usize, N: i32, C: i32): void { unreachable(); }
