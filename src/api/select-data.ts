/**
 * Step "select data": class-balanced calibration and validation sets from one pool (disjoint)
 * or two, labelled by the folder or, in label-free mode, by the FP32 model's predictions.
 * Pools smaller than asked still give the most balanced disjoint sets they can (see
 * `selectBalanced`); what that took is said through `onWarning` and in the summary.
 */
import {
  ALL,
  Dataset,
  FitSummary,
  ImageSet,
  Preprocess,
  Sample,
  SelectOptions,
  Selection,
  describeFit,
  pixelSize,
  predictedLabels,
  selectBalancedSamples,
  selectBalancedSeparate,
  summarizeFit,
} from '../data';
import { Engine } from '../engine/engine';
import { LayerqError, badArgument } from '../errors';
import { checkClasses, checkSamePoolClasses, openPool } from './data';
import type { PreparedModel } from './model';
import type { ProgressFn } from './evaluate';

export interface DataOptions {
  /** One pool for both sets (disjoint)... */
  data?: string;
  /** ...or two. */
  calibData?: string;
  valData?: string;
  /** Images a class in the calibration set (at most); default `defaultSetSizes` of the classes present. */
  calibrationPerClass?: number;
  /**
   * Images a class in the validation set (at most), or 'all' (also spelled 0): every image
   * calibration does not take (one pool) or every image (separate pool). Default: `defaultSetSizes` from a
   * shared pool; every image of the smallest class from a separate pool.
   */
  validationPerClass?: number | typeof ALL;
  seed: number;
  /** Label each image by the FP32 model's top-1 class instead of its folder. */
  labelFree: boolean;
  /** Called with each one-line note on how the sets had to be drawn (short classes). */
  onWarning?: (message: string) => void;
}

/** For report.json's `data`: where the sets came from and how they were drawn. */
export interface DataSummary {
  calibrationPool: string;
  validationPool: string;
  /** As asked (or defaulted); classes with fewer images gave fewer (see `fit`). */
  calibrationPerClass: number;
  validationPerClass: number | typeof ALL;
  seed: number;
  labelFree: boolean;
  skipped: { path: string; reason: string }[];
  /** How the sets fit the pool: per-class ranges, short classes. */
  fit: FitSummary;
  /** Label-free mode: classes the FP32 model predicted for at least one pool image. */
  predictedClasses?: number;
  /** The notes also given to `onWarning`. */
  notes: string[];
}

export interface SelectedData {
  classes: string[];
  calibration: ImageSet;
  validation: ImageSet;
  summary: DataSummary;
}

/**
 * Default set sizes for `classes` classes (those with images in the pool; in label-free mode
 * those the model predicts): about 320 calibration and 500 validation images in all, at least
 * 1 and at most 32 / 50 a class (CIFAR-10: 32 and 50; ImageNet-1k: 1 and 1).
 */
export function defaultSetSizes(classes: number): { calibrationPerClass: number; validationPerClass: number } {
  const clamp = (v: number, hi: number): number => Math.min(Math.max(v, 1), hi);
  return { calibrationPerClass: clamp(Math.ceil(320 / classes), 32), validationPerClass: clamp(Math.ceil(500 / classes), 50) };
}

/** Pools up to this many bytes of pixels are decoded once in label-free mode; larger ones in chunks. */
const LABEL_FREE_KEEP_BYTES = 256 * 2 ** 20;
const LABEL_FREE_CHUNK = 256;

interface Labelled {
  pool: Dataset;
  /** The decoded pool, when small enough to keep (label-free mode). */
  images?: ImageSet;
}

/**
 * Relabels a pool by the FP32 model's predictions (label-free mode). A small pool is decoded
 * once and kept for the selection; a large one is decoded in chunks and dropped (bounded
 * memory), its selected images decoded again later. Unreadable files are left out.
 */
async function relabel(pool: Dataset, model: PreparedModel, preprocess: Preprocess, onProgress?: ProgressFn): Promise<Labelled> {
  const engine = Engine.fp32(model.model, { inference: true });
  const keep = pool.samples.length * pixelSize(preprocess) <= LABEL_FREE_KEEP_BYTES;
  const chunk = keep ? pool.samples.length : LABEL_FREE_CHUNK;
  const samples: Sample[] = [];
  let images: ImageSet | undefined;
  for (let start = 0; start < pool.samples.length; start += chunk) {
    const part = pool.samples.slice(start, start + chunk);
    let set: ImageSet;
    try {
      set = await ImageSet.load(part, preprocess, { onProgress: (d: number) => onProgress?.('decode pool', start + d, pool.samples.length) });
    } catch (e) {
      if (e instanceof LayerqError && e.code === 'BAD_DATA') continue; // a chunk of unreadable files
      throw e;
    }
    const logits = await engine.runAll(set);
    const labels = predictedLabels(logits, model.classes);
    set.paths.forEach((path, i) => samples.push({ path, label: labels[i]! }));
    if (keep) images = set.withLabels(labels);
    onProgress?.('label pool', Math.min(start + chunk, pool.samples.length), pool.samples.length);
  }
  if (samples.length === 0) throw new LayerqError('BAD_DATA', `none of the ${pool.samples.length} images of ${pool.root} could be decoded`);
  return { pool: { ...pool, samples }, ...(images ? { images } : {}) };
}

