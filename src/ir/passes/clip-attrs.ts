/**
 * Parameters that later opsets moved to inputs, back as attributes whatever the opset, so later
 * code reads one form: Clip's `min` / `max`, ReduceMean's `axes` (an input from opset 18).
 */
import { Graph } from '../graph';
import { cloneGraph, removeDeadCode } from '../graph-utils';

/**
 * Graph -> graph where every Clip with constant min/max inputs (opset >= 11) carries them as
 * number attributes `min` / `max` and has the single input x. An absent bound stays absent
 * (unbounded). A Clip with a non-constant bound is left as is (checkSupported rejects it).
 * `src/onnx/save.ts` turns the attributes back into inputs for opset >= 11. Likewise a
 * ReduceMean with a constant `axes` input (opset >= 18) gets it as the attribute `axes` (an
 * empty list stays empty: all axes, as an absent input); save.ts writes it back for 18+.
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
  for (const n of g.nodes) {
    if (n.op !== 'ReduceMean' || n.inputs.length <= 1) continue;
    const axes = n.inputs[1] ? g.initializers.get(n.inputs[1]) : undefined;
    if (n.inputs[1] && !axes) continue; // runtime axes: checkSupported rejects it
    if (axes) n.attrs.axes = Array.from(axes.data as ArrayLike<number>, Number);
    n.inputs = [n.inputs[0] ?? ''];
  }
  removeDeadCode(g);
  return g;
}
