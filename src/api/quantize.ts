/**
 * `layerq quantize`: the pipeline as a list of steps. load -> prepare -> select data ->
 * calibrate -> (sensitivity, search: coming) -> export -> evaluate -> report.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { LayerqError } from '../errors';
import { INTERNAL_OPS } from '../ir/passes';
import { isaInfo, setThreads } from '../engine/addon';
import { Engine, defaultBatchSize, quantizedEngine } from '../engine/engine';
import { accuracy, agreement } from '../eval/metrics';
import { toQdq } from '../onnx/qdq';
import { saveModel } from '../onnx/save';
import { QuantConfig, checkQuantConfig } from '../quant/first-plan';
import { calibratePlan } from '../pipeline/calibrate';
import { layerTimes, profileModel } from '../bench/profile';
import { ContextFitter, GramCollector, SearchOutcome, accuracyCondition, searchPlan } from '../search';
import type { Budgets } from '../search';
import type { SearchTrial } from '../report/report';
import { QuantPlan } from '../quant/plan';
import { fileSizes, macShare, perClassComparison, reportLayers, runInfo } from '../report/summary';
import { OutputDir } from '../report/output-dir';
import { REPORT_VERSION, QuantizeReport } from '../report/report';
import { reportHtml } from './report';
import type { ProgressFn } from './evaluate';
import { loadClassifier } from './model';
import { DataOptions, checkDataOptions, selectData } from './select-data';
import { PreprocessOptions, preprocessFor } from './preprocess';

export interface SearchSettings {
  /** 'repair' (layerq's: repair sensitive layers, precision last) or 'fallback' (revert layers to float). */
  strategy: 'repair' | 'fallback';
  /**
   * Points of validation top-1 (label-free: agreement) the model may lose against FP32, held
   * exactly. Default: 0.5, or 2 standard errors of the paired difference when the validation set
   * cannot resolve 0.5 (see AccuracyCondition.noise).
   */
  maxDrop?: number;
  /** maxDrop is a percentage of FP32's accuracy instead of points. */
  relative?: boolean;
  /** Sensitivity threshold in points (default: noise-aware). */
  threshold?: number;
  budgets?: Partial<Budgets>;
  /** Continue from OUT/search-checkpoint.json when it matches these inputs. */
  resume?: boolean;
  /** false: repairs only, no layer raised to a higher bit width or float (ablation). */
  precision?: boolean;
  /** false: every whole-model trial measured on every validation image (no screening on a sample first). */
  screen?: boolean;
}

export interface QuantizeOptions extends DataOptions, PreprocessOptions {
  model: string;
  /** Output folder: model.qdq.onnx and report.json. */
  out: string;
  config: QuantConfig;
  /** The layer search (default: repair strategy); false keeps the first plan. */
  search?: SearchSettings | false;
  /** Images a batch; default from the input size (64 at 32x32, 16 at 224x224). */
  batchSize?: number;
  threads?: number;
  onProgress?: ProgressFn;
  /** Each search trial as it is measured. */
  onTrial?: (trial: SearchTrial) => void;
  /** Informational messages (what the search did), one line each. */
  onNote?: (line: string) => void;
  /** Also write report.html beside report.json (default true). */
  html?: boolean;
  /** Time each layer, FP32 against the written plan on the int8 engine, into report.json's `profile`. */
  profile?: boolean;
}

export interface QuantizeResult {
  report: QuantizeReport;
  plan: QuantPlan;
  /** The search's plan before any precision was raised (repair strategy), for ablations. */
  repairedPlan?: QuantPlan;
  /** The plan the search started from (first parameters), when a search ran. */
  firstPlan?: QuantPlan;
  modelPath: string;
  reportPath: string;
  /** report.html, unless `html: false`. */
  htmlPath?: string;
}

export const CHECKPOINT_FILE = 'search-checkpoint.json';

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

/**
 * Opens the output folder first (a bad or busy --out fails before any data work), runs the
 * pipeline into it, and releases it whatever happens (see src/report/output-dir.ts).
 */
export async function quantize(o: QuantizeOptions): Promise<QuantizeResult> {
  checkDataOptions(o);
  const out = OutputDir.open(o.out);
  try {
    return await quantizeInto(o, out);
  } finally {
    out.close();
  }
}

