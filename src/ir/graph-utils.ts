/** Small graph helpers for the passes: copying, use counts, dead-code removal, fresh names. */
import { Graph, Node } from './graph';

/**
 * A copy of `g` that a pass may edit: new node objects, arrays and maps. Tensors are shared;
 * passes replace tensors, never write into them.
 */
export function cloneGraph(g: Graph): Graph {
  return {
    name: g.name,
    nodes: g.nodes.map(cloneNode),
    inputs: g.inputs.map((v) => ({ ...v, shape: [...v.shape] })),
    outputs: g.outputs.map((v) => ({ ...v, shape: [...v.shape] })),
    initializers: new Map(g.initializers),
    values: new Map(g.values),
  };
}

export function cloneNode(n: Node): Node {
  return { name: n.name, op: n.op, inputs: [...n.inputs], outputs: [...n.outputs], attrs: { ...n.attrs } };
}

/** How many node inputs and graph outputs read each value. */
export function useCounts(g: Graph): Map<string, number> {
  const uses = new Map<string, number>();
  const add = (name: string): void => {
    if (name) uses.set(name, (uses.get(name) ?? 0) + 1);
  };
  for (const n of g.nodes) n.inputs.forEach(add);
  for (const o of g.outputs) add(o.name);
  return uses;
}

/** The nodes reading each value. */
export function consumers(g: Graph): Map<string, Node[]> {
  const out = new Map<string, Node[]>();
  for (const n of g.nodes) {
    for (const i of n.inputs) {
      if (!i) continue;
      const list = out.get(i) ?? [];
      if (!list.includes(n)) list.push(n);
      out.set(i, list);
    }
  }
  return out;
}

/** Renames every read of `from` to `to` (node inputs and graph outputs). */
export function renameUses(g: Graph, from: string, to: string): void {
  for (const n of g.nodes) n.inputs = n.inputs.map((i) => (i === from ? to : i));
  for (const o of g.outputs) if (o.name === from) o.name = to;
}

/**
 * Removes nodes none of whose outputs is read (transitively) and initializers nobody reads;
 * edits `g` in place (call on a clone). `values` keeps only names still defined.
 */
export function removeDeadCode(g: Graph): void {
  const live = new Set(g.outputs.map((o) => o.name));
  const kept: Node[] = [];
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i] as Node;
    if (n.outputs.some((o) => live.has(o))) {
      kept.push(n);
      for (const x of n.inputs) if (x) live.add(x);
    }
  }
  g.nodes = kept.reverse();
  for (const name of [...g.initializers.keys()]) if (!live.has(name)) g.initializers.delete(name);
  const defined = new Set<string>([...g.inputs.map((v) => v.name), ...g.initializers.keys(), ...g.nodes.flatMap((n) => n.outputs)]);
  for (const name of [...g.values.keys()]) if (!defined.has(name)) g.values.delete(name);
}

/** A name not yet used by any value in `g`, built from `base`. */
export function freshName(g: Graph, base: string): string {
  const used = (s: string): boolean =>
    g.initializers.has(s) || g.values.has(s) || g.nodes.some((n) => n.outputs.includes(s) || n.name === s);
  let name = base;
  for (let k = 1; used(name); k++) name = `${base}_${k}`;
  return name;
}
