// bias.ts — bias add (forward) and bias gradient (backward) for affine rows and conv channels.
// Shapes: see src/backend/kernels.ts. f32x4 main loops, explicit scalar tails.

/** Horizontal sum of the four lanes, in a fixed order (deterministic). */
// @ts-ignore: decorator
@inline function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

export function bias_add_rows_f32(y: usize, b: usize, rows: i32, cols: i32): void {
  // y: (rows, cols) += b: (cols)
  const rowBytes = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const yr = y + <usize>r * rowBytes;
    let j = 0;
    for (; j + 16 <= cols; j += 16) {
      const o = <usize>j << 2;
      v128.store(yr + o, f32x4.add(v128.load(yr + o), v128.load(b + o)));
      v128.store(yr + o, f32x4.add(v128.load(yr + o, 16), v128.load(b + o, 16)), 16);
      v128.store(yr + o, f32x4.add(v128.load(yr + o, 32), v128.load(b + o, 32)), 32);
      v128.store(yr + o, f32x4.add(v128.load(yr + o, 48), v128.load(b + o, 48)), 48);
    }
    for (; j + 4 <= cols; j += 4) {
      const o = <usize>j << 2;
      v128.store(yr + o, f32x4.add(v128.load(yr + o), v128.load(b + o)));
    }
    for (; j < cols; j++) {
      const o = <usize>j << 2;
      store<f32>(yr + o, load<f32>(yr + o) + load<f32>(b + o));
    }
  }
}

export function bias_add_channels_f32(y: usize, b: usize, N: i32, C: i32, HW: i32): void {
  // y: (N, C, HW) += b: (C)
  let p = y;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const s = load<f32>(b + (<usize>c << 2));
      const sv = f32x4.splat(s);
      let i = 0;
      for (; i + 16 <= HW; i += 16) {
        const q = p + (<usize>i << 2);
        v128.store(q, f32x4.add(v128.load(q), sv));
        v128.store(q, f32x4.add(v128.load(q, 16), sv), 16);
        v128.store(q, f32x4.add(v128.load(q, 32), sv), 32);
        v128.store(q, f32x4.add(v128.load(q, 48), sv), 48);
      }
      for (; i + 4 <= HW; i += 4) {
        const q = p + (<usize>i << 2);
        v128.store(q, f32x4.add(v128.load(q), sv));
      }
      for (; i < HW; i++) {
        const q = p + (<usize>i << 2);
        store<f32>(q, load<f32>(q) + s);
      }
      p += <usize>HW << 2;
    }
  }
}

export function bias_grad_rows_f32(dy: usize, db: usize, rows: i32, cols: i32): void {
  // dy: (rows, cols) -> db: (cols) = column sums; column blocks of 16 / 4 / 1 kept in registers
  const rowBytes = <usize>cols << 2;
  let j = 0;
  for (; j + 16 <= cols; j += 16) {
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let p = dy + (<usize>j << 2);
    for (let r = 0; r < rows; r++) {
      a0 = f32x4.add(a0, v128.load(p));
      a1 = f32x4.add(a1, v128.load(p, 16));
      a2 = f32x4.add(a2, v128.load(p, 32));
      a3 = f32x4.add(a3, v128.load(p, 48));
      p += rowBytes;
    }
    const o = db + (<usize>j << 2);
    v128.store(o, a0);
    v128.store(o, a1, 16);
    v128.store(o, a2, 32);
    v128.store(o, a3, 48);
  }
  for (; j + 4 <= cols; j += 4) {
    let a = f32x4.splat(0);
    let p = dy + (<usize>j << 2);
    for (let r = 0; r < rows; r++) {
      a = f32x4.add(a, v128.load(p));
      p += rowBytes;
    }
    v128.store(db + (<usize>j << 2), a);
  }
  for (; j < cols; j++) {
    let s: f32 = 0;
    let p = dy + (<usize>j << 2);
    for (let r = 0; r < rows; r++) {
      s += load<f32>(p);
      p += rowBytes;
    }
    store<f32>(db + (<usize>j << 2), s);
  }
}

export function bias_grad_channels_f32(dy: usize, db: usize, N: i32, C: i32, HW: i32): void {
  // dy: (N, C, HW) -> db: (C) = sums over N and HW
  channel_sums(dy, N, C, HW, 0, C, db);
}

/** db[c] = sum over n and hw of dy[n, c, hw] for channels c0 <= c < c1 only (other db untouched). */
export function channel_sums(dy: usize, N: i32, C: i32, HW: i32, c0: i32, c1: i32, db: usize): void {
  // dy: (N, C, HW); db: (C), entries c0..c1-1 written
  const planeBytes = <usize>HW << 2;
  const imageBytes = <usize>C * planeBytes;
  for (let c = c0; c < c1; c++) {
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0);
    let s: f32 = 0;
    let p = dy + <usize>c * planeBytes;
    for (let n = 0; n < N; n++) {
      let i = 0;
      for (; i + 8 <= HW; i += 8) {
        const q = p + (<usize>i << 2);
        a0 = f32x4.add(a0, v128.load(q));
        a1 = f32x4.add(a1, v128.load(q, 16));
      }
      for (; i + 4 <= HW; i += 4) a0 = f32x4.add(a0, v128.load(p + (<usize>i << 2)));
      for (; i < HW; i++) s += load<f32>(p + (<usize>i << 2));
      p += imageBytes;
    }
    store<f32>(db + (<usize>c << 2), hsum(f32x4.add(a0, a1)) + s);
  }
}
