/**
 * The repair strategy (layerq's): for each target layer, most sensitive first, try candidates
 * with the layer alone in an FP32 model and accept as soon as the per-layer condition holds. Then
 * check the whole quantized model; when it fails the condition, repair in its context: every
 * layer in order of sensitivity, family by family (the best candidate of a family by the smooth
 * loss, accepted on accuracy). Repairs cost no precision, so this pass runs to its end rather
 * than stopping at the first plan that passes (a margin against the validation set's noise).
 * Last, while the condition fails, raise precision (8-bit input, 8-bit weights, float) where it
 * removes the most loss per MAC taken out of the low bit widths (`raisePrecision`).
 */
import type { Layer } from '../quant/layers';
import type { QuantPlan } from '../quant/plan';
import type { LayerSensitivity, SensitivityReport } from '../report/report';
import { Candidate, CandidateContext, Family, PRECISION_STEPS, repairOrder } from './candidates';
import type { Evaluator, Measured } from './evaluator';
import { AccuracyCondition, LOSS_MARGIN, drop, holds, pairedStandardError } from './measure';
import { onlyLayer } from './sensitivity';
import { StopReason, Trials } from './trials';

export interface StrategyInput {
  ev: Evaluator;
  trials: Trials;
  ctx: CandidateContext;
  condition: AccuracyCondition;
  sensitivity: SensitivityReport;
  fp32: Measured;
  /** The first plan and its whole-model measurement. */
  plan: QuantPlan;
  measured: Measured;
  /** false: repairs only, never a higher bit width or float (ablation). */
  precision?: boolean;
}

export interface StrategyResult {
  plan: QuantPlan;
  measured: Measured;
  stoppedBy: StopReason;
  /** The candidate each changed layer holds last. */
  candidates: Map<string, string>;
  /** The plan after the repairs, before any precision was raised (for ablations). */
  repaired?: QuantPlan;
}

/** Whether `m` is better than `cur`: a lower smooth loss, and top-1 not lower beyond the noise of the pair. */
function improves(cur: Measured, m: Measured, n: number): boolean {
  const noise = pairedStandardError(m.discordant[1] + cur.discordant[0], m.discordant[0] + cur.discordant[1], n);
  return m.screened === undefined && m.loss < cur.loss * (1 - LOSS_MARGIN) && m.top1 >= cur.top1 - noise;
}

export async function repairSearch(s: StrategyInput): Promise<StrategyResult> {
  const { ev, trials, ctx, condition, sensitivity, fp32 } = s;
  const n = ev.ref.labels.length;
  const byId = new Map(ctx.layers.map((l) => [l.id, l]));
  const candidates = new Map<string, string>();
  let plan = s.plan;
  let cur = s.measured;
  // The condition holds when the trial engine says so and the file's semantics confirm it.
  const holdsFor = async (p: QuantPlan, m: Measured): Promise<boolean> => holds(condition, fp32, m) && holds(condition, fp32, await ev.confirm(p));
  const conditionHolds = (): Promise<boolean> => holdsFor(plan, cur);
  /** Why a plan (default: the current one) needs no further trial, or null. */
  const stoppedAt = async (p: QuantPlan, m: Measured): Promise<StopReason | null> => ((await holdsFor(p, m)) ? 'condition' : trials.exhausted());
  const stopped = (): Promise<StopReason | null> => stoppedAt(plan, cur);
  const order = sensitivity.layers.map((r) => [byId.get(r.id)!, r] as const);

  // 1. Target layers alone (rest FP32), most sensitive first: accept as soon as the layer's drop is under the threshold.
  for (const [layer, row] of order.filter(([, r]) => r.target)) {
    if (trials.exhausted()) break;
    await ev.focus(null, layer, `focus/layer/${layer.id}`);
    let alone: Measured = { ...row.alone, discordant: [0, 0] };
    let best: { plan: QuantPlan; m: Measured; name: string; trial: number } | undefined;
    let tries = 0;
    for (const cand of repairOrder(row.weightLoss, row.activationLoss)) {
      if (tries >= trials.budgets.triesPerLayer || trials.exhausted()) break;
      const next = await cand.apply(plan, layer, ctx);
      if (!next) continue;
      tries++;
      const { m, trial } = await trials.run('layer', layer, cand, onlyLayer(next, layer, { weights: true, input: true }));
      if (m.loss < (best?.m.loss ?? alone.loss)) best = { plan: next, m, name: cand.name, trial: trial.index };
      if (m.loss < alone.loss && drop({ ...condition, relative: false }, fp32, m) <= sensitivity.threshold) break;
    }
    if (best && improves(alone, best.m, n)) {
      trials.list[best.trial]!.accepted = true;
      plan = best.plan;
      alone = best.m;
      candidates.set(layer.id, best.name);
    }
  }
  ev.release();
  if (plan !== s.plan) cur = await ev.measure(plan, 'model/after-layer-phase');

  // 2. The whole model: repair in context, most sensitive layers first, family by family.
  const repairInContext = !(await conditionHolds());
  for (const [layer, row] of repairInContext ? order : []) {
    if (trials.exhausted()) break;
    await ev.focus(plan, layer, `focus/model/${layer.id}`);
    let tries = 0;
    const families = groupByFamily(repairOrder(row.weightLoss, row.activationLoss));
    for (const group of families) {
      if (trials.exhausted() || tries >= trials.budgets.triesPerLayer) break;
      let best: { plan: QuantPlan; m: Measured; name: string; trial: number } | undefined;
      for (const cand of group) {
        if (tries >= trials.budgets.triesPerLayer || trials.exhausted()) break;
        const next = await cand.apply(plan, layer, ctx);
        if (!next) continue;
        tries++;
        // Screened against the current plan: a candidate clearly no better is not measured on every image.
        const { m, trial } = await trials.run('model', layer, cand, next, plan);
        if (m.screened === undefined && m.loss < (best?.m.loss ?? Infinity)) best = { plan: next, m, name: cand.name, trial: trial.index };
      }
      if (best && improves(cur, best.m, n)) {
        trials.list[best.trial]!.accepted = true;
        plan = best.plan;
        cur = best.m;
        candidates.set(layer.id, best.name);
      }
    }
  }

  // 3. Precision where it buys the most loss per MAC, until the condition holds.
  const repaired = plan;
  if (s.precision !== false && !(await stopped())) {
    ({ plan, cur } = await raisePrecision(s, order.map(([layer]) => layer), plan, cur, candidates, stoppedAt));
  }
  ev.release();
  return { plan, measured: cur, stoppedBy: (await stopped()) ?? 'exhausted', candidates, repaired };
}

