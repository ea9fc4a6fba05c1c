/**
 * The first QuantPlan from calibration statistics: one rule for every layer (the search refines
 * it later), and the per-tensor and per-layer rules the search's candidates reuse. Pure: the
 * statistics come from src/pipeline/calibrate.ts.
 */
import { Model } from '../ir/graph';
import { badArgument } from '../errors';
import { calibrateRange } from './calibrate';
import { Layer, ActivationScope, quantizedTensors } from './layers';
import { QuantScheme, dequantize, qRange, qparamsFromRange, quantize, quantizeWeights } from './math';
import { biasCorrection } from './bias-correction';
import { weightQParams } from './materialize';
import { HistogramStats } from './observers';
import { CALIBRATION_METHODS, CalibrationMethod, PLAN_VERSION, QuantPlan, TensorQuant, WeightQuant } from './plan';

export interface QuantConfig {
  /** 8, 7 (for x86 AVX2 targets without VNNI, whose int8 kernels saturate) or 4. */
  weightBits: number;
  /** 8 or 4. */
  activationBits: number;
  perChannel: boolean;
  /** Activation calibration rule. */
  method: CalibrationMethod;
  /** Weight range rule: absmax, or the clipping that minimizes squared error. */
  weightMethod: 'minmax' | 'mse';
  /** Activations int8 with zero point 0 instead of uint8 with a zero point. */
  symmetricActivations: boolean;
  scope: ActivationScope;
  /** For 'percentile'. */
  percentile?: number;
  /** Add back the output-channel mean shift that weight quantization causes (default on). */
  biasCorrection?: boolean;
}

export const WEIGHT_BITS = [8, 7, 4] as const;
export const ACTIVATION_BITS = [8, 4] as const;

/** Checks a config from the CLI or the API; errors name the option. */
export function checkQuantConfig(c: QuantConfig): QuantConfig {
  if (!(WEIGHT_BITS as readonly number[]).includes(c.weightBits)) throw badArgument('weight bits', `one of ${WEIGHT_BITS.join(', ')}`, c.weightBits);
  if (!(ACTIVATION_BITS as readonly number[]).includes(c.activationBits)) {
    throw badArgument('activation bits', `one of ${ACTIVATION_BITS.join(', ')}`, c.activationBits);
  }
  if (!CALIBRATION_METHODS.includes(c.method)) throw badArgument('method', `one of ${CALIBRATION_METHODS.join(', ')}`, c.method);
  if (c.weightMethod !== 'minmax' && c.weightMethod !== 'mse') throw badArgument('weight method', 'one of minmax, mse', c.weightMethod);
  if (c.scope !== 'float-residual' && c.scope !== 'full-integer') throw badArgument('scope', 'one of float-residual, full-integer', c.scope);
  return c;
}

export function activationScheme(c: Pick<QuantConfig, 'activationBits' | 'symmetricActivations'>): QuantScheme {
  return c.symmetricActivations
    ? { bits: c.activationBits, signed: true, narrow: false, symmetric: true }
    : { bits: c.activationBits, signed: false, narrow: false, symmetric: false };
}

/** What calibration observed: the input of calibratePlan's first-plan rules. */
export interface CalibrationStatistics {
  /** Histograms of the quantized tensors. */
  histograms: Map<string, HistogramStats>;
  /** Per-channel means of the layer inputs (for bias correction). */
  channelMeans: Map<string, number[]>;
}

/** The activation quantization of one tensor under `config` from its statistics. */
export function tensorQuant(stats: HistogramStats, config: QuantConfig, method = config.method): TensorQuant {
  const scheme = activationScheme(config);
  const range = calibrateRange(method, stats, { scheme, ...(config.percentile !== undefined ? { percentile: config.percentile } : {}) });
  const qp = qparamsFromRange(range.min, range.max, scheme);
  return {
    bits: scheme.bits,
    signed: scheme.signed,
    scale: qp.scale[0]!,
    zeroPoint: qp.zeroPoint[0]!,
    qmin: qp.qmin,
    qmax: qp.qmax,
    range: [range.min, range.max],
    method,
  };
}

/** Symmetric weight quantization of one layer. */
export function weightQuant(model: Model, layer: Layer, bits: number, perChannel: boolean, method: 'minmax' | 'mse'): WeightQuant {
  const w = model.graph.initializers.get(layer.weight)!;
  const data = w.data instanceof Float32Array ? w.data : Float32Array.from(w.data as ArrayLike<number>);
  const { qp } = quantizeWeights(data, w.dims, { bits, perChannel, axis: layer.weightAxis, method, narrow: true });
  const { qmin, qmax } = qRange({ bits, signed: true, narrow: true });
  return { bits, perChannel, axis: layer.weightAxis, scale: Array.from(qp.scale), qmin, qmax, method };
}

/** Bias correction of one layer under `weight`, from the mean of its input's channels. */
export function layerBiasCorrection(model: Model, layer: Layer, weight: WeightQuant, inputMeans: readonly number[]): number[] {
  const w = model.graph.initializers.get(layer.weight)!;
  const data = w.data instanceof Float32Array ? w.data : Float32Array.from(w.data as ArrayLike<number>);
  const dq = dequantize(quantize(data, weightQParams(weight), w.dims), weightQParams(weight), w.dims);
  const group = layer.kind === 'conv' ? Number(layer.node.attrs['group'] ?? 1) : 1;
  return Array.from(biasCorrection(layer, w.dims, data, dq, inputMeans, group));
}

/** The first plan: every layer quantized by the same rule (and bias-corrected, by default). */
export function initialPlan(model: Model, layers: readonly Layer[], stats: CalibrationStatistics, config: QuantConfig): QuantPlan {
  const tensors = quantizedTensors(model.graph, layers, config.scope);
  const activations: Record<string, TensorQuant> = {};
  for (const t of tensors) activations[t] = tensorQuant(stats.histograms.get(t)!, config);
  const correct = config.biasCorrection ?? true;
  return {
    version: PLAN_VERSION,
    scope: config.scope,
    activations,
    layers: layers.map((l) => {
      const weight = weightQuant(model, l, config.weightBits, config.perChannel, config.weightMethod);
      const means = stats.channelMeans.get(l.input);
      const fix = correct && l.bias && means?.length ? { biasCorrection: layerBiasCorrection(model, l, weight, means) } : {};
      return { id: l.id, float: false, weight, ...fix };
    }),
  };
}
