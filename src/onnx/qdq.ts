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
 *
 * A Relu or Clip whose output is quantized is not written where the quantization makes it
 * redundant (see `activationBeforeQuantize`): the file computes exactly the same, and ONNX
 * Runtime's Clip -> QuantizeLinear fusion, which rejects 4-bit zero points ("Unexpected data
 * type for QuantizeLinear input y_zero_point of 21"), never sees the pattern.
 */
import { DType, Graph, Model, Node, Tensor } from '../ir/graph';
import { QuantDType, quantRange } from '../ir/dtype';
import { quantizeValue } from '../quant/math';
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

/**
 * What a Relu or Clip producing a tensor quantized by `t` still does once QuantizeLinear follows:
 * 'drop' when Q(clip(x)) = Q(x) for every x, i.e. Q(lo) saturates at qmin and Q(hi) at qmax
 * (ONNX QuantizeLinear semantics in float32, saturating at the zero point type's range);
 * 'relu' when only a lower bound of 0 still matters; 'keep' otherwise or for other ops.
 */
export function activationBeforeQuantize(node: Node, t: TensorQuant): 'drop' | 'relu' | 'keep' {
  if (node.op !== 'Relu' && node.op !== 'Clip') return 'keep';
  const bound = (key: 'min' | 'max', dflt: number): number => {
    const v = node.attrs[key];
    return typeof v === 'number' ? v : dflt;
  };
  const lo = node.op === 'Relu' ? 0 : bound('min', -Infinity);
  const hi = node.op === 'Relu' ? Infinity : bound('max', Infinity);
  const { qmin, qmax } = quantRange(zeroPointType(t.bits, t.signed) as QuantDType);
  const scale = Math.fround(t.scale);
  const q = (x: number): number => quantizeValue(x, scale, t.zeroPoint, qmin, qmax);
  const lower = lo === -Infinity || q(lo) === qmin;
  const upper = hi === Infinity || q(hi) === qmax;
  if (lower && upper) return 'drop';
  if (upper && lo === 0 && node.op === 'Clip') return 'relu';
  return 'keep';
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
    if (layer.bias && !m.biasQ && m.biasDQ) {
      // Weight-only quantized layer: its (corrected) bias stays float.
      graph.initializers.set(layer.bias, tensor('float32', [m.biasDQ.length], m.biasDQ));
    }
    if (layer.bias && m.biasQ && m.inputQuant) {
      const bName = layer.bias;
      const n = m.biasQ.length;
      const inputScale = m.inputQuant.scale;
      const scales = Array.from({ length: n }, (_, c) => Math.fround(Math.fround(inputScale) * m.weightScale[perChannel ? c : 0]!));
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
  const pairFor = (name: string, t: TensorQuant, source = name): Node[] => {
    const zpType = zeroPointType(t.bits, t.signed);
    uses4Bits ||= t.bits <= 4;
    graph.initializers.set(`${name}_scale`, tensor('float32', [], [t.scale]));
    graph.initializers.set(`${name}_zero_point`, tensor(zpType, [], [t.zeroPoint]));
    const qdqInputs = (x: string): string[] => [x, `${name}_scale`, `${name}_zero_point`];
    return [
      { name: `${name}_QuantizeLinear`, op: 'QuantizeLinear', inputs: qdqInputs(source), outputs: [`${name}_quantized`], attrs: {} },
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
  const graphOutputs = new Set(graph.outputs.map((o) => o.name));
  for (const node of [...graph.nodes]) {
    const out = node.outputs[0] ?? '';
    const t = plan.activations[out];
    const action = t && node.outputs.length === 1 && !graphOutputs.has(out) ? activationBeforeQuantize(node, t) : 'keep';
    if (t && action === 'drop') {
      // Every reader now reads the DQ output, so the activation has no reader left: Q reads its input.
      rewire(out);
      nodes.push(...pairFor(out, t, node.inputs[0]!));
      continue;
    }
    nodes.push(action === 'relu' ? { ...node, op: 'Relu', inputs: [node.inputs[0]!], attrs: {} } : node);
    for (const o of node.outputs) {
      const q = plan.activations[o];
      if (!q) continue;
      rewire(o);
      nodes.push(...pairFor(o, q));
    }
  }
  graph.nodes = nodes;
  const opset = Math.max(model.opset, uses4Bits ? INT4_OPSET : QDQ_MIN_OPSET);
  return { ...model, graph, opset, producerName: 'layerq' };
}
