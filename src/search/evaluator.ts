/**
 * The search's only door to the engine: measures plans on the validation set, re-running only
 * what a change can affect. Before the trials of one layer, `focus` keeps the values entering
 * that layer's part of the network (a snapshot of the base plan's program, taken just before the
 * step that produces the layer's input); each trial then runs from there. The engine checks that
 * a trial's program shares the snapshot's prefix (step signatures) and the evaluator falls back
 * to a whole run when it does not, so a cached prefix can never be silently wrong.
 * Measurements go through a journal: a resumed search replays them instead of re-running.
 */
import { createHash } from 'crypto';
import { BatchSource, Engine, Snapshot, quantizedEngine } from '../engine/engine';
import { QuantMode, StepCache, codesOf, stepSignature } from '../engine/quantized';
import { Model } from '../ir/graph';
import type { Layer } from '../quant/layers';
import type { QuantPlan } from '../quant/plan';
import type { Measurement } from '../report/report';
import { Journal } from './checkpoint';
import { Reference, discordantPairs, measure } from './measure';

export interface Measured extends Measurement {
  /** Images only FP32 gets right, and only this plan gets right (labels, or FP32 in label-free mode). */
  discordant: [number, number];
}

export interface EvaluatorOptions {
  mode: QuantMode;
  batchSize: number;
  /** Largest snapshot kept, bytes; above it trials run the whole model. */
  snapshotBudget: number;
}

export function planHash(plan: QuantPlan): string {
  return createHash('sha256').update(JSON.stringify(plan)).digest('hex').slice(0, 16);
}

export class Evaluator {
  private cache: StepCache = new Map();
  private snapshot: Snapshot | undefined;
  /** Seconds of suffix runs, of whole runs, and how many of each. */
  readonly time = { suffixSeconds: 0, suffixRuns: 0, wholeSeconds: 0, wholeRuns: 0, snapshotSeconds: 0 };
  /**
   * The speed-up of suffix runs, measured in the same run: every SAMPLE_EVERY-th suffix run is
   * followed by a whole run of the same plan (same logits, checked), and both are timed.
   */
  readonly sample = { suffixSeconds: 0, wholeSeconds: 0, runs: 0 };

  constructor(
    private readonly model: Model,
    private readonly layers: readonly Layer[],
    private readonly images: BatchSource,
    readonly ref: Reference,
    private readonly options: EvaluatorOptions,
    private readonly journal: Journal,
  ) {}

  /** Measurements taken from a resumed checkpoint instead of run. */
  get replayed(): number {
    return this.journal.replayed;
  }

  engine(plan: QuantPlan | null): Engine {
    return plan ? quantizedEngine(this.model, this.layers, plan, this.options.mode, this.cache) : Engine.fp32(this.model);
  }

  /**
   * Keeps the values entering `layer`'s part of `base`'s program (null: FP32), for trials that
   * change that layer or its input's quantization. Skipped (whole runs) when over the budget.
   */
  async focus(base: QuantPlan | null, layer: Layer, key: string): Promise<void> {
    this.snapshot = undefined;
    if (this.journal.replaying(key)) return; // measurements of this layer come from the journal
    const engine = this.engine(base);
    // Keep the packed steps of the base program only: those of rejected candidates go.
    this.cache = new Map(engine.steps.map((step) => [stepSignature(step), step]));
    const at = engine.steps.findIndex((s) => s.outputs.includes(layer.input) || s.outputs.includes(codesOf(layer.input)));
    if (at <= 0) return;
    if ((await engine.snapshotBytes(this.images, at)) > this.options.snapshotBudget) return;
    const t0 = performance.now();
    this.snapshot = await engine.snapshot(this.images, at, { batchSize: this.options.batchSize });
    this.time.snapshotSeconds += (performance.now() - t0) / 1000;
  }

  /** Drops the snapshot (its memory). */
  release(): void {
    this.snapshot = undefined;
  }

  /** Measures `plan` (null: FP32); `key` names the measurement in the journal. */
  async measure(plan: QuantPlan | null, key: string): Promise<Measured> {
    const hash = plan ? planHash(plan) : 'fp32';
    const recorded = this.journal.recorded(key, hash);
    if (recorded) return recorded;
    const engine = this.engine(plan);
    const t0 = performance.now();
    const snap = this.snapshot;
    const suffix = snap !== undefined && snap.prefix.every((sig, i) => engine.steps[i] !== undefined && stepSignature(engine.steps[i]!) === sig);
    const logits = suffix ? await engine.runFrom(snap) : await engine.runAll(this.images, { batchSize: this.options.batchSize });
    const seconds = (performance.now() - t0) / 1000;
    if (suffix) {
      this.time.suffixSeconds += seconds;
      this.time.suffixRuns++;
      if (this.time.suffixRuns % SAMPLE_EVERY === 1) await this.sampleWholeRun(engine, logits, seconds);
    } else {
      this.time.wholeSeconds += seconds;
      this.time.wholeRuns++;
    }
    const m: Measured = { ...measure(this.ref, logits), discordant: discordantPairs(this.ref, this.ref.fp32, logits) };
    this.journal.record(key, hash, m);
    return m;
  }

  private async sampleWholeRun(engine: Engine, suffixLogits: Float32Array, suffixSeconds: number): Promise<void> {
    const t0 = performance.now();
    const whole = await engine.runAll(this.images, { batchSize: this.options.batchSize });
    this.sample.wholeSeconds += (performance.now() - t0) / 1000;
    this.sample.suffixSeconds += suffixSeconds;
    this.sample.runs++;
    for (let i = 0; i < whole.length; i++) {
      if (whole[i] !== suffixLogits[i]) throw new Error('engine: a suffix run differs from the whole run of the same plan');
    }
  }
}

const SAMPLE_EVERY = 10;
