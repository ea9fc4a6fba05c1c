/**
 * Class-balanced selection of the calibration and validation sets: pure functions over label
 * arrays, returning indices into the pool. Labels are whatever the caller trusts: the dataset's
 * labels, or, in label-free mode, the FP32 model's predicted classes (see `predictedLabels`),
 * which keeps both sets balanced over what the model sees.
 */
import { LayerqError, badArgument } from '../errors';
import { checkSeed, deriveSeed, mulberry32, shuffleInPlace } from './random';
import { argmaxRows } from '../eval/metrics';

/** `validationPerClass: 'all'`: every image of a class that calibration does not take. */
export const ALL = 'all';

export interface SelectOptions {
  /** Images a class in the calibration set (at most; see `selectBalanced`); at least 1. */
  calibrationPerClass: number;
  /** Images a class in the validation set (at most); 0 or more, or 'all'. */
  validationPerClass: number | typeof ALL;
  /** Integer in [0, 2^32 - 1]. */
  seed: number;
  /** Class names, for error messages ("class 'cat' ..."); else classes are shown by index. */
  classes?: readonly string[];
}

/**
 * How the sets fit the pool: per class, the images it had and what each set took. A class
 * is *short* when it had fewer images than asked (N + M, or N from a separate calibration
 * pool, M from a separate validation pool).
 */
export interface SelectionFit {
  /** [classCount] images of each class in the pool (the calibration pool when separate). */
  available: number[];
  /** [classCount] images of each class in the validation pool (= available for one pool). */
  availableValidation: number[];
  /** [classCount] images each class gave to calibration / validation. */
  calibrationCounts: number[];
  validationCounts: number[];
  /** Classes that gave fewer images than asked, ascending. */
  shortClasses: number[];
}

/** Indices into the pool(s), each list ascending, and how they fit the pool. */
export interface Selection {
  calibration: number[];
  validation: number[];
  fit: SelectionFit;
}

function checkCounts(opts: SelectOptions): void {
  const n = opts.calibrationPerClass;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
    throw badArgument('calibrationPerClass', 'integer of at least 1', n);
  }
  const m = opts.validationPerClass;
  if (m !== ALL && (typeof m !== 'number' || !Number.isInteger(m) || m < 0)) {
    throw badArgument('validationPerClass', "non-negative integer or 'all'", m);
  }
  checkSeed(opts.seed);
}

function checkClassCount(classCount: number): void {
  if (!Number.isInteger(classCount) || classCount < 1) {
    throw badArgument('classCount', 'positive integer', classCount);
  }
}

/**
 * Pool indices grouped by class, each group in pool order. Throws BAD_DATA for a label that
 * is not an integer in [0, classCount).
 */
export function indicesByClass(labels: ArrayLike<number>, classCount: number): number[][] {
  checkClassCount(classCount);
  const groups: number[][] = Array.from({ length: classCount }, () => []);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i] as number;
    if (!Number.isInteger(label) || label < 0 || label >= classCount) {
      throw new LayerqError('BAD_DATA', `label ${label} of sample ${i} is not a class index in [0, ${classCount})`);
    }
    (groups[label] as number[]).push(i);
  }
  return groups;
}

/** Class `c`'s pool indices in a seeded order: the same seed gives the same order. */
function shuffledClass(group: number[], seed: number, c: number): number[] {
  return shuffleInPlace(group.slice(), mulberry32(deriveSeed(seed, c)));
}

const ascending = (a: number, b: number): number => a - b;

/** Stream numbers for the seeded streams that are not a class's own order. */
const STREAM_SHORT_ORDER = 0x5eed_0001;

/**
 * Splits each class's `available[c]` images between validation and calibration (pure; the
 * counts only). A class with at least N + M images gives M and N (with M = 'all': N, and the
 * rest to validation). A *short* class is split in the ratio M : N (1 : 1 for 'all'), so both
 * sets keep the pool's class proportions as far as whole images allow: each short class gives
 * validation floor or ceil of its share, the roundings spread over the short classes in a
 * seeded order (error diffusion) so the totals follow the ratio; a class with two images or
 * more gives each set at least one when both were asked for. One image a class over 1,000
 * classes with N = M thus gives 500 classes' images to each set. Returns [classCount] counts.
 */
