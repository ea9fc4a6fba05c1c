/**
 * What a trial measures, from logits: pure functions over plain arrays. Top-1 decides (it is what
 * users state their condition in); the mean KL divergence from FP32 ranks (it moves smoothly
 * where top-1 on a few thousand images is noise); standard errors say how much of a difference
 * is noise.
 */
import { argmaxRows } from '../eval/metrics';
import type { Measurement } from '../report/report';

/** The reference a plan is measured against: FP32 logits and, when labelled, the labels. */
export interface Reference {
  classes: number;
  fp32: Float32Array;
  fp32Top1: Int32Array;
  /** Row-wise softmax of the FP32 logits, [n, classes]. */
  fp32Prob: Float64Array;
  /** Labels, or the FP32 predictions in label-free mode. */
  labels: Int32Array;
}

export function reference(fp32: Float32Array, classes: number, labels?: Int32Array): Reference {
  const fp32Top1 = argmaxRows(fp32, classes);
  const n = fp32Top1.length;
  const fp32Prob = new Float64Array(fp32.length);
  for (let i = 0; i < n; i++) softmaxRow(fp32, i * classes, classes, fp32Prob);
  return { classes, fp32, fp32Top1, fp32Prob, labels: labels ?? fp32Top1 };
}

function softmaxRow(x: Float32Array, o: number, k: number, out: Float64Array): void {
  let max = -Infinity;
  for (let c = 0; c < k; c++) max = Math.max(max, x[o + c]!);
  let sum = 0;
  for (let c = 0; c < k; c++) sum += (out[o + c] = Math.exp(x[o + c]! - max));
  for (let c = 0; c < k; c++) out[o + c]! /= sum;
}

/** A candidate is accepted only when it lowers the smooth loss by more than this share of it. */
export const LOSS_MARGIN = 0.005;

/** KL(softmax(fp32) || softmax(logits)) of each image, in nats. */
export function imageKl(ref: Reference, logits: Float32Array): Float64Array {
  const k = ref.classes;
  const n = ref.fp32Top1.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * k;
    let max = -Infinity;
    for (let c = 0; c < k; c++) max = Math.max(max, logits[o + c]!);
    let sum = 0;
    for (let c = 0; c < k; c++) sum += Math.exp(logits[o + c]! - max);
    const logZ = max + Math.log(sum);
    let kl = 0;
    for (let c = 0; c < k; c++) {
      const p = ref.fp32Prob[o + c]!;
      if (p > 0) kl += p * (Math.log(p) - (logits[o + c]! - logZ));
    }
    out[i] = kl;
  }
  return out;
}

/** Mean over images of KL(softmax(fp32) || softmax(logits)), in nats. */
export function meanKl(ref: Reference, logits: Float32Array): number {
  const kl = imageKl(ref, logits);
  let total = 0;
  for (const v of kl) total += v;
  return kl.length ? total / kl.length : 0;
}

/** The reference restricted to images `index` (in that order). */
export function subReference(ref: Reference, index: readonly number[]): Reference {
  const k = ref.classes;
  const fp32 = new Float32Array(index.length * k);
  const fp32Prob = new Float64Array(index.length * k);
  index.forEach((img, j) => {
    fp32.set(ref.fp32.subarray(img * k, (img + 1) * k), j * k);
    fp32Prob.set(ref.fp32Prob.subarray(img * k, (img + 1) * k), j * k);
  });
  const pick = (a: Int32Array): Int32Array => Int32Array.from(index, (img) => a[img]!);
  return { classes: k, fp32, fp32Top1: pick(ref.fp32Top1), fp32Prob, labels: pick(ref.labels) };
}

/**
 * The per-image loss a candidate gains over the plan it would replace, on the same images:
 * d = incumbent - candidate (positive: the candidate is better), its mean, the standard error of
 * that mean (infinite below 2 images), and the incumbent's mean loss (the scale margins are
 * shares of).
 */
export interface LossGain {
  mean: number;
  se: number;
  base: number;
}

export function lossGain(candidate: Float64Array, incumbent: Float64Array): LossGain {
  const n = candidate.length;
  if (n !== incumbent.length) throw new RangeError(`Expected paired samples but received ${n} and ${incumbent.length} images`);
  let sum = 0;
  let base = 0;
  for (let i = 0; i < n; i++) {
    sum += incumbent[i]! - candidate[i]!;
    base += incumbent[i]!;
  }
  const mean = n ? sum / n : 0;
  let sq = 0;
  for (let i = 0; i < n; i++) {
    const d = incumbent[i]! - candidate[i]! - mean;
    sq += d * d;
  }
  return { mean, se: n < 2 ? Infinity : Math.sqrt(sq / (n - 1) / n), base: n ? base / n : 0 };
}

/** z of the paired tests below: one-sided, about 98%. */
export const GAIN_Z = 2;

