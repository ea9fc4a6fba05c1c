/**
 * QDQ activations at run time. Every QDQ exporter (layerq's writer, ONNX Runtime's
 * quantize_static, NNCF, TensorRT's toolkit) marks a quantized activation `x` as
 * `DequantizeLinear(QuantizeLinear(x, s, z), s, z)` with per-tensor constants. This pass turns
 * each such QuantizeLinear and its DequantizeLinear readers into ONE node of the layerq-internal
 * op `FakeQuantize` (x -> DQ(Q(x)), float32 in and out), which the engine runs as one
 * fake-quantize step (src/engine/lower-f32.ts). Weight and bias DequantizeLinear nodes are not
 * its business: they read constants and foldConstants has already folded them to float.
 *
 * `FakeQuantize` attributes: `scale` (float32), `zeroPoint`, `qmin`/`qmax` (the whole range of
 * the zero point's type: uint8 [0, 255], int8 [-128, 127], uint4 [0, 15], int4 [-8, 7]) and
 * `quantType` (that type's name). It is not an ONNX op: it lives only in prepared graphs, which
 * are never written back (the QDQ writer builds its own Q/DQ pairs from a plan, and `saveModel`
 * must never be handed a graph holding an op of INTERNAL_OPS).
 */
import { DType, Graph, Node, Tensor } from '../graph';
import { quantRange } from '../dtype';
import { cloneGraph, consumers, removeDeadCode, renameUses } from '../graph-utils';
import { QdqParams, qdqParams, quantizeOutputDType } from './qdq-params';

export const FAKE_QUANTIZE = 'FakeQuantize';

/** Ops that passes create for the engine and that have no ONNX counterpart. */
export const INTERNAL_OPS: ReadonlySet<string> = new Set([FAKE_QUANTIZE]);

/**
 * Graph -> graph with each supported runtime Q -> DQ pattern replaced by a `FakeQuantize` node
 * (named after the QuantizeLinear; its output is a DequantizeLinear's output, the other
 * DequantizeLinear outputs are renamed to it). A QuantizeLinear qualifies when its input is
 * computed at run time, its scale and zero point are per-tensor constants (scale positive and
 * finite, type int4/uint4/int8/uint8), its output is not a graph output, and every reader is a
 * DequantizeLinear with equal scale and zero point. Anything else is left in place for
 * checkSupported to report (see `qdqProblem`). Run after foldConstants.
 */
export function fuseQdqPairs(graph: Graph): Graph {
  const g = cloneGraph(graph);
  const readers = consumers(g);
  const graphOutputs = new Set(g.outputs.map((o) => o.name));
  const fusedReaders = new Set<Node>();
  const nodes: Node[] = [];
  for (const node of g.nodes) {
    if (fusedReaders.has(node)) continue;
    const match = node.op === 'QuantizeLinear' ? matchPair(g, node, readers) : undefined;
    if (!match || 'problem' in match) {
      nodes.push(node);
      continue;
    }
    const { params, dequantizers } = match;
    const attrs = {
      scale: params.scale[0]!,
      zeroPoint: params.zero[0]!,
      ...quantRange(params.dtype),
      quantType: params.dtype,
    };
    const input = node.inputs[0]!;
    const primary = dequantizers.find((d) => graphOutputs.has(d.outputs[0]!)) ?? dequantizers[0]!;
    nodes.push({ name: node.name, op: FAKE_QUANTIZE, inputs: [input], outputs: [primary.outputs[0]!], attrs });
    for (const dq of dequantizers) {
      fusedReaders.add(dq);
      const out = dq.outputs[0]!;
      if (dq === primary) continue;
      // A second graph output keeps its name with its own (identical) node; others read the primary.
      if (graphOutputs.has(out)) nodes.push({ name: dq.name, op: FAKE_QUANTIZE, inputs: [input], outputs: [out], attrs: { ...attrs } });
      else renameUses(g, out, primary.outputs[0]!);
    }
  }
  g.nodes = nodes;
  removeDeadCode(g);
  return g;
}

/**
 * Why a QuantizeLinear or DequantizeLinear node left in a prepared graph cannot run (one
 * sentence, for checkSupported's UNSUPPORTED_OP message).
 */
