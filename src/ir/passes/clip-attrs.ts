/** Clip bounds as attributes, whatever the opset, so later code reads `attrs.min` / `attrs.max`. */
import { Graph } from '../graph';
import { cloneGraph, removeDeadCode } from '../graph-utils';

/**
 * Graph -> graph where every Clip with constant min/max inputs (opset >= 11) carries them as
 * number attributes `min` / `max` and has the single input x. An absent bound stays absent
 * (unbounded). A Clip with a non-constant bound is left as is (checkSupported rejects it).
 * `src/onnx/save.ts` turns the attributes back into inputs for opset >= 11.
 */
export function clipBoundsToAttrs(graph: Graph): Graph {
  const g = cloneGraph(graph);
  for (const n of g.nodes) {
    if (n.op !== 'Clip' || n.inputs.length <= 1) continue;
    const [lo, hi] = [n.inputs[1] ?? '', n.inputs[2] ?? ''];
    const tlo = lo ? g.initializers.get(lo) : undefined;
    const thi = hi ? g.initializers.get(hi) : undefined;
    if ((lo && !tlo) || (hi && !thi)) continue;
    if (tlo) n.attrs.min = tlo.data[0] as number;
    if (thi) n.attrs.max = thi.data[0] as number;
    n.inputs = [n.inputs[0] ?? ''];
  }
  removeDeadCode(g);
  return g;
}
