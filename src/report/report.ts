/** report.json: its versioned shape, and crash-safe writing of every output file. */
import * as fs from 'fs';
import * as path from 'path';
import type { FitSummary, Preprocess } from '../data';
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
  layers: { id: string; kind: string; macs: number; input: string; output: string }[];
  plan: QuantPlan;
  /** Seconds per pipeline step. */
  timings: Record<string, number>;
}

/**
 * Writes `data` to `file` through a temporary name in the same folder and a rename, so a crash
 * leaves either the old file or the new one, never half of one. Creates the folder.
 */
export function writeFileAtomic(file: string, data: Uint8Array | string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}