export function splitCounts(
  available: readonly number[],
  calibrationPerClass: number,
  validationPerClass: number | typeof ALL,
  seed: number,
): { calibration: number[]; validation: number[] } {
  const n = calibrationPerClass;
  const m = validationPerClass;
  const calibration = available.map(() => 0);
  const validation = available.map(() => 0);
  const short: number[] = [];
  available.forEach((k, c) => {
    if (m === ALL ? k > n : k >= n + m) {
      calibration[c] = n;
      validation[c] = m === ALL ? k - n : m;
    } else if (k > 0) {
      short.push(c);
    }
  });
  const ratio = m === ALL ? 0.5 : m / (n + m);
  const order = shuffleInPlace(short, mulberry32(deriveSeed(seed, STREAM_SHORT_ORDER)));
  let target = 0;
  let given = 0;
  for (const c of order) {
    const k = available[c]!;
    target += k * ratio;
    let v = Math.floor(target + 0.5) - given;
    v = Math.min(Math.max(v, 0), k);
    if (k >= 2 && ratio > 0 && ratio < 1) v = Math.min(Math.max(v, 1), k - 1);
    given += v;
    validation[c] = m === ALL ? v : Math.min(v, m);
    calibration[c] = Math.min(k - validation[c]!, n);
  }
  return { calibration, validation };
}

function refuseEmpty(fit: SelectionFit, what: 'calibration' | 'validation', detail: string): void {
  const counts = what === 'calibration' ? fit.calibrationCounts : fit.validationCounts;
  if (counts.every((v) => v === 0)) throw new LayerqError('BAD_DATA', `no image is left for the ${what} set: ${detail}`);
}

function poolSizes(groups: readonly number[][]): string {
  const total = groups.reduce((s, g) => s + g.length, 0);
  const classes = groups.filter((g) => g.length > 0).length;
  return `the pool has ${total} image(s) in ${classes} class(es)`;
}

/**
 * Selects up to `calibrationPerClass` (N) + `validationPerClass` (M) images from every class
 * of one pool, the two sets disjoint. `labels[i]` is sample i's class in [0, classCount).
 *
 * Each class is shuffled with its own stream derived from (seed, class); validation takes the
 * first of the shuffle and calibration the next, so the validation set does not change when
 * only the calibration size does (for classes that are not short), and a smaller calibration
 * set is a subset of a larger one. A class with fewer than N + M images (none included) is
 * split as `splitCounts` says and listed in `fit.shortClasses`: the sets stay as balanced as
 * the pool allows instead of failing. The result depends on the pool order: pass samples
 * sorted (listImageFolder does; see `selectBalancedSamples` for unsorted pools).
 *
 * Errors: BAD_ARGUMENT for N < 1, bad M or seed; BAD_DATA when the pool cannot give both sets
 * an image (a single image; M = 0 is allowed and gives an empty validation set).
 */
export function selectBalanced(labels: ArrayLike<number>, classCount: number, opts: SelectOptions): Selection {
  checkCounts(opts);
  const groups = indicesByClass(labels, classCount);
  const available = groups.map((g) => g.length);
  const split = splitCounts(available, opts.calibrationPerClass, opts.validationPerClass, opts.seed);
  const calibration: number[] = [];
  const validation: number[] = [];
  groups.forEach((group, c) => {
    const order = shuffledClass(group, opts.seed, c);
    const v = split.validation[c]!;
    validation.push(...order.slice(0, v));
    calibration.push(...order.slice(v, v + split.calibration[c]!));
  });
  const fit = makeFit(available, available, split.calibration, split.validation, opts);
  refuseEmpty(fit, 'calibration', poolSizes(groups));
  if (opts.validationPerClass !== 0) refuseEmpty(fit, 'validation', `${poolSizes(groups)}; calibration and validation must not share images`);
  return { calibration: calibration.sort(ascending), validation: validation.sort(ascending), fit };
}

