/**
 * From a plan's decisions to concrete integer data: the one place that turns a LayerPlan into
 * int8 weights and int32 biases. The engine (sim and int modes) and the QDQ writer both call it,
 * so they execute and export the same numbers.
 */
import { Graph, Tensor } from '../ir/graph';
import { LayerqError } from '../errors';
import { QParams, quantize, quantizeBias, dequantize } from './math';
import type { Layer } from './layers';
import type { QuantPlan, TensorQuant, WeightQuant } from './plan';

export function tensorQParams(t: TensorQuant): QParams {
  return { scale: Float32Array.of(t.scale), zeroPoint: Int32Array.of(t.zeroPoint), qmin: t.qmin, qmax: t.qmax };
}

export function weightQParams(w: WeightQuant): QParams {
  const scale = Float32Array.from(w.scale);
  return { scale, zeroPoint: new Int32Array(scale.length), qmin: w.qmin, qmax: w.qmax, ...(w.perChannel ? { axis: w.axis } : {}) };
}

export interface MaterializedLayer {
  layer: Layer;
  /** Undefined for a weight-only quantized layer (its input stays float; its bias too). */
  inputQuant: TensorQuant | undefined;
  weightDims: number[];
  /** Weight codes, same layout as the float weight. */
  weightQ: Int8Array;
  /** 1 (per-tensor) or one per output channel. */
  weightScale: Float32Array;
  /** int32 bias with scale inputScale * weightScale[c], or null when the layer has none. */
  biasQ: Int32Array | null;
  /** Dequantized weight and bias: what the QDQ model computes with, in float. */
  weightDQ: Float32Array;
  biasDQ: Float32Array | null;
}

function floatData(t: Tensor): Float32Array {
  return t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>);
}

/** The integer weights and bias of one quantized layer under `plan`. */
export function materializeLayer(graph: Graph, layer: Layer, plan: QuantPlan): MaterializedLayer {
  const lp = plan.layers.find((l) => l.id === layer.id);
  const inputQuant = plan.activations[layer.input];
  if (!lp || lp.float || !lp.weight) throw new LayerqError('INTERNAL', `layer '${layer.id}' is not quantized in this plan`);
  const w = graph.initializers.get(layer.weight)!;
  const qp = weightQParams(lp.weight);
  const weightQ = lp.codes ? decodeCodes(lp.codes, w.data.length, lp.weight, layer.id) : Int8Array.from(quantize(floatData(w), qp, w.dims));
  const weightDQ = dequantize(weightQ, qp, w.dims);
  const biasTensor = layer.bias ? graph.initializers.get(layer.bias) : undefined;
  let biasQ: Int32Array | null = null;
  let biasDQ: Float32Array | null = null;
  if (biasTensor) {
    const bias = Float32Array.from(floatData(biasTensor));
    lp.biasCorrection?.forEach((d, c) => (bias[c] = bias[c]! + d));
    if (!inputQuant) return { layer, inputQuant, weightDims: [...w.dims], weightQ, weightScale: qp.scale, biasQ: null, biasDQ: bias, weightDQ };
    biasQ = quantizeBias(bias, inputQuant.scale, qp.scale);
    biasDQ = new Float32Array(biasQ.length);
    for (let c = 0; c < biasQ.length; c++) {
      const s = Math.fround(Math.fround(inputQuant.scale) * qp.scale[qp.scale.length === 1 ? 0 : c]!);
      biasDQ[c] = biasQ[c]! * s;
    }
  }
  return { layer, inputQuant, weightDims: [...w.dims], weightQ, weightScale: qp.scale, biasQ, biasDQ, weightDQ };
}

/** Quantized (not float) layers of a plan, materialized, by layer id. */
export function materializePlan(graph: Graph, layers: readonly Layer[], plan: QuantPlan): Map<string, MaterializedLayer> {
  const out = new Map<string, MaterializedLayer>();
  for (const layer of layers) {
    const lp = plan.layers.find((l) => l.id === layer.id);
    if (lp && !lp.float) out.set(layer.id, materializeLayer(graph, layer, plan));
  }
  return out;
}

/** Fitted weight codes of a plan, checked against the weight's size and grid. */
export function decodeCodes(base64: string, size: number, w: WeightQuant, id: string): Int8Array {
  const bytes = Buffer.from(base64, 'base64');
  if (bytes.length !== size) throw new LayerqError('BAD_ARGUMENT', `layer '${id}': plan holds ${bytes.length} weight codes, the weight has ${size}`);
  const codes = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.length).slice();
  for (const c of codes) if (c < w.qmin || c > w.qmax) throw new LayerqError('BAD_ARGUMENT', `layer '${id}': weight code ${c} outside [${w.qmin}, ${w.qmax}]`);
  return codes;
}

export function encodeCodes(codes: Int8Array): string {
  return Buffer.from(codes.buffer, codes.byteOffset, codes.length).toString('base64');
}