function smallestClass(pool: Dataset): number {
  const counts = new Array<number>(pool.classes.length).fill(0);
  for (const s of pool.samples) counts[s.label]!++;
  const present = counts.filter((c) => c > 0);
  return present.length ? Math.min(...present) : 0;
}

function checkPerClass(o: DataOptions): void {
  const n = o.calibrationPerClass;
  if (n !== undefined && (!Number.isInteger(n) || n < 1)) throw badArgument('calibrationPerClass', 'integer of at least 1', n);
  const m = o.validationPerClass;
  if (m !== undefined && m !== ALL && (!Number.isInteger(m) || m < 0)) throw badArgument('validationPerClass', "non-negative integer or 'all'", m);
}

/**
 * Throws BAD_ARGUMENT unless the data options name exactly one source: `data`, or both
 * `calibData` and `valData` (never `data` with either: one of them would be silently dropped).
 */
export function checkDataOptions(o: Pick<DataOptions, 'data' | 'calibData' | 'valData'>): void {
  const given = (v: string | undefined): boolean => v !== undefined;
  if (given(o.data) && (given(o.calibData) || given(o.valData))) {
    throw new LayerqError('BAD_ARGUMENT', 'give either --data DIR or --calib-data DIR with --val-data DIR, not both');
  }
  if (!o.data && !(o.calibData && o.valData)) {
    throw new LayerqError('BAD_ARGUMENT', 'give --data DIR, or both --calib-data DIR and --val-data DIR');
  }
}

export async function selectData(model: PreparedModel, preprocess: Preprocess, o: DataOptions, onProgress?: ProgressFn): Promise<SelectedData> {
  checkDataOptions(o);
  checkPerClass(o);
  const open = async (dir: string): Promise<Labelled> => {
    const pool = await openPool(dir);
    checkClasses(pool, model);
    return o.labelFree ? relabel(pool, model, preprocess, onProgress) : { pool };
  };
  const calib = await open(o.calibData ?? o.data!);
  const val = o.valData ? await open(o.valData) : calib;
  const [calibPool, valPool] = [calib.pool, val.pool];
  const separate = val !== calib;
  // Label-free pools are labelled by the model, so their folder names carry no meaning.
  if (separate && !o.labelFree) checkSamePoolClasses(calibPool, valPool);
  // Default sizes from the classes the pool(s) have (in label-free mode: the model predicts).
  const present = new Set([...calibPool.samples, ...valPool.samples].map((x) => x.label)).size;
  const defaults = defaultSetSizes(Math.max(1, present));
  const calibrationPerClass = o.calibrationPerClass ?? defaults.calibrationPerClass;
  const validationPerClass = o.validationPerClass === 0 ? ALL : o.validationPerClass ?? (separate ? smallestClass(valPool) : defaults.validationPerClass);
  const opts: SelectOptions = { calibrationPerClass, validationPerClass, seed: o.seed, classes: calibPool.classes };
  let sel: Selection;
  if (separate) {
    sel = selectBalancedSeparate(calibPool.samples.map((s) => s.label), valPool.samples.map((s) => s.label), model.classes, opts);
  } else {
    sel = selectBalancedSamples(calibPool.samples, model.classes, opts);
  }
  const notes = describeFit(sel.fit, opts);
  const predictedClasses = o.labelFree
    ? sel.fit.available.filter((k, c) => k + (separate ? sel.fit.availableValidation[c]! : 0) > 0).length
    : undefined;
  if (predictedClasses !== undefined && predictedClasses < model.classes) {
    notes.unshift(`label-free: the FP32 model predicts ${predictedClasses} of ${model.classes} classes on these images; the sets balance over those`);
  }
  for (const note of notes) o.onWarning?.(note);

  const load = async (from: Labelled, indices: number[], stage: string): Promise<ImageSet> => {
    if (from.images) return from.images.subset(indices);
    const samples = indices.map((i) => from.pool.samples[i]!);
    return ImageSet.load(samples, preprocess, { onProgress: (d: number, t: number) => onProgress?.(stage, d, t) });
  };
  const calibration = await load(calib, sel.calibration, 'decode calib');
  const validation = await load(val, sel.validation, 'decode val');
  return {
    classes: calibPool.classes,
    calibration,
    validation,
    summary: {
      calibrationPool: calibPool.root,
      validationPool: valPool.root,
      calibrationPerClass,
      validationPerClass,
      seed: o.seed,
      labelFree: o.labelFree,
      skipped: [...calibration.skipped, ...validation.skipped],
      fit: summarizeFit(sel.fit),
      ...(predictedClasses !== undefined ? { predictedClasses } : {}),
      notes,
    },
  };
}
