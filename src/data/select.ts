/**
 * Class-balanced selection of the calibration and validation sets: pure functions over label
 * arrays, returning indices into the pool. Labels are whatever the caller trusts: the dataset's
 * labels, or, in label-free mode, the FP32 model's predicted classes (see `predictedLabels`),
 * which keeps both sets balanced over what the model sees.
 */
import { LayerqError, badArgument } from '../errors';
import { checkSeed, deriveSeed, mulberry32, shuffleInPlace } from './random';
import { argmaxRows } from '../eval/metrics';

export interface SelectOptions {
  /** Images a class in the calibration set; at least 1. */
  calibrationPerClass: number;
  /** Images a class in the validation set; 0 or more. */
  validationPerClass: number;
  /** Integer in [0, 2^32 - 1]. */
  seed: number;
  /** Class names, for error messages ("class 'cat' ..."); else classes are shown by index. */
  classes?: readonly string[];
}

/** Indices into the pool(s), each list ascending. */
export interface Selection {
  calibration: number[];
  validation: number[];
}

function checkCounts(opts: SelectOptions): void {
  const n = opts.calibrationPerClass;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
    throw badArgument('calibrationPerClass', 'integer of at least 1', n);
  }
  const m = opts.validationPerClass;
  if (typeof m !== 'number' || !Number.isInteger(m) || m < 0) {
    throw badArgument('validationPerClass', 'non-negative integer', m);
  }
  checkSeed(opts.seed);
}

function checkClassCount(classCount: number): void {
  if (!Number.isInteger(classCount) || classCount < 1) {
    throw badArgument('classCount', 'positive integer', classCount);
  }
}

function className(c: number, classes: readonly string[] | undefined): string {
  return `'${classes?.[c] ?? String(c)}'`;
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

/**
 * Selects `calibrationPerClass` + `validationPerClass` images from every class of one pool,
 * the two sets disjoint. `labels[i]` is sample i's class in [0, classCount).
 *
 * Each class is shuffled with its own stream derived from (seed, class); validation takes the
 * first M of the shuffle and calibration the next N, so the validation set does not change
 * when only the calibration size does, and a smaller calibration set is a subset of a larger
 * one. The result depends on the pool order: pass samples sorted (listImageFolder does; see
 * `selectBalancedSamples` for unsorted pools).
 *
 * Errors: BAD_ARGUMENT for N < 1, M < 0 or a bad seed; BAD_DATA for a class with fewer than
 * N + M images ("class 'cat' has 12 images, needs 40 (calibration 32 + validation 8)").
 */
export function selectBalanced(labels: ArrayLike<number>, classCount: number, opts: SelectOptions): Selection {
  checkCounts(opts);
  const n = opts.calibrationPerClass;
  const m = opts.validationPerClass;
  const groups = indicesByClass(labels, classCount);
  const calibration: number[] = [];
  const validation: number[] = [];
  groups.forEach((group, c) => {
    if (group.length < n + m) {
      throw new LayerqError(
        'BAD_DATA',
        `class ${className(c, opts.classes)} has ${group.length} images, needs ${n + m} (calibration ${n} + validation ${m})`,
      );
    }
    const order = shuffledClass(group, opts.seed, c);
    validation.push(...order.slice(0, m));
    calibration.push(...order.slice(m, m + n));
  });
  return { calibration: calibration.sort(ascending), validation: validation.sort(ascending) };
}

/**
 * The variant for separate pools (`--calib-data` / `--val-data`): `calibration` indexes the
 * calibration pool, `validation` the validation pool; each class contributes
 * `calibrationPerClass` and `validationPerClass` images of its own pool. Both pools use the
 * same class list. Disjointness is the caller's promise (different folders).
 */
export function selectBalancedSeparate(
  calibrationLabels: ArrayLike<number>,
  validationLabels: ArrayLike<number>,
  classCount: number,
  opts: SelectOptions,
): Selection {
  checkCounts(opts);
  const pick = (labels: ArrayLike<number>, per: number, pool: string, stream: number): number[] => {
    const out: number[] = [];
    indicesByClass(labels, classCount).forEach((group, c) => {
      if (group.length < per) {
        throw new LayerqError(
          'BAD_DATA',
          `class ${className(c, opts.classes)} has ${group.length} images in the ${pool} pool, needs ${per}`,
        );
      }
      out.push(...shuffledClass(group, deriveSeed(opts.seed, stream), c).slice(0, per));
    });
    return out.sort(ascending);
  };
  return {
    calibration: pick(calibrationLabels, opts.calibrationPerClass, 'calibration', 0),
    validation: pick(validationLabels, opts.validationPerClass, 'validation', 1),
  };
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
  return { calibration: back(picked.calibration), validation: back(picked.validation) };
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
