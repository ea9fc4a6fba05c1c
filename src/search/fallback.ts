/**
 * The fallback strategy (NNCF's accuracy control, Intel Neural Compressor): rank layers by what
 * reverting each alone to float recovers in the whole quantized model, then revert greedily in
 * that order until the condition holds. For comparison, and for users who want it.
 */
import { PRECISION_STEPS, toFloat } from './candidates';
import { StrategyInput, StrategyResult } from './repair';
import type { StopReason } from './trials';

const FLOAT = PRECISION_STEPS.find((c) => c.family === 'float')!;

export async function fallbackSearch(s: StrategyInput): Promise<StrategyResult> {
  const { ev, trials, ctx, condition, fp32 } = s;
  let plan = s.plan;
  let cur = s.measured;
  const candidates = new Map<string, string>();
  const stopped = async (): Promise<StopReason | null> => ((await ev.meets(condition, fp32, plan, cur)) ? 'condition' : trials.exhausted());
  const first = await stopped();
  if (first) return { plan, measured: cur, stoppedBy: first, candidates };

  const ranked: { id: string; top1: number; loss: number }[] = [];
  for (const layer of ctx.layers) {
    if (trials.exhausted()) break;
    await ev.focus(plan, layer, `focus/rank/${layer.id}`);
    const { m } = await trials.run('model', layer, FLOAT, toFloat(plan, layer, ctx.layers));
    ranked.push({ id: layer.id, top1: m.top1, loss: m.loss });
  }
  ev.release();
  ranked.sort((a, b) => b.top1 - a.top1 || a.loss - b.loss || a.id.localeCompare(b.id));
  for (const r of ranked) {
    if (await stopped()) break;
    const layer = ctx.layers.find((l) => l.id === r.id)!;
    const next = toFloat(plan, layer, ctx.layers);
    const { m, trial } = await trials.run('model', layer, FLOAT, next);
    trial.accepted = true;
    plan = next;
    cur = m;
    candidates.set(layer.id, 'float');
  }
  return { plan, measured: cur, stoppedBy: (await stopped()) ?? 'exhausted', candidates };
}
