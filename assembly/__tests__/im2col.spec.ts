// Hand-checked im2col / col2im cases (Caffe layout: col row (c*KH + kh)*KW + kw, column oh*OW + ow).
import { im2col_f32, col2im_f32 } from '../im2col';

function ptr<T>(a: StaticArray<T>): usize {
  return changetype<usize>(a);
}

function filled(n: i32, v: f32): StaticArray<f32> {
  const a = new StaticArray<f32>(n);
  for (let i = 0; i < n; i++) a[i] = v;
  return a;
}

function range1(n: i32): StaticArray<f32> {
  // 1, 2, ..., n
  const a = new StaticArray<f32>(n);
  for (let i = 0; i < n; i++) a[i] = <f32>(i + 1);
  return a;
}

function expectValues(got: StaticArray<f32>, want: f32[]): void {
  expect<i32>(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect<f32>(got[i]).toBe(want[i]);
}

describe('im2col_f32', () => {
  it('3x3 image, 2x2 kernel, stride 1, no padding', () => {
    const x = range1(9);
    const col = filled(16, NaN);
    im2col_f32(ptr(x), 1, 3, 3, 2, 2, 1, 1, 0, 0, ptr(col));
    expectValues(col, [1, 2, 4, 5, 2, 3, 5, 6, 4, 5, 7, 8, 5, 6, 8, 9]);
  });

  it('3x3 image, 2x2 kernel, stride 2, pad 1: padded positions are zeros', () => {
    const x = range1(9);
    const col = filled(16, NaN);
    im2col_f32(ptr(x), 1, 3, 3, 2, 2, 2, 2, 1, 1, ptr(col));
    expectValues(col, [0, 0, 0, 5, 0, 0, 4, 6, 0, 2, 0, 8, 1, 3, 7, 9]);
  });

  it('two channels, 1x2 kernel over a 2x9 row pair (long stride-1 runs)', () => {
    const x = range1(36); // (2, 2, 9)
    const col = filled(2 * 2 * 16, NaN); // (2*1*2, 2*8)
    im2col_f32(ptr(x), 2, 2, 9, 1, 2, 1, 1, 0, 0, ptr(col));
    // row (c=0, kw=0): x[0, h, 0..7]; row (c=0, kw=1): x[0, h, 1..8]; channel 1 adds 18
    for (let h = 0; h < 2; h++) {
      for (let w = 0; w < 8; w++) {
        expect<f32>(col[h * 8 + w]).toBe(<f32>(h * 9 + w + 1));
        expect<f32>(col[16 + h * 8 + w]).toBe(<f32>(h * 9 + w + 2));
        expect<f32>(col[32 + h * 8 + w]).toBe(<f32>(h * 9 + w + 19));
        expect<f32>(col[48 + h * 8 + w]).toBe(<f32>(h * 9 + w + 20));
      }
    }
  });

  it('stride 2 along a long row takes every other element', () => {
    const x = range1(20); // (1, 1, 20)
    const col = filled(10, NaN); // (1, 10)
    im2col_f32(ptr(x), 1, 1, 20, 1, 1, 1, 2, 0, 0, ptr(col));
    expectValues(col, [1, 3, 5, 7, 9, 11, 13, 15, 17, 19]);
  });
});

describe('col2im_f32', () => {
  it('all-ones col counts how many patches cover each pixel (and overwrites x)', () => {
    const col = filled(16, 1);
    const x = filled(9, NaN);
    col2im_f32(ptr(col), 1, 3, 3, 2, 2, 1, 1, 0, 0, ptr(x));
    expectValues(x, [1, 2, 1, 2, 4, 2, 1, 2, 1]);
  });

  it('3x3 kernel, pad 1, stride 1 on 3x3: coverage counts skip the padding', () => {
    const col = filled(9 * 9, 1);
    const x = filled(9, NaN);
    col2im_f32(ptr(col), 1, 3, 3, 3, 3, 1, 1, 1, 1, ptr(x));
    expectValues(x, [4, 6, 4, 6, 9, 6, 4, 6, 4]);
  });

  it('inverts im2col when patches do not overlap (2x2 kernel, stride 2)', () => {
    const x = range1(16); // (1, 4, 4)
    const col = filled(16, NaN);
    im2col_f32(ptr(x), 1, 4, 4, 2, 2, 2, 2, 0, 0, ptr(col));
    const back = filled(16, NaN);
    col2im_f32(ptr(col), 1, 4, 4, 2, 2, 2, 2, 0, 0, ptr(back));
    for (let i = 0; i < 16; i++) expect<f32>(back[i]).toBe(x[i]);
  });
});
