/**
 * Calibration methods: pure functions from observer statistics to a float range `{min, max}`.
 * `qparamsFromRange` (math.ts) then fits the range to a grid (and widens it to hold 0).
 */
import { badArgument } from '../errors';
import { qparamsFromRange, type QuantScheme } from './math';
import type { HistogramStats, MinMaxStats } from './observers';
import { CALIBRATION_METHODS, type CalibrationMethod } from './plan';

/** A float range, in the tensor's units. */
export interface Range {
  min: number;
  max: number;
}

export interface CalibrateOptions {
  /** The grid the range will be fitted to (mse and entropy depend on it). */
  scheme: QuantScheme;
  /** For 'percentile': in (0, 100]. Default 99.999. */
  percentile?: number;
  /** For 'entropy': bins of the quantized distribution. Default 2^bits / 2 (128 at 8 bits). */
  targetBins?: number;
}

/** Observed extremes (over all channels when the statistics are per-channel). */
export function minmax(stats: MinMaxStats | HistogramStats): Range {
  if (stats.kind === 'histogram') return { min: stats.min, max: stats.max };
  if (stats.min.length === 0) return { min: 0, max: 0 };
  return { min: Math.min(...stats.min), max: Math.max(...stats.max) };
}

function isEmpty(h: HistogramStats): boolean {
  return h.count === 0 || !(h.hi > h.lo);
}

/** The value below which a fraction `q` of the histogram lies, linear inside a bin. */
function quantile(h: HistogramStats, q: number): number {
  const n = h.counts.length;
  const width = (h.hi - h.lo) / n;
  let total = 0;
  for (let j = 0; j < n; j++) total += h.counts[j]!;
  const target = q * total;
  let cum = 0;
  for (let j = 0; j < n; j++) {
    const c = h.counts[j]!;
    if (c > 0 && cum + c >= target) return h.lo + (j + (target - cum) / c) * width;
    cum += c;
  }
  return h.hi;
}

/**
 * Clips the tails at the `p`-th percentile (in (0, 100], default 99.999): both tails
 * (`100 - p` and `p`) for data with negatives, the upper tail only for non-negative data.
 * Accurate to about a bin width; never outside the observed extremes.
 */
export function percentile(hist: HistogramStats, p = 99.999): Range {
  if (!(p > 0 && p <= 100)) throw badArgument('percentile', 'number in (0, 100]', p);
  if (isEmpty(hist)) return minmax(hist);
  const max = Math.min(hist.max, Math.max(quantile(hist, p / 100), hist.min));
  const min = hist.min >= 0 ? hist.min : Math.max(hist.min, Math.min(quantile(hist, 1 - p / 100), max));
  return { min, max };
}

/**
 * Integral over [0, x] of the squared rounding error to a grid of step s with a point at 0, up
 * to a constant: `n s^3 / 12` for the whole cells plus the cube term of the partial cell.
 */
function roundingErrorIntegral(x: number, s: number): number {
  const u = x / s + 0.5;
  const n = Math.floor(u);
  const d = (u - n - 0.5) * s;
  return (n * s * s * s) / 12 + (d * d * d + (s * s * s) / 8) / 3;
}

/**
 * Expected total squared error of quantizing the histogram (uniform density inside each bin)
 * with the grid that `qparamsFromRange(min, max, scheme)` gives: rounding error inside the
 * grid's range, clipping error outside it.
 */
