/**
 * `layerq quantize`: the pipeline as a list of steps. load -> prepare -> select data ->
 * calibrate -> (sensitivity, search: coming) -> export -> evaluate -> report.
 */
import * as path from 'path';
import { LayerqError } from '../errors';
import { INTERNAL_OPS } from '../ir/passes';
import { setThreads } from '../engine/addon';
import { Engine, defaultBatchSize, quantizedEngine } from '../engine/engine';
import { accuracy, agreement } from '../eval/metrics';
import { toQdq } from '../onnx/qdq';
import { saveModel } from '../onnx/save';
import { QuantConfig, checkQuantConfig, collectStatistics, initialPlan } from '../quant/calibration';
import { findLayers, quantizedTensors } from '../quant/layers';
import { QuantPlan } from '../quant/plan';
import { REPORT_VERSION, QuantizeReport, writeFileAtomic } from '../report/report';
import type { ProgressFn } from './evaluate';
import { loadClassifier } from './model';
import { DataOptions, selectData } from './select-data';
import { PreprocessOptions, preprocessFor } from './preprocess';

export interface QuantizeOptions extends DataOptions, PreprocessOptions {
  model: string;
  /** Output folder: model.qdq.onnx and report.json. */
  out: string;
  config: QuantConfig;
  /** Images a batch; default from the input size (64 at 32x32, 16 at 224x224). */
  batchSize?: number;
  threads?: number;
  onProgress?: ProgressFn;
}

export interface QuantizeResult {
  report: QuantizeReport;
  plan: QuantPlan;
  modelPath: string;
  reportPath: string;
}

/** Wall time of each step, in seconds. */
class Stopwatch {
  readonly seconds: Record<string, number> = {};
  private last = performance.now();
  lap(step: string): void {
    const now = performance.now();
    this.seconds[step] = (now - this.last) / 1000;
    this.last = now;
  }
}

export async function quantize(o: QuantizeOptions): Promise<QuantizeResult> {
  const config = checkQuantConfig(o.config);
  if (o.threads !== undefined) setThreads(o.threads);
  const progress = (stage: string) => (done: number, total: number) => o.onProgress?.(stage, done, total);
  const time = new Stopwatch();

  const model = loadClassifier(o.model);
  if (model.model.graph.nodes.some((n) => INTERNAL_OPS.has(n.op))) {
    throw new LayerqError('BAD_MODEL', `${o.model} is already quantized (it holds QuantizeLinear/DequantizeLinear pairs); give layerq the FP32 model`);
  }
  const preprocess = preprocessFor(model, o);
  const batchSize = o.batchSize ?? defaultBatchSize(model.model.graph.inputs[0]!.shape);
  time.lap('load');
  const data = await selectData(model, preprocess, o, o.onProgress);
  time.lap('selectData');

  const layers = findLayers(model.model.graph);
  const fp32 = Engine.fp32(model.model);
  const stats = await collectStatistics(fp32, data.calibration, quantizedTensors(model.model.graph, layers, config.scope), {
    batchSize,
    onProgress: progress('calibrate'),
  });
  fp32.releaseBuffers();
  const plan = initialPlan(model.model, layers, stats, config);
  time.lap('calibrate');

  const modelPath = path.join(o.out, 'model.qdq.onnx');
  writeFileAtomic(modelPath, saveModel(toQdq(model.model, layers, plan)));
  time.lap('export');

  // The accuracy reported is the written file's, run by layerq's engine (its Q/DQ pairs as
  // fake-quantize steps); the int8 engine's is reported beside it.
  const fp32Logits = await fp32.runAll(data.validation, { batchSize, onProgress: progress('evaluate fp32') });
  const fileLogits = await Engine.fp32(loadClassifier(modelPath).model).runAll(data.validation, {
    batchSize,
    onProgress: progress('evaluate file'),
  });
  const intLogits = await quantizedEngine(model.model, layers, plan, 'int').runAll(data.validation, {
    batchSize,
    onProgress: progress('evaluate int8'),
  });
  time.lap('evaluate');

  const summarize = (logits: Float32Array): { top1: number; top5: number } => {
    const a = accuracy(logits, data.validation.labels, data.classes);
    return { top1: a.top1, top5: a.top5 };
  };
  const report: QuantizeReport = {
    version: REPORT_VERSION,
    tool: 'layerq',
    model: o.model,
    output: modelPath,
    preprocess,
    config,
    data: { ...data.summary, calibrationImages: data.calibration.count, validationImages: data.validation.count },
    accuracy: {
      split: 'validation',
      fp32: summarize(fp32Logits),
      quantized: summarize(fileLogits),
      agreement: agreement(fileLogits, fp32Logits, model.classes),
      int8Engine: summarize(intLogits),
      int8EngineAgreement: agreement(intLogits, fileLogits, model.classes),
    },
    layers: layers.map((l) => ({ id: l.id, kind: l.kind, macs: l.macs, input: l.input, output: l.output })),
    plan,
    timings: time.seconds,
  };
  const reportPath = path.join(o.out, 'report.json');
  writeFileAtomic(reportPath, `${JSON.stringify(report, null, 2)}\n`);
  return { report, plan, modelPath, reportPath };
}
