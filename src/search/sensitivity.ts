/**
 * Step "sensitivity": each layer alone quantized with its first parameters, the rest FP32; and
 * the smooth loss split into the weight part (weights alone) and the activation part (the input
 * alone; both on the screening sample, a quarter of the images: the split only orders the
 * layer's candidate families). Runs from an FP32 snapshot at each layer, so each measurement
 * costs the layer's suffix.
 */
import type { Layer } from '../quant/layers';
import type { LayerPlan, QuantPlan } from '../quant/plan';
import type { LayerSensitivity, Measurement, SensitivityReport } from '../report/report';
import type { Evaluator, Measured } from './evaluator';
import { AccuracyCondition, accuracyStandardError, drop, pairedStandardError } from './measure';

/** `first` restricted to one layer: its weights and/or its input quantized, everything else float. */
export function onlyLayer(first: QuantPlan, layer: Layer, parts: { weights: boolean; input: boolean }): QuantPlan {
  const layers: LayerPlan[] = first.layers.map((lp) => (lp.id === layer.id && parts.weights ? lp : { id: lp.id, float: true }));
  const input = first.activations[layer.input];
  return { version: first.version, scope: first.scope, activations: parts.input && input ? { [layer.input]: input } : {}, layers };
}

const strip = (m: Measured): Measurement => ({ top1: m.top1, agreement: m.agreement, loss: m.loss });

export interface SensitivityOptions {
  condition: AccuracyCondition;
  /** Points; default: half the allowed drop, raised to twice the median paired standard error (the noise floor). */
  threshold?: number;
  onProgress?: (done: number, total: number) => void;
}

export async function analyzeSensitivity(ev: Evaluator, layers: readonly Layer[], first: QuantPlan, fp32: Measured, firstPlan: Measured, o: SensitivityOptions): Promise<SensitivityReport> {
  const n = ev.ref.labels.length;
  const rows: (LayerSensitivity & { se: number })[] = [];
  for (const [i, layer] of layers.entries()) {
    const t0 = performance.now();
    const key = `sensitivity/${layer.id}`;
    await ev.focus(null, layer, key);
    const alone = await ev.measure(onlyLayer(first, layer, { weights: true, input: true }), `${key}/alone`);
    // The split orders a layer's candidate families: the smooth loss on the screening sample is enough.
    const weights = await ev.measure(onlyLayer(first, layer, { weights: true, input: false }), `${key}/weights`, { sampleOnly: true });
    const input = first.activations[layer.input] ? await ev.measure(onlyLayer(first, layer, { weights: false, input: true }), `${key}/input`, { sampleOnly: true }) : undefined;
    const se = pairedStandardError(alone.discordant[0], alone.discordant[1], n);
    rows.push({
      id: layer.id,
      alone: strip(alone),
      drop: drop({ ...o.condition, relative: false }, fp32, alone),
      weightLoss: weights.loss,
      activationLoss: input?.loss ?? 0,
      dropStandardError: se,
      target: false,
      seconds: (performance.now() - t0) / 1000,
      se,
    });
    o.onProgress?.(i + 1, layers.length);
  }
  ev.release();
  const ses = rows.map((r) => r.se).sort((a, b) => a - b);
  const median = ses.length ? ses[Math.floor(ses.length / 2)]! : 0;
  const threshold = o.threshold ?? Math.max(o.condition.maxDrop / 2, 2 * median);
  const sorted = rows
    .map(({ se: _se, ...r }) => ({ ...r, target: r.drop > threshold }))
    .sort((a, b) => b.alone.loss - a.alone.loss || a.id.localeCompare(b.id));
  return {
    fp32: strip(fp32),
    firstPlan: strip(firstPlan),
    threshold,
    accuracyStandardError: accuracyStandardError(firstPlan.top1, n),
    layers: sorted,
  };
}
