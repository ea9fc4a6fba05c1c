import { LayerqError } from '../../src/errors';
import { mulberry32, deriveSeed, seededShuffle } from '../../src/data/random';
import {
  describeFit,
  predictedLabels,
  selectBalanced,
  selectBalancedSamples,
  selectBalancedSeparate,
  summarizeFit,
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

  test('short classes are split in the asked ratio, disjoint, and listed in fit', () => {
    // classes 0 and 1 (10 and 12 images < 8 + 5) are split 5 : 8: validation shares 3.85 and
    // 4.62, rounded so that the two add up to round(8.46) = 8; class 2 gives what was asked.
    const s = selectBalanced(labels, 3, { ...opts, calibrationPerClass: 8 });
    const v = countBy(labels, s.validation, 3);
    expect([[3, 4], [4, 5], [5]].map((ok, c) => ok.includes(v[c]!))).toEqual([true, true, true]);
    expect(v[0]! + v[1]!).toBe(8);
    expect(countBy(labels, s.calibration, 3)).toEqual([Math.min(10 - v[0]!, 8), Math.min(12 - v[1]!, 8), 8]);
    expect(new Set([...s.calibration, ...s.validation]).size).toBe(s.calibration.length + s.validation.length);
    expect(s.fit.shortClasses).toEqual([0, 1]);
    expect(s.fit.available).toEqual([10, 12, 15]);
    // a class with no images at all is left out, not an error
    const empty = selectBalanced(labels, 4, opts);
    expect(countBy(labels, empty.calibration, 4)).toEqual([4, 4, 4, 0]);
    expect(empty.fit.shortClasses).toEqual([3]);
  });

  test('one image a class over 1,000 classes: every image used, half to each set, balanced within one', () => {
    const one = Array.from({ length: 1000 }, (_, i) => i);
    const s = selectBalanced(one, 1000, { calibrationPerClass: 1, validationPerClass: 1, seed: 4 });
    expect(s.calibration.length).toBe(500);
    expect(s.validation.length).toBe(500);
    expect(new Set([...s.calibration, ...s.validation]).size).toBe(1000);
    // the asked ratio sets the split: 32 : 50 gives validation about 50/82 of the classes
    const r = selectBalanced(one, 1000, { calibrationPerClass: 32, validationPerClass: 50, seed: 4 });
    expect(r.validation.length).toBe(Math.round((1000 * 50) / 82));
    expect(r.calibration.length + r.validation.length).toBe(1000);
    expect(summarizeFit(r.fit)).toMatchObject({ shortClasses: 1000, calibrationPerClassRange: [0, 1], validationPerClassRange: [0, 1] });
    // which classes go where follows the seed
    expect(selectBalanced(one, 1000, { calibrationPerClass: 1, validationPerClass: 1, seed: 5 }).validation).not.toEqual(s.validation);
    expect(selectBalanced(one, 1000, { calibrationPerClass: 1, validationPerClass: 1, seed: 4 })).toEqual(s);
  });

  test('two images or more: both sets get at least one from the class', () => {
    const two = Array.from({ length: 20 }, (_, i) => i % 10);
    const s = selectBalanced(two, 10, { calibrationPerClass: 32, validationPerClass: 50, seed: 0 });
    expect(countBy(two, s.calibration, 10)).toEqual(new Array(10).fill(1));
    expect(countBy(two, s.validation, 10)).toEqual(new Array(10).fill(1));
  });

  test("validation 'all': what calibration does not take; short classes split 1 : 1", () => {
    const s = selectBalanced(labels, 3, { calibrationPerClass: 4, validationPerClass: 'all', seed: 1 });
    expect(countBy(labels, s.calibration, 3)).toEqual([4, 4, 4]);
    expect(countBy(labels, s.validation, 3)).toEqual([6, 8, 11]);
    const t = selectBalanced(labels, 3, { calibrationPerClass: 12, validationPerClass: 'all', seed: 1 });
    expect(countBy(labels, t.validation, 3)).toEqual([5, 6, 3]);
    expect(countBy(labels, t.calibration, 3)).toEqual([5, 6, 12]);
  });

  test('refuses only what cannot work: one image in all, or no calibration image', () => {
    expectError(() => selectBalanced([0], 1, opts), 'BAD_DATA', /no image is left for the (calibration|validation) set: the pool has 1 image/);
    // M = 0 asks for no validation set at all
    expect(selectBalanced([0], 1, { ...opts, validationPerClass: 0 }).calibration).toEqual([0]);
  });

  test('describeFit says what was done, naming short classes', () => {
    const one = Array.from({ length: 1000 }, (_, i) => i);
    const classes = one.map((i) => `${String(i).padStart(3, '0')}_n`);
    const o = { calibrationPerClass: 1, validationPerClass: 1, seed: 0, classes };
    const notes = describeFit(selectBalanced(one, 1000, o).fit, o);
    expect(notes).toHaveLength(2);
    expect(notes[0]).toMatch(/^1000 of 1000 classes have fewer images than asked \(1 calibration \+ 1 validation a class; '000_n', '001_n', '002_n', \.\.\. with 1\)/);
    expect(notes[1]).toBe('calibration 500 images, 0-1 a class (500 classes without any); validation 500 images, 0-1 a class (500 classes without any)');
    expect(describeFit(selectBalanced(labels, 3, opts).fit, opts)).toEqual([]);
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
    // classes the model never predicts are left out, not an error
    const trueLabels = new Array<number>(count).fill(0);
    const one = selectBalanced(trueLabels, 3, { calibrationPerClass: 3, validationPerClass: 2, seed: 9 });
    expect([one.calibration.length, one.validation.length]).toEqual([3, 2]);
    expect(one.fit.shortClasses).toEqual([1, 2]);
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
    // fewer than asked: take what there is, list the class as short
    const short = selectBalancedSeparate(calib, val, 3, { calibrationPerClass: 11, validationPerClass: 4, seed: 0 });
    expect(countBy(calib, short.calibration, 3)).toEqual([10, 11, 11]);
    expect(short.validation).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(short.fit.shortClasses).toEqual([0, 1, 2]);
    expect(selectBalancedSeparate(calib, val, 3, { calibrationPerClass: 1, validationPerClass: 'all', seed: 0 }).validation).toHaveLength(9);
    expectError(() => selectBalancedSeparate(calib, [], 3, { calibrationPerClass: 1, validationPerClass: 4, seed: 0 }), 'BAD_DATA', /validation pool has no image/);
  });
});
