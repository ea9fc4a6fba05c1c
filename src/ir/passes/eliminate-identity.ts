/** Removes Identity and inference-mode Dropout nodes by rewiring their readers. */
import { Graph } from '../graph';
import { cloneGraph } from '../graph-utils';

/**
 * Graph -> graph without Identity/Dropout. Readers of the node's output read its input instead;
 * when the output is a graph output, the producer of the input is renamed to it (so graph output
 * names survive). A Dropout whose mask output is read is kept.
 */
export function eliminateIdentity(graph: Graph): Graph {
  const g = cloneGraph(graph);
  const graphOutputs = new Set(g.outputs.map((o) => o.name));
  for (const node of [...g.nodes]) {
    if (node.op !== 'Identity' && node.op !== 'Dropout') continue;
    const [src, dst, mask] = [node.inputs[0] ?? '', node.outputs[0] ?? '', node.outputs[1]];
    if (mask && g.nodes.some((n) => n.inputs.includes(mask))) continue;
    const producer = g.nodes.find((n) => n.outputs.includes(src));
    if (graphOutputs.has(dst)) {
      // Keep the output name: rename the producer's output instead, if that is safe.
      if (!producer || graphOutputs.has(src)) continue;
      producer.outputs = producer.outputs.map((o) => (o === src ? dst : o));
      for (const n of g.nodes) n.inputs = n.inputs.map((i) => (i === src ? dst : i));
    } else {
      for (const n of g.nodes) n.inputs = n.inputs.map((i) => (i === dst ? src : i));
    }
    g.nodes = g.nodes.filter((n) => n !== node);
  }
  return g;
}
