/** Tiny IR graphs for unit tests. */
import { AttrValue, DType, Dim, Model, Node, Tensor, ValueInfo } from '../../src/ir/graph';

export function node(op: string, inputs: string[], outputs: string[], attrs: Record<string, AttrValue> = {}, name = `${op}_${outputs[0]}`): Node {
  return { name, op, inputs, outputs, attrs };
}

export function vi(name: string, shape: Dim[], dtype: DType = 'float32'): ValueInfo {
  return { name, dtype, shape };
}

/** A model over `nodes` with the given inputs, outputs and initializers, at `opset`. */
export function model(
  nodes: Node[],
  inputs: ValueInfo[],
  outputs: ValueInfo[],
  initializers: Record<string, Tensor>,
  opset = 17,
): Model {
  const init = new Map(Object.entries(initializers));
  const values = new Map<string, ValueInfo>();
  for (const v of inputs) values.set(v.name, v);
  return {
    graph: { name: 'test', nodes, inputs, outputs, initializers: init, values },
    opset,
    irVersion: 8,
    producerName: 'layerq-test',
  };
}
