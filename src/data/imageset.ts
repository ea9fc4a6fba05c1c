/**
 * A decoded image set held in memory as 8-bit RGB pixels, served as normalized float32
 * batches. The search evaluates the same validation set thousands of times; decoding it once
 * makes each evaluation pay for inference and one table lookup a value only. Memory: 3 * H * W
 * bytes an image (3 KiB for 32x32; 147 KiB for 224x224: 1,000 ImageNet-size images = 147 MiB,
 * a quarter of their float32 tensors); each batch is one float32 tensor of its images.
 */
import { LayerqError, badArgument, quote } from '../errors';
import type { Sample } from './dataset';
import { DecodeOptions, decodePixels, normalizePixels, pixelSize } from './decode';
import { Preprocess, imageSize, inputDims, normalizationTable } from './preprocess';

/** `count` consecutive images as the model's input. */
export interface Batch {
  /** [count, 3, H, W] (or [count, H, W, 3] for layout NHWC) float32, normalized: the caller's to keep. */
  data: Float32Array;
  /** [count] class indices, a view of ImageSet.labels. */
  labels: Int32Array;
  count: number;
}

export type ImageSetOptions = Pick<DecodeOptions, 'concurrency' | 'sharpThreads' | 'onProgress'>;

export class ImageSet {
  /** Images held (decoded ones; skipped files are left out). */
  readonly count: number;
  /** [count] class index of each image. */
  readonly labels: Int32Array;
  /** [count, H, W, 3] 8-bit RGB pixels after resize and crop (before normalization). */
  readonly pixels: Uint8Array;
  /** Model input dims of the whole set: [count, 3, H, W] (or [count, H, W, 3] for NHWC). */
  readonly dims: [number, number, number, number];
  /** Path of each image held, in order. */
  readonly paths: readonly string[];
  /** Files that could not be decoded, with the reason. */
  readonly skipped: readonly { path: string; reason: string }[];
  readonly preprocess: Preprocess;
  private readonly lut: Float32Array;

  private constructor(
    pixels: Uint8Array,
    labels: Int32Array,
    paths: string[],
    skipped: { path: string; reason: string }[],
    preprocess: Preprocess,
  ) {
    this.pixels = pixels;
    this.labels = labels;
    this.count = labels.length;
    this.paths = paths;
    this.skipped = skipped;
    this.preprocess = preprocess;
    this.dims = inputDims(preprocess, this.count);
    this.lut = normalizationTable(preprocess);
  }

  /**
   * Decodes `samples` (in the given order) with `preprocess`. Unreadable files are skipped
   * (listed in `skipped`) and the rest packed densely, so image i of the set may be a later
   * sample; `paths` says which. Throws BAD_DATA when no image at all could be decoded.
   */
  static async load(samples: readonly Sample[], preprocess: Preprocess, opts: ImageSetOptions = {}): Promise<ImageSet> {
    if (samples.length === 0) throw new LayerqError('BAD_DATA', 'no images to load');
    const paths = samples.map((s) => s.path);
    const { data, ok, skipped } = await decodePixels(paths, preprocess, { ...opts });
    const size = pixelSize(preprocess);
    const kept = ok.reduce((n, v) => n + (v ? 1 : 0), 0);
    if (kept === 0) {
      const first = skipped[0];
      throw new LayerqError(
        'BAD_DATA',
        `none of the ${samples.length} images could be decoded (first: ${quote(first?.path ?? '', 200)}: ${first?.reason})`,
      );
    }
    const labels = new Int32Array(kept);
    const keptPaths: string[] = [];
    let k = 0;
    for (let i = 0; i < samples.length; i++) {
      if (!ok[i]) continue;
      if (k !== i) data.copyWithin(k * size, i * size, (i + 1) * size);
      labels[k] = (samples[i] as Sample).label;
      keptPaths.push(paths[i] as string);
      k++;
    }
    // Keep only the packed prefix; a subarray would pin the whole buffer, so copy when it shrank.
    const packed = kept === samples.length ? data : data.slice(0, kept * size);
    return new ImageSet(packed, labels, keptPaths, skipped, preprocess);
  }

  /**
   * Images [start, start + size) clamped to the end, normalized into a new float32 tensor (or
   * into `out`, which must hold `count * imageSize` floats). `labels` is a view. `count` is 0
   * at or past the end.
   */
  batch(start: number, size: number, out?: Float32Array): Batch {
    if (!Number.isInteger(start) || start < 0) throw badArgument('start', 'non-negative integer', start);
    if (!Number.isInteger(size) || size < 1) throw badArgument('size', 'positive integer', size);
    const from = Math.min(start, this.count);
    const to = Math.min(start + size, this.count);
    const per = imageSize(this.preprocess);
    const need = (to - from) * per;
    if (out !== undefined && (!(out instanceof Float32Array) || out.length < need)) {
      throw badArgument('out', `Float32Array of at least ${need} floats`, out instanceof Float32Array ? `${out.length} floats` : out);
    }
    const data = out ? out.subarray(0, need) : new Float32Array(need);
    normalizePixels(this.pixels, from * pixelSize(this.preprocess), to - from, this.preprocess, this.lut, data, 0);
    return { data, labels: this.labels.subarray(from, to), count: to - from };
  }

  /** Yields consecutive batches of at most `size` images covering the set once. */
  *batches(size: number): IterableIterator<Batch> {
    for (let start = 0; start < this.count; start += size) yield this.batch(start, size);
  }

  /** The same images (pixels shared, not copied) with `labels` ([count] class indices). */
  withLabels(labels: Int32Array): ImageSet {
    if (!(labels instanceof Int32Array) || labels.length !== this.count) throw badArgument('labels', `Int32Array of ${this.count}`, labels);
    return new ImageSet(this.pixels, labels.slice(), [...this.paths], [...this.skipped], this.preprocess);
  }

  /** A set of the images at `indices` (in that order), sharing nothing with this one. */
  subset(indices: readonly number[]): ImageSet {
    const size = pixelSize(this.preprocess);
    const pixels = new Uint8Array(indices.length * size);
    const labels = new Int32Array(indices.length);
    indices.forEach((i, k) => {
      if (!Number.isInteger(i) || i < 0 || i >= this.count) throw badArgument('indices', `integers in [0, ${this.count})`, i);
      pixels.set(this.pixels.subarray(i * size, (i + 1) * size), k * size);
      labels[k] = this.labels[i]!;
    });
    return new ImageSet(pixels, labels, indices.map((i) => this.paths[i]!), [], this.preprocess);
  }
}
