/**
 * The search's candidate space for one layer: pure edits of a plan, in a documented order.
 *
 * Repairs (the layer stays at its bit widths), ordered by which part of the layer's loss
 * dominates in the sensitivity analysis (weights first when the weight part is larger):
 * - weight-rounding: `fitted` (codes fitted to the layer's calibration inputs, see rounding.ts),
 *   `mse-fitted` (per-channel MSE clipping, then fitted codes); in the whole model's context
 *   only, `refit` (codes fitted to the inputs the quantized model delivers, against the FP32
 *   layer's output: the layer absorbs error made before it);
 * - weight-clipping: `mse` (per-channel squared-error clipping), `absmax-0.9`;
 * - bias-correction: toggled;
 * - activation-clipping of the layer's input: `mse`, `percentile-99.99`, `percentile-99.9`,
 *   `entropy`, `range-0.85` (min/max range scaled);
 * - activation-symmetry: int8 with zero point 0 <-> uint8 with a zero point (two-sided data only).
 * Last resorts, in this order: `act-bits-8`, `weight-bits-8` (its codes fitted in the whole
 * model's context when the layer's input is quantized), `float`.
 * A candidate that would not change the plan is skipped (null).
 */
import { Model } from '../ir/graph';
import { biasCorrection } from '../quant/bias-correction';
import { CalibrationStatistics, QuantConfig, tensorQuant, weightQuant } from '../quant/first-plan';
import type { Layer } from '../quant/layers';
import { dequantize, qparamsFromRange, quantize } from '../quant/math';
import { decodeCodes, encodeCodes, weightQParams } from '../quant/materialize';
import { CalibrationMethod, LayerPlan, QuantPlan, TensorQuant, WeightQuant, clonePlan } from '../quant/plan';

export type Family =
  | 'weight-rounding'
  | 'weight-clipping'
  | 'bias-correction'
  | 'activation-clipping'
  | 'activation-symmetry'
  | 'activation-bits'
  | 'weight-bits'
  | 'float';

export const PRECISION_FAMILIES: readonly Family[] = ['activation-bits', 'weight-bits', 'float'];

/** Fits a layer's weight codes on its calibration inputs for a given grid (null: not available). */
export type RoundingFitter = (layer: Layer, weight: WeightQuant) => Promise<Int8Array | null>;

/** Fits a layer's weight codes to the inputs `plan` gives it, against the FP32 layer's output (null: not available). */
export type ContextRoundingFitter = (layer: Layer, weight: WeightQuant, plan: QuantPlan) => Promise<Int8Array | null>;

export interface CandidateContext {
  model: Model;
  layers: readonly Layer[];
  config: QuantConfig;
  stats: CalibrationStatistics;
  fitRounding: RoundingFitter;
  refitRounding?: ContextRoundingFitter;
}

export interface Candidate {
  name: string;
  family: Family;
  /** Only meaningful with the rest of the model quantized (the whole-model repairs). */
  contextOnly?: boolean;
  /** The edited plan, or null when it would not change `plan`. */
  apply(plan: QuantPlan, layer: Layer, ctx: CandidateContext): Promise<QuantPlan | null>;
}

const lpOf = (plan: QuantPlan, layer: Layer): LayerPlan => plan.layers.find((l) => l.id === layer.id)!;
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

function floatWeights(model: Model, layer: Layer): Float32Array {
  const w = model.graph.initializers.get(layer.weight)!;
  return w.data instanceof Float32Array ? w.data : Float32Array.from(w.data as ArrayLike<number>);
}

/** Bias correction for the layer's weights as `lp` quantizes them (fitted codes included). */
function correctionFor(ctx: CandidateContext, layer: Layer, lp: LayerPlan): number[] | undefined {
  const means = ctx.stats.channelMeans.get(layer.input);
  if (!layer.bias || !means?.length || !lp.weight) return undefined;
  const w = ctx.model.graph.initializers.get(layer.weight)!;
  const data = floatWeights(ctx.model, layer);
  const qp = weightQParams(lp.weight);
  const codes = lp.codes ? decodeCodes(lp.codes, data.length, lp.weight, layer.id) : quantize(data, qp, w.dims);
  const group = layer.kind === 'conv' ? Number(layer.node.attrs['group'] ?? 1) : 1;
  return Array.from(biasCorrection(layer, w.dims, data, dequantize(codes, qp, w.dims), means, group));
}

/**
 * Sets a layer's weight grid (and codes), keeping bias correction on or off as it was; `uncorrected`:
 * off (codes fitted against the FP32 output, whose mean they match already).
 */
