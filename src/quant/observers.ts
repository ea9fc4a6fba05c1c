/**
 * Observers reduce activation tensors to statistics during calibration; they choose nothing.
 * `calibrate.ts` turns their statistics into a range, `math.ts` the range into qparams.
 * Statistics are plain JSON (`toJSON` / `fromJSON`) for reports and checkpoints.
 */
import { badArgument } from '../errors';
import { channelSums, extremes, histogramAdd, histogramUpdate } from '../engine/native-stats';

/** Running min/max: one entry per-tensor, or one per channel along `axis`. Empty before data. */
export interface MinMaxStats {
  kind: 'minmax';
  min: number[];
  max: number[];
  axis?: number;
  /** Values seen. */
  count: number;
}

/**
 * A histogram of `counts.length` equal bins over `[lo, hi)` (the last bin also holds `hi`).
 * `lo` is 0 while no negative value has been seen, else `lo = -hi`: 0 is always a bin edge.
 * `min`/`max` are the exact extremes seen; `count` the values binned (the sum of counts);
 * `nonFinite` the NaN / infinite values skipped.
 */
export interface HistogramStats {
  kind: 'histogram';
  counts: ArrayLike<number>;
  lo: number;
  hi: number;
  min: number;
  max: number;
  count: number;
  nonFinite: number;
}

/**
 * Running min/max. Per-tensor by default; with `axis` (1 for NCHW activations) per channel,
 * and then `update` needs the tensor's dims.
 */
export class MinMaxObserver {
  private readonly axis: number | undefined;
  private min = new Float64Array(0);
  private max = new Float64Array(0);
  private count = 0;

  constructor(options: { axis?: number } = {}) {
    if (options.axis !== undefined && !(Number.isInteger(options.axis) && options.axis >= 0)) {
      throw badArgument('axis', 'non-negative integer', options.axis);
    }
    this.axis = options.axis;
  }

  /** Folds one tensor (flat, layout `dims`) into the running extremes. NaN is ignored. */
  update(x: Float32Array, dims?: readonly number[]): void {
    let channels = 1;
    let inner = x.length;
    if (this.axis !== undefined) {
      if (!dims || dims.length <= this.axis || dims.reduce((a, b) => a * b, 1) !== x.length) {
        throw badArgument('dims', `dims of ${x.length} elements with an axis ${this.axis}`, dims ? `[${dims.join(', ')}]` : dims);
      }
      channels = dims[this.axis]!;
      inner = 1;
      for (let d = this.axis + 1; d < dims.length; d++) inner *= dims[d]!;
    }
    if (this.min.length === 0) {
      this.min = new Float64Array(channels).fill(Infinity);
      this.max = new Float64Array(channels).fill(-Infinity);
    } else if (this.min.length !== channels) {
      throw badArgument(`dims[${this.axis}]`, `${this.min.length} channels`, channels);
    }
    if (x.length === 0) return;
    for (let start = 0, c = 0; start < x.length; start += inner, c = (c + 1) % channels) {
      let mn = this.min[c]!;
      let mx = this.max[c]!;
      for (let i = start, end = start + inner; i < end; i++) {
        const v = x[i]!;
        if (v < mn) mn = v;
        if (v > mx) mx = v;
      }
      this.min[c] = mn;
      this.max[c] = mx;
    }
    this.count += x.length;
  }

  stats(): MinMaxStats {
    const s: MinMaxStats = { kind: 'minmax', min: Array.from(this.min), max: Array.from(this.max), count: this.count };
    if (this.axis !== undefined) s.axis = this.axis;
    return s;
  }

  toJSON(): MinMaxStats {
    return this.stats();
  }

  static fromJSON(s: MinMaxStats): MinMaxObserver {
    const o = new MinMaxObserver(s.axis === undefined ? {} : { axis: s.axis });
    o.min = Float64Array.from(s.min);
    o.max = Float64Array.from(s.max);
    o.count = s.count;
    return o;
  }
}

/**
 * A range-adaptive histogram (the role of ONNX Runtime's HistogramCollector and torch's
 * HistogramObserver) with a fixed number of bins (default 2048, even). The range starts at the
 * first batch's extremes: `[0, absmax]` for non-negative data, `[-absmax, absmax]` otherwise.
 * When a batch falls outside it, the range grows by an integer factor `k` and every `k`
 * neighbouring bins merge into one; the first negative value turns `[0, T]` into `[-T, T]`,
 * merging pairs. Both keep 0 an edge and re-bin exactly (no interpolation): counts at the new
 * edges are the old ones. The price: after growth, the range can be up to twice the data's.
 *
 * Cost per batch: one native pass for the extremes, one to bin (native/src/kernels/f32-stats,
 * on every core); no allocation per element.
 */
export class HistogramObserver {
  private counts: Float64Array;
  /** Bin width; 0 until a non-zero value arrives. */
  private width = 0;
  private signed = false;
  private min = Infinity;
  private max = -Infinity;
  private count = 0;
  private nonFinite = 0;
  /** Zeros seen while `width` is 0 (all data so far zero). */
  private zeros = 0;

