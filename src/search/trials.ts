/** The trial record and the budgets: every measured candidate becomes one SearchTrial. */
import type { Layer } from '../quant/layers';
import type { QuantPlan } from '../quant/plan';
import type { SearchReport, SearchTrial } from '../report/report';
import type { Family } from './candidates';
import type { Evaluator, Measured } from './evaluator';

export type Budgets = SearchReport['budgets'];

export const DEFAULT_BUDGETS: Budgets = { triesPerLayer: 12, maxTrials: 400, maxSeconds: 3600 };

export type StopReason = SearchReport['stoppedBy'];

export class Trials {
  readonly list: SearchTrial[] = [];
  private readonly start = performance.now();

  constructor(
    private readonly ev: Evaluator,
    readonly budgets: Budgets,
    private readonly onTrial?: (trial: SearchTrial, done: number, budget: number) => void,
  ) {}

  /** Trials the budget has left. */
  get remaining(): number {
    return Math.max(0, this.budgets.maxTrials - this.list.length);
  }

  /** Why no further trial may run, or null. */
  exhausted(): StopReason | null {
    if (this.list.length >= this.budgets.maxTrials) return 'trials';
    if ((performance.now() - this.start) / 1000 >= this.budgets.maxSeconds) return 'time';
    return null;
  }

  /**
   * Measures `measured` (the plan of a trial, possibly a one-layer view of a plan) as trial of
   * `layer`; with `against` (the plan it would replace), screened first (Evaluator.measure).
   */
  async run(phase: SearchTrial['phase'], layer: Layer, candidate: { name: string; family: Family }, measured: QuantPlan, against?: QuantPlan): Promise<{ m: Measured; trial: SearchTrial }> {
    const t0 = performance.now();
    const index = this.list.length;
    const m = await this.ev.measure(measured, `trial/${index}`, against ? { against } : {});
    const trial: SearchTrial = {
      index,
      phase,
      layer: layer.id,
      candidate: candidate.name,
      family: candidate.family,
      result: { top1: m.top1, agreement: m.agreement, loss: m.loss },
      accepted: false,
      seconds: (performance.now() - t0) / 1000,
      ...(m.screened !== undefined ? { screened: m.screened } : {}),
    };
    this.list.push(trial);
    this.onTrial?.(trial, this.list.length, this.budgets.maxTrials);
    return { m, trial };
  }

  acceptedByFamily(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const t of this.list) if (t.accepted) out[t.family] = (out[t.family] ?? 0) + 1;
    return out;
  }

  get seconds(): number {
    return (performance.now() - this.start) / 1000;
  }
}
