/**
 * layerq's FP32 engine: compiles a prepared graph into steps on the addon's kernels and runs it
 * batch by batch. Quantized modes build on the same runtime (see ./quantized.ts).
 */
import { Graph, Model } from '../ir/graph';
import type { Layer } from '../quant/layers';
import { PLAN_VERSION, QuantPlan } from '../quant/plan';
import { QuantMode, lowerQuantized } from './quantized';
import { Program, Step, Value } from './runtime';

/**
 * FP32 steps for a whole graph (Conv/Gemm/Add + Relu/Clip fused, slice chains as one copy): the
 * quantized lowering under a plan that quantizes nothing, so both modes share one loop.
 */
export function lowerGraphF32(model: Model): Step[] {
  const nothing: QuantPlan = { version: PLAN_VERSION, scope: 'float-residual', activations: {}, layers: [] };
  return lowerQuantized(model, [], nothing, 'sim');
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
  static fp32(model: Model): Engine {
    const graph = model.graph;
    return new Engine(new Program(lowerGraphF32(model), new Set([graph.outputs[0]!.name])), graph);
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
}

/** An engine executing `plan` on `model` (prepared) in `mode` (see ./quantized.ts). */
export function quantizedEngine(model: Model, layers: readonly Layer[], plan: QuantPlan, mode: QuantMode): Engine {
  const steps = lowerQuantized(model, layers, plan, mode);
  return new Engine(new Program(steps, new Set(model.graph.outputs.map((o) => o.name))), model.graph);
}
