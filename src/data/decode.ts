/**
 * Decoding with sharp (libvips) into 8-bit pixels, and 8-bit pixels into model input floats.
 *
 * Images are held decoded as 8-bit RGB (`[n, H, W, 3]`, the crop only: 150 KB an image at
 * 224x224, a quarter of its float32 tensor) and turned into normalized float32 one batch at a
 * time (`normalizePixels`, one lookup-table load per value), so memory stays bounded at
 * ImageNet sizes and the search still never decodes twice.
 *
 * Cost model (bench/data.ts): sharp's fixed per-call cost (~0.5 ms of CPU) dominates for a
 * 32x32 JPEG, a photo's decode and resize for a 224x224 crop (JPEG shrink-on-load helps). The
 * levers: one libvips thread per image (`sharp.concurrency(1)`), as many images in flight on
 * libuv's pool as there are cores (the CLI sizes UV_THREADPOOL_SIZE to the cores), the file
 * read as a buffer first.
 */
import * as os from 'os';
import sharp from 'sharp';
import { LayerqError, badArgument, escapeText, quote } from '../errors';
import { FILE_LIMITS, checkAllocation } from '../util/limits';
import { readRegularFile } from '../util/read-file';
import { Preprocess, checkPreprocess, imageSize, normalizationTable, sourceChannel } from './preprocess';

export interface DecodeOptions {
  /** Images in flight at once (libuv pool); default: the number of cores, at least 4. */
  concurrency?: number;
  /** libvips threads per image, set process-wide with sharp.concurrency(); default 1. */
  sharpThreads?: number;
  /** Called after each image, decoded or skipped: (done, total). */
  onProgress?: (done: number, total: number) => void;
}

export interface PixelDecodeOptions extends DecodeOptions {
  /** Output pixels; default a new Uint8Array of paths.length * pixelSize(preprocess). */
  out?: Uint8Array;
  /** Byte offset into `out` of image 0; default 0. */
  offset?: number;
}

export interface FloatDecodeOptions extends DecodeOptions {
  /** Output tensor; default a new Float32Array of paths.length * imageSize(preprocess). */
  out?: Float32Array;
  /** Float offset into `out` of image 0; default 0. */
  offset?: number;
}

export interface DecodeResult<T extends Uint8Array | Float32Array = Float32Array> {
  /** Pixels `[n, H, W, 3]` (decodePixels) or the model input `[n, ...]` (decodeImages) at `offset`. Skipped images stay zero. */
  data: T;
  /** ok[i]: image i was decoded. */
  ok: boolean[];
  /** The files that could not be decoded, in input order, with sharp's reason. */
  skipped: { path: string; reason: string }[];
}

/** Bytes per image held: H * W * 3 (8-bit RGB of the crop). */
export function pixelSize(p: Preprocess): number {
  return 3 * p.crop[0] * p.crop[1];
}

/** Default images in flight: every core busy (sharp's work runs on libuv's pool). */
export function defaultConcurrency(): number {
  return Math.max(4, os.availableParallelism());
}

/**
 * Copies the centre H x W window (top/left offsets rounded down) of 8-bit interleaved pixels
 * (`channels` 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA; alpha dropped, gray expanded) as RGB
 * `[H, W, 3]` into `out` at byte `offset`.
 */
export function writeCropped(
  pixels: Uint8Array,
  width: number,
  height: number,
  channels: number,
  crop: readonly [number, number],
  out: Uint8Array,
  offset: number,
): void {
  const [h, w] = crop;
  const top = (height - h) >> 1;
  const left = (width - w) >> 1;
  const g = channels >= 3 ? 1 : 0; // offset of G and B; 0 for gray input
  for (let y = 0; y < h; y++) {
    let src = ((y + top) * width + left) * channels;
    let dst = offset + y * w * 3;
    if (channels === 3) {
      out.set(pixels.subarray(src, src + w * 3), dst);
      continue;
    }
    for (let x = 0; x < w; x++, src += channels, dst += 3) {
      out[dst] = pixels[src] as number;
      out[dst + 1] = pixels[src + g] as number;
      out[dst + 2] = pixels[src + 2 * g] as number;
    }
  }
}

