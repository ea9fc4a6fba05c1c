/**
 * layerq's FP32 engine: compiles a prepared graph into steps on the addon's kernels and runs it
 * batch by batch. Quantized modes build on the same runtime (see ./quantized.ts).
 */
import { Graph, Model, Node } from '../ir/graph';
import { consumers as consumersOf } from '../ir/graph-utils';
import { activationOf, binaryStep, gemmStep, convStep, lowerNodeF32, sliceChainStep } from './lower-f32';
import { Program, Step, Value } from './runtime';

/**
 * The Relu/Clip that a Conv/Gemm can absorb: its output's only consumer, when that output is
 * not also a graph output.
 */
export function fusableActivation(graph: Graph, node: Node, consumers: Map<string, Node[]>): Node | undefined {
  const next = soleConsumer(graph, node, consumers);
  return next && activationOf(next) ? next : undefined;
}

/** The only node reading `node`'s output, when that output is not also a graph output. */
export function soleConsumer(graph: Graph, node: Node, consumers: Map<string, Node[]>): Node | undefined {
  const out = node.outputs[0]!;
  const users = consumers.get(out) ?? [];
  if (users.length !== 1 || graph.outputs.some((o) => o.name === out)) return undefined;
  return users[0]!;
}

/**
 * The chain Slice -> Slice ... [-> Pad] that starts at a Slice, each link the sole consumer of
 * the one before (see sliceChainStep); just [node] when nothing follows it.
 */
export function sliceChain(graph: Graph, node: Node, consumers: Map<string, Node[]>): Node[] {
  const chain = [node];
  for (let cur = node; cur.op === 'Slice';) {
    const next = soleConsumer(graph, cur, consumers);
    if (!next || (next.op !== 'Slice' && next.op !== 'Pad') || next.inputs[0] !== cur.outputs[0]) break;
    chain.push(next);
    cur = next;
  }
  return chain;
}

/** Ops that take a fused Relu/Clip on their output (the binary kernel's output clamp). */
export const FUSABLE_ELEMENTWISE = new Set(['Add']);

/** FP32 steps for a whole graph, with Conv/Gemm + Relu/Clip fused. */

/** FP32 steps for a whole graph, with Conv/Gemm + Relu/Clip fused. */
export function lowerGraphF32(model: Model): Step[] {
  const { graph } = model;
  const consumers = consumersOf(graph);
  const fused = new Set<Node>();
  const steps: Step[] = [];
  for (const node of graph.nodes) {
    if (fused.has(node)) continue;
    if (node.op === 'Conv' || node.op === 'Gemm' || node.op === 'MatMul') {
      const act = fusableActivation(graph, node, consumers);
      if (act) fused.add(act);
      const output = act ? act.outputs[0]! : node.outputs[0]!;
      const activation = act ? activationOf(act) : undefined;
      steps.push(node.op === 'Conv' ? convStep(graph, node, activation, output) : gemmStep(graph, node, activation, output));
      continue;
    }
    if (FUSABLE_ELEMENTWISE.has(node.op)) {
      const act = fusableActivation(graph, node, consumers);
      if (act) {
        fused.add(act);
        steps.push(binaryStep(graph, node, activationOf(act), act.outputs[0]!));
        continue;
      }
    }
    if (node.op === 'Slice') {
      const chain = sliceChain(graph, node, consumers);
      if (chain.length > 1) {
        for (const n of chain.slice(1)) fused.add(n);
        steps.push(sliceChainStep(graph, chain));
        continue;
      }
    }
    steps.push(lowerNodeF32(graph, node, model.opset));
  }
  return steps;
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

  /** Logits for every image of `source`, [count, classes]. */
  async runAll(source: BatchSource, options: RunBatchesOptions = {}): Promise<Float32Array> {
    const batchSize = options.batchSize ?? 64;
    const logits = new Float32Array(source.count * this.classCount);
    for (let start = 0; start < source.count; start += batchSize) {
      const b = source.batch(start, Math.min(batchSize, source.count - start));
      logits.set(await this.run(b.data, b.count), start * this.classCount);
      options.onProgress?.(start + b.count, source.count);
    }
    return logits;
  }
}
