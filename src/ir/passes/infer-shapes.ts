/** Shape inference over the whole graph: fills `graph.values` for every value. */
import { LayerqError } from '../../errors';
import { Graph, ValueInfo } from '../graph';
import { cloneGraph } from '../graph-utils';
import { inferNode } from './shape-rules';

/**
 * Graph -> graph with `values` holding the dtype and shape of every graph input, initializer and
 * node output (symbolic dims, such as the batch 'batch', preserved as strings). Graph outputs
 * with a declared shape keep it; those declared without a rank get the inferred one.
 *
 * With `strict` (the default), a node whose outputs cannot be inferred (an op without a rule, a
 * non-constant Reshape target) or whose input shapes are inconsistent raises LayerqError
 * BAD_MODEL naming the node; without it such values are left out.
 */
export function inferShapes(graph: Graph, strict = true): Graph {
  const g = cloneGraph(graph);
  const values = new Map<string, ValueInfo>();
  for (const v of g.inputs) values.set(v.name, { ...v, shape: [...v.shape] });
  for (const [name, t] of g.initializers) values.set(name, { name, dtype: t.dtype, shape: [...t.dims] });
  const shapeOf = (name: string): ValueInfo | undefined => values.get(name);
  const constOf = (name: string) => g.initializers.get(name);
  for (const n of g.nodes) {
    let outs: ValueInfo[] | undefined;
    try {
      outs = inferNode(n, shapeOf, constOf);
    } catch (e) {
      throw new LayerqError('BAD_MODEL', `inconsistent shapes at node '${n.name}' (${n.op}): ${(e as Error).message}`);
    }
    if (!outs && strict) {
      const shown = n.inputs.map((i) => `${i}: ${values.has(i) ? `[${values.get(i)?.shape.join(', ')}]` : '?'}`);
      throw new LayerqError('BAD_MODEL', `cannot infer the output shape of node '${n.name}' (${n.op}) from inputs ${shown.join('; ')}`);
    }
    for (const v of outs ?? []) if (v.name) values.set(v.name, v);
  }
  g.values = values;
  g.outputs = g.outputs.map((o) => {
    const v = values.get(o.name);
    return v && o.shape.length === 0 ? { ...o, shape: [...v.shape], dtype: v.dtype } : o;
  });
  return g;
}
