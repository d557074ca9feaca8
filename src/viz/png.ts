/**
 * PNG encode/decode (via fast-png, pure JS) and the conversion of any picture of a digit
 * to an MNIST-like 28x28 input. Platform-neutral.
 */
import { convertIndexedToRgb, decode as fastDecode, encode as fastEncode, hasPngSignature } from 'fast-png';
import type { DecodedPng as FastDecoded } from 'fast-png';
import { FormatError, ShapeError } from '../errors.js';
import type { GrayImage, RgbaImage } from './image.js';

/** A decoded PNG, always 8 bits per sample. channels: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA. */
export interface DecodedImage {
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
  /** `data[(y * width + x) * channels + c]`, 0..255, alpha not premultiplied. */
  data: Uint8Array;
  /** Bit depth of the source file (1, 2, 4, 8 or 16); samples are rescaled to 8 bits. */
  sourceDepth: number;
}

export interface DecodeOptions {
  /** Refuse images with more pixels than this before inflating them (default 40 million). */
  maxPixels?: number;
}

const DEFAULT_MAX_PIXELS = 40_000_000;
const COLOR_TYPES: Record<number, string> = { 0: 'gray', 2: 'RGB', 3: 'palette', 4: 'gray+alpha', 6: 'RGBA' };

/** Encodes an 8-bit gray (1 byte/pixel) or RGBA (4 bytes/pixel) image; 2 and 3 channels work too. */
export function encodePng(img: GrayImage | RgbaImage | DecodedImage): Uint8Array {
  const { width, height, data } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new ShapeError(`encodePng: width and height must be integers >= 1, got ${width}x${height}`);
  }
  if (!(data instanceof Uint8Array)) throw new ShapeError('encodePng: data must be a Uint8Array');
  const n = width * height;
  const declared = 'channels' in img ? img.channels : undefined;
  const channels = declared ?? data.length / n;
  if (![1, 2, 3, 4].includes(channels) || data.length !== n * channels) {
    throw new ShapeError(
      `encodePng: a ${width}x${height} image needs ${n} (gray) or ${4 * n} (RGBA) bytes` +
        `${declared ? ` (${declared} channels: ${declared * n})` : ''}, got ${data.length}`,
    );
  }
  return fastEncode({ width, height, data, channels, depth: 8 });
}

function toBytes(bytes: Uint8Array | ArrayBuffer): Uint8Array {
  if (bytes instanceof Uint8Array) return bytes;
  if (bytes instanceof ArrayBuffer) return new Uint8Array(bytes);
  throw new FormatError('PNG: expected a Uint8Array or ArrayBuffer of file bytes');
}

/** Reads and checks IHDR before inflating anything, so bad or huge files fail fast and clearly. */
function readHeader(b: Uint8Array, maxPixels: number) {
  if (b.length < 8 || !hasPngSignature(b)) {
    const head = Array.from(b.subarray(0, 8), (x) => x.toString(16).padStart(2, '0')).join(' ');
    throw new FormatError(`not a PNG file: the first 8 bytes should be 89 50 4e 47 0d 0a 1a 0a, got ${head || 'nothing'}`);
  }
  if (b.length < 33) throw new FormatError(`PNG: file is truncated (${b.length} bytes, too short for the IHDR chunk)`);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const type = String.fromCharCode(b[12], b[13], b[14], b[15]);
  if (type !== 'IHDR' || dv.getUint32(8) !== 13) {
    throw new FormatError(`PNG: the first chunk at byte 8 must be a 13-byte IHDR, got '${type}' of ${dv.getUint32(8)} bytes`);
  }
  const width = dv.getUint32(16);
  const height = dv.getUint32(20);
  const depth = b[24];
  const colorType = b[25];
  const interlace = b[28];
  if (width === 0 || height === 0) throw new FormatError(`PNG: image is ${width}x${height}; both sides must be >= 1`);
  if (width * height > maxPixels) {
    throw new FormatError(`PNG: image is ${width}x${height} = ${width * height} pixels, more than the limit of ${maxPixels}`);
  }
  if (!(colorType in COLOR_TYPES)) throw new FormatError(`PNG: unknown color type ${colorType} at byte 25`);
  if (interlace === 1 && depth < 8) {
    throw new FormatError(`PNG: interlaced (Adam7) images with bit depth ${depth} are not supported; save it non-interlaced`);
  }
  return { width, height, depth, colorType };
}