async function quantizeInto(o: QuantizeOptions, out: OutputDir): Promise<QuantizeResult> {
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

  const fp32 = Engine.fp32(model.model, { inference: true });
  const search = o.search === undefined ? { strategy: 'repair' as const } : o.search;
  const calibration = await calibratePlan(model.model, data.calibration, config, { batchSize, onProgress: progress('calibrate') });
  const { layers } = calibration;
  fp32.releaseBuffers();
  time.lap('calibrate');

  const fp32Logits = await fp32.runAll(data.validation, { batchSize, onProgress: progress('evaluate fp32') });
  time.lap('evaluateFp32');

  let plan = calibration.plan;
  let outcome: SearchOutcome | undefined;
  if (search) {
    const condition = accuracyCondition(search.maxDrop, Boolean(search.relative), data.summary.labelFree ? 'agreement' : 'top1');
    const { resume: _resume, ...searchInputs } = search;
    const identity = JSON.stringify({ model: fileDigest(o.model), config, data: data.summary, search: searchInputs, condition, preprocess });
    outcome = await searchPlan(
      { model: model.model, calibration, fitRounding: new GramCollector(model.model, layers).lazyFitter(data.calibration, batchSize), refitRounding: new ContextFitter(model.model, layers, data.calibration, batchSize).fitter(), validation: data.validation, fp32Logits, classes: model.classes, ...(data.summary.labelFree ? {} : { labels: data.validation.labels }) },
      {
        strategy: search.strategy,
        condition,
        ...(search.precision === false ? { precision: false } : {}),
        ...(search.budgets ? { budgets: search.budgets } : {}),
        ...(search.threshold !== undefined ? { threshold: search.threshold } : {}),
        ...(search.screen === false ? { screenStride: 0 } : {}),
        batchSize,
        checkpoint: path.join(o.out, CHECKPOINT_FILE),
        resume: Boolean(search.resume),
        identity,
        ...(o.onProgress ? { onProgress: o.onProgress } : {}),
        ...(o.onTrial ? { onTrial: o.onTrial } : {}),
      },
    );
    plan = outcome.plan;
    if (outcome.replayed > 0) o.onNote?.(`resumed: ${outcome.replayed} measurements replayed from ${path.join(o.out, CHECKPOINT_FILE)}`);
  }
  time.lap('search');

  const modelPath = out.finalPath('model.qdq.onnx');
  const written = out.write('model.qdq.onnx', saveModel(toQdq(model.model, layers, plan)));
  time.lap('export');

  // The accuracy reported is the written file's, run by layerq's engine (its Q/DQ pairs as
  // fake-quantize steps); the int8 engine's is reported beside it.
  const fileLogits = await Engine.fp32(loadClassifier(written.path).model).runAll(data.validation, {
    batchSize,
    onProgress: progress('evaluate file'),
  });
  const intLogits = await quantizedEngine(model.model, layers, plan, 'int').runAll(data.validation, {
    batchSize,
    onProgress: progress('evaluate int8'),
  });
  time.lap('evaluate');

  let profile: QuantizeReport['profile'];
  if (o.profile) {
    const rounds = 5;
    const times = await profileModel(path.basename(o.model), model.model, model.input, {
      batches: [batchSize], rounds, plan: { layers, plan }, onProgress: (_stage, done, total) => o.onProgress?.('profile', done, total),
    });
    profile = { batch: batchSize, rounds, layers: layerTimes(times, layers) };
    time.lap('profile');
  }

  const summarize = (logits: Float32Array): { top1: number; top5: number } => {
    const a = accuracy(logits, data.validation.labels, data.classes);
    return { top1: a.top1, top5: a.top5 };
  };
  const report: QuantizeReport = {
    version: REPORT_VERSION,
    tool: 'layerq',
    model: o.model,
    output: modelPath,
    outputSha256: written.sha256,
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
    layers: reportLayers(plan, layers, outcome?.candidates),
    plan,
    macShare: macShare(plan, layers),
    perClass: perClassComparison(fp32Logits, fileLogits, data.validation.labels, data.classes),
    ...(outcome?.sensitivity ? { sensitivity: outcome.sensitivity } : {}),
    ...(outcome?.search ? { search: { ...outcome.search, engine: { mode: outcome.search.engine.mode, agreementWithFile: agreement(intLogits, fileLogits, model.classes) } } } : {}),
    ...(profile ? { profile } : {}),
    timings: time.seconds,
    run: runInfo(isaInfo().active, isaInfo().threads),
    files: fileSizes(o.model, written.path),
  };
  const reportPath = out.finalPath('report.json');
  const reportText = `${JSON.stringify(report, null, 2)}\n`;
  // report.html before report.json: the report is committed last, the mark of a complete folder.
  if (o.html !== false) out.write('report.html', reportHtml(reportText, reportPath));
  out.write('report.json', reportText);
  out.commit();
  fs.rmSync(path.join(o.out, CHECKPOINT_FILE), { force: true });
  const html = o.html === false ? {} : { htmlPath: out.finalPath('report.html') };
  return { report, plan, modelPath, reportPath, ...html, ...(outcome ? { firstPlan: calibration.plan } : {}), ...(outcome?.repaired ? { repairedPlan: outcome.repaired } : {}) };
}

/** SHA-256 of a file (identifies the model a checkpoint was written for). */
function fileDigest(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}
