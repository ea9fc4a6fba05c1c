import { LayerqError } from '../../src/errors';
import { calibrateRange, entropy, expectedSquaredError, minmax, mse, percentile } from '../../src/quant/calibrate';
import { fakeQuantize, qparamsFromRange, type QuantScheme } from '../../src/quant/math';
import { HistogramObserver, MinMaxObserver, type HistogramStats } from '../../src/quant/observers';
import { gaussian, uniform } from './random';

const uint8: QuantScheme = { bits: 8, signed: false, narrow: false, symmetric: false };
const int8: QuantScheme = { bits: 8, signed: true, narrow: false, symmetric: true };

function histogramOf(...batches: Float32Array[]): HistogramStats {
  const o = new HistogramObserver();
  for (const b of batches) o.update(b);
  return o.stats();
}

/** N(0, 1), 1M values in 10 batches, plus 4 outliers at +-30. */
const gaussianWithOutliers = (() => {
  const batches = Array.from({ length: 10 }, (_, i) => gaussian(100000, 100 + i));
  batches[3]![7] = 30;
  batches[6]![9] = -30;
  batches[8]![1] = 29;
  batches[9]![2] = -28;
  return { batches, hist: histogramOf(...batches) };
})();

describe('minmax', () => {
  test('observed extremes, over channels when per-channel', () => {
    const o = new MinMaxObserver({ axis: 1 });
    o.update(Float32Array.of(-1, 2, -3, 4), [1, 2, 2]);
    expect(minmax(o.stats())).toEqual({ min: -3, max: 4 });
    expect(minmax(histogramOf(Float32Array.of(-1, 5)))).toEqual({ min: -1, max: 5 });
  });
});

describe('percentile', () => {
  test('uniform [0, 1): the p-th quantile within a bin width, upper tail only', () => {
    const h = histogramOf(uniform(1000000, 11, 0, 1));
    const w = (h.hi - h.lo) / h.counts.length;
    const r = percentile(h, 99);
    expect(Math.abs(r.max - 0.99)).toBeLessThan(w + 1e-3);
    expect(r.min).toBe(h.min);
    expect(percentile(h, 100).max).toBe(h.max);
  });

  test('uniform [-1, 1): both tails', () => {
    const h = histogramOf(uniform(1000000, 12, -1, 1));
    const w = (h.hi - h.lo) / h.counts.length;
    const r = percentile(h, 99);
    expect(Math.abs(r.max - 0.98)).toBeLessThan(w + 2e-3);
    expect(Math.abs(r.min + 0.98)).toBeLessThan(w + 2e-3);
  });

  test('cuts outliers of a Gaussian to about its 99.99th percentile', () => {
    const r = percentile(gaussianWithOutliers.hist, 99.99);
    expect(r.max).toBeGreaterThan(3.5);
    expect(r.max).toBeLessThan(4.2); // 3.72 sigma
    expect(r.min).toBeLessThan(-3.5);
  });

  test('rejects p outside (0, 100]', () => {
    expect(() => percentile(gaussianWithOutliers.hist, 101)).toThrow('Expected number in (0, 100] for percentile but received 101');
  });
});