/**
 * Decodes a PNG of any standard color type and bit depth to 8-bit samples: gray, gray+alpha,
 * RGB, RGBA; 1/2/4/8/16 bits; palettes become RGB (RGBA with a tRNS chunk); a tRNS color
 * key on gray/RGB becomes an alpha channel. Corrupt or truncated bytes -> FormatError.
 */
export function decodePng(bytes: Uint8Array | ArrayBuffer, opts: DecodeOptions = {}): DecodedImage {
  const b = toBytes(bytes);
  const header = readHeader(b, opts.maxPixels ?? DEFAULT_MAX_PIXELS);
  let png: FastDecoded;
  try {
    png = fastDecode(b, { checkCrc: true });
  } catch (e) {
    throw new FormatError(`PNG (${header.width}x${header.height} ${COLOR_TYPES[header.colorType]}): ${describe(e)}`);
  }
  try {
    return to8bit(png);
  } catch (e) {
    if (e instanceof FormatError) throw e;
    throw new FormatError(`PNG (${header.width}x${header.height} ${COLOR_TYPES[header.colorType]}): ${describe(e)}`);
  }
}

function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = e.cause instanceof Error ? ` (${e.cause.message})` : '';
  const msg = e.message.replace(/:$/, '');
  return /offset|out of bounds|outside the bounds/i.test(msg) ? `file is truncated or corrupt: ${msg}` : msg + cause;
}

function to8bit(png: FastDecoded): DecodedImage {
  const { width, height, depth } = png;
  const n = width * height;
  if (png.palette) {
    if (!png.palette.length) throw new FormatError('PNG: palette image with an empty PLTE chunk');
    const rgb = convertIndexedToRgb(png);
    const channels = png.palette[0].length as 3 | 4;
    if (rgb.length !== n * channels) throw new FormatError(`PNG: palette data decodes to ${rgb.length} bytes, expected ${n * channels}`);
    return { width, height, channels, data: rgb, sourceDepth: depth };
  }
  const ch = png.channels;
  if (ch < 1 || ch > 4) throw new FormatError(`PNG: unsupported channel count ${ch}`);
  // Raw samples at the source depth, unpacked.
  let raw: Uint8Array | Uint16Array;
  if (depth < 8) {
    const perLine = Math.ceil((width * depth * ch) / 8);
    if (png.data.length !== perLine * height) {
      throw new FormatError(`PNG: pixel data is ${png.data.length} bytes, expected ${perLine * height} (truncated?)`);
    }
    raw = new Uint8Array(n * ch);
    const mask = (1 << depth) - 1;
    for (let y = 0; y < height; y++) {
      for (let i = 0; i < width * ch; i++) {
        const bit = i * depth;
        const byte = png.data[y * perLine + (bit >> 3)];
        raw[y * width * ch + i] = (byte >> (8 - depth - (bit & 7))) & mask;
      }
    }
  } else {
    raw = png.data as Uint8Array | Uint16Array;
    if (raw.length !== n * ch) throw new FormatError(`PNG: pixel data has ${raw.length} samples, expected ${n * ch} (truncated?)`);
  }
  const maxVal = (1 << depth) - 1;
  const key = png.transparency && png.transparency.length === ch && (ch === 1 || ch === 3) ? png.transparency : undefined;
  const outCh = (key ? ch + 1 : ch) as 1 | 2 | 3 | 4;
  if (depth === 8 && !key) return { width, height, channels: outCh, data: raw as Uint8Array, sourceDepth: depth };
  const out = new Uint8Array(n * outCh);
  const k = 255 / maxVal;
  for (let p = 0; p < n; p++) {
    let match = key !== undefined;
    for (let c = 0; c < ch; c++) {
      const v = raw[p * ch + c];
      out[p * outCh + c] = Math.round(v * k);
      if (key && v !== key[c]) match = false;
    }
    if (key) out[p * outCh + ch] = match ? 0 : 255;
  }
  return { width, height, channels: outCh, data: out, sourceDepth: depth };
}