  constructor(options: { bins?: number } = {}) {
    const bins = options.bins ?? 2048;
    if (!Number.isInteger(bins) || bins < 2 || bins % 2 !== 0) throw badArgument('bins', 'even integer >= 2', bins);
    this.counts = new Float64Array(bins);
  }

  /** Folds a batch of values (any layout) into the histogram. NaN and infinities are counted apart. */
  update(x: Float32Array): void {
    if (x.length === 0) return;
    if (this.width !== 0) {
      // Usually the range already holds the batch: extremes and binning in one pass.
      const bins = this.counts.length;
      const lo = this.signed ? -(bins / 2) * this.width : 0;
      const hi = (this.signed ? bins / 2 : bins) * this.width;
      const r = histogramUpdate(x, lo, hi, 1 / this.width, this.counts);
      if (r.added) {
        this.min = Math.min(this.min, r.min);
        this.max = Math.max(this.max, r.max);
        this.count += x.length;
        return;
      }
    }
    const { min: mn, max: mx, nonFinite } = extremes(x);
    if (nonFinite > 0) {
      const finite = x.filter((v) => Number.isFinite(v));
      this.nonFinite += x.length - finite.length;
      this.update(finite);
      return;
    }
    if (x.length === 0) return;
    this.min = Math.min(this.min, mn);
    this.max = Math.max(this.max, mx);
    this.count += x.length;
    this.cover(mn, mx);
    if (this.width === 0) {
      this.zeros += x.length; // the batch is all zeros
      return;
    }
    histogramAdd(x, this.signed ? -(this.counts.length / 2) * this.width : 0, 1 / this.width, this.counts);
  }

  /** Grows the range (merging bins) until it holds [mn, mx]. */
  private cover(mn: number, mx: number): void {
    const bins = this.counts.length;
    const half = bins / 2;
    const a = Math.max(-mn, mx);
    if (this.width === 0) {
      if (a === 0) return;
      this.signed = mn < 0;
      this.width = this.signed ? a / half : a / bins;
      // Earlier all-zero batches go to the bin whose lower edge is 0.
      this.counts[this.signed ? half : 0] += this.zeros;
      this.zeros = 0;
      return;
    }
    if (mn < 0 && !this.signed) {
      // [0, T) with width w -> [-T, T) with width 2w: old bin i -> half + floor(i / 2).
      const merged = new Float64Array(bins);
      for (let i = 0; i < bins; i++) merged[half + (i >> 1)] += this.counts[i]!;
      this.counts = merged;
      this.signed = true;
      this.width *= 2;
    }
    const top = (this.signed ? half : bins) * this.width;
    if (a > top) {
      const k = Math.ceil(a / top);
      const merged = new Float64Array(bins);
      for (let i = 0; i < bins; i++) {
        merged[this.signed ? half + Math.floor((i - half) / k) : Math.floor(i / k)] += this.counts[i]!;
      }
      this.counts = merged;
      this.width *= k;
    }
  }

  /** A snapshot (counts copied). */
  stats(): HistogramStats {
    const bins = this.counts.length;
    const hi = (this.signed ? bins / 2 : bins) * this.width;
    const counts = Float64Array.from(this.counts);
    counts[this.signed ? bins / 2 : 0] += this.zeros;
    return {
      kind: 'histogram',
      counts,
      lo: this.signed ? -hi : 0,
      hi,
      min: this.count > 0 ? this.min : 0,
      max: this.count > 0 ? this.max : 0,
      count: this.count,
      nonFinite: this.nonFinite,
    };
  }

  /** Plain JSON (counts as an array). */
  toJSON(): HistogramStats {
    const s = this.stats();
    return { ...s, counts: Array.from(s.counts) };
  }

  /** Resumes from `toJSON` output (a checkpoint). */
  static fromJSON(s: HistogramStats): HistogramObserver {
    const o = new HistogramObserver({ bins: s.counts.length });
    o.counts = Float64Array.from(s.counts);
    o.signed = s.lo < 0;
    o.width = (s.hi - s.lo) / s.counts.length;
    o.min = s.count > 0 ? s.min : Infinity;
    o.max = s.count > 0 ? s.max : -Infinity;
    o.count = s.count;
    o.nonFinite = s.nonFinite;
    if (o.width === 0) {
      o.zeros = s.count; // all-zero data so far, parked in bin 0 by stats()
      o.counts.fill(0);
    }
    return o;
  }
}

/**
 * Per-channel means of NCHW (or [N, C]) tensors over every image and position seen: the input
 * statistics bias correction needs.
 */
export class ChannelMeanObserver {
  private sums: Float64Array | undefined;
  private positions = 0;

  /** x with dims [N, C, ...spatial]. */
  update(x: Float32Array, dims: readonly number[]): void {
    const n = dims[0]!;
    const c = dims[1]!;
    let inner = 1;
    for (let d = 2; d < dims.length; d++) inner *= dims[d]!;
    if (!this.sums) this.sums = new Float64Array(c);
    if (this.sums.length !== c) throw badArgument('dims[1]', `${this.sums.length} channels`, c);
    channelSums(x, n, c, inner, this.sums);
    this.positions += n * inner;
  }

  /** Mean of each channel (empty before data). */
  means(): number[] {
    return this.sums ? Array.from(this.sums, (s) => s / this.positions) : [];
  }
}
