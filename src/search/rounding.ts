/**
 * Weight rounding fitted to a layer's calibration inputs (the search's `weight-rounding`
 * candidates): the Gram matrix H = sum x x^T of each layer's input patches is summed during the
 * calibration pass, then the addon's fitRounding (GPTQ: each column's rounding error pushed onto
 * the columns not yet rounded) chooses codes on the layer's grid that keep ||W X - s Q X|| small.
 * One pass over the calibration set serves every layer and every later fit.
 */
import { accumulateConvGram, accumulateGemmGram, fitRounding } from '../engine/native-rounding';
import type { Value } from '../engine/runtime';
import { convParams } from '../engine/lower-f32';
import { Model } from '../ir/graph';
import type { Layer } from '../quant/layers';
import type { WeightQuant } from '../quant/plan';
import type { RoundingFitter } from './candidates';

/** Patches sampled per image and layer: enough for a well-conditioned H, cheap at 224x224. */
const PATCHES_PER_IMAGE = 256;

interface LayerGram {
  layer: Layer;
  group: number;
  K: number;
  h: Float64Array;
  rows: number;
}

export class GramCollector {
  private readonly byInput = new Map<string, LayerGram[]>();

  constructor(private readonly model: Model, layers: readonly Layer[]) {
    for (const layer of layers) {
      const w = model.graph.initializers.get(layer.weight)!;
      const group = layer.kind === 'conv' ? Number(layer.node.attrs['group'] ?? 1) : 1;
      const K = layer.kind === 'conv' ? w.dims[1]! * w.dims[2]! * w.dims[3]! : w.data.length / layer.channels;
      const list = this.byInput.get(layer.input) ?? [];
      list.push({ layer, group, K, h: new Float64Array(group * K * K), rows: 0 });
      this.byInput.set(layer.input, list);
    }
  }

  /** Bytes the Gram matrices hold. */
  get bytes(): number {
    let b = 0;
    for (const list of this.byInput.values()) for (const g of list) b += g.h.byteLength;
    return b;
  }

  /** An observer for the calibration pass (see collectStatistics' `observe`). */
  readonly observe = async (name: string, value: Value): Promise<void> => {
    const grams = this.byInput.get(name);
    if (!grams || value.kind !== 'f32') return;
    for (const g of grams) {
      const x = value.data.subarray(0, value.dims.reduce((a, b) => a * b, 1));
      if (g.layer.kind === 'conv') {
        const w = this.model.graph.initializers.get(g.layer.weight)!;
        const p = convParams(g.layer.node, w.dims, value.dims);
        const outH = Math.floor((value.dims[2]! + p.pads[0] + p.pads[2] - p.dilations[0] * (w.dims[2]! - 1) - 1) / p.strides[0]) + 1;
        const outW = Math.floor((value.dims[3]! + p.pads[1] + p.pads[3] - p.dilations[1] * (w.dims[3]! - 1) - 1) / p.strides[1]) + 1;
        const stride = oddStride((outH * outW) / PATCHES_PER_IMAGE);
        g.rows += await accumulateConvGram(g.h, x, value.dims, { kernel: [w.dims[2]!, w.dims[3]!], strides: p.strides, pads: p.pads, dilations: p.dilations, group: p.group }, stride);
      } else {
        g.rows += await accumulateGemmGram(g.h, x, x.length / g.K, g.K, 1);
      }
    }
  };

  /** The fitter the candidates call; codes are cached by layer and grid. */
  fitter(): RoundingFitter {
    const cache = new Map<string, Int8Array>();
    return async (layer: Layer, weight: WeightQuant) => {
      const g = this.byInput.get(layer.input)?.find((x) => x.layer.id === layer.id);
      if (!g || g.rows === 0) return null;
      const key = `${layer.id}:${JSON.stringify(weight)}`;
      const hit = cache.get(key);
      if (hit) return hit;
      const codes = await fitLayer(this.model, layer, weight, g);
      cache.set(key, codes);
      return codes;
    };
  }
}

/** The smallest odd stride >= s (odd strides do not alias with power-of-two widths). */
function oddStride(s: number): number {
  const k = Math.max(1, Math.ceil(s));
  return k % 2 === 0 ? k + 1 : k;
}

async function fitLayer(model: Model, layer: Layer, weight: WeightQuant, g: LayerGram): Promise<Int8Array> {
  const w = model.graph.initializers.get(layer.weight)!;
  const data = w.data instanceof Float32Array ? w.data : Float32Array.from(w.data as ArrayLike<number>);
  const cout = layer.channels;
  // Rows = output channels: the Conv weight and a transB Gemm weight already are; a [K, N] Gemm weight is transposed.
  const rowsFirst = layer.weightAxis === 0;
  const rows = rowsFirst ? data : transpose(data, g.K, cout);
  const { codes } = await fitRounding(rows, cout, g.K, Float32Array.from(weight.scale), weight.qmin, weight.qmax, g.h, g.group);
  return rowsFirst ? codes : transpose(codes, cout, g.K);
}

/** [r][c] -> [c][r]. */
function transpose<T extends Float32Array | Int8Array>(a: T, r: number, c: number): T {
  const out = new (a.constructor as new (n: number) => T)(a.length);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = a[i * c + j]!;
  return out;
}
