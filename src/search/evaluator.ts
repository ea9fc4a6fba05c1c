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
import { AccuracyCondition, LOSS_MARGIN, LossGain, Reference, clearlyWorse, discordantPairs, holds, imageKl, lossGain, measure, subReference } from './measure';

export interface Measured extends Measurement {
  /** Images only FP32 gets right, and only this plan gets right (labels, or FP32 in label-free mode). */
  discordant: [number, number];
  /** Set when the plan was screened out: measured on this many images only (see Evaluator.measure). */
  screened?: number;
  /** Set when measured on the screening sample by request (`sampleOnly`): this many images. */
  sampled?: number;
  /** Set when measured on every image against the plan it would replace (`against`): the per-image loss gained over it. */
  gain?: LossGain;
}

export interface EvaluatorOptions {
  mode: QuantMode;
  batchSize: number;
  /** Largest snapshot kept, bytes; above it trials run the whole model. */
  snapshotBudget: number;
  /** Screening sample: every screenStride-th batch (0 or 1: no screening). */
  screenStride?: number;
}

/** The screening sample: whole batches spread over the set (so over classes, in any order). */
interface ScreenSample {
  /** Whether batch b is in the sample. */
  has: (b: number) => boolean;
  /** The sample's batches and the other batches, each in order (computed once: every trial runs them). */
  batches: number[];
  rest: number[];
  ref: Reference;
  /** Rows of the sample's images in the set. */
  index: number[];
}

export function planHash(plan: QuantPlan): string {
  return createHash('sha256').update(JSON.stringify(plan)).digest('hex').slice(0, 16);
}

export class Evaluator {
  private cache: StepCache = new Map();
  private snapshot: Snapshot | undefined;
  private readonly sample: ScreenSample | undefined;
  /** Per-image losses on the screening sample, by plan hash (recomputed, never journaled). */
  private readonly sampleKl = new Map<string, Float64Array>();
  /** Per-image losses on every image of the last few plans measured whole, by plan hash (recomputed, never journaled). */
  private readonly imageKl = new Map<string, Float64Array>();
  /** Seconds of suffix runs, of whole runs, and how many of each. */
  readonly time = { suffixSeconds: 0, suffixRuns: 0, wholeSeconds: 0, wholeRuns: 0, snapshotSeconds: 0 };
  /**
   * The speed-up of suffix runs, measured in the same run: some suffix runs (`sampleDue`) are
   * followed by a whole run of the same plan (same logits, checked), and both are timed.
   */
  readonly pairs = { suffixSeconds: 0, wholeSeconds: 0, runs: 0 };
  /** Trials screened out, and the seconds they took. */
  readonly screening = { rejected: 0, seconds: 0 };

  constructor(
    private readonly model: Model,
    private readonly layers: readonly Layer[],
    private readonly images: BatchSource,
    readonly ref: Reference,
    private readonly options: EvaluatorOptions,
    private readonly journal: Journal,
  ) {
    this.sample = screenSample(images.count, options.batchSize, options.screenStride ?? 0, ref);
  }

  /** The screening sample's stride in batches and its images (0 and 0: no screening). */
  get screenStride(): number {
    return this.sample ? this.options.screenStride ?? 0 : 0;
  }

  get screenImages(): number {
    return this.sample?.index.length ?? 0;
  }

  /** Measurements taken from a resumed checkpoint instead of run. */
  get replayed(): number {
    return this.journal.replayed;
  }

  engine(plan: QuantPlan | null, mode = this.options.mode): Engine {
    return plan ? quantizedEngine(this.model, this.layers, plan, mode, mode === this.options.mode ? this.cache : undefined) : Engine.fp32(this.model);
  }

  /**
   * `plan` measured with the semantics of the file it exports to (mode 'sim': float kernels on
   * dequantized weights, fake-quantized activations, as layerq and ONNX Runtime's exact QDQ run
   * model.qdq.onnx). Trials run on the int8 engine, which agrees with it on all but a few
   * borderline images; the accuracy condition is confirmed here before the search stops.
   */
  async confirm(plan: QuantPlan): Promise<Measured> {
    if (this.options.mode === 'sim') return this.measure(plan, `confirm/${planHash(plan)}`);
    const key = `confirm/${planHash(plan)}`;
    const recorded = this.journal.recorded(key, planHash(plan));
    if (recorded) return recorded;
    const logits = await this.engine(plan, 'sim').runAll(this.images, { batchSize: this.options.batchSize });
    const m: Measured = { ...measure(this.ref, logits), discordant: discordantPairs(this.ref, this.ref.fp32, logits) };
    this.journal.record(key, planHash(plan), m);
    return m;
  }

