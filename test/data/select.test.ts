import { LayerqError } from '../../src/errors';
import { mulberry32, deriveSeed, seededShuffle } from '../../src/data/random';
import {
  predictedLabels,
  selectBalanced,
  selectBalancedSamples,
  selectBalancedSeparate,
} from '../../src/data/select';

/** 3 classes with 10, 12, 15 images, interleaved so class order differs from pool order. */
function pool(): number[] {
  const labels: number[] = [];
  const counts = [10, 12, 15];
  for (let i = 0; labels.length < 37; i++) {
    const c = i % 3;
    if (labels.filter((l) => l === c).length < counts[c]!) labels.push(c);
  }
  return labels;
}

function countBy(labels: number[], picked: number[], classes: number): number[] {
  const n = new Array<number>(classes).fill(0);
  for (const i of picked) n[labels[i]!]!++;
  return n;
}

function expectError(fn: () => unknown, code: string, message: string | RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(LayerqError);
  expect((caught as LayerqError).code).toBe(code);
  expect((caught as LayerqError).message).toMatch(message);
}

describe('random', () => {
  test('mulberry32 is reproducible, in [0, 1), and seed-dependent', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const c = mulberry32(43);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 1000 }, () => c())).not.toEqual(xs);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.05);
  });

  test('known first value pins the generator across platforms', () => {
    // mulberry32(0), first output of the reference C implementation divided by 2^32
    expect(mulberry32(0)()).toBeCloseTo(0.26642920868471265, 12);
  });

  test('seededShuffle is a permutation, reproducible, and differs with the seed', () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const s1 = seededShuffle(items, 7);
    expect([...s1].sort((x, y) => x - y)).toEqual(items);
    expect(seededShuffle(items, 7)).toEqual(s1);
    expect(seededShuffle(items, 8)).not.toEqual(s1);
    expect(items[0]).toBe(0); // input untouched
    expect(s1).not.toEqual(items);
  });

  test('deriveSeed gives distinct streams', () => {
    const seeds = new Set(Array.from({ length: 100 }, (_, c) => deriveSeed(1, c)));
    expect(seeds.size).toBe(100);
  });

  test('bad seeds are BAD_ARGUMENT', () => {
    expectError(() => seededShuffle([1], -1), 'BAD_ARGUMENT', /seed but received -1/);
    expectError(() => seededShuffle([1], 1.5), 'BAD_ARGUMENT', /seed/);
  });
});