/**
 * `count` images of 8-bit RGB pixels `[count, H, W, 3]` (from byte `pixelOffset`) into the
 * model's input floats at `out[outOffset]`: `[count, 3, H, W]` for layout NCHW, `[count, H, W,
 * 3]` for NHWC, channels in `preprocess.channelOrder`, each value `lut[c][pixel]` (see
 * normalizationTable: the table already maps model channel c to its source pixel channel).
 */
export function normalizePixels(
  pixels: Uint8Array,
  pixelOffset: number,
  count: number,
  preprocess: Preprocess,
  lut: Float32Array,
  out: Float32Array,
  outOffset = 0,
): void {
  const [h, w] = preprocess.crop;
  const plane = h * w;
  const [s0, s1, s2] = [0, 1, 2].map((c) => sourceChannel(preprocess, c)) as [number, number, number];
  const nhwc = preprocess.layout === 'NHWC';
  for (let i = 0; i < count; i++) {
    let src = pixelOffset + i * plane * 3;
    const base = outOffset + i * plane * 3;
    if (nhwc) {
      for (let p = 0, d = base; p < plane; p++, src += 3, d += 3) {
        out[d] = lut[pixels[src + s0]!]!;
        out[d + 1] = lut[256 + pixels[src + s1]!]!;
        out[d + 2] = lut[512 + pixels[src + s2]!]!;
      }
    } else {
      for (let p = 0, d = base; p < plane; p++, src += 3, d++) {
        out[d] = lut[pixels[src + s0]!]!;
        out[d + plane] = lut[256 + pixels[src + s1]!]!;
        out[d + 2 * plane] = lut[512 + pixels[src + s2]!]!;
      }
    }
  }
}

/**
 * Writes 8-bit interleaved pixels (as `writeCropped` takes them) as a normalized `[3, H, W]`
 * RGB image at `out[offset]` through a table of `normalizationTable` (RGB, NCHW).
 */
export function writeNormalized(
  pixels: Uint8Array,
  width: number,
  height: number,
  channels: number,
  crop: readonly [number, number],
  lut: Float32Array,
  out: Float32Array,
  offset: number,
): void {
  const rgb = new Uint8Array(3 * crop[0] * crop[1]);
  writeCropped(pixels, width, height, channels, crop, rgb, 0);
  const pre: Preprocess = { name: 'rgb', crop: [crop[0], crop[1]], mean: [0, 0, 0], std: [1, 1, 1], scale: 1 };
  normalizePixels(rgb, 0, 1, pre, lut, out, offset);
}

/** Largest decoded image (pixels) layerq accepts: 8192 x 8192. */
export const MAX_IMAGE_PIXELS = 8192 * 8192;

/** Decodes, resizes and crops one file into `out` at byte `offset`; rejects with sharp's or fs's error. */
async function decodeOne(file: string, pre: Preprocess, out: Uint8Array, offset: number): Promise<void> {
  // Regular files of bounded size only: a FIFO or a device in a list file would hang the read.
  const bytes = await readRegularFile(file, FILE_LIMITS.image);
  // A decompression bomb (a small file declaring a huge image) is refused before decoding.
  let pipeline = sharp(bytes, { failOn: 'error', sequentialRead: true, limitInputPixels: MAX_IMAGE_PIXELS });
  const [h, w] = pre.crop;
  pipeline =
    pre.resize !== undefined
      ? pipeline.resize({ width: pre.resize, height: pre.resize, fit: 'outside' })
      : pipeline.resize({ width: w, height: h, fit: 'fill' }); // no-op when already w x h
  const { data, info } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  if (info.width < w || info.height < h || info.channels < 1 || info.channels > 4) {
    throw new Error(`unexpected decoded size ${info.width}x${info.height}x${info.channels}`);
  }
  writeCropped(data, info.width, info.height, info.channels, pre.crop, out, offset);
}

function checkOut(out: Uint8Array | Float32Array, offset: number, count: number, per: number, type: string): void {
  if (!(out instanceof (type === 'Uint8Array' ? Uint8Array : Float32Array))) throw badArgument('out', type, out);
  if (!Number.isInteger(offset) || offset < 0) throw badArgument('offset', 'non-negative integer', offset);
  const need = offset + count * per;
  if (out.length < need) throw badArgument('out.length', `at least ${need}`, out.length);
}