  /** Whether `plan`, measured `m` by the trials, meets the condition there and with the file's semantics (confirm). */
  async meets(condition: AccuracyCondition, fp32: Measurement, plan: QuantPlan, m: Measured): Promise<boolean> {
    const n = this.ref.labels.length;
    return holds(condition, fp32, m, n) && holds(condition, fp32, await this.confirm(plan), n);
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

  /**
   * Measures `plan` (null: FP32); `key` names the measurement in the journal. With `against`
   * (the plan this one would replace) and a screening sample, the sample's batches run first:
   * when the per-image losses show the plan clearly not better than `against`
   * (`clearlyWorse`), it is measured on the sample only (`screened`), else the rest runs too
   * and the result is the whole set's, the same as without screening. With `sampleOnly`, the
   * plan is measured on the screening sample alone (`sampled`; the whole set without one).
   */
  async measure(plan: QuantPlan | null, key: string, options: { against?: QuantPlan; sampleOnly?: boolean } = {}): Promise<Measured> {
    const hash = plan ? planHash(plan) : 'fp32';
    const recorded = this.journal.recorded(key, hash);
    if (recorded) return recorded;
    const engine = this.engine(plan);
    const t0 = performance.now();
    const suffix = this.fitsSnapshot(engine);
    const sample = this.sample;
    if (options.sampleOnly && sample) {
      const part = await this.runBatches(engine, sample.batches, suffix);
      const m: Measured = { ...measure(sample.ref, part), discordant: discordantPairs(sample.ref, sample.ref.fp32, part), sampled: sample.index.length };
      this.journal.record(key, hash, m);
      return m;
    }
    let logits: Float32Array;
    if (options.against && sample) {
      const incumbent = await this.sampleLossOf(options.against);
      const part = await this.runBatches(engine, sample.batches, suffix);
      const kl = imageKl(sample.ref, part);
      if (clearlyWorse(kl, incumbent, LOSS_MARGIN)) {
        const m: Measured = { ...measure(sample.ref, part), discordant: discordantPairs(sample.ref, sample.ref.fp32, part), screened: sample.index.length };
        this.screening.rejected++;
        this.screening.seconds += (performance.now() - t0) / 1000;
        this.journal.record(key, hash, m);
        return m;
      }
      logits = this.merge(part, await this.runBatches(engine, sample.rest, suffix));
    } else {
      logits = suffix ? await engine.runFrom(this.snapshot!) : await engine.runAll(this.images, { batchSize: this.options.batchSize });
    }
    const seconds = (performance.now() - t0) / 1000;
    if (suffix) {
      this.time.suffixSeconds += seconds;
      this.time.suffixRuns++;
      if (sampleDue(this.time.suffixRuns)) await this.sampleWholeRun(engine, logits, seconds);
    } else {
      this.time.wholeSeconds += seconds;
      this.time.wholeRuns++;
    }
    const kl = this.keepLoss(hash, logits);
    const gain = options.against && kl.length > 1 ? lossGain(kl, await this.imageLossOf(options.against)) : undefined;
    const m: Measured = { ...measure(this.ref, logits), discordant: discordantPairs(this.ref, this.ref.fp32, logits), ...(gain ? { gain } : {}) };
    this.journal.record(key, hash, m);
    return m;
  }

  /** Whether `engine`'s program starts with the kept snapshot's prefix (step signatures). */
  private fitsSnapshot(engine: Engine): boolean {
    const snap = this.snapshot;
    return snap !== undefined && snap.prefix.every((sig, i) => engine.steps[i] !== undefined && stepSignature(engine.steps[i]!) === sig);
  }

  /** Keeps the per-image losses of a plan measured on every image (and their screening sample's share). */
  private keepLoss(hash: string, logits: Float32Array): Float64Array {
    const kl = imageKl(this.ref, logits);
    if (this.sample) this.sampleKl.set(hash, Float64Array.from(this.sample.index, (i) => kl[i]!));
    this.imageKl.delete(hash);
    this.imageKl.set(hash, kl);
    // An incumbent is one of the last plans measured; a large set's losses are not kept for all.
    for (const old of this.imageKl.keys()) if (this.imageKl.size > KEPT_LOSSES) this.imageKl.delete(old);
    return kl;
  }

  /** Per-image losses of `plan` on every image (from a measurement, or run now: after a resume, or when evicted). */
  private async imageLossOf(plan: QuantPlan): Promise<Float64Array> {
    const hash = planHash(plan);
    const kept = this.imageKl.get(hash);
    if (kept) {
      this.imageKl.delete(hash); // most recently used last: the incumbent of many trials stays
      this.imageKl.set(hash, kept);
      return kept;
    }
    const engine = this.engine(plan);
    const logits = this.fitsSnapshot(engine) ? await engine.runFrom(this.snapshot!) : await engine.runAll(this.images, { batchSize: this.options.batchSize });
    return this.keepLoss(hash, logits);
  }

  /** Per-image losses of `plan` on the screening sample (from a measurement, or run now). */
  private async sampleLossOf(plan: QuantPlan): Promise<Float64Array> {
    const sample = this.sample!;
    const hash = planHash(plan);
    let kl = this.sampleKl.get(hash);
    if (!kl) {
      const engine = this.engine(plan);
      kl = imageKl(sample.ref, await this.runBatches(engine, sample.batches, this.fitsSnapshot(engine)));
      this.sampleKl.set(hash, kl);
    }
    return kl;
  }

  /** Logits of the images of batches `picked` (ascending), in order: from the snapshot (suffix) or whole runs. */
  private async runBatches(engine: Engine, picked: readonly number[], suffix: boolean): Promise<Float32Array> {
    const size = this.options.batchSize;
    if (suffix) {
      const snap = this.snapshot!;
      const batches = picked.map((b) => snap.batches[b]!);
      return engine.runFrom({ ...snap, batches, count: batches.reduce((n, b) => n + b.count, 0) });
    }
    const count = picked.reduce((n, b) => n + Math.min(size, this.images.count - b * size), 0);
    const view: BatchSource = { count, batch: (start) => this.images.batch(picked[start / size]! * size, size) };
    return engine.runAll(view, { batchSize: size });
  }

  /** Logits of the whole set from the sample's batches and the other batches' (each in order). */
  private merge(part: Float32Array, rest: Float32Array): Float32Array {
    const { batchSize } = this.options;
    const k = this.ref.classes;
    const out = new Float32Array(this.images.count * k);
    let a = 0;
    let r = 0;
    for (let b = 0; b * batchSize < this.images.count; b++) {
      const n = Math.min(batchSize, this.images.count - b * batchSize) * k;
      if (this.sample!.has(b)) out.set(part.subarray(a, (a += n)), b * batchSize * k);
      else out.set(rest.subarray(r, (r += n)), b * batchSize * k);
    }
    return out;
  }

  private async sampleWholeRun(engine: Engine, suffixLogits: Float32Array, suffixSeconds: number): Promise<void> {
    const t0 = performance.now();
    const whole = await engine.runAll(this.images, { batchSize: this.options.batchSize });
    this.pairs.wholeSeconds += (performance.now() - t0) / 1000;
    this.pairs.suffixSeconds += suffixSeconds;
    this.pairs.runs++;
    for (let i = 0; i < whole.length; i++) {
      if (whole[i] !== suffixLogits[i]) throw new Error('engine: a suffix run differs from the whole run of the same plan');
    }
  }
}

/** Plans whose per-image losses on every image are kept (the incumbents of the next trials). */
const KEPT_LOSSES = 8;

/**
 * Whether the n-th suffix run (from 1) is followed by a whole run: every 10th of the first 80
 * (8 pairs, enough for the ratio), then every 50th (a check that costs little on long searches).
 */
function sampleDue(n: number): boolean {
  return n <= 80 ? n % 10 === 1 : n % 50 === 1;
}

/**
 * Every stride-th batch of a set of `count` images (batch 0 first); none when that would be
 * fewer than 4 batches (too few images to tell candidates apart).
 */
function screenSample(count: number, batchSize: number, stride: number, ref: Reference): ScreenSample | undefined {
  const batches = Math.ceil(count / batchSize);
  if (stride < 2 || batches < 4 * stride) return undefined;
  const has = (b: number): boolean => b % stride === 0;
  const all = Array.from({ length: batches }, (_, b) => b);
  const index: number[] = [];
  for (let i = 0; i < count; i++) if (has(Math.floor(i / batchSize))) index.push(i);
  return { has, batches: all.filter(has), rest: all.filter((b) => !has(b)), ref: subReference(ref, index), index };
}
