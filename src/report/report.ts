/** report.json: its versioned shape. Output files are written by ./output-dir.ts and ./atomic.ts. */
export { writeFileAtomic } from './atomic';
import type { FitSummary, Preprocess } from '../data';
import type { QuantConfig } from '../quant/first-plan';
import type { QuantPlan } from '../quant/plan';

/** Bumped on any change a reader of report.json would notice. */
export const REPORT_VERSION = 2;

export interface TopK {
  /** Percent. */
  top1: number;
  top5: number;
}

export interface QuantizeReport {
  version: number;
  tool: 'layerq';
  model: string;
  output: string;
  /** SHA-256 (hex) of the model file `output` this report describes (written since the output folder became one unit). */
  outputSha256: string;
  preprocess: Preprocess;
  config: QuantConfig;
  data: {
    calibrationPool: string;
    validationPool: string;
    calibrationPerClass: number;
    /** 'all': every image calibration did not take (or every image of a separate pool). */
    validationPerClass: number | 'all';
    calibrationImages: number;
    validationImages: number;
    seed: number;
    labelFree: boolean;
    skipped: { path: string; reason: string }[];
    /** How the sets fit the pool when classes had fewer images than asked. */
    fit?: FitSummary;
    /** Label-free mode: classes the FP32 model predicted on the pool. */
    predictedClasses?: number;
    /** What the selection had to do, as said on stderr. */
    notes?: string[];
  };
  accuracy: {
    split: 'validation';
    fp32: TopK;
    /** The written model.qdq.onnx, run by layerq's engine. */
    quantized: TopK;
    /** Percent of validation images with the same top-1 class in FP32 and quantized. */
    agreement: number;
    /** The same plan on layerq's int8 kernels (integer accumulation, requantization). */
    int8Engine: TopK;
    /** Percent of validation images where the int8 engine and the written file agree. */
    int8EngineAgreement: number;
  };
  layers: ReportLayer[];
  plan: QuantPlan;
  /** Share of conv/Gemm multiply-accumulates (percent) by weight bits and by input bits; 'float' for float layers. */
  macShare: { weightBits: Record<string, number>; activationBits: Record<string, number> };
  /** Per-class top-1 on validation, FP32 against the written file (percent). */
  perClass: { name: string; images: number; fp32: number; quantized: number }[];
  /** Sensitivity analysis (absent with --no-search). */
  sensitivity?: SensitivityReport;
  /** The per-layer search or the fallback strategy (absent with --no-search). */
  search?: SearchReport;
  /** Seconds per pipeline step. */
  timings: Record<string, number>;
  /** The exact command line and versions (tool, Node, addon ISA path, CPU). */
  run: { command: string; layerqVersion: string; node: string; isa: string; cpu: string; threads: number };
  /** Sizes (bytes) of the FP32 model given and of the written model.qdq.onnx. */
  files?: { modelBytes: number; outputBytes: number };
  /**
   * Per-layer time, FP32 against the written plan on the int8 engine, in network order (`layerq
   * quantize --profile`; ms a batch of `batch` images, fastest of `rounds` runs).
   */
  profile?: { batch?: number; rounds?: number; layers: { id: string; fp32Ms: number; int8Ms: number }[] };
}

export interface ReportLayer {
  id: string;
  kind: string;
  macs: number;
  input: string;
  output: string;
  /** Final plan, flattened for readers: weight bits (null = float layer), input activation bits (null = float). */
  weightBits: number | null;
  activationBits: number | null;
  /** The search candidate that the final plan holds for this layer ('first' = calibration's parameters). */
  candidate: string;
}

/** One measurement of a plan on the validation set. */
export interface Measurement {
  /** Percent top-1 against labels (label-free: against FP32 predictions). */
  top1: number;
  /** Percent of images with the FP32 model's top-1 class. */
  agreement: number;
  /** Mean KL divergence of the quantized logits' softmax from FP32's (nats): the smooth loss. */
  loss: number;
}

