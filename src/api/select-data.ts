/**
 * Step "select data": class-balanced calibration and validation sets from one pool (disjoint)
 * or two, labelled by the folder or, in label-free mode, by the FP32 model's predictions.
 */
import { Dataset, ImageSet, Preprocess, Sample, predictedLabels, selectBalancedSamples, selectBalancedSeparate } from '../data';
import { Engine } from '../engine/engine';
import { LayerqError } from '../errors';
import { checkClasses, checkSamePoolClasses, openPool } from './data';
import type { PreparedModel } from './model';
import type { ProgressFn } from './evaluate';

export interface DataOptions {
  /** One pool for both sets (disjoint)... */
  data?: string;
  /** ...or two. */
  calibData?: string;
  valData?: string;
  calibrationPerClass: number;
  /** Default: 50 from a shared pool; every image of the smallest class from a separate pool. */
  validationPerClass?: number;
  seed: number;
  /** Label each image by the FP32 model's top-1 class instead of its folder. */
  labelFree: boolean;
}

export interface SelectedData {
  classes: string[];
  calibration: ImageSet;
  validation: ImageSet;
  /** For the report: where the sets came from and how they were drawn. */
  summary: {
    calibrationPool: string;
    validationPool: string;
    calibrationPerClass: number;
    validationPerClass: number;
    seed: number;
    labelFree: boolean;
    skipped: { path: string; reason: string }[];
  };
}

const DEFAULT_VAL_PER_CLASS = 50;

/** Relabels a pool by the FP32 model's predictions (label-free mode): decodes it all once. */
async function relabel(pool: Dataset, model: PreparedModel, preprocess: Preprocess, onProgress?: ProgressFn): Promise<Dataset> {
  const images = await ImageSet.load(pool.samples, preprocess, { onProgress: (d: number, t: number) => onProgress?.('decode pool', d, t) });
  const logits = await Engine.fp32(model.model).runAll(images, { onProgress: (d, t) => onProgress?.('label pool', d, t) });
  const labels = predictedLabels(logits, model.classes);
  const samples: Sample[] = images.paths.map((path, i) => ({ path, label: labels[i]! }));
  return { ...pool, samples };
}

function smallestClass(pool: Dataset): number {
  const counts = new Array<number>(pool.classes.length).fill(0);
  for (const s of pool.samples) counts[s.label]!++;
  return Math.min(...counts);
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
  const open = async (dir: string): Promise<Dataset> => {
    const pool = await openPool(dir);
    checkClasses(pool, model);
    return o.labelFree ? relabel(pool, model, preprocess, onProgress) : pool;
  };
  const calibPool = await open(o.calibData ?? o.data!);
  const valPool = o.valData ? await open(o.valData) : calibPool;
  const separate = valPool !== calibPool;
  // Label-free pools are labelled by the model, so their folder names carry no meaning.
  if (separate && !o.labelFree) checkSamePoolClasses(calibPool, valPool);
  const validationPerClass = o.validationPerClass ?? (separate ? smallestClass(valPool) : DEFAULT_VAL_PER_CLASS);
  const opts = { calibrationPerClass: o.calibrationPerClass, validationPerClass, seed: o.seed, classes: calibPool.classes };
  let calibSamples: Sample[];
  let valSamples: Sample[];
  if (separate) {
    const sel = selectBalancedSeparate(calibPool.samples.map((s) => s.label), valPool.samples.map((s) => s.label), model.classes, opts);
    calibSamples = sel.calibration.map((i) => calibPool.samples[i]!);
    valSamples = sel.validation.map((i) => valPool.samples[i]!);
  } else {
    const sel = selectBalancedSamples(calibPool.samples, model.classes, opts);
    calibSamples = sel.calibration.map((i) => calibPool.samples[i]!);
    valSamples = sel.validation.map((i) => calibPool.samples[i]!);
  }
  const load = (samples: Sample[], stage: string): Promise<ImageSet> =>
    ImageSet.load(samples, preprocess, { onProgress: (d: number, t: number) => onProgress?.(stage, d, t) });
  const calibration = await load(calibSamples, 'decode calib');
  const validation = await load(valSamples, 'decode val');
  return {
    classes: calibPool.classes,
    calibration,
    validation,
    summary: {
      calibrationPool: calibPool.root,
      validationPool: valPool.root,
      calibrationPerClass: o.calibrationPerClass,
      validationPerClass,
      seed: o.seed,
      labelFree: o.labelFree,
      skipped: [...calibration.skipped, ...validation.skipped],
    },
  };
}
