/**
 * Steps "sensitivity" and "search" of the pipeline: from the first plan to the plan delivered.
 * The pure pieces live beside this file (measure, candidates, sensitivity, repair, fallback,
 * trials, checkpoint); this module wires them to one evaluator, the only user of the engine.
 */
import type { BatchSource } from '../engine/engine';
import type { QuantMode } from '../engine/quantized';
import { Model } from '../ir/graph';
import type { Calibration } from '../pipeline/calibrate';
import type { QuantPlan } from '../quant/plan';
import type { SearchReport, SearchTrial, SensitivityReport } from '../report/report';
import { CandidateContext, ContextRoundingFitter, RoundingFitter } from './candidates';
import { Journal } from './checkpoint';
import { Evaluator } from './evaluator';
import { fallbackSearch } from './fallback';
import { AccuracyCondition, DEFAULT_NOISE, allowedDrop, reference } from './measure';
import { StrategyResult, repairSearch } from './repair';
import { analyzeSensitivity } from './sensitivity';
import { Budgets, DEFAULT_BUDGETS, Trials } from './trials';

export { ContextFitter, GramCollector } from './rounding';
export type { AccuracyCondition } from './measure';
export type { Budgets } from './trials';

export interface SearchOptions {
  strategy: 'repair' | 'fallback';
  condition: AccuracyCondition;
  /** false: the repair strategy never raises precision (ablation). Default true. */
  precision?: boolean;
  budgets?: Partial<Budgets>;
  /** Sensitivity threshold in points (default: noise-aware, see analyzeSensitivity). */
  threshold?: number;
  /** Engine mode of the trials (default 'int': faster, and it agrees with the written file). */
  mode?: QuantMode;
  batchSize?: number;
  /** Largest activation snapshot kept for suffix runs, bytes (default 1.5 GB). */
  snapshotBudget?: number;
  /**
   * Whole-model trials are screened on every screenStride-th validation batch first (default 4:
   * a quarter of the images); a candidate clearly not better than the current plan there is not
   * run on the rest. 0: every trial on every image.
   */
  screenStride?: number;
  /** Journal file: written after each measurement; with `resume`, replayed. */
  checkpoint?: string;
  resume?: boolean;
  /** What the checkpoint is valid for (model, data, configuration, options), as a string. */
  identity?: string;
  onProgress?: (stage: string, done: number, total: number) => void;
  onTrial?: (trial: SearchTrial) => void;
}

export const DEFAULT_MAX_DROP = 0.5;

/**
 * The accuracy condition: a stated maxDrop is held exactly; with none, DEFAULT_MAX_DROP widened to
 * the validation set's noise (DEFAULT_NOISE standard errors of the paired difference, when larger).
 */
export function accuracyCondition(maxDrop: number | undefined, relative: boolean, metric: AccuracyCondition['metric']): AccuracyCondition {
  return maxDrop === undefined ? { maxDrop: DEFAULT_MAX_DROP, relative, metric, noise: DEFAULT_NOISE } : { maxDrop, relative, metric };
}

export const DEFAULT_SCREEN_STRIDE = 4;

export interface SearchInput {
  model: Model;
  calibration: Calibration;
  /** Fitted rounding (null: the weight-rounding candidates are skipped). */
  fitRounding: RoundingFitter | null;
  /** Fitted rounding in the quantized model's context (absent: that candidate is skipped). */
  refitRounding?: ContextRoundingFitter;
  validation: BatchSource;
  /** FP32 logits of the validation set, [count, classes]. */
  fp32Logits: Float32Array;
  classes: number;
  /** Validation labels; omitted in label-free mode (accuracy = agreement with FP32). */
  labels?: Int32Array;
}

export interface SearchOutcome {
  plan: QuantPlan;
  /** Absent when the first plan met the condition (no analysis was needed). */
  sensitivity?: SensitivityReport;
  search: SearchReport | undefined;
  /** The candidate each changed layer holds. */
  candidates: Map<string, string>;
  /** Measurements replayed from a checkpoint. */
  replayed: number;
  /** Repair strategy: the plan before any precision was raised (ablations). */
  repaired?: QuantPlan;
}

function evaluatorFor(input: SearchInput, o: SearchOptions): Evaluator {
  const journal = new Journal(o.checkpoint, o.identity ?? '', Boolean(o.resume));
  const ref = reference(input.fp32Logits, input.classes, input.labels);
  return new Evaluator(input.model, input.calibration.layers, input.validation, ref, {
    mode: o.mode ?? 'int',
    batchSize: o.batchSize ?? 64,
    snapshotBudget: o.snapshotBudget ?? 1.5e9,
    screenStride: o.screenStride ?? DEFAULT_SCREEN_STRIDE,
  }, journal);
}

