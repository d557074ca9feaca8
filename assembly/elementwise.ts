// elementwise.ts — PLACEHOLDER, replaced by the real kernels. Shapes: see src/backend/kernels.ts.

export function mul_f32(a: usize, b: usize, y: usize, n: i32): void { unreachable(); }
export function axpby_f32(x: usize, y: usize, n: i32, a: usize, b: usize): void { unreachable(); }
export function fill_f32(y: usize, n: i32, v: usize): void { unreachable(); }
export function count_nonfinite_f32(x: usize, n: i32): i32 { unreachable(); return 0; }