function makeFit(
  available: number[],
  availableValidation: number[],
  calibrationCounts: number[],
  validationCounts: number[],
  opts: SelectOptions,
): SelectionFit {
  const m = opts.validationPerClass;
  const shortClasses = available
    .map((_, c) => c)
    .filter((c) => calibrationCounts[c]! < opts.calibrationPerClass || (m !== ALL && validationCounts[c]! < m) || (m === ALL && validationCounts[c] === 0));
  return { available, availableValidation, calibrationCounts, validationCounts, shortClasses };
}

/**
 * The variant for separate pools (`--calib-data` / `--val-data`): `calibration` indexes the
 * calibration pool, `validation` the validation pool; each class contributes up to
 * `calibrationPerClass` and `validationPerClass` (or 'all') images of its own pool, fewer
 * when it has fewer (listed in `fit.shortClasses`). Both pools use the same class list.
 * Disjointness is the caller's promise (different folders). BAD_DATA when a pool is empty.
 */
export function selectBalancedSeparate(
  calibrationLabels: ArrayLike<number>,
  validationLabels: ArrayLike<number>,
  classCount: number,
  opts: SelectOptions,
): Selection {
  checkCounts(opts);
  const calibGroups = indicesByClass(calibrationLabels, classCount);
  const valGroups = indicesByClass(validationLabels, classCount);
  const pick = (groups: number[][], per: number | typeof ALL, stream: number): { picked: number[]; counts: number[] } => {
    const picked: number[] = [];
    const counts = groups.map((group, c) => {
      const take = per === ALL ? group.length : Math.min(per, group.length);
      picked.push(...shuffledClass(group, deriveSeed(opts.seed, stream), c).slice(0, take));
      return take;
    });
    return { picked: picked.sort(ascending), counts };
  };
  const calib = pick(calibGroups, opts.calibrationPerClass, 0);
  const val = pick(valGroups, opts.validationPerClass, 1);
  const fit = makeFit(calibGroups.map((g) => g.length), valGroups.map((g) => g.length), calib.counts, val.counts, opts);
  // In separate pools a class is short when either pool lacks images for it.
  fit.shortClasses = fit.available
    .map((_, c) => c)
    .filter((c) => calib.counts[c]! < opts.calibrationPerClass || (opts.validationPerClass !== ALL && val.counts[c]! < opts.validationPerClass));
  refuseEmpty(fit, 'calibration', 'the calibration pool has no image');
  if (opts.validationPerClass !== 0) refuseEmpty(fit, 'validation', 'the validation pool has no image');
  return { calibration: calib.picked, validation: val.picked, fit };
}