function withWeight(ctx: CandidateContext, plan: QuantPlan, layer: Layer, weight: WeightQuant, codes: Int8Array | null, uncorrected = false): QuantPlan | null {
  const next = clonePlan(plan);
  const lp = lpOf(next, layer);
  const corrected = !uncorrected && lp.biasCorrection !== undefined;
  lp.weight = weight;
  if (codes) lp.codes = encodeCodes(codes);
  else delete lp.codes;
  delete lp.biasCorrection;
  const fix = corrected ? correctionFor(ctx, layer, lp) : undefined;
  if (fix) lp.biasCorrection = fix;
  return same(lp, lpOf(plan, layer)) ? null : next;
}

function withInput(plan: QuantPlan, layer: Layer, t: TensorQuant): QuantPlan | null {
  if (same(plan.activations[layer.input], t)) return null;
  const next = clonePlan(plan);
  next.activations[layer.input] = t;
  return next;
}

/** The layer input's grid under `config` with another rule (or the min/max range scaled). */
function inputQuant(ctx: CandidateContext, plan: QuantPlan, layer: Layer, change: { method?: CalibrationMethod; percentile?: number; rangeScale?: number; signed?: boolean; bits?: number }): TensorQuant | null {
  const hist = ctx.stats.histograms.get(layer.input);
  const current = plan.activations[layer.input];
  if (!hist || !current) return null;
  const config: QuantConfig = {
    ...ctx.config,
    activationBits: change.bits ?? current.bits,
    symmetricActivations: change.signed ?? current.signed,
    ...(change.percentile !== undefined ? { percentile: change.percentile } : {}),
  };
  const t = tensorQuant(hist, config, change.method ?? current.method);
  if (change.rangeScale === undefined) return t;
  const lo = hist.min * change.rangeScale;
  const hi = hist.max * change.rangeScale;
  const scheme = config.symmetricActivations
    ? { bits: config.activationBits, signed: true, narrow: false, symmetric: true }
    : { bits: config.activationBits, signed: false, narrow: false, symmetric: false };
  const qp = qparamsFromRange(lo, hi, scheme);
  return { ...t, scale: qp.scale[0]!, zeroPoint: qp.zeroPoint[0]!, qmin: qp.qmin, qmax: qp.qmax, range: [lo, hi], method: 'minmax' };
}

const weightCandidate = (name: string, family: Family, make: (ctx: CandidateContext, layer: Layer, lp: LayerPlan) => Promise<{ w: WeightQuant; codes: Int8Array | null } | null>): Candidate => ({
  name,
  family,
  async apply(plan, layer, ctx) {
    const lp = lpOf(plan, layer);
    if (lp.float || !lp.weight) return null;
    const r = await make(ctx, layer, lp);
    return r ? withWeight(ctx, plan, layer, r.w, r.codes) : null;
  },
});

const inputCandidate = (name: string, family: Family, change: Parameters<typeof inputQuant>[3]): Candidate => ({
  name,
  family,
  async apply(plan, layer, ctx) {
    const current = plan.activations[layer.input];
    if (lpOf(plan, layer).float || !current) return null;
    const t = inputQuant(ctx, plan, layer, change);
    return t ? withInput(plan, layer, t) : null;
  },
});

const twoSided = (_t: TensorQuant, ctx: CandidateContext, layer: Layer): boolean => (ctx.stats.histograms.get(layer.input)?.min ?? 0) < 0;

export const WEIGHT_REPAIRS: readonly Candidate[] = [
  weightCandidate('weight-rounding-fitted', 'weight-rounding', async (ctx, layer, lp) => {
    const codes = await ctx.fitRounding(layer, lp.weight!);
    return codes ? { w: lp.weight!, codes } : null;
  }),
  weightCandidate('weight-clip-mse+fitted', 'weight-rounding', async (ctx, layer, lp) => {
    const w = weightQuant(ctx.model, layer, lp.weight!.bits, lp.weight!.perChannel, 'mse');
    const codes = await ctx.fitRounding(layer, w);
    return codes ? { w, codes } : null;
  }),
  {
    // Bias correction off: the fit already targets the FP32 output, mean included.
    name: 'weight-rounding-refit',
    family: 'weight-rounding',
    contextOnly: true,
    async apply(plan, layer, ctx) {
      const lp = lpOf(plan, layer);
      if (lp.float || !lp.weight || !ctx.refitRounding) return null;
      const codes = await ctx.refitRounding(layer, lp.weight, plan);
      if (!codes) return null;
      const next = clonePlan(plan);
      const nlp = lpOf(next, layer);
      nlp.codes = encodeCodes(codes);
      delete nlp.biasCorrection;
      return same(nlp, lp) ? null : next;
    },
  },
  weightCandidate('weight-clip-mse', 'weight-clipping', async (ctx, layer, lp) => ({ w: weightQuant(ctx.model, layer, lp.weight!.bits, lp.weight!.perChannel, 'mse'), codes: null })),
  weightCandidate('weight-clip-absmax-0.9', 'weight-clipping', async (ctx, layer, lp) => {
    const w = weightQuant(ctx.model, layer, lp.weight!.bits, lp.weight!.perChannel, 'minmax');
    return { w: { ...w, scale: w.scale.map((s) => Math.fround(s * 0.9)) }, codes: null };
  }),
  {
    name: 'bias-correction-toggle',
    family: 'bias-correction',
    async apply(plan, layer, ctx) {
      const lp = lpOf(plan, layer);
      if (lp.float || !layer.bias) return null;
      const next = clonePlan(plan);
      const nlp = lpOf(next, layer);
      if (nlp.biasCorrection) delete nlp.biasCorrection;
      else {
        const fix = correctionFor(ctx, layer, nlp);
        if (!fix) return null;
        nlp.biasCorrection = fix;
      }
      return next;
    },
  },
];

