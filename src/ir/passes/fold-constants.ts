/**
 * Constant folding and shape arithmetic: nodes whose inputs are all constants are evaluated
 * (src/ir/passes/fold-ops.ts) and become initializers; `Shape` folds from inferred shapes.
 */
import { LayerqError, quote } from '../../errors';
import { DType, Dim, Graph, Node, Tensor } from '../graph';
import { makeTensor } from '../dtype';
import { cloneGraph, removeDeadCode } from '../graph-utils';
import { evalNode } from './fold-ops';
import { inferNode } from './shape-rules';

/**
 * Graph -> graph with constant subgraphs folded into initializers (dead constants removed).
 *
 * Walks the nodes in topological order, tracking shapes (with symbolic dims) as it goes, so
 * `Shape` of a runtime tensor folds: static dims become numbers, symbolic ones the unknown-dim
 * sentinel NaN. Downstream arithmetic over static entries (Gather of the channel dim, Mul, Sub)
 * folds normally. A sentinel that still reaches a runtime node (or a graph output) after folding
 * raises LayerqError UNSUPPORTED_OP naming the node: layerq does not execute shape computations
 * over the symbolic batch.
 *
 * One exception, for PyTorch's `x.view(x.size(0), -1)`: each sentinel remembers which symbolic
 * dim it came from (a parallel "tag" tensor carried through the data-moving ops). A Reshape
 * target whose sentinel at position i is the input's own symbolic dim i gets 0 there (ONNX:
 * copy the input dim), which makes it a constant like any other.
 */
export function foldConstants(graph: Graph): Graph {
  const g = cloneGraph(graph);
  const shapes = new Map<string, { dtype: DType; shape: Dim[] }>();
  for (const v of g.inputs) shapes.set(v.name, { dtype: v.dtype, shape: v.shape });
  const shapeOf = (name: string): { dtype: DType; shape: Dim[] } | undefined => {
    const t = g.initializers.get(name);
    return t ? { dtype: t.dtype, shape: t.dims } : shapes.get(name);
  };
  const constOf = (name: string): Tensor | undefined => g.initializers.get(name);

  const tags = new Map<string, Tensor>();
  const symbols: string[] = [''];
  const kept: Node[] = [];
  for (const node of g.nodes) {
    const folded = foldNode(node, shapeOf, constOf);
    if (folded) {
      folded.forEach((t, i) => {
        const name = node.outputs[i];
        if (name) g.initializers.set(name, t);
      });
      const tag = tagOf(node, shapeOf, constOf, tags, symbols);
      if (tag && node.outputs[0]) tags.set(node.outputs[0], tag);
      continue;
    }
    if (node.op === 'Reshape') resolveSymbolicReshape(g, node, shapeOf, tags, symbols);
    kept.push(node);
    try {
      for (const v of inferNode(node, shapeOf, constOf) ?? []) if (v.name) shapes.set(v.name, v);
    } catch {
      // Inconsistent shapes are reported by inferShapes; folding only needs what it can get.
    }
  }
  g.nodes = kept;
  removeDeadCode(g);
  for (const [name, t] of g.initializers) {
    g.values.set(name, { name, dtype: t.dtype, shape: [...t.dims] });
  }
  assertNoUnknownDims(g);
  return g;
}

function foldNode(
  node: Node,
  shapeOf: (n: string) => { dtype: DType; shape: Dim[] } | undefined,
  constOf: (n: string) => Tensor | undefined,
): Tensor[] | undefined {
  if (node.op === 'Shape') {
    const s = shapeOf(node.inputs[0] ?? '');
    if (!s) return undefined;
    const r = s.shape.length;
    const clampIdx = (v: number): number => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
    const start = clampIdx(typeof node.attrs.start === 'number' ? node.attrs.start : 0);
    const end = clampIdx(typeof node.attrs.end === 'number' ? node.attrs.end : r);
    const dims = s.shape.slice(start, end).map((d) => (typeof d === 'number' ? d : NaN));
    return [makeTensor('int64', [dims.length], dims)];
  }
  if (node.op === 'Size') {
    const s = shapeOf(node.inputs[0] ?? '');
    if (!s || s.shape.some((d) => typeof d !== 'number')) return undefined;
    return [makeTensor('int64', [], [(s.shape as number[]).reduce((p, q) => p * q, 1)])];
  }
  const inputs = node.inputs.map((i) => (i ? constOf(i) : undefined));
  if (node.inputs.some((name, k) => name && !inputs[k])) return undefined;
  try {
    return evalNode(node, inputs);
  } catch (e) {
    const why = e instanceof LayerqError ? e.message : quote((e as Error).message, 200);
    throw new LayerqError(e instanceof LayerqError && e.code === 'TOO_LARGE' ? 'TOO_LARGE' : 'BAD_MODEL', `cannot evaluate constant node ${quote(node.name, 80)} (${quote(node.op, 40)}): ${why}`);
  }
}