export interface MnistOptions {
  /**
   * MNIST digits are white on black. 'auto' (default) inverts when the picture's border
   * is light (a dark digit on paper); true/false force it.
   */
  invert?: boolean | 'auto';
  /** See DecodeOptions. */
  maxPixels?: number;
}

/** Side of the box the digit is scaled into, and of the frame, as in MNIST. */
const BOX = 20;
const FRAME = 28;
/** Ink (after background removal, 0..1) above this counts for the bounding box. */
const INK_THRESHOLD = 0.1;

/**
 * Any PNG of a digit -> a 28x28 MNIST-like image, values in [0, 1], row-major.
 * See `toMnist` for the steps.
 */
export function pngToMnist(bytes: Uint8Array | ArrayBuffer, opts: MnistOptions = {}): Float32Array {
  return toMnist(decodePng(bytes, opts), opts);
}

/**
 * An 8-bit image (a decoded PNG, or a canvas's RGBA ImageData with channels 4) -> 28x28
 * like MNIST's preprocessing:
 * 1. alpha composited over white, luminance (Rec. 601: 0.299 R + 0.587 G + 0.114 B);
 * 2. inverted if the background (median of the border pixels) is light, since MNIST is a
 *    white digit on black; then the background level is subtracted and the strongest ink
 *    stretched to 1;
 * 3. cropped to the bounding box of the ink;
 * 4. scaled (area averaging) so the longer side is 20 px, preserving the aspect ratio;
 * 5. placed in a 28x28 frame so its center of mass is at the center (kept inside the frame).
 * A blank picture gives all zeros.
 */