/** The first line of an error's message, escaped and shortened (it may quote file content). */
function oneLine(e: unknown): string {
  return escapeText((e instanceof Error ? e.message : String(e)).split('\n')[0]!.trim(), 200);
}

/**
 * Decodes `paths` into 8-bit RGB pixels `[n, H, W, 3]` (H, W = preprocess.crop, after its
 * resize and centre crop), image i at byte `offset + i * pixelSize`. A file that cannot be
 * read or decoded never throws: its slot stays zero, `ok[i]` is false and it is listed in
 * `skipped`. Results do not depend on `concurrency`.
 */
export async function decodePixels(
  paths: readonly string[],
  preprocess: Preprocess,
  options: PixelDecodeOptions = {},
): Promise<DecodeResult<Uint8Array>> {
  checkPreprocess(preprocess);
  const concurrency = options.concurrency ?? defaultConcurrency();
  if (!Number.isInteger(concurrency) || concurrency < 1) throw badArgument('concurrency', 'positive integer', concurrency);
  const threads = options.sharpThreads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) throw badArgument('sharpThreads', 'positive integer', threads);
  const size = pixelSize(preprocess);
  const offset = options.offset ?? 0;
  if (!options.out) checkAllocation(`${paths.length} decoded images of [${preprocess.crop.join(', ')}, 3]`, offset + paths.length * size, 1);
  const out = options.out ?? new Uint8Array(offset + paths.length * size);
  checkOut(out, offset, paths.length, size, 'Uint8Array');
  sharp.concurrency(threads);

  const ok = new Array<boolean>(paths.length).fill(false);
  const reasons = new Array<string | undefined>(paths.length);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < paths.length) {
      const i = next++;
      const at = offset + i * size;
      try {
        await decodeOne(paths[i] as string, preprocess, out, at);
        ok[i] = true;
      } catch (e) {
        out.fill(0, at, at + size); // a failure after a partial write must not leave pixels
        reasons[i] = oneLine(e);
      }
      done++;
      options.onProgress?.(done, paths.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, paths.length)) }, worker));
  const skipped: { path: string; reason: string }[] = [];
  reasons.forEach((reason, i) => {
    if (reason !== undefined) skipped.push({ path: paths[i] as string, reason });
  });
  return { data: out, ok, skipped };
}

/**
 * Decodes `paths` straight into the model's input floats (`[n, 3, H, W]`, or `[n, H, W, 3]`
 * for layout NHWC; normalized by `preprocess`), image i at `offset + i * imageSize`. Skipped
 * files as in `decodePixels` (their slot is zero).
 */
export async function decodeImages(
  paths: readonly string[],
  preprocess: Preprocess,
  options: FloatDecodeOptions = {},
): Promise<DecodeResult<Float32Array>> {
  checkPreprocess(preprocess);
  const size = imageSize(preprocess);
  const offset = options.offset ?? 0;
  const out = options.out ?? new Float32Array(offset + paths.length * size);
  checkOut(out, offset, paths.length, size, 'Float32Array');
  const { out: _o, offset: _f, ...rest } = options;
  const px = await decodePixels(paths, preprocess, rest);
  normalizePixels(px.data, 0, paths.length, preprocess, normalizationTable(preprocess), out, offset);
  px.ok.forEach((good, i) => {
    if (!good) out.fill(0, offset + i * size, offset + (i + 1) * size);
  });
  return { data: out, ok: px.ok, skipped: px.skipped };
}

/**
 * Decodes and preprocesses one image into `out` at float `offset` (the model input of one
 * image). Throws BAD_DATA naming the file when it cannot be read or decoded.
 */
export async function decodeImageInto(file: string, preprocess: Preprocess, out: Float32Array, offset = 0): Promise<void> {
  checkPreprocess(preprocess);
  checkOut(out, offset, 1, imageSize(preprocess), 'Float32Array');
  const px = new Uint8Array(pixelSize(preprocess));
  try {
    await decodeOne(file, preprocess, px, 0);
  } catch (e) {
    throw new LayerqError('BAD_DATA', `cannot decode ${quote(file, 200)}: ${oneLine(e)}`);
  }
  normalizePixels(px, 0, 1, preprocess, normalizationTable(preprocess), out, offset);
}
