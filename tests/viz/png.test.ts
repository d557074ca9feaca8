import { deflateSync } from 'node:zlib';
import { encode as fastEncode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { FormatError, ShapeError } from '../../src/errors.js';
import { grayToRgba } from '../../src/viz/image.js';
import { decodePng, encodePng, pngToMnist, toMnist } from '../../src/viz/png.js';

// ---- helpers: hand-made PNGs (for chunks fast-png's encoder cannot write, like tRNS) ----
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}
function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
/** A PNG from unfiltered scanlines (each without the filter byte). */
function rawPng(width: number, height: number, depth: number, colorType: number, lines: Uint8Array[], extra: Uint8Array[] = []): Uint8Array {
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, width);
  dv.setUint32(4, height);
  ihdr.set([depth, colorType, 0, 0, 0], 8);
  const idat = deflateSync(concat(lines.flatMap((l) => [Uint8Array.of(0), l])));
  return concat([
    Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a),
    chunk('IHDR', ihdr),
    ...extra,
    chunk('IDAT', new Uint8Array(idat)),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

/** A 100x60 RGBA picture: a dark "7" (thick strokes) on white, off-centre. */
function sevenRgba(opts: { transparentBackground?: boolean } = {}): { width: number; height: number; data: Uint8Array } {
  const width = 100;
  const height = 60;
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const top = y >= 8 && y < 14 && x >= 20 && x < 50; // horizontal bar
      // diagonal from (50, 8) down-left to (32, 52)
      const t = (y - 8) / 44;
      const cx = 50 - t * 18;
      const diag = y >= 8 && y < 52 && Math.abs(x - cx) < 3.5;
      const ink = top || diag;
      const i = (y * width + x) * 4;
      if (opts.transparentBackground) {
        data.set([0, 0, 0, ink ? 255 : 0], i);
      } else {
        const v = ink ? 20 : 250;
        data.set([v, v, v, 255], i);
      }
    }
  }
  return { width, height, data };
}

function centerOfMass(img: Float32Array): [number, number] {
  let m = 0;
  let sx = 0;
  let sy = 0;
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      const v = img[y * 28 + x];
      m += v;
      sx += v * (x + 0.5);
      sy += v * (y + 0.5);
    }
  }
  return [sx / m, sy / m];
}

function inkBox(img: Float32Array, threshold = 0.05): { w: number; h: number } {
  let x0 = 28;
  let y0 = 28;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      if (img[y * 28 + x] > threshold) {
        x0 = Math.min(x0, x);
        x1 = Math.max(x1, x);
        y0 = Math.min(y0, y);
        y1 = Math.max(y1, y);
      }
    }
  }
  return { w: x1 - x0 + 1, h: y1 - y0 + 1 };
}