export function toMnist(
  img: { width: number; height: number; channels: number; data: ArrayLike<number> },
  opts: Pick<MnistOptions, 'invert'> = {},
): Float32Array {
  const { width: w, height: h, channels: ch, data } = img;
  if (!Number.isInteger(w) || !Number.isInteger(h) || w < 1 || h < 1 || ![1, 2, 3, 4].includes(ch) || data.length !== w * h * ch) {
    throw new ShapeError(`toMnist: expected a ${w}x${h} image with 1-4 channels of 8-bit samples, got ${data.length} samples`);
  }
  const n = w * h;
  // 1. luminance in [0, 1], alpha over white
  const lum = new Float32Array(n);
  const hasAlpha = ch === 2 || ch === 4;
  for (let p = 0, i = 0; p < n; p++, i += ch) {
    const l = ch >= 3 ? 0.299 * data[i] + 0.587 * data[i + 1] + 0.114 * data[i + 2] : data[i];
    const a = hasAlpha ? data[i + ch - 1] / 255 : 1;
    lum[p] = (a * l) / 255 + (1 - a);
  }
  // 2. background from the border, invert, subtract, stretch
  const border: number[] = [];
  for (let x = 0; x < w; x++) border.push(lum[x], lum[(h - 1) * w + x]);
  for (let y = 1; y < h - 1; y++) border.push(lum[y * w], lum[y * w + w - 1]);
  border.sort((a, b) => a - b);
  const bgLum = border[border.length >> 1];
  const invert = opts.invert === undefined || opts.invert === 'auto' ? bgLum > 0.5 : opts.invert;
  const ink = new Float32Array(n);
  let peak = 0;
  for (let p = 0; p < n; p++) {
    const v = invert ? 1 - lum[p] : lum[p];
    ink[p] = v;
    if (v > peak) peak = v;
  }
  const bg = invert ? 1 - bgLum : bgLum;
  const out = new Float32Array(FRAME * FRAME);
  if (peak - bg < 0.05) return out; // blank
  const stretch = 1 / (peak - bg);
  let x0 = w;
  let y0 = h;
  let x1 = -1;
  let y1 = -1;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      const v = Math.min(1, Math.max(0, (ink[p] - bg) * stretch));
      ink[p] = v;
      if (v > INK_THRESHOLD) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  if (x1 < 0) return out;
  // 3-4. crop and resample to fit 20x20
  const bw = x1 - x0 + 1;
  const bh = y1 - y0 + 1;
  const s = BOX / Math.max(bw, bh);
  const nw = Math.max(1, Math.min(BOX, Math.round(bw * s)));
  const nh = Math.max(1, Math.min(BOX, Math.round(bh * s)));
  const small = resampleBox(ink, w, x0, y0, bw, bh, nw, nh);
  // 5. center of mass -> frame center
  let mass = 0;
  let mx = 0;
  let my = 0;
  for (let y = 0; y < nh; y++) {
    for (let x = 0; x < nw; x++) {
      const v = small[y * nw + x];
      mass += v;
      mx += v * (x + 0.5);
      my += v * (y + 0.5);
    }
  }
  const cx = mass > 0 ? mx / mass : nw / 2;
  const cy = mass > 0 ? my / mass : nh / 2;
  const ox = Math.min(FRAME - nw, Math.max(0, Math.round(FRAME / 2 - cx)));
  const oy = Math.min(FRAME - nh, Math.max(0, Math.round(FRAME / 2 - cy)));
  for (let y = 0; y < nh; y++) {
    for (let x = 0; x < nw; x++) out[(oy + y) * FRAME + ox + x] = small[y * nw + x];
  }
  return out;
}

/** For each destination index: the first source index and the weights of the source cells it covers (sum 1). */
function boxWeights(src: number, dst: number): { start: number; weights: Float64Array }[] {
  const ratio = src / dst;
  const res: { start: number; weights: Float64Array }[] = [];
  for (let d = 0; d < dst; d++) {
    const a = d * ratio;
    const b = (d + 1) * ratio;
    const start = Math.floor(a);
    const end = Math.min(src, Math.ceil(b - 1e-9));
    const weights = new Float64Array(Math.max(1, end - start));
    for (let s = start; s < start + weights.length; s++) weights[s - start] = (Math.min(b, s + 1) - Math.max(a, s)) / ratio;
    res.push({ start, weights });
  }
  return res;
}

/** Area-averaging resample of the (bw x bh) box at (x0, y0) of a `stride`-wide image to nw x nh. */
function resampleBox(img: Float32Array, stride: number, x0: number, y0: number, bw: number, bh: number, nw: number, nh: number): Float32Array {
  const wx = boxWeights(bw, nw);
  const wy = boxWeights(bh, nh);
  const tmp = new Float32Array(bh * nw);
  for (let y = 0; y < bh; y++) {
    const row = (y0 + y) * stride + x0;
    for (let x = 0; x < nw; x++) {
      const { start, weights } = wx[x];
      let acc = 0;
      for (let k = 0; k < weights.length; k++) acc += weights[k] * img[row + start + k];
      tmp[y * nw + x] = acc;
    }
  }
  const out = new Float32Array(nw * nh);
  for (let y = 0; y < nh; y++) {
    const { start, weights } = wy[y];
    for (let x = 0; x < nw; x++) {
      let acc = 0;
      for (let k = 0; k < weights.length; k++) acc += weights[k] * tmp[(start + k) * nw + x];
      out[y * nw + x] = Math.min(1, acc);
    }
  }
  return out;
}