export function qdqProblem(g: Graph, node: Node): string {
  const readers = consumers(g);
  if (node.op === 'QuantizeLinear') {
    const m = matchPair(g, node, readers);
    return 'problem' in m ? m.problem : 'a QuantizeLinear -> DequantizeLinear pair that was not fused';
  }
  const src = node.inputs[0] ?? '';
  const x = g.initializers.get(src);
  if (x) {
    const p = constantParams(g, node, x.dtype, x.dims);
    return typeof p === 'string' ? p : 'a DequantizeLinear on constants that was not folded';
  }
  const producer = g.nodes.find((n) => n.outputs.includes(src));
  if (producer?.op === 'QuantizeLinear') {
    const m = matchPair(g, producer, readers);
    if ('problem' in m) return `its input comes from '${producer.name}' (QuantizeLinear), which cannot run: ${m.problem}`;
  }
  const from = producer ? `'${producer.name}' (${producer.op})` : 'a graph input';
  return `its input '${src}' comes from ${from}; at run time layerq runs DequantizeLinear only right after a matching QuantizeLinear`;
}

/** A float32 value as written (0.04, not 0.03999999910593033). */
const f32 = (v: number): number => Number(v.toPrecision(7));

type Match = { params: QdqParams; dequantizers: Node[] } | { problem: string };

/** Whether `q` and its readers form the supported pattern, and if not, why. */
function matchPair(g: Graph, q: Node, readers: Map<string, Node[]>): Match {
  const input = q.inputs[0] ?? '';
  if (g.initializers.has(input)) return { problem: `QuantizeLinear of the constant '${input}' could not be folded` };
  const zp = g.initializers.get(q.inputs[2] ?? '');
  const params = runtimeParams(g, q, quantizeOutputDType(q, zp?.dtype));
  if (typeof params === 'string') return { problem: params };
  const out = q.outputs[0] ?? '';
  if (g.outputs.some((o) => o.name === out)) return { problem: `its output '${out}' is a graph output` };
  const users = readers.get(out) ?? [];
  if (users.length === 0) return { problem: `its output '${out}' is not read` };
  const pattern = 'layerq runs QuantizeLinear only when every reader is a DequantizeLinear with the same scale and zero point';
  for (const r of users) {
    if (r.op !== 'DequantizeLinear' || r.inputs[0] !== out) return { problem: `its output '${out}' is read by '${r.name}' (${r.op}); ${pattern}` };
    const d = runtimeParams(g, r, params.dtype);
    if (typeof d === 'string') return { problem: `its reader '${r.name}' (DequantizeLinear): ${d}` };
    if (d.scale[0] !== params.scale[0] || d.zero[0] !== params.zero[0]) {
      return {
        problem: `its reader '${r.name}' (DequantizeLinear) has scale ${f32(d.scale[0]!)} and zero point ${d.zero[0]}, not ${f32(params.scale[0]!)} and ${params.zero[0]}; ${pattern}`,
      };
    }
  }
  return { params, dequantizers: users };
}

/** Per-tensor constant parameters of a Q/DQ on a run-time tensor, or why there are none. */
function runtimeParams(g: Graph, node: Node, dtype: DType): QdqParams | string {
  const p = constantParams(g, node, dtype, []);
  if (typeof p === 'string') return p;
  const s = p.scale[0]!;
  if (!(s > 0) || !Number.isFinite(s)) return `scale ${f32(s)} must be positive and finite`;
  if (p.dtype === 'int32') return 'int32 quantization of a run-time tensor is not supported (int4, uint4, int8, uint8)';
  return p;
}

/** The node's parameters from constant scale / zero point; per-channel only with `xDims`. */
function constantParams(g: Graph, node: Node, dtype: DType, xDims: readonly number[]): QdqParams | string {
  const [scaleName, zpName] = [node.inputs[1] ?? '', node.inputs[2] ?? ''];
  const scale: Tensor | undefined = g.initializers.get(scaleName);
  if (!scale) return `its scale '${scaleName}' must be a constant`;
  const zero = zpName ? g.initializers.get(zpName) : undefined;
  if (zpName && !zero) return `its zero point '${zpName}' must be a constant`;
  if (scale.data.length !== 1 && xDims.length === 0) {
    return 'per-channel quantization of a run-time tensor is not supported (per-tensor only)';
  }
  try {
    return qdqParams(node, dtype, xDims, scale, zero);
  } catch (e) {
    return (e as Error).message;
  }
}
