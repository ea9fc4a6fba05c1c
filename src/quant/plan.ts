/**
 * A QuantPlan is the decision, apart from its execution: per activation tensor its quantization,
 * per layer its weight quantization or float. Plain JSON: cheap to copy, diff, serialize and
 * resume. Calibration builds the first plan; the search edits plans; the engine executes one;
 * the QDQ writer exports one.
 */
import { LayerqError } from '../errors';
import type { ActivationScope } from './layers';

export const PLAN_VERSION = 1;

export type CalibrationMethod = 'minmax' | 'percentile' | 'mse' | 'entropy';
export const CALIBRATION_METHODS: readonly CalibrationMethod[] = ['minmax', 'percentile', 'mse', 'entropy'];

/** Per-tensor activation quantization (ONNX QuantizeLinear semantics). */
export interface TensorQuant {
  bits: number;
  /** int8 storage with zero point 0 (symmetric) or uint8 with a zero point (asymmetric). */
  signed: boolean;
  scale: number;
  zeroPoint: number;
  qmin: number;
  qmax: number;
  /** The calibrated (clipped) float range the grid was fitted to. */
  range: [number, number];
  method: CalibrationMethod;
}

/** Symmetric signed weight quantization; `scale` has 1 entry (per-tensor) or one per channel. */
export interface WeightQuant {
  bits: number;
  perChannel: boolean;
  /** Output-channel axis of the weight tensor. */
  axis: number;
  scale: number[];
  qmin: number;
  qmax: number;
  method: 'minmax' | 'mse';
}

export interface LayerPlan {
  id: string;
  /** Runs in float (last resort of the search). */
  float: boolean;
  weight?: WeightQuant;
  /** Added to the float bias (one per output channel) before it is quantized: bias correction. */
  biasCorrection?: number[];
  /**
   * Weight codes chosen by fitted rounding (the search's local reconstruction) instead of
   * round-to-nearest: base64 of an Int8Array in the weight's layout, on `weight`'s grid.
   */
  codes?: string;
}

export interface QuantPlan {
  version: number;
  scope: ActivationScope;
  /** By tensor name. */
  activations: Record<string, TensorQuant>;
  /** Topological order. */
  layers: LayerPlan[];
}

export function clonePlan(plan: QuantPlan): QuantPlan {
  return JSON.parse(JSON.stringify(plan)) as QuantPlan;
}

export function layerPlan(plan: QuantPlan, id: string): LayerPlan {
  const lp = plan.layers.find((l) => l.id === id);
  if (!lp) throw new LayerqError('INTERNAL', `plan has no layer '${id}'`);
  return lp;
}

/** Parses and checks a serialized plan (reports, checkpoints). */
export function parsePlan(json: string): QuantPlan {
  const plan = JSON.parse(json) as QuantPlan;
  if (plan.version !== PLAN_VERSION) {
    throw new LayerqError('BAD_ARGUMENT', `Expected plan version ${PLAN_VERSION} but received ${String(plan.version)}`);
  }
  return plan;
}

/** What differs between two plans of the same model: layer ids and activation tensor names. */
export function diffPlans(a: QuantPlan, b: QuantPlan): { layers: string[]; activations: string[] } {
  const same = (x: unknown, y: unknown): boolean => JSON.stringify(x) === JSON.stringify(y);
  const layers = b.layers.filter((l) => !same(l, a.layers.find((m) => m.id === l.id))).map((l) => l.id);
  const names = new Set([...Object.keys(a.activations), ...Object.keys(b.activations)]);
  const activations = [...names].filter((n) => !same(a.activations[n], b.activations[n]));
  return { layers, activations };
}
