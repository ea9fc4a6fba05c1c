/**
 * A decoded, preprocessed image set held in memory as one NCHW float32 tensor. The search
 * evaluates the same validation set thousands of times; decoding it once and serving batches
 * as subarray views makes each evaluation pay for inference only. Memory: 4 * 3 * H * W bytes
 * an image (12 KiB for 32x32: 2,000 CIFAR images = 24 MB; 588 KiB for 224x224).
 */
import { LayerqError, badArgument, quote } from '../errors';
import type { Sample } from './dataset';
import { DecodeOptions, decodeImages } from './decode';
import { Preprocess, imageSize } from './preprocess';

/** A view of `count` consecutive images: no copies. */
export interface Batch {
  /** [count, 3, H, W] float32, a subarray of ImageSet.data. */
  data: Float32Array;
  /** [count] class indices, a subarray of ImageSet.labels. */
  labels: Int32Array;
  count: number;
}

export type ImageSetOptions = Pick<DecodeOptions, 'concurrency' | 'sharpThreads' | 'onProgress'>;

export class ImageSet {
  /** Images held (decoded ones; skipped files are left out). */
  readonly count: number;
  /** [count] class index of each image. */
  readonly labels: Int32Array;
  /** [count, 3, H, W] NCHW float32, RGB, normalized by `preprocess`. */
  readonly data: Float32Array;
  /** Tensor dims: [count, 3, H, W]. */
  readonly dims: [number, number, number, number];
  /** Path of each image held, in order. */
  readonly paths: readonly string[];
  /** Files that could not be decoded, with the reason. */
  readonly skipped: readonly { path: string; reason: string }[];
  readonly preprocess: Preprocess;

  private constructor(
    data: Float32Array,
    labels: Int32Array,
    paths: string[],
    skipped: { path: string; reason: string }[],
    preprocess: Preprocess,
  ) {
    this.data = data;
    this.labels = labels;
    this.count = labels.length;
    this.paths = paths;
    this.skipped = skipped;
    this.preprocess = preprocess;
    this.dims = [this.count, 3, preprocess.crop[0], preprocess.crop[1]];
  }

  /**
   * Decodes `samples` (in the given order) with `preprocess`. Unreadable files are skipped
   * (listed in `skipped`) and the rest packed densely, so image i of the set may be a later
   * sample; `paths` says which. Throws BAD_DATA when no image at all could be decoded.
   */
  static async load(samples: readonly Sample[], preprocess: Preprocess, opts: ImageSetOptions = {}): Promise<ImageSet> {
    if (samples.length === 0) throw new LayerqError('BAD_DATA', 'no images to load');
    const paths = samples.map((s) => s.path);
    const decodeOptions: DecodeOptions = { ...opts };
    const { data, ok, skipped } = await decodeImages(paths, preprocess, decodeOptions);
    const size = imageSize(preprocess);
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
   * Images [start, start + size) clamped to the end, as views into `data` and `labels`
   * (no copies: do not write into them). `count` is 0 at or past the end.
   */
  batch(start: number, size: number): Batch {
    if (!Number.isInteger(start) || start < 0) throw badArgument('start', 'non-negative integer', start);
    if (!Number.isInteger(size) || size < 1) throw badArgument('size', 'positive integer', size);
    const from = Math.min(start, this.count);
    const to = Math.min(start + size, this.count);
    const per = this.dims[1] * this.dims[2] * this.dims[3];
    return { data: this.data.subarray(from * per, to * per), labels: this.labels.subarray(from, to), count: to - from };
  }

  /** Yields consecutive batches of at most `size` images covering the set once. */
  *batches(size: number): IterableIterator<Batch> {
    for (let start = 0; start < this.count; start += size) yield this.batch(start, size);
  }
}