export const ACTIVATION_REPAIRS: readonly Candidate[] = [
  inputCandidate('act-clip-mse', 'activation-clipping', { method: 'mse' }),
  inputCandidate('act-clip-percentile-99.99', 'activation-clipping', { method: 'percentile', percentile: 99.99 }),
  inputCandidate('act-clip-percentile-99.9', 'activation-clipping', { method: 'percentile', percentile: 99.9 }),
  inputCandidate('act-clip-entropy', 'activation-clipping', { method: 'entropy' }),
  inputCandidate('act-range-0.85', 'activation-clipping', { rangeScale: 0.85 }),
  {
    name: 'act-symmetry-toggle',
    family: 'activation-symmetry',
    async apply(plan, layer, ctx) {
      const current = plan.activations[layer.input];
      if (lpOf(plan, layer).float || !current || !twoSided(current, ctx, layer)) return null;
      const t = inputQuant(ctx, plan, layer, { signed: !current.signed });
      return t ? withInput(plan, layer, t) : null;
    },
  },
];

export const PRECISION_STEPS: readonly Candidate[] = [
  {
    name: 'act-bits-8',
    family: 'activation-bits',
    async apply(plan, layer, ctx) {
      const current = plan.activations[layer.input];
      if (lpOf(plan, layer).float || !current || current.bits >= 8) return null;
      const t = inputQuant(ctx, plan, layer, { bits: 8 });
      return t ? withInput(plan, layer, t) : null;
    },
  },
  {
    // In the whole model's context the 8-bit codes are fitted there too (as `refit`): codes
    // rounded to the nearest 8-bit value would drop the upstream error the layer's low-bit codes
    // absorbed, and the raise could then cost more than it buys (MobileNetV2-w05 W4A8 kept none
    // of the raises of its most sensitive layers, and 17 others instead).
    name: 'weight-bits-8',
    family: 'weight-bits',
    async apply(plan, layer, ctx) {
      const lp = lpOf(plan, layer);
      if (lp.float || !lp.weight || lp.weight.bits >= 8) return null;
      const w = weightQuant(ctx.model, layer, 8, lp.weight.perChannel, 'minmax');
      const codes = (await ctx.refitRounding?.(layer, w, plan)) ?? null;
      return withWeight(ctx, plan, layer, w, codes, codes !== null);
    },
  },
  {
    name: 'float',
    family: 'float',
    async apply(plan, layer, ctx) {
      if (lpOf(plan, layer).float) return null;
      return toFloat(plan, layer, ctx.layers);
    },
  },
];

/** `layer` in float; its input's quantization dropped when no other quantized layer reads it (float-residual). */
export function toFloat(plan: QuantPlan, layer: Layer, layers: readonly Layer[]): QuantPlan {
  const next = clonePlan(plan);
  const lp = lpOf(next, layer);
  lp.float = true;
  delete lp.codes;
  const stillRead = layers.some((l) => l.id !== layer.id && l.input === layer.input && !lpOf(next, l).float);
  if (plan.scope === 'float-residual' && !stillRead) delete next.activations[layer.input];
  return next;
}

/** The context fit (`weight-rounding-refit`), which the whole-model phase first sweeps over every layer. */
export const REFIT: Candidate = WEIGHT_REPAIRS.find((c) => c.name === 'weight-rounding-refit')!;

/** The clipping the sweep tries on a layer's input below 8 bits before its context fit (min/max ranges waste most of a 4-bit grid). */
export const SWEEP_CLIP: Candidate = ACTIVATION_REPAIRS.find((c) => c.name === 'act-clip-mse')!;

/** Repairs for a layer, the dominant part of its loss first; `context`: in the whole quantized model (else the layer alone). */
export function repairOrder(weightLoss: number, activationLoss: number, context = false): Candidate[] {
  const all = weightLoss >= activationLoss ? [...WEIGHT_REPAIRS, ...ACTIVATION_REPAIRS] : [...ACTIVATION_REPAIRS, ...WEIGHT_REPAIRS];
  return context ? all : all.filter((c) => !c.contextOnly);
}
