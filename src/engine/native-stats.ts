/**
 * Calibration statistics on the addon (native/src/kernels/f32-stats): one pass each over an
 * activation tensor, split over the kernel threads, synchronous (milliseconds a call). Results
 * match the TypeScript definitions exactly (test/quant/observers.test.ts).
 */
import { badArgument } from '../errors';
import { addon } from './addon';
import { finite, nonNegativeInt, typed } from './validate';

function nonEmptyCounts(counts: Float64Array): void {
  if (typed('counts', counts, Float64Array).length < 1) throw badArgument('counts.length', 'at least 1', counts.length);
}

/** Min and max of the finite values of `x` (+Infinity / -Infinity when none) and the count of NaN / infinite ones. */
export function extremes(x: Float32Array): { min: number; max: number; nonFinite: number } {
  typed('x', x, Float32Array);
  const [min, max, nonFinite] = addon.f32Extremes(x) as [number, number, number];
  return { min, max, nonFinite };
}

/**
 * Adds every value of `x` (all finite) to `counts`: value v to bin trunc((v - lo) * inv)
 * computed in float32 (lo and inv rounded to float32 first), clamped to [0, bins - 1].
 */
export function histogramAdd(x: Float32Array, lo: number, inv: number, counts: Float64Array): void {
  typed('x', x, Float32Array);
  nonEmptyCounts(counts);
  finite('lo', lo);
  finite('inv', inv);
  addon.f32HistogramAdd(x, lo, inv, counts);
}

/**
 * One pass for a histogram over [lo, hi] (bins as `histogramAdd`): the extremes of `x` and,
 * when all its values are finite and inside [lo, hi], their counts added (`added` true);
 * otherwise `counts` is untouched and the caller grows the range first.
 */
export function histogramUpdate(
  x: Float32Array,
  lo: number,
  hi: number,
  inv: number,
  counts: Float64Array,
): { min: number; max: number; nonFinite: number; added: boolean } {
  typed('x', x, Float32Array);
  nonEmptyCounts(counts);
  finite('lo', lo);
  finite('hi', hi);
  finite('inv', inv);
  const [min, max, nonFinite, added] = addon.f32HistogramUpdate(x, lo, hi, inv, counts) as [number, number, number, number];
  return { min, max, nonFinite, added: added === 1 };
}

/** `sums[c] +=` the sum of channel c of `x` `[n, c, inner]` (each plane in double, in order). */
export function channelSums(x: Float32Array, n: number, c: number, inner: number, sums: Float64Array): void {
  nonNegativeInt('n', n);
  nonNegativeInt('c', c);
  nonNegativeInt('inner', inner);
  if (typed('x', x, Float32Array).length < n * c * inner) throw badArgument('x.length', `at least ${n * c * inner}`, x.length);
  if (typed('sums', sums, Float64Array).length < c) throw badArgument('sums.length', `at least ${c}`, sums.length);
  addon.f32ChannelSums(x, n, c, inner, sums);
}
