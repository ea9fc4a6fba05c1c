/**
 * Export: a prepared model and a QuantPlan -> an ONNX QDQ model (an IR pass; `saveModel` writes
 * the protobuf). Each quantized activation tensor gets one QuantizeLinear -> DequantizeLinear
 * pair that all its consumers read; each quantized layer reads DequantizeLinear(int8 or int4
 * weight, per-tensor or per-channel) and DequantizeLinear(int32 bias). The integers come from
 * `materializeLayer`, the same function the engine executes, so file and engine agree.
 *
 * Opset: at least 13 (per-channel DequantizeLinear); 21 when any tensor has 4 bits (INT4/UINT4).
 * Raising the opset keeps the runtime op set valid: Conv, Gemm, MatMul, the activations,
 * pooling, Flatten, Reshape, Concat, Slice, Transpose and Softmax have the same signature from
 * 13 to 21, Pad only gained an optional `axes` input (18), and Clip keeps its bounds as inputs;
 * ReduceMean's axes move to an input and Split needs its sizes or count at 18 (save.ts).
 */
import { DType, Graph, Model, Node, Tensor } from '../ir/graph';
import { cloneGraph } from '../ir/graph-utils';
import { Layer } from '../quant/layers';
import { materializePlan } from '../quant/materialize';
import type { QuantPlan, TensorQuant } from '../quant/plan';

export const QDQ_MIN_OPSET = 13;
export const INT4_OPSET = 21;

function zeroPointType(bits: number, signed: boolean): DType {
  if (bits <= 4) return signed ? 'int4' : 'uint4';
  return signed ? 'int8' : 'uint8';
}

function storage(dtype: DType, values: ArrayLike<number>): Int8Array | Uint8Array | Int32Array {
  if (dtype === 'int8' || dtype === 'int4') return Int8Array.from(values);
  if (dtype === 'int32') return Int32Array.from(values);
  return Uint8Array.from(values);
}

function tensor(dtype: DType, dims: number[], values: ArrayLike<number>): Tensor {
  return { dtype, dims, data: dtype === 'float32' ? Float32Array.from(values) : storage(dtype, values) };
}

/** The QDQ version of `model` under `plan`. Layers the plan keeps float are left as they are. */
export function toQdq(model: Model, layers: readonly Layer[], plan: QuantPlan): Model {
  const graph: Graph = cloneGraph(model.graph);
  const mats = materializePlan(model.graph, layers, plan);
  let uses4Bits = false;

  const prologue: Node[] = [];
  // Weights and biases: integer initializers behind DequantizeLinear.
  for (const m of mats.values()) {
    const { layer } = m;
    const wType = zeroPointType(plan.layers.find((l) => l.id === layer.id)!.weight!.bits, true);
    uses4Bits ||= wType === 'int4';
    const perChannel = m.weightScale.length > 1;
    const channels = m.weightScale.length;
    const wName = layer.weight;
    graph.initializers.delete(wName);
    graph.initializers.set(`${wName}_quantized`, tensor(wType, m.weightDims, m.weightQ));
    graph.initializers.set(`${wName}_scale`, tensor('float32', perChannel ? [channels] : [], m.weightScale));
    graph.initializers.set(`${wName}_zero_point`, tensor(wType, perChannel ? [channels] : [], new Array<number>(channels).fill(0)));
    prologue.push({
      name: `${wName}_DequantizeLinear`,
      op: 'DequantizeLinear',
      inputs: [`${wName}_quantized`, `${wName}_scale`, `${wName}_zero_point`],
      outputs: [`${wName}_dequantized`],
      attrs: perChannel ? { axis: layer.weightAxis } : {},
    });
    const node = graph.nodes.find((n) => n.name === layer.node.name)!;
    node.inputs[1] = `${wName}_dequantized`;
    if (layer.bias && m.biasQ) {
      const bName = layer.bias;
      const n = m.biasQ.length;
      const scales = Array.from({ length: n }, (_, c) => Math.fround(Math.fround(m.inputQuant.scale) * m.weightScale[perChannel ? c : 0]!));
      graph.initializers.delete(bName);
      graph.initializers.set(`${bName}_quantized`, tensor('int32', [n], m.biasQ));
      graph.initializers.set(`${bName}_scale`, tensor('float32', [n], scales));
      graph.initializers.set(`${bName}_zero_point`, tensor('int32', [n], new Array<number>(n).fill(0)));
      prologue.push({
        name: `${bName}_DequantizeLinear`,
        op: 'DequantizeLinear',
        inputs: [`${bName}_quantized`, `${bName}_scale`, `${bName}_zero_point`],
        outputs: [`${bName}_dequantized`],
        attrs: { axis: 0 },
      });
      node.inputs[2] = `${bName}_dequantized`;
    }
  }

  // Activations: one Q -> DQ pair right after the producer; every consumer reads the DQ output.
  const pairFor = (name: string, t: TensorQuant): Node[] => {
    const zpType = zeroPointType(t.bits, t.signed);
    uses4Bits ||= t.bits <= 4;
    graph.initializers.set(`${name}_scale`, tensor('float32', [], [t.scale]));
    graph.initializers.set(`${name}_zero_point`, tensor(zpType, [], [t.zeroPoint]));
    const qdqInputs = (x: string): string[] => [x, `${name}_scale`, `${name}_zero_point`];
    return [
      { name: `${name}_QuantizeLinear`, op: 'QuantizeLinear', inputs: qdqInputs(name), outputs: [`${name}_quantized`], attrs: {} },
      { name: `${name}_DequantizeLinear`, op: 'DequantizeLinear', inputs: qdqInputs(`${name}_quantized`), outputs: [`${name}_dequantized`], attrs: {} },
    ];
  };
  const rewire = (name: string): void => {
    for (const n of graph.nodes) n.inputs = n.inputs.map((i) => (i === name ? `${name}_dequantized` : i));
  };
  const nodes: Node[] = [...prologue];
  for (const input of graph.inputs) {
    const t = plan.activations[input.name];
    if (t) {
      rewire(input.name);
      nodes.push(...pairFor(input.name, t));
    }
  }
  for (const node of [...graph.nodes]) {
    nodes.push(node);
    for (const out of node.outputs) {
      const t = plan.activations[out];
      if (!t) continue;
      rewire(out);
      nodes.push(...pairFor(out, t));
    }
  }
  graph.nodes = nodes;
  const opset = Math.max(model.opset, uses4Bits ? INT4_OPSET : QDQ_MIN_OPSET);
  return { ...model, graph, opset, producerName: 'layerq' };
}