/** Sensitivity only (`layerq analyze`). */
export async function analyzePlan(input: SearchInput, o: SearchOptions): Promise<SensitivityReport> {
  const ev = evaluatorFor(input, o);
  return sensitivityOf(ev, input, o);
}

async function sensitivityOf(ev: Evaluator, input: SearchInput, o: SearchOptions): Promise<SensitivityReport> {
  const { calibration: cal } = input;
  const fp32 = await ev.measure(null, 'fp32');
  const first = await ev.measure(cal.plan, 'model/first');
  return analyzeSensitivity(ev, cal.layers, cal.plan, fp32, first, {
    condition: o.condition,
    ...(o.threshold !== undefined ? { threshold: o.threshold } : {}),
    onProgress: (d, t) => o.onProgress?.('sensitivity', d, t),
  });
}

/** Sensitivity, then the strategy; the best plan found within the budgets. */
export async function searchPlan(input: SearchInput, o: SearchOptions): Promise<SearchOutcome> {
  const t0 = performance.now();
  const ev = evaluatorFor(input, o);
  const { calibration: cal } = input;
  const fp32 = await ev.measure(null, 'fp32');
  const first = await ev.measure(cal.plan, 'model/first');
  // A first plan that meets the condition (trial engine and the file's semantics) needs neither
  // the sensitivity analysis nor trials (`layerq analyze` still gives the analysis).
  const firstHolds = await ev.meets(o.condition, fp32, cal.plan, first);
  const sensitivity = firstHolds ? undefined : await sensitivityOf(ev, input, o);
  const budgets: Budgets = { ...DEFAULT_BUDGETS, ...o.budgets };
  const trials = new Trials(ev, budgets, (trial, done, total) => {
    o.onTrial?.(trial);
    o.onProgress?.('search', done, total);
  });
  const ctx: CandidateContext = {
    model: input.model,
    layers: cal.layers,
    config: cal.config,
    stats: cal.stats,
    fitRounding: input.fitRounding ?? (async () => null),
    ...(input.refitRounding ? { refitRounding: input.refitRounding } : {}),
  };
  const strategy = o.strategy === 'fallback' ? fallbackSearch : repairSearch;
  const result: StrategyResult = sensitivity
    ? await strategy({ ev, trials, ctx, condition: o.condition, sensitivity, fp32, plan: cal.plan, measured: first, ...(o.precision === false ? { precision: false } : {}) })
    : { plan: cal.plan, measured: first, stoppedBy: 'condition', candidates: new Map() };

  // Suffix caching against whole-model trials: sampled pairs of runs of the same plans.
  const { pairs: sample } = ev;
  const strip = (m: typeof first) => ({ top1: m.top1, agreement: m.agreement, loss: m.loss });
  const layersById = new Map(cal.layers.map((l) => [l.id, l]));
  const after = await ev.confirm(result.plan);
  const search: SearchReport = {
    strategy: o.strategy,
    condition: o.condition,
    budgets,
    before: strip(first),
    // Measured with the written file's semantics (see Evaluator.confirm).
    after: strip(after),
    allowedDrop: allowedDrop(o.condition, fp32, after, ev.ref.labels.length),
    reached: result.stoppedBy === 'condition',
    stoppedBy: result.stoppedBy,
    trials: trials.list,
    acceptedByFamily: trials.acceptedByFamily(),
    raised: result.plan.layers
      .filter((lp) => lp.float || (lp.weight && lp.weight.bits > cal.config.weightBits) || (result.plan.activations[layersById.get(lp.id)!.input]?.bits ?? 0) > cal.config.activationBits)
      .map((lp) => ({
        id: lp.id,
        weightBits: lp.float ? null : lp.weight!.bits,
        activationBits: lp.float ? null : (result.plan.activations[layersById.get(lp.id)!.input]?.bits ?? null),
      })),
    speedup: {
      trialSeconds: sample.suffixSeconds,
      wholeModelSeconds: sample.wholeSeconds,
      ratio: sample.suffixSeconds > 0 ? sample.wholeSeconds / sample.suffixSeconds : 1,
      sampledRuns: sample.runs,
      snapshotSeconds: ev.time.snapshotSeconds,
      suffixRuns: ev.time.suffixRuns,
      wholeRuns: ev.time.wholeRuns,
    },
    screening: { stride: ev.screenStride, images: ev.screenImages, rejected: ev.screening.rejected, seconds: ev.screening.seconds },
    engine: { mode: o.mode ?? 'int', agreementWithFile: NaN },
    seconds: (performance.now() - t0) / 1000,
  };
  return { plan: result.plan, ...(sensitivity ? { sensitivity } : {}), search, candidates: result.candidates, replayed: ev.replayed, ...(result.repaired ? { repaired: result.repaired } : {}) };
}