/** Ops that only move elements: a tag tensor goes through them like the data does. */
const MOVES = new Set(['Gather', 'Unsqueeze', 'Squeeze', 'Concat', 'Slice', 'Reshape', 'Identity', 'Cast', 'Flatten', 'Transpose', 'Expand']);

/**
 * The provenance tags of a folded int64 output: per element, the 1-based index in `symbols` of
 * the symbolic dim it holds, 0 for anything else.
 */
function tagOf(
  node: Node,
  shapeOf: (n: string) => { dtype: DType; shape: Dim[] } | undefined,
  constOf: (n: string) => Tensor | undefined,
  tags: Map<string, Tensor>,
  symbols: string[],
): Tensor | undefined {
  if (node.op === 'Shape') {
    const s = shapeOf(node.inputs[0] ?? '')?.shape ?? [];
    if (s.every((d) => typeof d === 'number')) return undefined;
    const probe = foldNode({ ...node, op: 'Shape' }, (n) => (n === node.inputs[0] ? { dtype: 'float32', shape: s.map((_, i) => i) } : undefined), constOf);
    const picked = Array.from(probe?.[0]?.data ?? [], (i) => s[i] as Dim);
    return makeTensor('int64', [picked.length], picked.map((d) => {
      if (typeof d === 'number') return 0;
      if (!symbols.includes(d)) symbols.push(d);
      return symbols.indexOf(d);
    }));
  }
  if (!MOVES.has(node.op) || (node.op === 'Cast' && node.attrs.to !== 7)) return undefined;
  const data = node.op === 'Concat' ? node.inputs : node.inputs.slice(0, 1);
  if (!data.some((i) => tags.has(i))) return undefined;
  const inputs = node.inputs.map((i, k) => {
    const t = constOf(i);
    if (!t || k >= data.length) return t;
    return tags.get(i) ?? makeTensor('int64', t.dims, new Array<number>(t.data.length).fill(0));
  });
  try {
    return evalNode(node.op === 'Cast' ? { ...node, op: 'Identity' } : node, inputs)?.[0];
  } catch {
    return undefined;
  }
}

/** Replaces a Reshape target whose sentinels are the input's own symbolic dims by 0s there. */
function resolveSymbolicReshape(
  g: Graph,
  node: Node,
  shapeOf: (n: string) => { dtype: DType; shape: Dim[] } | undefined,
  tags: Map<string, Tensor>,
  symbols: string[],
): void {
  const targetName = node.inputs[1] ?? '';
  const target = g.initializers.get(targetName);
  const tag = tags.get(targetName);
  const input = shapeOf(node.inputs[0] ?? '')?.shape;
  if (!target || !tag || !input || node.attrs.allowzero === 1) return;
  const values = Array.from(target.data);
  for (const [i, v] of values.entries()) {
    if (!Number.isNaN(v)) continue;
    const sym = symbols[tag.data[i] as number];
    if (!sym || input[i] !== sym) return;
    values[i] = 0;
  }
  let name = `${targetName}_resolved`;
  while (g.initializers.has(name)) name += '_';
  g.initializers.set(name, makeTensor('int64', target.dims, values));
  node.inputs = [node.inputs[0] ?? '', name];
}

/** Throws when a folded value holding the unknown-dim sentinel is read at run time. */
function assertNoUnknownDims(g: Graph): void {
  const unknown = (name: string): boolean => {
    const t = g.initializers.get(name);
    return !!t && t.dtype === 'int64' && t.data.some((v) => Number.isNaN(v));
  };
  for (const n of g.nodes) {
    const bad = n.inputs.find(unknown);
    if (bad) {
      throw new LayerqError(
        'UNSUPPORTED_OP',
        `unsupported ONNX op ${quote(n.op, 60)} (node ${quote(n.name, 80)}): its input ${quote(bad, 80)} is computed from a symbolic (batch) dimension; layerq folds shape arithmetic over static dimensions only`,
      );
    }
  }
  const out = g.outputs.find((o) => unknown(o.name));
  if (out) {
    throw new LayerqError('UNSUPPORTED_OP', `graph output '${out.name}' is computed from a symbolic (batch) dimension`);
  }
}
