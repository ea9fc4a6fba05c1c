/**
 * Graph patterns run as one unit: a Conv/Gemm/Add with the Relu/Clip after it (the engine's fused
 * step, and the quantization unit "layer"), and a Slice -> Slice ... [-> Pad] chain. Pure
 * functions of the graph: the engine and quant/ both use them, neither owns them.
 */
import { Graph, Node } from './graph';

/** The output bounds of a Relu/Clip node (what a fused clamp applies); undefined for other ops. */
export function activationOf(node: Node): { min: number; max: number } | undefined {
  const num = (name: string, fallback: number): number => {
    const v = node.attrs[name];
    return typeof v === 'number' ? v : fallback;
  };
  if (node.op === 'Relu') return { min: 0, max: Infinity };
  if (node.op === 'Clip') return { min: num('min', -Infinity), max: num('max', Infinity) };
  return undefined;
}

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