/** Plain code-unit order (as Python's sorted), independent of the locale. */
export function comparePaths(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * `selectBalanced` over samples in any order: samples are ranked by path first, so the same
 * files give the same sets whatever order a list file or directory listing gave them in.
 * Returns indices into `samples` as passed.
 */
export function selectBalancedSamples(
  samples: readonly { path: string; label: number }[],
  classCount: number,
  opts: SelectOptions,
): Selection {
  const order = samples.map((_, i) => i).sort((a, b) => comparePaths(samples[a]!.path, samples[b]!.path));
  const picked = selectBalanced(order.map((i) => samples[i]!.label), classCount, opts);
  const back = (list: number[]): number[] => list.map((k) => order[k] as number).sort(ascending);
  return { calibration: back(picked.calibration), validation: back(picked.validation), fit: picked.fit };
}

/**
 * Label-free mode: each image's label is the FP32 model's top-1 class. `scores` is the model
 * output, row-major `[count, classCount]` (logits or probabilities); returns `[count]` class
 * indices (the first maximum on ties) to pass to `selectBalanced` as labels.
 */
export function predictedLabels(scores: Float32Array, classCount: number): Int32Array {
  checkClassCount(classCount);
  if (scores.length % classCount !== 0) {
    throw badArgument('scores.length', `multiple of classCount ${classCount}`, scores.length);
  }
  return argmaxRows(scores, classCount);
}

function range(counts: readonly number[], classes: readonly number[]): [number, number] {
  if (classes.length === 0) return [0, 0];
  let lo = Infinity;
  let hi = -Infinity;
  for (const c of classes) {
    lo = Math.min(lo, counts[c]!);
    hi = Math.max(hi, counts[c]!);
  }
  return [lo, hi];
}

/** What a selection did, in numbers (report.json's `data.fit`). */
export interface FitSummary {
  /** Classes with at least one image in the pool(s). */
  classesWithImages: number;
  /** Classes that gave fewer images than asked. */
  shortClasses: number;
  /** [min, max] images a class over the classes with images. */
  calibrationPerClassRange: [number, number];
  validationPerClassRange: [number, number];
  /** Classes with images in the pool but none in the set. */
  classesWithoutCalibration: number;
  classesWithoutValidation: number;
}

export function summarizeFit(fit: SelectionFit): FitSummary {
  const present = fit.available.map((_, c) => c).filter((c) => fit.available[c]! > 0 || fit.availableValidation[c]! > 0);
  return {
    classesWithImages: present.length,
    shortClasses: fit.shortClasses.length,
    calibrationPerClassRange: range(fit.calibrationCounts, present),
    validationPerClassRange: range(fit.validationCounts, present),
    classesWithoutCalibration: present.filter((c) => fit.calibrationCounts[c] === 0).length,
    classesWithoutValidation: present.filter((c) => fit.validationCounts[c] === 0).length,
  };
}

/**
 * One-line notes on what the selection had to do (empty when every class gave what was
 * asked), for stderr and the report: "1000 of 1000 classes have fewer images than asked ...".
 */
export function describeFit(fit: SelectionFit, opts: SelectOptions): string[] {
  const notes: string[] = [];
  const total = fit.available.length;
  const empty = fit.available.map((_, c) => c).filter((c) => fit.available[c] === 0 && fit.availableValidation[c] === 0);
  const name = (c: number): string => `'${opts.classes?.[c] ?? String(c)}'`;
  const some = (list: number[]): string => `${list.slice(0, 3).map(name).join(', ')}${list.length > 3 ? ', ...' : ''}`;
  if (empty.length > 0) notes.push(`${empty.length} of ${total} classes have no image (${some(empty)}); the sets leave them out`);
  const short = fit.shortClasses.filter((c) => !empty.includes(c));
  if (short.length === 0) return notes;
  const s = summarizeFit(fit);
  const m = opts.validationPerClass;
  const asked = `${opts.calibrationPerClass} calibration + ${m === ALL ? 'the rest for' : m} validation`;
  const sizes = range(fit.available.map((k, c) => k + (fit.availableValidation === fit.available ? 0 : fit.availableValidation[c]!)), short);
  notes.push(
    `${short.length} of ${total} classes have fewer images than asked (${asked} a class; ${some(short)} with ${sizes[0] === sizes[1] ? sizes[0] : `${sizes[0]}-${sizes[1]}`}): ` +
      'kept the sets disjoint and as balanced as the images allow',
  );
  const sum = (a: number[]): number => a.reduce((p, v) => p + v, 0);
  const set = (what: string, counts: number[], [lo, hi]: [number, number], without: number): string =>
    `${what} ${sum(counts)} images, ${lo === hi ? lo : `${lo}-${hi}`} a class${without ? ` (${without} classes without any)` : ''}`;
  notes.push(
    `${set('calibration', fit.calibrationCounts, s.calibrationPerClassRange, s.classesWithoutCalibration)}; ` +
      `${set('validation', fit.validationCounts, s.validationPerClassRange, s.classesWithoutValidation)}`,
  );
  return notes;
}
