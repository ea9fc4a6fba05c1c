/**
 * `layerq analyze`: the pipeline up to the sensitivity step. load -> prepare -> select data ->
 * calibrate -> sensitivity. Nothing is exported; the analysis is returned (and written as JSON
 * when asked).
 */
import { setThreads } from '../engine/addon';
import { Engine, defaultBatchSize } from '../engine/engine';
import { PreprocessOptions, preprocessFor } from './preprocess';
import { calibratePlan } from '../pipeline/calibrate';
import { QuantConfig, checkQuantConfig } from '../quant/first-plan';
import type { SensitivityReport } from '../report/report';
import { writeFileAtomic } from '../report/report';
import { DEFAULT_MAX_DROP, analyzePlan } from '../search';
import type { ProgressFn } from './evaluate';
import { loadClassifier } from './model';
import { DataOptions, selectData } from './select-data';

export interface AnalyzeOptions extends DataOptions, PreprocessOptions {
  model: string;
  config: QuantConfig;
  /** The accuracy condition the default threshold follows (points). */
  maxDrop?: number;
  threshold?: number;
  /** Write the result as JSON here. */
  out?: string;
  batchSize?: number;
  threads?: number;
  onProgress?: ProgressFn;
}

export interface AnalyzeResult {
  model: string;
  config: QuantConfig;
  validationImages: number;
  sensitivity: SensitivityReport;
  seconds: number;
}

export async function analyze(o: AnalyzeOptions): Promise<AnalyzeResult> {
  const t0 = performance.now();
  const config = checkQuantConfig(o.config);
  if (o.threads !== undefined) setThreads(o.threads);
  const model = loadClassifier(o.model);
  const preprocess = preprocessFor(model, o);
  const batchSize = o.batchSize ?? defaultBatchSize(model.model.graph.inputs[0]!.shape);
  const data = await selectData(model, preprocess, o, o.onProgress);
  const calibration = await calibratePlan(model.model, data.calibration, config, { batchSize, onProgress: (d, t) => o.onProgress?.('calibrate', d, t) });
  const fp32Logits = await Engine.fp32(model.model, { inference: true }).runAll(data.validation, { batchSize, onProgress: (d, t) => o.onProgress?.('evaluate fp32', d, t) });
  const sensitivity = await analyzePlan(
    { model: model.model, calibration, fitRounding: null, validation: data.validation, fp32Logits, classes: model.classes, ...(data.summary.labelFree ? {} : { labels: data.validation.labels }) },
    {
      strategy: 'repair',
      condition: { maxDrop: o.maxDrop ?? DEFAULT_MAX_DROP, relative: false, metric: data.summary.labelFree ? 'agreement' : 'top1' },
      ...(o.threshold !== undefined ? { threshold: o.threshold } : {}),
      batchSize,
      ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    },
  );
  const result = { model: o.model, config, validationImages: data.validation.count, sensitivity, seconds: (performance.now() - t0) / 1000 };
  if (o.out) writeFileAtomic(o.out, `${JSON.stringify(result, null, 2)}\n`);
  return result;
}
