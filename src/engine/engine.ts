/**
 * layerq's FP32 engine: compiles a prepared graph into steps on the addon's kernels and runs it
 * batch by batch. Quantized modes build on the same runtime (see ./quantized.ts).
 */
import { Graph, Model } from '../ir/graph';
import type { Layer } from '../quant/layers';
import { PLAN_VERSION, QuantPlan } from '../quant/plan';
import { LowerOptions, QuantMode, StepCache, firstDifference, lowerQuantized, stepSignature } from './quantized';
import { fuseBlocks, fuseResiduals } from './lower-f32';
import { Program, Step, Value } from './runtime';

/** Ops of steps that fuse others whose intermediates are never written (no `observe`). */
const FUSED_OPS = new Set(['ConvBlock', 'ConvAdd', 'QConv+Add+QuantizeLinear']);

/**
 * FP32 steps for a whole graph (Conv/Gemm/Add + Relu/Clip fused, slice chains as one copy): the
 * quantized lowering under a plan that quantizes nothing, so both modes share one loop.
 */
export function lowerGraphF32(model: Model, options: Fp32Options = {}): Step[] {
  const nothing: QuantPlan = { version: PLAN_VERSION, scope: 'float-residual', activations: {}, layers: [] };
  const steps = lowerQuantized(model, [], nothing, 'sim');
  if (!options.inference) return steps;
  const keep = new Set(model.graph.outputs.map((o) => o.name));
  return fuseResiduals(fuseBlocks(model.graph, steps, keep), keep);
}

export interface Fp32Options {
  /**
   * Inference only: run MobileNet-style inverted-residual blocks on large maps as one step each
   * (fuseBlocks) and residual Adds inside the conv before them (fuseResiduals): the same
   * logits, faster, but the fused-away intermediates are never written, so such an engine
   * cannot `observe` (calibration builds its own without it).
   */
  inference?: boolean;
}

/**
 * Images a batch for an input of `shape` ([N, ...] with static image dims): the largest power
 * of two up to 64 whose input stays within 4 Mi floats (64 at 32x32, 16 at 224x224), which
 * keeps the activations of a batch (and so peak memory) bounded as images grow.
 */
export function defaultBatchSize(shape: readonly (number | string)[]): number {
  const per = shape.slice(1).reduce<number>((p, d) => p * (typeof d === 'number' ? d : 1), 1);
  let n = 64;
  while (n > 1 && n * per > 2 ** 22) n /= 2;
  return n;
}

export interface RunBatchesOptions {
  batchSize?: number;
  /** Called after each batch with the number of images done. */
  onProgress?: (done: number, total: number) => void;
}

/** A batched image source: an ImageSet, or anything with the same view. */
export interface BatchSource {
  readonly count: number;
  batch(start: number, size: number): { data: Float32Array; count: number };
}

/**
 * The values live before step `at` of a program, for every batch of an image source: a cached
 * prefix. Its buffers are owned by the snapshot (never recycled by a run), so one snapshot feeds
 * any number of suffix runs of any program whose first `at` steps have the same signatures.
 */
export interface Snapshot {
  readonly at: number;
  /** Signatures of the steps [0, at) it was computed with. */
  readonly prefix: readonly string[];
  readonly count: number;
  readonly batches: readonly { count: number; values: ReadonlyMap<string, Value> }[];
  /** Bytes held. */
  readonly bytes: number;
}

function cloneValue(v: Value): Value {
  return v.kind === 'f32' ? { kind: 'f32', data: v.data.slice(), dims: [...v.dims] } : { kind: 'u8', data: v.data.slice(), dims: [...v.dims] };
}

export class Engine {
  readonly inputName: string;
  readonly outputName: string;
  readonly inputShape: readonly (number | string)[];
  readonly classCount: number;

  constructor(readonly program: Program, graph: Graph) {
    this.inputName = graph.inputs[0]!.name;
    this.outputName = graph.outputs[0]!.name;
    this.inputShape = graph.inputs[0]!.shape;
    const outShape = graph.outputs[0]!.shape;
    this.classCount = Number(outShape[outShape.length - 1]);
  }

  /** Compiles a prepared model (see prepareModel) for FP32 execution. */
  static fp32(model: Model, options: Fp32Options = {}): Engine {
    const graph = model.graph;
    return new Engine(new Program(lowerGraphF32(model, options), new Set([graph.outputs[0]!.name])), graph);
  }

  /** Runs one batch x [n, C, H, W]; returns the logits [n, classes] (a fresh array). */
  async run(x: Float32Array, n: number): Promise<Float32Array> {
    const dims = [n, ...this.inputShape.slice(1).map(Number)];
    const values = new Map<string, Value>([[this.inputName, { kind: 'f32', data: x, dims }]]);
    await this.program.run(values);
    const out = values.get(this.outputName);
    if (!out || out.kind !== 'f32') throw new Error(`engine: output '${this.outputName}' was not produced`);
    const logits = out.data.slice(0, n * this.classCount);
    this.program.recycle(out);
    return logits;
  }

  /** Frees the activation buffers kept for the next batch (runAll does it when done). */
  releaseBuffers(): void {
    this.program.releaseBuffers();
  }

  /** Logits for every image of `source`, [count, classes]; the activation buffers are freed after. */
  async runAll(source: BatchSource, options: RunBatchesOptions = {}): Promise<Float32Array> {
    const batchSize = options.batchSize ?? defaultBatchSize(this.inputShape);
    const logits = new Float32Array(source.count * this.classCount);
    try {
      for (let start = 0; start < source.count; start += batchSize) {
        const b = source.batch(start, Math.min(batchSize, source.count - start));
        logits.set(await this.run(b.data, b.count), start * this.classCount);
        options.onProgress?.(start + b.count, source.count);
      }
    } finally {
      this.program.releaseBuffers(); // bounded memory: an engine between passes holds nothing
    }
    return logits;
  }

