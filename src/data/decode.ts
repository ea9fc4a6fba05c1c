/**
 * Decoding with sharp (libvips) straight into caller-provided NCHW float32 tensors.
 *
 * Cost model, measured on this project's 2-core machine (bench/data.ts): for a 32x32 JPEG,
 * sharp's fixed per-call cost (~0.5 ms of CPU, most of it pipeline setup, not pixels)
 * dominates, so the levers are: one libvips thread per image (`sharp.concurrency(1)`; tiny
 * images do not split), several images in flight on libuv's pool, the file read as a buffer
 * first, and one pass in JS from 8-bit pixels to normalized floats through a lookup table,
 * written in place (no per-image float arrays). Decode once and keep the tensor (ImageSet).
 */
import sharp from 'sharp';
import { LayerqError, badArgument, escapeText, quote } from '../errors';
import { FILE_LIMITS, checkAllocation } from '../util/limits';
import { readRegularFile } from '../util/read-file';
import { Preprocess, checkPreprocess, imageSize, normalizationTable } from './preprocess';

export interface DecodeOptions {
  /** Images in flight at once (libuv pool); default 4. */
  concurrency?: number;
  /** libvips threads per image, set process-wide with sharp.concurrency(); default 1. */
  sharpThreads?: number;
  /** Called after each image, decoded or skipped: (done, total). */
  onProgress?: (done: number, total: number) => void;
  /** Output tensor; default a new Float32Array of paths.length * imageSize(preprocess). */
  out?: Float32Array;
  /** Float offset into `out` of image 0; default 0. */
  offset?: number;
}

export interface DecodeResult {
  /** [n, 3, H, W] float32 at `offset` (H, W = preprocess.crop). Skipped images stay zero. */
  data: Float32Array;
  /** ok[i]: image i was decoded. */
  ok: boolean[];
  /** The files that could not be decoded, in input order, with sharp's reason. */
  skipped: { path: string; reason: string }[];
}

/**
 * Writes 8-bit interleaved pixels (`channels` 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA; alpha is
 * dropped, gray expanded to RGB) as a normalized [3, H, W] image at `out[offset]`, taking the
 * centre H x W window of the `width` x `height` source (top/left offsets rounded down).
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
  const [h, w] = crop;
  const top = (height - h) >> 1;
  const left = (width - w) >> 1;
  const plane = h * w;
  const g = channels >= 3 ? 1 : 0; // offset of G and B; 0 for gray input
  for (let y = 0; y < h; y++) {
    let src = ((y + top) * width + left) * channels;
    let dst = offset + y * w;
    for (let x = 0; x < w; x++, src += channels, dst++) {
      out[dst] = lut[pixels[src] as number] as number;
      out[dst + plane] = lut[256 + (pixels[src + g] as number)] as number;
      out[dst + 2 * plane] = lut[512 + (pixels[src + 2 * g] as number)] as number;
    }
  }
}

/** Largest decoded image (pixels) layerq accepts: 8192 x 8192. */
export const MAX_IMAGE_PIXELS = 8192 * 8192;

/** Decodes one file with a prepared lookup table; rejects with sharp's or fs's error. */
async function decodeWithTable(
  file: string,
  pre: Preprocess,
  lut: Float32Array,
  out: Float32Array,
  offset: number,
): Promise<void> {
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
  writeNormalized(data, info.width, info.height, info.channels, pre.crop, lut, out, offset);
}

function checkOut(out: Float32Array, offset: number, count: number, pre: Preprocess): void {
  if (!(out instanceof Float32Array)) throw badArgument('out', 'Float32Array', out);
  if (!Number.isInteger(offset) || offset < 0) throw badArgument('offset', 'non-negative integer', offset);
  const need = offset + count * imageSize(pre);
  if (out.length < need) throw badArgument('out.length', `at least ${need}`, out.length);
}

/**
 * Decodes and preprocesses one image into `out` at float `offset` ([3, H, W], H, W =
 * preprocess.crop). Throws BAD_DATA naming the file when it cannot be read or decoded.
 */
export async function decodeImageInto(file: string, preprocess: Preprocess, out: Float32Array, offset = 0): Promise<void> {
  checkPreprocess(preprocess);
  checkOut(out, offset, 1, preprocess);
  try {
    await decodeWithTable(file, preprocess, normalizationTable(preprocess), out, offset);
  } catch (e) {
    throw new LayerqError('BAD_DATA', `cannot decode ${quote(file, 200)}: ${oneLine(e)}`);
  }
}

/** The first line of an error's message, escaped and shortened (it may quote file content). */
function oneLine(e: unknown): string {
  return escapeText((e instanceof Error ? e.message : String(e)).split('\n')[0]!.trim(), 200);
}

/**
 * Decodes `paths` into `[n, 3, H, W]` NCHW float32 (RGB, normalized by `preprocess`), image i
 * at `offset + i * 3 * H * W`. A file that cannot be read or decoded never throws: its slot
 * stays zero, `ok[i]` is false and it is listed in `skipped` (the caller reports "skipped N
 * unreadable files"). Results do not depend on `concurrency`.
 */
export async function decodeImages(
  paths: readonly string[],
  preprocess: Preprocess,
  options: DecodeOptions = {},
): Promise<DecodeResult> {
  checkPreprocess(preprocess);
  const concurrency = options.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw badArgument('concurrency', 'positive integer', concurrency);
  const threads = options.sharpThreads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) throw badArgument('sharpThreads', 'positive integer', threads);
  const size = imageSize(preprocess);
  const offset = options.offset ?? 0;
  if (!options.out) checkAllocation(`${paths.length} decoded images of [3, ${preprocess.crop.join(', ')}]`, offset + paths.length * size, 4);
  const out = options.out ?? new Float32Array(offset + paths.length * size);
  checkOut(out, offset, paths.length, preprocess);
  sharp.concurrency(threads);

  const lut = normalizationTable(preprocess);
  const ok = new Array<boolean>(paths.length).fill(false);
  const reasons = new Array<string | undefined>(paths.length);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < paths.length) {
      const i = next++;
      const at = offset + i * size;
      try {
        await decodeWithTable(paths[i] as string, preprocess, lut, out, at);
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