export interface LayerSensitivity {
  id: string;
  /** This layer alone quantized with its first parameters, the rest FP32. */
  alone: Measurement;
  /** Top-1 points lost against FP32 (positive = worse). */
  drop: number;
  /** The smooth loss split: weights alone quantized, and the input activation alone. */
  weightLoss: number;
  activationLoss: number;
  /** Standard error (points) of the paired FP32-vs-this difference (discordant pairs). */
  dropStandardError: number;
  target: boolean;
  seconds: number;
}

export interface SensitivityReport {
  fp32: Measurement;
  /** The first plan (every layer, calibration's parameters), the whole model. */
  firstPlan: Measurement;
  /** A layer whose drop exceeds this (points) is a target. */
  threshold: number;
  /** Standard error (points) of validation top-1 (binomial). */
  accuracyStandardError: number;
  /** Most sensitive first. */
  layers: LayerSensitivity[];
}

export interface SearchTrial {
  index: number;
  /** 'layer': the layer alone in an FP32 model; 'model': in the whole quantized model. */
  phase: 'layer' | 'model';
  layer: string;
  /** Candidate name, e.g. 'act-percentile-99.99', 'weight-rounding-fitted', 'weight-bits-8', 'float'. */
  candidate: string;
  /** Candidate family: 'activation-clipping' | 'weight-clipping' | 'activation-symmetry' | 'bias-correction' | 'weight-rounding' | 'activation-bits' | 'weight-bits' | 'float'. */
  family: string;
  result: Measurement;
  accepted: boolean;
  seconds: number;
  /** Screened out: `result` is on this many validation images only (a sample), where the candidate was clearly not better than the plan it would replace. */
  screened?: number;
}

export interface SearchReport {
  strategy: 'repair' | 'fallback';
  /**
   * The accuracy condition: drop of top-1 (label-free: agreement) against FP32 at most maxDrop
   * points (relative: percent of FP32); with `noise` (the default condition), or within that many
   * standard errors of the paired difference when larger.
   */
  condition: { maxDrop: number; relative: boolean; metric: 'top1' | 'agreement'; noise?: number };
  /** The drop the condition allowed the delivered plan (maxDrop, or its noise allowance when larger); absent in reports written before it. */
  allowedDrop?: number;
  budgets: { triesPerLayer: number; maxTrials: number; maxSeconds: number };
  /** The whole quantized model before the search (trial engine) and after it (the written file's semantics). */
  before: Measurement;
  after: Measurement;
  /** Whether the condition holds at the end; when not, why the search stopped. */
  reached: boolean;
  stoppedBy: 'condition' | 'trials' | 'time' | 'exhausted';
  trials: SearchTrial[];
  /** Accepted trials by candidate family. */
  acceptedByFamily: Record<string, number>;
  /** Layers whose final weight or input bits are above the configuration's, or float. */
  raised: { id: string; weightBits: number | null; activationBits: number | null }[];
  /**
   * Suffix caching, measured in the same run: some suffix runs (every 10th of the first 80, then
   * every 50th) are followed by a whole-model run of the same plan (logits checked equal);
   * seconds of both over those samples and their
   * ratio; seconds spent taking snapshots; how many measurements ran from a snapshot or whole.
   */
  speedup: { trialSeconds: number; wholeModelSeconds: number; ratio: number; sampledRuns: number; snapshotSeconds: number; suffixRuns: number; wholeRuns: number };
  /**
   * Screening of whole-model trials: the sample (every `stride`-th validation batch, `images`
   * images; stride 0: none), trials screened out there and the seconds they took. Absent in
   * reports of layerq before screening.
   */
  screening?: { stride: number; images: number; rejected: number; seconds: number };
  /** Trials ran on this engine mode; agreement (percent) of its top-1 with the written file's. */
  engine: { mode: 'int' | 'sim'; agreementWithFile: number };
  seconds: number;
}
