// optim.ts — PLACEHOLDER, replaced by the real kernels. Shapes: see src/backend/kernels.ts.

export function sgd_f32(p: usize, g: usize, n: i32, lr: f32): void { unreachable(); }
export function momentum_f32(p: usize, g: usize, v: usize, n: i32, lr: f32, momentum: f32): void { unreachable(); }
export function nesterov_f32(p: usize, g: usize, v: usize, n: i32, lr: f32, momentum: f32): void { unreachable(); }
export function adagrad_f32(p: usize, g: usize, h: usize, n: i32, lr: f32): void { unreachable(); }
export function rmsprop_f32(p: usize, g: usize, h: usize, n: i32, lr: f32, decay: f32): void { unreachable(); }
export function adam_f32(p: usize, g: usize, m: usize, v: usize, n: i32, lrt: f32, beta1: f32, beta2: f32): void { unreachable(); }