export function expectedSquaredError(h: HistogramStats, range: Range, scheme: QuantScheme): number {
  const qp = qparamsFromRange(range.min, range.max, scheme);
  const s = qp.scale[0]!;
  const gridLo = (qp.qmin - qp.zeroPoint[0]!) * s;
  const gridHi = (qp.qmax - qp.zeroPoint[0]!) * s;
  const n = h.counts.length;
  const width = (h.hi - h.lo) / n;
  const cube = (v: number): number => v * v * v;
  let err = 0;
  for (let j = 0; j < n; j++) {
    const c = h.counts[j]!;
    if (c === 0) continue;
    const l = h.lo + j * width;
    const r = l + width;
    let e = 0;
    if (l < gridLo) e += (cube(Math.min(r, gridLo) - gridLo) - cube(l - gridLo)) / 3;
    if (r > gridHi) e += (cube(r - gridHi) - cube(Math.max(l, gridHi) - gridHi)) / 3;
    const a = Math.max(l, gridLo);
    const b = Math.min(r, gridHi);
    if (b > a) e += roundingErrorIntegral(b, s) - roundingErrorIntegral(a, s);
    err += (c * e) / width;
  }
  return err;
}

/**
 * The range minimizing `expectedSquaredError` (quantization plus clipping) on the scheme's grid.
 * Candidates shrink the observed range by a ratio in (0, 1] (512 steps); for asymmetric schemes
 * on two-sided data each end is then refined alone with the other fixed.
 */
export function mse(hist: HistogramStats, scheme: QuantScheme): Range {
  if (isEmpty(hist)) return minmax(hist);
  const steps = 512;
  const a = Math.max(-hist.min, hist.max, 0);
  const lo0 = scheme.symmetric ? -a : Math.min(hist.min, 0);
  const hi0 = scheme.symmetric ? a : Math.max(hist.max, 0);
  const search = (make: (ratio: number) => Range): Range => {
    let best = make(1);
    let bestErr = expectedSquaredError(hist, best, scheme);
    for (let k = 1; k < steps; k++) {
      const range = make(k / steps);
      const e = expectedSquaredError(hist, range, scheme);
      if (e < bestErr) [best, bestErr] = [range, e];
    }
    return best;
  };
  let best = search((t) => ({ min: lo0 * t, max: hi0 * t }));
  if (!scheme.symmetric && lo0 < 0 && hi0 > 0) {
    const hi = best.max;
    best = search((t) => ({ min: lo0 * t, max: hi }));
    const lo = best.min;
    best = search((t) => ({ min: lo, max: hi0 * t }));
  }
  return { min: Math.max(best.min, hist.min), max: Math.min(best.max, hist.max) };
}

/** Kullback-Leibler divergence of normalized `q` from normalized `p`, after ORT's smoothing. */
function klDivergence(p: Float64Array, q: Float64Array): number {
  if (!smooth(p) || !smooth(q)) return Infinity;
  let sp = 0;
  let sq = 0;
  for (let i = 0; i < p.length; i++) {
    sp += p[i]!;
    sq += q[i]!;
  }
  let kl = 0;
  for (let i = 0; i < p.length; i++) {
    const pi = p[i]! / sp;
    if (pi > 0) kl += pi * Math.log(pi / (q[i]! / sq));
  }
  return kl;
}

/** ORT's smooth_distribution: moves eps = 1e-4 (in counts) onto each empty bin. */
function smooth(d: Float64Array): boolean {
  const eps = 1e-4;
  let zeros = 0;
  for (const v of d) if (v === 0) zeros++;
  if (zeros === d.length) return false;
  const take = (eps * zeros) / (d.length - zeros);
  for (let i = 0; i < d.length; i++) d[i] = d[i] === 0 ? eps : d[i]! - take;
  return true;
}

/**
 * KL divergence of the window `[start, end)` of bins quantized to `target` bins (TensorRT's
 * algorithm as in ONNX Runtime): outliers fold into the edge bins of p; q merges the window
 * (without outliers) into `target` bins and spreads each back over its non-empty bins.
 * Bin j of the window goes to merged bin floor(j * target / length) (even merging).
 */