describe('encodePng / decodePng', () => {
  it('round-trips a gray image', () => {
    const img = { width: 3, height: 2, data: Uint8Array.from([0, 50, 100, 150, 200, 255]) };
    const bytes = encodePng(img);
    expect(Array.from(bytes.subarray(0, 4))).toEqual([0x89, 0x50, 0x4e, 0x47]);
    const d = decodePng(bytes);
    expect(d).toMatchObject({ width: 3, height: 2, channels: 1, sourceDepth: 8 });
    expect(Array.from(d.data)).toEqual(Array.from(img.data));
  });
  it('round-trips an RGBA image (and accepts an ArrayBuffer)', () => {
    const rgba = grayToRgba({ width: 2, height: 2, data: Uint8Array.from([1, 2, 3, 4]) });
    rgba.data[3] = 7; // some alpha
    const bytes = encodePng(rgba);
    const d = decodePng(bytes.slice().buffer);
    expect(d.channels).toBe(4);
    expect(Array.from(d.data)).toEqual(Array.from(rgba.data));
  });
  it('rejects image data of the wrong size', () => {
    expect(() => encodePng({ width: 3, height: 2, data: new Uint8Array(5) })).toThrow(ShapeError);
    expect(() => encodePng({ width: 0, height: 2, data: new Uint8Array(0) })).toThrow(ShapeError);
  });
  it('decodes gray+alpha, RGB, 16-bit, palette and 1/2-bit PNGs to 8-bit samples', () => {
    const ga = decodePng(fastEncode({ width: 2, height: 1, channels: 2, depth: 8, data: Uint8Array.from([10, 255, 20, 0]) }));
    expect(ga).toMatchObject({ channels: 2, data: Uint8Array.from([10, 255, 20, 0]) });
    const rgb = decodePng(fastEncode({ width: 1, height: 1, channels: 3, depth: 8, data: Uint8Array.from([1, 2, 3]) }));
    expect(rgb).toMatchObject({ channels: 3, data: Uint8Array.from([1, 2, 3]) });
    const g16 = decodePng(fastEncode({ width: 3, height: 1, channels: 1, depth: 16, data: Uint16Array.from([0, 32896, 65535]) }));
    expect(g16).toMatchObject({ channels: 1, sourceDepth: 16, data: Uint8Array.from([0, 128, 255]) });
    const pal = decodePng(
      fastEncode({ width: 3, height: 1, channels: 1, depth: 8, data: Uint8Array.from([1, 0, 1]), palette: [[255, 0, 0], [0, 0, 255]] }),
    );
    expect(pal).toMatchObject({ channels: 3, data: Uint8Array.from([0, 0, 255, 255, 0, 0, 0, 0, 255]) });
    // 1-bit gray, 10 px wide (2 bytes per line, padding bits ignored)
    const b1 = decodePng(rawPng(10, 1, 1, 0, [Uint8Array.of(0b10100000, 0b01000000)]));
    expect(Array.from(b1.data)).toEqual([255, 0, 255, 0, 0, 0, 0, 0, 0, 255]);
    // 2-bit gray
    const b2 = decodePng(rawPng(4, 1, 2, 0, [Uint8Array.of(0b00011011)]));
    expect(Array.from(b2.data)).toEqual([0, 85, 170, 255]);
  });
  it('turns a tRNS color key into an alpha channel', () => {
    const trns = chunk('tRNS', Uint8Array.of(0, 200)); // gray 200 is transparent
    const d = decodePng(rawPng(2, 1, 8, 0, [Uint8Array.of(200, 10)], [trns]));
    expect(d.channels).toBe(2);
    expect(Array.from(d.data)).toEqual([200, 0, 10, 255]);
  });
  it('bad bytes -> FormatError with a clear message', () => {
    expect(() => decodePng(new TextEncoder().encode('GIF89a, not a png at all'))).toThrow(FormatError);
    expect(() => decodePng(new TextEncoder().encode('GIF89a, not a png at all'))).toThrow(/not a PNG file/);
    expect(() => decodePng(new Uint8Array(0))).toThrow(/not a PNG file/);
    const good = encodePng({ width: 8, height: 8, data: new Uint8Array(64).fill(9) });
    expect(() => decodePng(good.subarray(0, 20))).toThrow(/truncated/);
    expect(() => decodePng(good.subarray(0, good.length - 20))).toThrow(FormatError);
    const flipped = good.slice();
    flipped[40] ^= 0xff; // inside IDAT: CRC mismatch
    expect(() => decodePng(flipped)).toThrow(FormatError);
  });
  it('refuses huge images before inflating them', () => {
    const huge = rawPng(1, 1, 8, 0, [Uint8Array.of(0)]);
    new DataView(huge.buffer).setUint32(16, 100_000);
    new DataView(huge.buffer).setUint32(20, 100_000);
    expect(() => decodePng(huge)).toThrow(/100000x100000 .* more than the limit/);
  });
});