/**
 * Screening: whether a candidate, measured on a sample of images beside the plan it would
 * replace, is beyond the sample's noise not better than that plan by `margin` (relative) of its
 * loss: even the optimistic end of the one-sided interval, mean + z * se, misses the improvement
 * acceptance needs.
 */
export function clearlyWorse(candidate: Float64Array, incumbent: Float64Array, margin: number, z = GAIN_Z): boolean {
  const g = lossGain(candidate, incumbent);
  return g.mean + z * g.se < margin * g.base;
}

/**
 * Whether the gain is, beyond its noise, more than `margin` of the incumbent's loss: the
 * pessimistic end of the one-sided interval, mean - z * se, clears it.
 */
export function clearlyBetter(g: LossGain, margin: number, z = GAIN_Z): boolean {
  return g.mean - z * g.se > margin * g.base;
}

export function measure(ref: Reference, logits: Float32Array): Measurement {
  const top = argmaxRows(logits, ref.classes);
  let correct = 0;
  let same = 0;
  for (let i = 0; i < top.length; i++) {
    if (top[i] === ref.labels[i]) correct++;
    if (top[i] === ref.fp32Top1[i]) same++;
  }
  const n = top.length || 1;
  return { top1: (100 * correct) / n, agreement: (100 * same) / n, loss: meanKl(ref, logits) };
}

/** The FP32 model measured against itself. */
export function fp32Measurement(ref: Reference): Measurement {
  return measure(ref, ref.fp32);
}

/** Standard error (points) of a top-1 accuracy of `percent` on n images (binomial). */
export function accuracyStandardError(percent: number, n: number): number {
  const p = percent / 100;
  return n > 0 ? 100 * Math.sqrt((p * (1 - p)) / n) : 0;
}

/**
 * Standard error (points) of the paired difference of two classifiers' top-1 on the same n
 * images, from the discordant pairs: b images only the first gets right, c only the second.
 * Var(diff) = (b + c - (b - c)^2 / n) / n^2.
 */
export function pairedStandardError(b: number, c: number, n: number): number {
  return n > 0 ? (100 * Math.sqrt(Math.max(0, b + c - ((b - c) * (b - c)) / n))) / n : 0;
}

/** Discordant pairs of two logit sets against the labels: [only a right, only b right]. */
export function discordantPairs(ref: Reference, a: Float32Array, b: Float32Array): [number, number] {
  const ta = argmaxRows(a, ref.classes);
  const tb = argmaxRows(b, ref.classes);
  let onlyA = 0;
  let onlyB = 0;
  for (let i = 0; i < ta.length; i++) {
    const ra = ta[i] === ref.labels[i];
    const rb = tb[i] === ref.labels[i];
    if (ra && !rb) onlyA++;
    if (rb && !ra) onlyB++;
  }
  return [onlyA, onlyB];
}

/** The user's accuracy condition: the metric may drop at most maxDrop points (or percent of FP32 when relative). */
export interface AccuracyCondition {
  maxDrop: number;
  relative: boolean;
  metric: 'top1' | 'agreement';
  /**
   * Set on the default condition (no --max-drop given): a drop within `noise` standard errors of
   * the paired FP32-vs-quantized difference holds too, as the validation set cannot tell it from
   * maxDrop. On 2,000 images that error is about half a point at W4A8: a 0.5-point condition
   * there had the search trade low-bit layers for noise. A stated --max-drop is held exactly.
   */
  noise?: number;
}

/** z of the default condition: a drop within 2 paired standard errors cannot be told from maxDrop. */
export const DEFAULT_NOISE = 2;

/** A measurement with its discordant pairs against FP32 (see discordantPairs). */
export type Paired = Measurement & { discordant: readonly [number, number] };

/**
 * The drop the condition allows `m` on n images, in its unit: maxDrop, or when the condition is
 * noise-aware and it is larger, `noise` standard errors of m's paired difference with FP32.
 */
export function allowedDrop(condition: AccuracyCondition, fp32: Measurement, m: Paired, n: number): number {
  if (!condition.noise) return condition.maxDrop;
  const se = pairedStandardError(m.discordant[0], m.discordant[1], n);
  const unit = condition.relative ? 100 / (fp32[condition.metric] || 1) : 1;
  return Math.max(condition.maxDrop, condition.noise * se * unit);
}

/** Points (or percent) lost against FP32 under the condition's metric; positive = worse. */
export function drop(condition: AccuracyCondition, fp32: Measurement, m: Measurement): number {
  const a = fp32[condition.metric];
  const b = m[condition.metric];
  return condition.relative ? (100 * (a - b)) / (a || 1) : a - b;
}

/** Whether `m`, measured on n images, meets the condition. */
export function holds(condition: AccuracyCondition, fp32: Measurement, m: Paired, n: number): boolean {
  return drop(condition, fp32, m) <= allowedDrop(condition, fp32, m, n) + 1e-9;
}