/**
 * Precision, lazily greedy: every layer's next step up (8-bit input, 8-bit weights, float) is
 * measured once against the current plan and ranked by the loss it removes per share of MACs it
 * takes out of the low bit widths; the best is re-measured against the plan as it now is (earlier
 * acceptances change what a step is worth) and accepted while it is still at least as good as the
 * next best's older figure, else ranked again. An accepted layer's next step joins the ranking.
 * When no known step pays, the steps measured against older plans are measured again (a raise
 * can make another worth it). Ends when the condition holds, no step lowers the loss by the
 * acceptance margin, or the budget is spent. Raising the
 * layers that pay most for their MACs keeps more of the network at low bit widths than raising
 * layers in order of sensitivity.
 */
async function raisePrecision(s: StrategyInput, layers: readonly Layer[], plan: QuantPlan, cur: Measured, candidates: Map<string, string>,
  stoppedAt: (plan: QuantPlan, m: Measured) => Promise<StopReason | null>): Promise<{ plan: QuantPlan; cur: Measured }> {
  const stopped = (): Promise<StopReason | null> => stoppedAt(plan, cur);
  const { ev, trials, ctx } = s;
  const total = ctx.layers.reduce((a, l) => a + l.macs, 0) || 1;
  interface Step { layer: Layer; cand: Candidate; plan: QuantPlan; ratio: number; against: QuantPlan; m: Measured; trial: number }
  const measureStep = async (layer: Layer, base: QuantPlan, baseM: Measured): Promise<Step | null> => {
    const step = await firstApplicable(PRECISION_STEPS, base, layer, ctx);
    if (!step || trials.exhausted()) return null;
    await ev.focus(base, layer, `focus/precision/${layer.id}/${step.cand.name}/${trials.list.length}`);
    const { m, trial } = await trials.run('model', layer, step.cand, step.plan);
    // The MACs the step takes out of the low bit widths: the layer's, or every layer reading the input it raises.
    const raised = step.cand.family === 'activation-bits' ? ctx.layers.filter((l) => l.input === layer.input) : [layer];
    const share = raised.reduce((a, l) => a + l.macs, 0) / total;
    // A gain under the acceptance margin ranks last (nothing worth its MACs, however few).
    const gain = baseM.loss - m.loss;
    return { layer, cand: step.cand, plan: step.plan, ratio: gain > LOSS_MARGIN * baseM.loss ? gain / Math.max(share, 1e-6) : 0, against: base, m, trial: trial.index };
  };
  const ranked: Step[] = [];
  for (const layer of layers) {
    if (await stopped()) return { plan, cur };
    const st = await measureStep(layer, plan, cur);
    if (st) ranked.push(st);
  }
  while (!(await stopped())) {
    ranked.sort((a, b) => b.ratio - a.ratio);
    if (!ranked.length) break;
    if (ranked[0]!.ratio <= 0) {
      // Nothing known pays; figures measured against older plans may have changed (a raise
      // can make another one worth it): measure those again once, else stop.
      const stale = ranked.filter((st) => st.against !== plan);
      if (!stale.length) break;
      ranked.length = 0;
      for (const st of stale) {
        if (await stopped()) return { plan, cur };
        const again = await measureStep(st.layer, plan, cur);
        if (again) ranked.push(again);
      }
      continue;
    }
    const best = ranked.shift()!;
    let st: Step | null = best;
    if (best.against !== plan) {
      st = await measureStep(best.layer, plan, cur);
      if (!st) continue;
      if (ranked.length && st.ratio < ranked[0]!.ratio) {
        ranked.push(st);
        continue;
      }
    }
    if (!(st.ratio > 0 && st.m.loss < cur.loss)) continue;
    trials.list[st.trial]!.accepted = true;
    plan = st.plan;
    cur = st.m;
    candidates.set(st.layer.id, st.cand.name);
    const next = await stopped() ? null : await measureStep(st.layer, plan, cur);
    if (next) ranked.push(next);
  }
  return { plan, cur };
}

async function firstApplicable(steps: readonly Candidate[], plan: QuantPlan, layer: Layer, ctx: CandidateContext): Promise<{ cand: Candidate; plan: QuantPlan } | null> {
  for (const cand of steps) {
    const next = await cand.apply(plan, layer, ctx);
    if (next) return { cand, plan: next };
  }
  return null;
}

function groupByFamily(list: readonly Candidate[]): Candidate[][] {
  const groups: Candidate[][] = [];
  let last: Family | undefined;
  for (const c of list) {
    if (c.family !== last) groups.push([]);
    groups[groups.length - 1]!.push(c);
    last = c.family;
  }
  return groups;
}

export type { LayerSensitivity };