describe('pngToMnist', () => {
  it('a black-on-white RGBA 100x60 stroke -> 28x28, white digit on black, centred, longer side 20', () => {
    const img = pngToMnist(encodePng({ ...sevenRgba(), channels: 4 }));
    expect(img).toBeInstanceOf(Float32Array);
    expect(img.length).toBe(784);
    expect(Math.max(...img)).toBeGreaterThan(0.95);
    expect(Math.min(...img)).toBeGreaterThanOrEqual(0);
    // background ~0: corners and the frame's border rows
    for (const i of [0, 27, 27 * 28, 783]) expect(img[i]).toBeLessThan(0.01);
    for (let x = 0; x < 28; x++) expect(img[x] + img[27 * 28 + x]).toBeLessThan(0.01);
    const [cx, cy] = centerOfMass(img);
    expect(Math.abs(cx - 14)).toBeLessThanOrEqual(1);
    expect(Math.abs(cy - 14)).toBeLessThanOrEqual(1);
    const box = inkBox(img);
    expect(Math.max(box.w, box.h)).toBeGreaterThanOrEqual(19);
    expect(Math.max(box.w, box.h)).toBeLessThanOrEqual(20);
    expect(box.h).toBeGreaterThan(box.w); // a 7 is taller than wide, aspect kept
  });
  it('gives the same picture for ink on a transparent background, and for white-on-black', () => {
    const ref = pngToMnist(encodePng({ ...sevenRgba(), channels: 4 }));
    const transparent = pngToMnist(encodePng({ ...sevenRgba({ transparentBackground: true }), channels: 4 }));
    const s = sevenRgba();
    const whiteOnBlack = new Uint8Array(s.width * s.height);
    for (let i = 0; i < whiteOnBlack.length; i++) whiteOnBlack[i] = 255 - s.data[i * 4];
    const inverted = pngToMnist(encodePng({ width: s.width, height: s.height, data: whiteOnBlack }));
    for (const other of [transparent, inverted]) {
      let maxDiff = 0;
      for (let i = 0; i < 784; i++) maxDiff = Math.max(maxDiff, Math.abs(other[i] - ref[i]));
      expect(maxDiff).toBeLessThan(0.02);
    }
  });
  it('keeps an MNIST-like 28x28 image as it is', () => {
    // a 12x20 ring centred at (14, 14): already the MNIST layout
    const data = new Uint8Array(784);
    const orig = new Float32Array(784);
    for (let y = 4; y < 24; y++) {
      for (let x = 8; x < 20; x++) {
        if (y < 7 || y >= 21 || x < 11 || x >= 17) {
          data[y * 28 + x] = 255;
          orig[y * 28 + x] = 1;
        }
      }
    }
    const out = pngToMnist(encodePng({ width: 28, height: 28, data }));
    expect(Array.from(out)).toEqual(Array.from(orig));
  });
  it('scales a tiny drawing up and a blank one to zeros', () => {
    const tiny = new Uint8Array(8 * 6).fill(255);
    for (let y = 1; y < 5; y++) tiny[y * 8 + 3] = 0; // a 1x4 dark bar on white
    const out = pngToMnist(encodePng({ width: 8, height: 6, data: tiny }));
    const box = inkBox(out, 0.5);
    expect(box.h).toBe(20);
    expect(box.w).toBe(5);
    expect(Array.from(pngToMnist(encodePng({ width: 5, height: 5, data: new Uint8Array(25).fill(240) }))).every((v) => v === 0)).toBe(true);
  });
  it('takes the invert option and works on a canvas-like RGBA buffer', () => {
    const s = sevenRgba();
    const auto = toMnist({ ...s, channels: 4 });
    const forced = toMnist({ ...s, channels: 4 }, { invert: true });
    expect(Array.from(forced)).toEqual(Array.from(auto));
    expect(() => toMnist({ width: 2, height: 2, channels: 4, data: new Uint8Array(3) })).toThrow(ShapeError);
  });
  it('bad bytes -> FormatError', () => {
    expect(() => pngToMnist(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]))).toThrow(FormatError);
  });
});
