// activation.ts — PLACEHOLDER, replaced by the real kernels. Shapes: see src/backend/kernels.ts.

export function relu_fwd_f32(x: usize, y: usize, n: i32): void { unreachable(); }
export function relu_bwd_f32(y: usize, dy: usize, dx: usize, n: i32): void { unreachable(); }
export function sigmoid_fwd_f32(x: usize, y: usize, n: i32): void { unreachable(); }
export function sigmoid_bwd_f32(y: usize, dy: usize, dx: usize, n: i32): void { unreachable(); }
