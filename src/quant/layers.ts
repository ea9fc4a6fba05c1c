/**
 * Quantization units ("layers"): each Conv with the Relu/Clip after it, a Conv alone, and each
 * Gemm/MatMul with a constant weight. And the activation tensors a plan quantizes.
 */
import { Graph, Node } from '../ir/graph';
import { fusableActivation } from '../ir/fusion';
import { consumers as consumersOf } from '../ir/graph-utils';

export interface Layer {
  /** The Conv/Gemm node's name; stable key of the plan. */
  id: string;
  kind: 'conv' | 'gemm';
  node: Node;
  /** The fused Relu/Clip, if any. */
  activation?: Node;
  /** Activation tensor read. */
  input: string;
  /** Tensor produced (after the fused activation). */
  output: string;
  weight: string;
  bias?: string;
  /** Output-channel axis of the weight tensor (per-channel quantization axis). */
  weightAxis: number;
  /** Output channels. */
  channels: number;
  /** Multiply-accumulates per image. */
  macs: number;
}

/** Layers in topological order. */
export function findLayers(graph: Graph): Layer[] {
  const consumers = consumersOf(graph);
  const layers: Layer[] = [];
  for (const node of graph.nodes) {
    const isConv = node.op === 'Conv';
    const isGemm = node.op === 'Gemm' || node.op === 'MatMul';
    if (!isConv && !isGemm) continue;
    const weight = graph.initializers.get(node.inputs[1]!);
    if (!weight) continue; // a product of two activations is not a weight layer
    const act = fusableActivation(graph, node, consumers);
    const transB = node.op === 'Gemm' && node.attrs['transB'] === 1;
    const weightAxis = isConv || transB ? 0 : 1;
    const channels = weight.dims[weightAxis]!;
    const outShape = graph.values.get(node.outputs[0]!)?.shape ?? [];
    const spatial = isConv ? Number(outShape[2] ?? 1) * Number(outShape[3] ?? 1) : 1;
    const perOutput = weight.data.length / channels;
    layers.push({
      id: node.name,
      kind: isConv ? 'conv' : 'gemm',
      node,
      ...(act ? { activation: act } : {}),
      input: node.inputs[0]!,
      output: act ? act.outputs[0]! : node.outputs[0]!,
      weight: node.inputs[1]!,
      ...(node.inputs[2] ? { bias: node.inputs[2] } : {}),
      weightAxis,
      channels,
      macs: channels * perOutput * (Number.isFinite(spatial) ? spatial : 1),
    });
  }
  return layers;
}

/**
 * Where activations are quantized.
 * - 'float-residual': only the inputs of quantized layers; residual Adds, pooling and the rest
 *   run in float (what CPU and GPU deployments use).
 * - 'full-integer': every tensor between quantized ops too (layer outputs, Add and pooling
 *   outputs), as integer-only NPUs need; only the model's output stays float.
 */
export type ActivationScope = 'float-residual' | 'full-integer';

/**
 * Ops whose output gets its own quantization in full-integer mode. Data movement (Flatten,
 * Reshape, Slice, Pad, MaxPool...) keeps its input's codes and needs none.
 */
const INTEGER_FRIENDLY = new Set(['Add', 'Mul', 'GlobalAveragePool', 'AveragePool', 'Concat', 'Relu', 'Clip', 'Sigmoid', 'HardSigmoid', 'HardSwish']);

/** Names of the activation tensors to quantize, in graph order. */
export function quantizedTensors(graph: Graph, layers: readonly Layer[], scope: ActivationScope, floatLayers: ReadonlySet<string> = new Set()): string[] {
  const set = new Set<string>();
  const active = layers.filter((l) => !floatLayers.has(l.id));
  for (const l of active) set.add(l.input);
  if (scope === 'full-integer') {
    const graphOutputs = new Set(graph.outputs.map((o) => o.name));
    for (const l of active) if (!graphOutputs.has(l.output)) set.add(l.output);
    for (const node of graph.nodes) {
      const out = node.outputs[0]!;
      if (INTEGER_FRIENDLY.has(node.op) && !graphOutputs.has(out) && !layers.some((l) => l.output === out)) set.add(out);
    }
  }
  // Graph order: inputs first, then node outputs as produced.
  const order = [...graph.inputs.map((i) => i.name), ...graph.nodes.flatMap((n) => n.outputs)];
  return order.filter((n) => set.has(n));
}
