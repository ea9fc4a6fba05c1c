/**
 * Calibration statistics on the addon (native/src/kernels/f32-stats): one pass each over an
 * activation tensor, split over the kernel threads, synchronous (milliseconds a call). Results
 * match the TypeScript definitions exactly (test/quant/observers.test.ts).
 */
import { badArgument } from '../errors';
import { addon } from './addon';

/** Min and max of the finite values of `x` (+Infinity / -Infinity when none) and the count of NaN / infinite ones. */
export function extremes(x: Float32Array): { min: number; max: number; nonFinite: number } {
  if (!(x instanceof Float32Array)) throw badArgument('x', 'Float32Array', x);
  const [min, max, nonFinite] = addon.f32Extremes(x) as [number, number, number];
  return { min, max, nonFinite };
}

/**
 * Adds every value of `x` (all finite) to `counts`: value v to bin trunc((v - lo) * inv)
 * computed in float32 (lo and inv rounded to float32 first), clamped to [0, bins - 1].
 */
export function histogramAdd(x: Float32Array, lo: number, inv: number, counts: Float64Array): void {
  if (!(x instanceof Float32Array)) throw badArgument('x', 'Float32Array', x);
  if (!(counts instanceof Float64Array) || counts.length < 1) throw badArgument('counts', 'non-empty Float64Array', counts);
  if (!Number.isFinite(lo)) throw badArgument('lo', 'finite number', lo);
  if (!Number.isFinite(inv)) throw badArgument('inv', 'finite number', inv);
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
  if (!(x instanceof Float32Array)) throw badArgument('x', 'Float32Array', x);
  if (!(counts instanceof Float64Array) || counts.length < 1) throw badArgument('counts', 'non-empty Float64Array', counts);
  for (const [name, v] of [['lo', lo], ['hi', hi], ['inv', inv]] as const) if (!Number.isFinite(v)) throw badArgument(name, 'finite number', v);
  const [min, max, nonFinite, added] = addon.f32HistogramUpdate(x, lo, hi, inv, counts) as [number, number, number, number];
  return { min, max, nonFinite, added: added === 1 };
}

/** `sums[c] +=` the sum of channel c of `x` `[n, c, inner]` (each plane in double, in order). */
export function channelSums(x: Float32Array, n: number, c: number, inner: number, sums: Float64Array): void {
  for (const [name, v] of [['n', n], ['c', c], ['inner', inner]] as const) {
    if (!Number.isInteger(v) || v < 0) throw badArgument(name, 'non-negative integer', v);
  }
  if (!(x instanceof Float32Array) || x.length < n * c * inner) throw badArgument('x.length', `at least ${n * c * inner}`, x?.length);
  if (!(sums instanceof Float64Array) || sums.length < c) throw badArgument('sums.length', `at least ${c}`, sums?.length);
  addon.f32ChannelSums(x, n, c, inner, sums);
}
