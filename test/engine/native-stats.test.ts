/** The native calibration statistics against their TypeScript definitions, exactly. */
import { setThreads } from '../../src/engine/addon';
import { channelSums, extremes, histogramAdd, histogramUpdate } from '../../src/engine/native-stats';
import { gaussian } from '../quant/random';

/** The definitions (the observers' former TypeScript loops). */
function refExtremes(x: Float32Array): { min: number; max: number; nonFinite: number } {
  let min = Infinity, max = -Infinity, nonFinite = 0;
  for (const v of x) {
    if (!Number.isFinite(v)) nonFinite++;
    else {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
  }
  return { min, max, nonFinite };
}

function refHistogram(x: Float32Array, lo: number, inv: number, counts: Float64Array): void {
  const f = Math.fround;
  const last = counts.length - 1;
  for (let i = 0; i < x.length; i++) {
    const t = f(f(x[i]! - f(lo)) * f(inv));
    counts[Math.min(Math.max(Math.trunc(t), 0), last)]++;
  }
}

function refChannelSums(x: Float32Array, n: number, c: number, inner: number, sums: Float64Array): void {
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      let s = 0;
      for (let k = 0; k < inner; k++) s += x[(i * c + ch) * inner + k]!;
      sums[ch] += s;
    }
  }
}

afterAll(() => setThreads(require('os').availableParallelism()));

describe.each([1, 3])('native calibration statistics, %i thread(s)', (threads) => {
  test('histogramUpdate: one pass when the range holds the data, untouched counts when not', () => {
    const x = gaussian(300_001, 7, 1).map(Math.abs);
    const want = new Float64Array(64);
    refHistogram(x, 0, 64 / 8, want);
    const got = new Float64Array(64);
    const r = histogramUpdate(x, 0, 8, 64 / 8, got);
    expect(r).toEqual({ ...refExtremes(x), added: true });
    expect(got).toEqual(want);
    const narrow = new Float64Array(64);
    expect(histogramUpdate(x, 0, 1, 64, narrow)).toEqual({ ...refExtremes(x), added: false });
    expect(narrow.every((v) => v === 0)).toBe(true);
    const withNaN = x.slice();
    withNaN[12345] = NaN;
    expect(histogramUpdate(withNaN, 0, 8, 8, narrow)).toMatchObject({ nonFinite: 1, added: false });
    expect(narrow.every((v) => v === 0)).toBe(true);
  });

  beforeAll(() => setThreads(threads));

  test.each([0, 1, 17, 65536 * 3 + 5, 1_000_003])('extremes and histogram of %i gaussian values (seed = size)', (n) => {
    const x = gaussian(n, n, 3);
    expect(extremes(x)).toEqual(refExtremes(x));
    const a = absMax(x);
    for (const [lo, bins] of [[-a, 2048], [-a, 7], [0, 64]] as const) {
      const inside = lo === 0 ? x.map(Math.abs) : x;
      const inv = bins / ((lo === 0 ? a : 2 * a) || 1);
      const want = new Float64Array(bins).fill(0.5);
      const got = new Float64Array(bins).fill(0.5); // adds into what is there
      refHistogram(inside, lo, inv, want);
      histogramAdd(inside, lo, inv, got);
      expect(got).toEqual(want);
    }
  });

  test('values on bin edges, the top edge, and non-finite values counted apart', () => {
    const x = Float32Array.from([0, 0.25, 0.5, 0.75, 1, 1, -0, 2 ** -149]);
    const got = new Float64Array(4);
    histogramAdd(x, 0, 4, got);
    expect(Array.from(got)).toEqual([3, 1, 1, 3]);
    expect(extremes(Float32Array.from([1, NaN, -Infinity, 5, Infinity, -2]))).toEqual({ min: -2, max: 5, nonFinite: 3 });
    expect(extremes(Float32Array.from([NaN]))).toEqual({ min: Infinity, max: -Infinity, nonFinite: 1 });
  });

  test('channel sums of [n, c, inner] match plane-by-plane double sums exactly', () => {
    for (const [n, c, inner] of [[3, 5, 7], [16, 32, 56 * 56], [2, 1000, 1]] as const) {
      const x = gaussian(n * c * inner, c, 2);
      const want = new Float64Array(c).fill(1);
      const got = new Float64Array(c).fill(1);
      refChannelSums(x, n, c, inner, want);
      channelSums(x, n, c, inner, got);
      expect(got).toEqual(want);
    }
  });
});

test('arguments are checked before native code runs', () => {
  expect(() => histogramAdd(new Float32Array(2), NaN, 1, new Float64Array(2))).toThrow(/finite number for lo/);
  expect(() => channelSums(new Float32Array(5), 2, 3, 1, new Float64Array(3))).toThrow(/at least 6 for x.length/);
  expect(() => histogramAdd(new Float32Array(2), 0, 1, new Float64Array(0))).toThrow('Expected at least 1 for counts.length but received 0');
});

function absMax(x: Float32Array): number {
  let a = 0;
  for (const v of x) a = Math.max(a, Math.abs(v));
  return a;
}