describe('selectBalanced', () => {
  const labels = pool();
  const opts = { calibrationPerClass: 4, validationPerClass: 5, seed: 1 };

  test('same count from every class, disjoint, ascending', () => {
    const s = selectBalanced(labels, 3, opts);
    expect(countBy(labels, s.calibration, 3)).toEqual([4, 4, 4]);
    expect(countBy(labels, s.validation, 3)).toEqual([5, 5, 5]);
    const both = new Set([...s.calibration, ...s.validation]);
    expect(both.size).toBe(12 + 15);
    expect(s.calibration).toEqual([...s.calibration].sort((a, b) => a - b));
  });

  test('reproducible with the same seed, different with another', () => {
    const a = selectBalanced(labels, 3, opts);
    expect(selectBalanced(labels, 3, opts)).toEqual(a);
    const b = selectBalanced(labels, 3, { ...opts, seed: 2 });
    expect(b.calibration).not.toEqual(a.calibration);
    expect(b.validation).not.toEqual(a.validation);
  });

  test('validation is stable when only the calibration size changes; smaller calibration is a subset', () => {
    const small = selectBalanced(labels, 3, { ...opts, calibrationPerClass: 2 });
    const large = selectBalanced(labels, 3, { ...opts, calibrationPerClass: 5 });
    expect(small.validation).toEqual(large.validation);
    for (const i of small.calibration) expect(large.calibration).toContain(i);
  });

  test('an exact fit uses every image of the smallest class', () => {
    const s = selectBalanced(labels, 3, { calibrationPerClass: 6, validationPerClass: 4, seed: 3 });
    const class0 = labels.map((l, i) => (l === 0 ? i : -1)).filter((i) => i >= 0);
    expect([...s.calibration, ...s.validation].filter((i) => labels[i] === 0).sort((a, b) => a - b)).toEqual(class0);
  });

  test('a class too small is BAD_DATA naming it and the counts', () => {
    expectError(
      () => selectBalanced(labels, 3, { ...opts, calibrationPerClass: 8, classes: ['plane', 'car', 'bird'] }),
      'BAD_DATA',
      "class 'plane' has 10 images, needs 13 (calibration 8 + validation 5)",
    );
    // a class with no images at all (classCount larger than the labels used)
    expectError(() => selectBalanced(labels, 4, opts), 'BAD_DATA', "class '3' has 0 images, needs 9");
  });

  test('N < 1, negative M, bad labels', () => {
    expectError(() => selectBalanced(labels, 3, { ...opts, calibrationPerClass: 0 }), 'BAD_ARGUMENT', /calibrationPerClass but received 0/);
    expectError(() => selectBalanced(labels, 3, { ...opts, validationPerClass: -1 }), 'BAD_ARGUMENT', /validationPerClass/);
    expectError(() => selectBalanced([0, 1, 3], 3, opts), 'BAD_DATA', /label 3 of sample 2/);
  });

  test('label-free mode: selection balances whatever labels it is given (model predictions)', () => {
    // True labels are all class 0; the "model" predicts class i % 3 from a score matrix.
    const count = 30;
    const scores = new Float32Array(count * 3);
    for (let i = 0; i < count; i++) scores[i * 3 + (i % 3)] = 5 - (i % 2);
    const predicted = predictedLabels(scores, 3);
    expect(Array.from(predicted.slice(0, 6))).toEqual([0, 1, 2, 0, 1, 2]);
    const s = selectBalanced(predicted, 3, { calibrationPerClass: 3, validationPerClass: 2, seed: 9 });
    expect(countBy(Array.from(predicted), s.calibration, 3)).toEqual([3, 3, 3]);
    expect(countBy(Array.from(predicted), s.validation, 3)).toEqual([2, 2, 2]);
    const trueLabels = new Array<number>(count).fill(0);
    expectError(() => selectBalanced(trueLabels, 3, { calibrationPerClass: 3, validationPerClass: 2, seed: 9 }), 'BAD_DATA', "class '1' has 0");
  });

  test('predictedLabels: argmax per row, first maximum on ties, bad length', () => {
    expect(Array.from(predictedLabels(new Float32Array([1, 3, 3, -1, -2, -0.5]), 3))).toEqual([1, 2]);
    expectError(() => predictedLabels(new Float32Array(5), 3), 'BAD_ARGUMENT', /multiple of classCount 3/);
  });
});

describe('selectBalancedSamples and separate pools', () => {
  test('the order samples come in does not change which files are chosen', () => {
    const samples = pool().map((label, i) => ({ path: `/d/${label}/${String(i).padStart(3, '0')}.jpg`, label }));
    const reversed = [...samples].reverse();
    const opts = { calibrationPerClass: 3, validationPerClass: 2, seed: 5 };
    const a = selectBalancedSamples(samples, 3, opts);
    const b = selectBalancedSamples(reversed, 3, opts);
    const names = (list: typeof samples, idx: number[]): string[] => idx.map((i) => list[i]!.path).sort();
    expect(names(reversed, b.calibration)).toEqual(names(samples, a.calibration));
    expect(names(reversed, b.validation)).toEqual(names(samples, a.validation));
  });

  test('separate pools: counts per pool, indices into each pool, per-pool errors', () => {
    const calib = pool();
    const val = [0, 1, 2, 0, 1, 2, 0, 1, 2];
    const s = selectBalancedSeparate(calib, val, 3, { calibrationPerClass: 10, validationPerClass: 3, seed: 0 });
    expect(countBy(calib, s.calibration, 3)).toEqual([10, 10, 10]);
    expect(s.validation).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expectError(
      () => selectBalancedSeparate(calib, val, 3, { calibrationPerClass: 1, validationPerClass: 4, seed: 0, classes: ['a', 'b', 'c'] }),
      'BAD_DATA',
      "class 'a' has 3 images in the validation pool, needs 4",
    );
  });
});
