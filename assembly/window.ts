// window.ts: where a sliding window (convolution, pooling) meets its input, shared by
// im2col.ts and pool.ts. Sizes follow the course: OH = floor((H + 2*pad - KH) / stride) + 1.

// @ts-ignore: decorator
@inline
export function outDim(size: i32, k: i32, stride: i32, pad: i32): i32 {
  // floor((size + 2*pad - k) / stride) + 1, and 0 when the window does not fit at all
  const span = size + 2 * pad - k;
  return span < 0 ? 0 : span / stride + 1;
}

// @ts-ignore: decorator
@inline
export function firstInside(pad: i32, k: i32, stride: i32, outN: i32): i32 {
  // smallest o >= 0 with o*stride - pad + k >= 0, at most outN
  const need = pad - k;
  const o = need <= 0 ? 0 : (need + stride - 1) / stride;
  return o < outN ? o : outN;
}

// @ts-ignore: decorator
@inline
export function endInside(size: i32, pad: i32, k: i32, stride: i32, outN: i32): i32 {
  // one past the largest o < outN with o*stride - pad + k <= size - 1
  const lim = size - 1 + pad - k;
  if (lim < 0) return 0;
  const e = lim / stride + 1;
  return e < outN ? e : outN;
}
