/** `layerq evaluate`: FP32 accuracy and throughput of a model on a labelled image pool. */
import { ImageSet, Preprocess } from '../data';
import { Engine, defaultBatchSize } from '../engine/engine';
import { setThreads } from '../engine/addon';
import { Accuracy, accuracy } from '../eval/metrics';
import { checkClasses, openPool } from './data';
import { loadClassifier } from './model';
import { PreprocessOptions, preprocessFor } from './preprocess';

export type ProgressFn = (stage: string, done: number, total: number) => void;

export interface EvaluateOptions extends PreprocessOptions {
  model: string;
  data: string;
  /** Images a batch; default from the input size (64 at 32x32, 16 at 224x224). */
  batchSize?: number;
  threads?: number;
  /** Evaluate only the first N images of each class (quick checks). */
  limitPerClass?: number;
  onProgress?: ProgressFn;
}

export interface EvaluateResult extends Accuracy {
  model: string;
  data: string;
  preprocess: Preprocess;
  skipped: { path: string; reason: string }[];
  timings: {
    decodeSeconds: number;
    decodeImagesPerSecond: number;
    engineSeconds: number;
    engineImagesPerSecond: number;
  };
}

export async function evaluate(options: EvaluateOptions): Promise<EvaluateResult> {
  if (options.threads !== undefined) setThreads(options.threads);
  const model = loadClassifier(options.model);
  const preprocess = preprocessFor(model, options);
  const pool = await openPool(options.data);
  checkClasses(pool, model);
  const samples = options.limitPerClass === undefined ? pool.samples : firstPerClass(pool.samples, options.limitPerClass);

  const t0 = performance.now();
  const images = await ImageSet.load(samples, preprocess, {
    onProgress: (done: number, total: number) => options.onProgress?.('decode', done, total),
  });
  const t1 = performance.now();
  const engine = Engine.fp32(model.model);
  const logits = await engine.runAll(images, {
    batchSize: options.batchSize ?? defaultBatchSize(model.model.graph.inputs[0]!.shape),
    onProgress: (done, total) => options.onProgress?.('evaluate', done, total),
  });
  const t2 = performance.now();
  return {
    model: options.model,
    data: options.data,
    preprocess,
    ...accuracy(logits, images.labels, pool.classes),
    skipped: [...images.skipped],
    timings: {
      decodeSeconds: (t1 - t0) / 1000,
      decodeImagesPerSecond: (1000 * samples.length) / (t1 - t0),
      engineSeconds: (t2 - t1) / 1000,
      engineImagesPerSecond: (1000 * images.count) / (t2 - t1),
    },
  };
}

function firstPerClass<T extends { label: number }>(samples: readonly T[], n: number): T[] {
  const seen = new Map<number, number>();
  return samples.filter((s) => {
    const k = seen.get(s.label) ?? 0;
    seen.set(s.label, k + 1);
    return k < n;
  });
}
