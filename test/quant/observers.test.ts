import { LayerqError } from '../../src/errors';
import { HistogramObserver, MinMaxObserver, type HistogramStats } from '../../src/quant/observers';
import { gaussian, uniform } from './random';

function sum(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]!;
  return s;
}

/** Fraction of the histogram below `x` (x on a bin edge). */
function cdfAt(h: HistogramStats, x: number): number {
  const w = (h.hi - h.lo) / h.counts.length;
  const edge = Math.round((x - h.lo) / w);
  let s = 0;
  for (let j = 0; j < edge; j++) s += h.counts[j]!;
  return s / h.count;
}

describe('MinMaxObserver', () => {
  test('per-tensor running extremes over batches', () => {
    const o = new MinMaxObserver();
    o.update(Float32Array.of(1, -2, 3));
    o.update(Float32Array.of(0.5, 7));
    expect(o.stats()).toEqual({ kind: 'minmax', min: [-2], max: [7], count: 5 });
  });

  test('per-channel along axis 1 of NCHW', () => {
    const o = new MinMaxObserver({ axis: 1 });
    // N=2, C=2, H*W=2
    o.update(Float32Array.of(1, 2, -10, 10, 3, -1, 5, 6), [2, 2, 1, 2]);
    expect(o.stats().min).toEqual([-1, -10]);
    expect(o.stats().max).toEqual([3, 10]);
    expect(() => o.update(new Float32Array(12), [2, 3, 1, 2])).toThrow(LayerqError);
    const back = MinMaxObserver.fromJSON(JSON.parse(JSON.stringify(o)));
    back.update(Float32Array.of(9, 9, 9, 9), [1, 2, 1, 2]);
    expect(back.stats().max).toEqual([9, 10]);
  });
});

describe('HistogramObserver', () => {
  test('counts sum to N and the extremes are exact', () => {
    const o = new HistogramObserver();
    const x = gaussian(100000, 3);
    o.update(x);
    const s = o.stats();
    expect(s.counts.length).toBe(2048);
    expect(sum(s.counts)).toBe(100000);
    expect(s.count).toBe(100000);
    expect(s.min).toBe(Math.min(...x));
    expect(s.max).toBe(Math.max(...x));
    expect(s.lo).toBe(-s.hi);
    expect(s.hi).toBeCloseTo(Math.max(-s.min, s.max), 5);
  });

  test('non-negative data keeps a [0, T] range; zeros go to bin 0', () => {
    const o = new HistogramObserver({ bins: 16 });
    o.update(Float32Array.of(0, 0, 0));
    o.update(Float32Array.of(0, 1, 2, 4));
    const s = o.stats();
    expect([s.lo, s.hi]).toEqual([0, 4]);
    expect(Array.from(s.counts)).toEqual([4, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1]);
  });

  test('re-binning on growth keeps the total and the CDF at the new edges', () => {
    const o = new HistogramObserver();
    const a = uniform(200000, 4, 0, 1);
    o.update(a);
    const before = o.stats();
    const cdfHalf = cdfAt(before, 0.5);
    o.update(Float32Array.of(2.5)); // grows by 3: [0, 3)
    const grown = o.stats();
    expect(grown.hi).toBeCloseTo(3 * before.hi, 6);
    expect(sum(grown.counts)).toBe(200001);
    o.update(uniform(200000, 5, -1, 0)); // turns signed: [-3, 3)
    const signed = o.stats();
    expect(signed.lo).toBeCloseTo(-grown.hi, 6);
    expect(sum(signed.counts)).toBe(400001);
    // Fraction of all data below 0 is one half; of the positive part below ~0.5 is ~cdfHalf.
    expect(cdfAt(signed, 0)).toBe(200000 / 400001);
    const w = (signed.hi - signed.lo) / 2048;
    const edge = Math.round(0.5 / w) * w;
    expect(Math.abs(cdfAt(signed, edge) - 0.5 - cdfHalf / 2)).toBeLessThan(w);
  });

  test('all-zero data, then data; NaN and infinities are counted apart', () => {
    const o = new HistogramObserver({ bins: 8 });
    o.update(new Float32Array(5));
    expect(o.stats().count).toBe(5);
    o.update(Float32Array.of(NaN, -2, Infinity, 2));
    const s = o.stats();
    expect(s.nonFinite).toBe(2);
    expect([s.lo, s.hi]).toEqual([-2, 2]);
    expect(Array.from(s.counts)).toEqual([1, 0, 0, 0, 5, 0, 0, 1]);
  });

  test('toJSON / fromJSON resumes exactly', () => {
    const o = new HistogramObserver();
    o.update(gaussian(10000, 6));
    const back = HistogramObserver.fromJSON(JSON.parse(JSON.stringify(o)) as HistogramStats);
    const extra = gaussian(10000, 7, 3);
    o.update(extra);
    back.update(extra);
    expect(back.toJSON()).toEqual(o.toJSON());
  });

  test('rejects an odd bin count', () => {
    expect(() => new HistogramObserver({ bins: 7 })).toThrow('Expected even integer >= 2 for bins but received 7');
  });
});