  /** The compiled steps (read-only: compare programs with firstDifference). */
  get steps(): readonly Step[] {
    return this.program.steps;
  }

  private inputValues(b: { data: Float32Array; count: number }): Map<string, Value> {
    const dims = [b.count, ...this.inputShape.slice(1).map(Number)];
    return new Map<string, Value>([[this.inputName, { kind: 'f32', data: b.data, dims }]]);
  }

  /**
   * Runs every image of `source`; `observe` sees the input and every value a step writes, before
   * dead values are recycled (it must copy what it keeps). Calibration statistics use it.
   */
  async observe(source: BatchSource, observe: (name: string, value: Value) => void | Promise<void>, options: RunBatchesOptions = {}): Promise<void> {
    const fused = this.program.steps.find((s) => FUSED_OPS.has(s.op));
    if (fused) throw new Error(`engine: step '${fused.name}' (${fused.op}) fuses steps whose intermediates are never written; observe an engine built without { inference: true } (FP32) or with { fuseResiduals: false } (int)`);
    const batchSize = options.batchSize ?? 64;
    for (let start = 0; start < source.count; start += batchSize) {
      const values = this.inputValues(source.batch(start, Math.min(batchSize, source.count - start)));
      for (const [name, v] of values) await observe(name, v);
      await this.program.run(values, 0, this.program.steps.length, observe);
      const out = values.get(this.outputName);
      if (out) this.program.recycle(out);
      options.onProgress?.(Math.min(start + batchSize, source.count), source.count);
    }
  }

  /** Bytes a snapshot before step `at` would hold for `images` images (measured on one image). */
  async snapshotBytes(source: BatchSource, at: number): Promise<number> {
    const one = await this.snapshot({ count: 1, batch: (s, n) => source.batch(s, n) }, at);
    return one.bytes * source.count;
  }

  /** Runs steps [0, at) on every batch of `source` and keeps the values live before step `at`. */
  async snapshot(source: BatchSource, at: number, options: RunBatchesOptions = {}): Promise<Snapshot> {
    if (!Number.isInteger(at) || at < 0 || at > this.program.steps.length) throw new RangeError(`Expected step index in [0, ${this.program.steps.length}] for at but received ${at}`);
    const batchSize = options.batchSize ?? 64;
    const batches: { count: number; values: Map<string, Value> }[] = [];
    let bytes = 0;
    for (let start = 0; start < source.count; start += batchSize) {
      const b = source.batch(start, Math.min(batchSize, source.count - start));
      const live = await this.program.run(this.inputValues(b), 0, at);
      const values = new Map<string, Value>();
      // The input is the source's own view; the rest came from the pool, aliases share a buffer.
      const returned = new Set<ArrayBufferLike>([b.data.buffer]);
      for (const [name, v] of live) {
        const n = v.dims.reduce((x, y) => x * y, 1);
        const copy = cloneValue({ ...v, data: v.data.subarray(0, n) } as Value);
        values.set(name, copy);
        bytes += copy.data.byteLength;
        if (!returned.has(v.data.buffer)) this.program.recycle(v);
        returned.add(v.data.buffer);
      }
      batches.push({ count: b.count, values });
      options.onProgress?.(start + b.count, source.count);
    }
    return { at, prefix: this.program.steps.slice(0, at).map(stepSignature), count: source.count, batches, bytes };
  }

  /**
   * Logits of every image of a snapshot, running only steps [snapshot.at, end). Throws when this
   * program's first steps differ from the snapshot's (its values would not be this program's).
   */
  async runFrom(snapshot: Snapshot): Promise<Float32Array> {
    const steps = this.program.steps;
    const ok = snapshot.at <= steps.length && snapshot.prefix.every((sig, i) => sig === stepSignature(steps[i]!));
    if (!ok) throw new Error('engine: the snapshot was taken with a program whose prefix differs from this one');
    const logits = new Float32Array(snapshot.count * this.classCount);
    let offset = 0;
    for (const b of snapshot.batches) {
      // Suffix steps may write in place (fake-quantize) and recycle what they free: they get copies.
      const values = new Map<string, Value>();
      for (const [name, v] of b.values) values.set(name, this.program.copyIntoPool(v));
      await this.program.run(values, snapshot.at);
      const out = values.get(this.outputName);
      if (!out || out.kind !== 'f32') throw new Error(`engine: output '${this.outputName}' was not produced`);
      logits.set(out.data.subarray(0, b.count * this.classCount), offset);
      offset += b.count * this.classCount;
      this.program.recycle(out);
    }
    return logits;
  }
}

/** Where two engines of the same model start to differ (see firstDifference). */
export function divergence(a: Engine, b: Engine): number {
  return firstDifference(a.steps, b.steps);
}

/**
 * An engine executing `plan` on `model` (prepared) in `mode` (see ./quantized.ts). Steps found in
 * `cache` (by signature) are reused, so engines of plans that differ in one layer share the rest.
 */
export function quantizedEngine(model: Model, layers: readonly Layer[], plan: QuantPlan, mode: QuantMode, cache?: StepCache,
  options: LowerOptions = {}): Engine {
  const steps = lowerQuantized(model, layers, plan, mode, cache, options);
  return new Engine(new Program(steps, new Set(model.graph.outputs.map((o) => o.name))), model.graph);
}
