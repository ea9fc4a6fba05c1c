/** report.json: its versioned shape. Output files are written by ./output-dir.ts and ./atomic.ts. */
export { writeFileAtomic } from './atomic';
import type { Preprocess } from '../data';
import type { QuantConfig } from '../quant/calibration';
import type { QuantPlan } from '../quant/plan';

/** Bumped on any change a reader of report.json would notice. */
export const REPORT_VERSION = 1;

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
  /** SHA-256 (hex) of the model file `output` this report describes. */
  outputSha256: string;
  preprocess: Preprocess;
  config: QuantConfig;
  data: {
    calibrationPool: string;
    validationPool: string;
    calibrationPerClass: number;
    validationPerClass: number;
    calibrationImages: number;
    validationImages: number;
    seed: number;
    labelFree: boolean;
    skipped: { path: string; reason: string }[];
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
  layers: { id: string; kind: string; macs: number; input: string; output: string }[];
  plan: QuantPlan;
  /** Seconds per pipeline step. */
  timings: Record<string, number>;
}