function windowDivergence(counts: ArrayLike<number>, below: Float64Array, start: number, end: number, target: number): number {
  const len = end - start;
  const p = new Float64Array(len);
  const merged = new Float64Array(target);
  const nonEmpty = new Float64Array(target);
  for (let j = 0; j < len; j++) p[j] = counts[start + j]!;
  for (let j = 0; j < len; j++) merged[Math.floor((j * target) / len)] += p[j]!;
  p[0] += below[start]!;
  p[len - 1] += below[counts.length]! - below[end]!;
  for (let j = 0; j < len; j++) if (p[j] !== 0) nonEmpty[Math.floor((j * target) / len)]++;
  const q = new Float64Array(len);
  for (let j = 0; j < len; j++) {
    const b = Math.floor((j * target) / len);
    if (p[j] !== 0) q[j] = merged[b]! / nonEmpty[b]!;
  }
  return klDivergence(p, q);
}

/**
 * Entropy (KL) calibration, TensorRT / ONNX Runtime: the threshold whose clipped, `targetBins`-
 * level version of the distribution is closest to the original. Non-negative data (post-Relu):
 * windows `[0, T]`; data with negatives: symmetric windows `[-T, T]` (then cut to the observed
 * extremes). `targetBins` defaults to 2^bits / 2 (128 at 8 bits, as both tools).
 */
export function entropy(hist: HistogramStats, scheme: QuantScheme, targetBins = 2 ** (scheme.bits - 1)): Range {
  if (!Number.isInteger(targetBins) || targetBins < 2) throw badArgument('targetBins', 'integer >= 2', targetBins);
  if (isEmpty(hist)) return minmax(hist);
  const n = hist.counts.length;
  const width = (hist.hi - hist.lo) / n;
  const signed = hist.lo < 0;
  const zero = signed ? n / 2 : 0;
  // Half-width i of the window, in bins (full width for one-sided data).
  const first = Math.min(signed ? Math.ceil(targetBins / 2) : targetBins, n - zero);
  // Post-Relu data puts a third to a half of its mass in the bin at 0, almost all exact zeros,
  // which every grid represents exactly. Left in, merging spreads that spike over its
  // neighbours and the divergence favours the narrowest window (ResNet-20: 1.8 instead of
  // ~7 on the first Relu); so for one-sided data the zero bin is left out of the comparison.
  const counts = signed ? hist.counts : Float64Array.from(hist.counts, (c, j) => (j === 0 ? 0 : c));
  const below = new Float64Array(n + 1); // below[j]: counts of the bins before j
  for (let j = 0; j < n; j++) below[j + 1] = below[j]! + counts[j]!;
  let bestI = n - zero;
  let bestKl = Infinity;
  // Each window costs O(its width): try at most ~256 widths (then every width around the best),
  // so a 2048-bin histogram costs milliseconds, not a second, per tensor.
  const last = n - zero;
  const stride = Math.max(1, Math.floor((last - first) / 256));
  const tryWindow = (i: number): void => {
    const kl = windowDivergence(counts, below, signed ? zero - i : 0, zero + i, targetBins);
    if (kl < bestKl) [bestKl, bestI] = [kl, i];
  };
  for (let i = first; i <= last; i += stride) tryWindow(i);
  const coarse = bestI;
  for (let i = Math.max(first, coarse - stride + 1); i <= Math.min(last, coarse + stride - 1); i++) tryWindow(i);
  const t = bestI * width;
  return { min: signed ? Math.max(-t, hist.min) : hist.min, max: Math.min(t, hist.max) };
}

/** Dispatches to a calibration method; all but 'minmax' need histogram statistics. */
export function calibrateRange(method: string, stats: MinMaxStats | HistogramStats, options: CalibrateOptions): Range {
  if (!(CALIBRATION_METHODS as readonly string[]).includes(method)) {
    throw badArgument('method', `one of ${CALIBRATION_METHODS.join(', ')}`, method);
  }
  const m = method as CalibrationMethod;
  if (m === 'minmax') return minmax(stats);
  if (stats.kind !== 'histogram') throw badArgument('stats', `histogram statistics for method ${m}`, 'minmax statistics');
  switch (m) {
    case 'percentile':
      return percentile(stats, options.percentile);
    case 'mse':
      return mse(stats, options.scheme);
    case 'entropy':
      return entropy(stats, options.scheme, options.targetBins);
  }
}
