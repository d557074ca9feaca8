// norm.ts — PLACEHOLDER, replaced by the real kernels. Shapes: see src/backend/kernels.ts.

export function bn_fwd_train_f32(x: usize, N: i32, D: i32, gamma: usize, beta: usize, eps: f32, mean: usize, variance: usize, xhat: usize, y: usize): void { unreachable(); }
export function bn_fwd_eval_f32(x: usize, N: i32, D: i32, gamma: usize, beta: usize, eps: f32, runMean: usize, runVar: usize, y: usize): void { unreachable(); }
export function bn_bwd_f32(dy: usize, xhat: usize, variance: usize, gamma: usize, N: i32, D: i32, eps: f32, dgamma: usize, dbeta: usize, dx: usize): void { unreachable(); }