describe('mse', () => {
  test('the error model agrees with real fake-quantization error', () => {
    const x = gaussian(200000, 21);
    const h = histogramOf(x);
    for (const range of [{ min: -4, max: 4 }, { min: -1, max: 2 }]) {
      const qp = qparamsFromRange(range.min, range.max, uint8);
      const y = fakeQuantize(x, qp);
      let real = 0;
      for (let i = 0; i < x.length; i++) real += (y[i]! - x[i]!) ** 2;
      expect(expectedSquaredError(h, range, uint8) / real).toBeCloseTo(1, 1);
    }
  });

  test('the error model in closed form on one bin: rounding, then clipping', () => {
    // 4 bins over [0, 1), one value in [0.5, 0.75), uniform inside it.
    const h: HistogramStats = { kind: 'histogram', counts: [0, 0, 1, 0], lo: 0, hi: 1, min: 0.5, max: 0.75, count: 1, nonFinite: 0 };
    const u2: QuantScheme = { bits: 2, signed: false, narrow: false, symmetric: false };
    // Grid 0, 1/3, 2/3, 1: the distance to 2/3 runs over [-1/6, 1/12].
    const s = Math.fround(1 / 3);
    const rounding = ((2 * s - 0.5) ** 3 + (0.75 - 2 * s) ** 3) / 3 / 0.25;
    expect(expectedSquaredError(h, { min: 0, max: 1 }, u2)).toBeCloseTo(rounding, 6);
    // Grid up to 0.5: the whole bin is clipped to 0.5.
    expect(expectedSquaredError(h, { min: 0, max: 0.5 }, u2)).toBeCloseTo(0.25 ** 3 / 3 / 0.25, 6);
  });

  test('Gaussian with outliers: well below the absmax, above 2 sigma, better than minmax', () => {
    const h = gaussianWithOutliers.hist;
    for (const scheme of [int8, uint8, { ...int8, bits: 4 }]) {
      const r = mse(h, scheme);
      expect(r.max).toBeGreaterThan(2);
      expect(r.max).toBeLessThan(15);
      expect(r.min).toBeLessThan(-2);
      expect(expectedSquaredError(h, r, scheme)).toBeLessThan(0.5 * expectedSquaredError(h, minmax(h), scheme));
    }
  });

  test('post-Relu data: upper end clipped, lower end at the data', () => {
    // One outlier costs (20 - T)^2 clipped; the grid's rounding noise 1M * (T / 255)^2 / 12.
    const x = gaussian(1000000, 22).map(Math.abs);
    x[0] = 20;
    const h = histogramOf(x);
    const r = mse(h, uint8);
    expect(r.min).toBe(h.min); // no extension below the data (qparams then add 0)
    expect(r.max).toBeGreaterThan(2);
    expect(r.max).toBeLessThan(12);
  });
});

describe('entropy', () => {
  test('Gaussian with outliers: well below the absmax, above 2 sigma', () => {
    const r = entropy(gaussianWithOutliers.hist, int8);
    expect(r.max).toBeGreaterThan(2);
    expect(r.max).toBeLessThan(15);
    expect(r.min).toBe(-r.max);
  });

  test('post-Relu half-Gaussian with outliers', () => {
    const x = gaussian(1000000, 23).map(Math.abs);
    x[0] = 30;
    const h = histogramOf(x);
    const r = entropy(h, uint8);
    expect(h.lo).toBe(0);
    expect(r.min).toBe(h.min);
    expect(r.max).toBeGreaterThan(2);
    expect(r.max).toBeLessThan(15);
  });

  test('post-Relu data with a spike of exact zeros keeps the bulk of the range', () => {
    // Half the values exactly 0 (as after a Relu), the rest |N(0, 1)|: the zero spike
    // must not drag the threshold down (it did, to ~1.5, before the zero bin was left out).
    const x = gaussian(1000000, 26).map((v, i) => (i % 2 === 0 ? 0 : Math.abs(v)));
    const r = entropy(histogramOf(x), uint8);
    expect(r.max).toBeGreaterThan(3);
  });

  test('uniform data keeps about the full range', () => {
    const pos = entropy(histogramOf(uniform(1000000, 24, 0, 1)), uint8);
    expect(pos.max).toBeGreaterThan(0.9);
    const sym = entropy(histogramOf(uniform(1000000, 25, -1, 1)), int8);
    expect(sym.max).toBeGreaterThan(0.9);
    expect(sym.min).toBeLessThan(-0.9);
  });
});

describe('calibrateRange', () => {
  const { hist } = gaussianWithOutliers;

  test('dispatches by method', () => {
    expect(calibrateRange('minmax', hist, { scheme: int8 })).toEqual(minmax(hist));
    expect(calibrateRange('percentile', hist, { scheme: int8, percentile: 99.9 })).toEqual(percentile(hist, 99.9));
    expect(calibrateRange('mse', hist, { scheme: int8 })).toEqual(mse(hist, int8));
    expect(calibrateRange('entropy', hist, { scheme: int8 })).toEqual(entropy(hist, int8));
  });

  test('unknown method: BAD_ARGUMENT naming the choices', () => {
    let error: unknown;
    try {
      calibrateRange('foo', hist, { scheme: int8 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LayerqError);
    expect((error as LayerqError).code).toBe('BAD_ARGUMENT');
    expect((error as LayerqError).message).toBe(
      "Expected one of minmax, percentile, mse, entropy for method but received 'foo'",
    );
  });

  test('histogram methods need histogram statistics', () => {
    const o = new MinMaxObserver();
    o.update(Float32Array.of(1, 2));
    expect(() => calibrateRange('entropy', o.stats(), { scheme: int8 })).toThrow(LayerqError);
  });

  test('empty statistics give an empty range', () => {
    expect(calibrateRange('mse', new HistogramObserver().stats(), { scheme: int8 })).toEqual({ min: 0, max: 0 });
  });
});
