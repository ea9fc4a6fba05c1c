/**
 * Weight rounding fitted to a layer's calibration inputs (the search's `weight-rounding`
 * candidates): the Gram matrix H = sum x x^T of each layer's input patches is summed during the
 * calibration pass, then the addon's fitRounding (GPTQ: each column's rounding error pushed onto
 * the columns not yet rounded) chooses codes on the layer's grid that keep ||W X - s Q X|| small.
 * One pass over the calibration set serves every layer and every later fit.
 *
 * In the context of the quantized model (`ContextFitter`), the layer's inputs are not the FP32
 * model's: X~, what the quantized layers before it (and the layer's own input quantization)
 * deliver. The fit there targets the FP32 layer's output on the FP32 inputs:
 *   min ||W X - s Q X~||^2 = ||(W' - s Q) X~||^2 + const,  W' = W C H~^-1,
 * with C = sum x x~^T and H~ = sum x~ x~^T over the same calibration patches, so that the layer
 * absorbs part of the error that reaches it (the asymmetric objective of AdaRound's and GPTQ's
 * sequential variants). Both sums come from one Gram of the patches of [x; x~], the two tensors
 * stacked along channels group by group.
 */
import { BatchSource, Engine, quantizedEngine } from '../engine/engine';
import { accumulateConvGram, accumulateGemmGram, fitRounding } from '../engine/native-rounding';
import type { Value } from '../engine/runtime';
import { convParams } from '../engine/lower-f32';
import { Model } from '../ir/graph';
import type { Layer } from '../quant/layers';
import type { QuantPlan, WeightQuant } from '../quant/plan';
import type { ContextRoundingFitter, RoundingFitter } from './candidates';

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
      const { group, K } = gramShape(model, layer);
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
        g.rows += await convGram(this.model, g.layer, g.h, x, value.dims, PATCHES_PER_IMAGE);
      } else {
        g.rows += await accumulateGemmGram(g.h, x, x.length / g.K, g.K, 1);
      }
    }
  };

  /**
   * fitter(), with the Gram matrices summed on its first call by one FP32 pass over `images`
   * (the calibration set: the same sums as observing the calibration pass): a search that never
   * fits a rounding (W8A8, a first plan that meets the condition) does not pay for them.
   */
  lazyFitter(images: BatchSource, batchSize: number): RoundingFitter {
    const fit = this.fitter();
    let collected: Promise<void> | undefined;
    return async (layer, weight) => {
      collected ??= Engine.fp32(this.model).observe(images, this.observe, { batchSize });
      await collected;
      return fit(layer, weight);
    };
  }

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

/** h += the Gram of about `patches` sampled patches an image of the input x (dims) of a Conv layer. */
async function convGram(model: Model, layer: Layer, h: Float64Array, x: Float32Array, dims: readonly number[], patches: number): Promise<number> {
  const w = model.graph.initializers.get(layer.weight)!;
  const p = convParams(layer.node, w.dims, dims);
  const outH = Math.floor((dims[2]! + p.pads[0] + p.pads[2] - p.dilations[0] * (w.dims[2]! - 1) - 1) / p.strides[0]) + 1;
  const outW = Math.floor((dims[3]! + p.pads[1] + p.pads[3] - p.dilations[1] * (w.dims[3]! - 1) - 1) / p.strides[1]) + 1;
  const stride = oddStride((outH * outW) / patches);
  return accumulateConvGram(h, x, dims, { kernel: [w.dims[2]!, w.dims[3]!], strides: p.strides, pads: p.pads, dilations: p.dilations, group: p.group }, stride);
}

/** A layer's groups and the length K of one output channel's weights (a row of its Gram matrix). */
function gramShape(model: Model, layer: Layer): { group: number; K: number } {
  const w = model.graph.initializers.get(layer.weight)!;
  const group = layer.kind === 'conv' ? Number(layer.node.attrs['group'] ?? 1) : 1;
  const K = layer.kind === 'conv' ? w.dims[1]! * w.dims[2]! * w.dims[3]! : w.data.length / layer.channels;
  return { group, K };
}

/** The smallest odd stride >= s (odd strides do not alias with power-of-two widths). */
function oddStride(s: number): number {
  const k = Math.max(1, Math.ceil(s));
  return k % 2 === 0 ? k + 1 : k;
}

/** The layer's float weights as rows [Cout][K] (the Conv weight and a transB Gemm weight already are; a [K, N] Gemm weight is transposed). */
function weightRows(model: Model, layer: Layer, K: number): Float32Array {
  const w = model.graph.initializers.get(layer.weight)!;
  const data = w.data instanceof Float32Array ? w.data : Float32Array.from(w.data as ArrayLike<number>);
  return layer.weightAxis === 0 ? data : transpose(data, K, layer.channels);
}

/** Codes on `weight`'s grid for target rows [Cout][K] against Gram h, in the weight's own layout. */
async function fitRows(layer: Layer, weight: WeightQuant, rows: Float32Array, K: number, h: Float64Array, group: number): Promise<Int8Array> {
  const cout = layer.channels;
  const { codes } = await fitRounding(rows, cout, K, Float32Array.from(weight.scale), weight.qmin, weight.qmax, h, group);
  return layer.weightAxis === 0 ? codes : transpose(codes, cout, K);
}

async function fitLayer(model: Model, layer: Layer, weight: WeightQuant, g: LayerGram): Promise<Int8Array> {
  return fitRows(layer, weight, weightRows(model, layer, g.K), g.K, g.h, g.group);
}

/**
 * Calibration images the context fit reads at most (each fit runs the model twice up to its
 * layer over them): 256 at CIFAR size, fewer for larger images (64 at 224x224, where 64 images
 * still give a 7x7 map's layers 3,136 patches); and patches it samples in all (per layer).
 */
const CONTEXT_IMAGES = 256;
const CONTEXT_MIN_IMAGES = 64;
const CONTEXT_PIXELS = 256 * 3 * 32 * 32;
const CONTEXT_PATCHES = 32768;

/**
 * Weight rounding fitted in the context of a quantized plan (see the top of this file): for a
 * layer and the plan around it, runs the FP32 model and the plan (the exported file's semantics)
 * side by side over calibration images up to the layer, sums the Gram of their stacked inputs,
 * and rounds W' = W C H~^-1 against H~. Deterministic: same plan, same codes.
 */
export class ContextFitter {
  private readonly fp32: Engine;
  private readonly images: BatchSource;

  constructor(private readonly model: Model, private readonly layers: readonly Layer[], images: BatchSource, private readonly batchSize: number) {
    this.fp32 = Engine.fp32(model);
    const pixels = images.count > 0 ? images.batch(0, 1).data.length : 1;
    const count = Math.min(images.count, CONTEXT_IMAGES, Math.max(CONTEXT_MIN_IMAGES, Math.floor(CONTEXT_PIXELS / pixels)));
    this.images = { count, batch: (s, n) => images.batch(s, n) };
  }

  fitter(): ContextRoundingFitter {
    return (layer, weight, plan) => this.fit(layer, weight, plan);
  }

  async fit(layer: Layer, weight: WeightQuant, plan: QuantPlan): Promise<Int8Array | null> {
    if (!plan.activations[layer.input]) return null; // an input left in float: nothing to absorb
    const { group, K } = gramShape(this.model, layer);
    const K2 = 2 * K;
    const stacked = new Float64Array(group * K2 * K2);
    const sim = quantizedEngine(this.model, this.layers, plan, 'sim');
    const atF = afterLastWrite(this.fp32, layer.input);
    const atS = afterLastWrite(sim, layer.input);
    const patches = Math.max(1, Math.ceil(CONTEXT_PATCHES / this.images.count));
    let rows = 0;
    for (let start = 0; start < this.images.count; start += this.batchSize) {
      const one: BatchSource = { count: Math.min(this.batchSize, this.images.count - start), batch: (s, n) => this.images.batch(start + s, n) };
      const x = await valueBefore(this.fp32, one, atF, layer.input);
      const xq = await valueBefore(sim, one, atS, layer.input);
      if (layer.kind === 'conv') {
        rows += await convGram(this.model, layer, stacked, stackChannels(x.data, xq.data, x.dims, group), [x.dims[0]!, 2 * x.dims[1]!, ...x.dims.slice(2)], patches);
      } else {
        const n = x.data.length / K;
        rows += await accumulateGemmGram(stacked, stackRows(x.data, xq.data, n, K), n, K2, 1);
      }
    }
    if (rows === 0) return null;
    // Per group: C = sum x x~^T (upper right block), H~ = sum x~ x~^T (lower right block).
    const hq = new Float64Array(group * K * K);
    const target = Float32Array.from(weightRows(this.model, layer, K)); // solved in place: never the model's own array
    const perGroup = layer.channels / group;
    for (let g = 0; g < group; g++) {
      const s = stacked.subarray(g * K2 * K2, (g + 1) * K2 * K2);
      const hg = hq.subarray(g * K * K, (g + 1) * K * K);
      const c = new Float64Array(K * K);
      for (let i = 0; i < K; i++) {
        for (let j = 0; j < K; j++) {
          c[i * K + j] = s[i * K2 + K + j]!;
          hg[i * K + j] = s[(K + i) * K2 + K + j]!;
        }
      }
      solveTargets(target.subarray(g * perGroup * K, (g + 1) * perGroup * K), perGroup, K, c, hg);
    }
    return fitRows(layer, weight, target, K, hq, group);
  }
}

/** The index just after the last step that writes `tensor` (in sim mode its quantize step, which may write in place). */
function afterLastWrite(engine: Engine, tensor: string): number {
  let at = -1;
  engine.steps.forEach((s, i) => {
    if (s.outputs.includes(tensor) || s.rewrites?.includes(tensor)) at = i;
  });
  return at + 1;
}

async function valueBefore(engine: Engine, source: BatchSource, at: number, tensor: string): Promise<{ data: Float32Array; dims: number[] }> {
  const snap = await engine.snapshot(source, at);
  const v = snap.batches[0]!.values.get(tensor);
  if (!v || v.kind !== 'f32') throw new Error(`search: '${tensor}' is not a float value before step ${at}`);
  return { data: v.data, dims: [...v.dims] };
}

/** [N, C, H, W] x and y -> [N, 2C, H, W]: per group, x's channels then y's. */
function stackChannels(x: Float32Array, y: Float32Array, dims: readonly number[], group: number): Float32Array {
  const [n, c] = [dims[0]!, dims[1]!];
  const plane = dims.slice(2).reduce((a, b) => a * b, 1);
  const cg = c / group;
  const out = new Float32Array(2 * x.length);
  for (let i = 0; i < n; i++) {
    for (let g = 0; g < group; g++) {
      const src = (i * c + g * cg) * plane;
      const dst = (i * 2 * c + g * 2 * cg) * plane;
      out.set(x.subarray(src, src + cg * plane), dst);
      out.set(y.subarray(src, src + cg * plane), dst + cg * plane);
    }
  }
  return out;
}

/** [n][K] x and y -> [n][2K], rows [x_r, y_r]. */
function stackRows(x: Float32Array, y: Float32Array, n: number, K: number): Float32Array {
  const out = new Float32Array(2 * n * K);
  for (let r = 0; r < n; r++) {
    out.set(x.subarray(r * K, (r + 1) * K), 2 * r * K);
    out.set(y.subarray(r * K, (r + 1) * K), (2 * r + 1) * K);
  }
  return out;
}

/**
 * Each row w of rows [n][K] in place -> (H + damping)^-1 C^T w: the weights that, on inputs x~,
 * best reproduce w on inputs x (least squares; C = sum x x~^T, H = sum x~ x~^T). The damping is
 * fitRounding's (1% of H's mean diagonal); inputs never seen get a unit diagonal.
 */
function solveTargets(rows: Float32Array, n: number, K: number, c: Float64Array, h: Float64Array): void {
  const a = Float64Array.from(h);
  let mean = 0;
  for (let i = 0; i < K; i++) mean += a[i * K + i]!;
  const damp = 0.01 * (mean / K || 1);
  for (let i = 0; i < K; i++) a[i * K + i] = a[i * K + i]! === 0 ? 1 : a[i * K + i]! + damp;
  // Cholesky a = L L^T (lower, in place).
  for (let j = 0; j < K; j++) {
    let d = a[j * K + j]!;
    for (let k = 0; k < j; k++) d -= a[j * K + k]! * a[j * K + k]!;
    if (!(d > 0)) return; // not positive definite: keep the plain targets
    const ljj = Math.sqrt(d);
    a[j * K + j] = ljj;
    for (let i = j + 1; i < K; i++) {
      let s = a[i * K + j]!;
      for (let k = 0; k < j; k++) s -= a[i * K + k]! * a[j * K + k]!;
      a[i * K + j] = s / ljj;
    }
  }
  const v = new Float64Array(K);
  for (let r = 0; r < n; r++) {
    const w = rows.subarray(r * K, (r + 1) * K);
    v.fill(0);
    for (let i = 0; i < K; i++) {
      const wi = w[i]!;
      if (wi === 0) continue;
      for (let j = 0; j < K; j++) v[j] += c[i * K + j]! * wi;
    }
    for (let i = 0; i < K; i++) {
      let s = v[i]!;
      for (let k = 0; k < i; k++) s -= a[i * K + k]! * v[k]!;
      v[i] = s / a[i * K + i]!;
    }
    for (let i = K - 1; i >= 0; i--) {
      let s = v[i]!;
      for (let k = i + 1; k < K; k++) s -= a[k * K + i]! * v[k]!;
      v[i] = s / a[i * K + i]!;
    }
    for (let i = 0; i < K; i++) w[i] = v[i]!;
  }
}

/** [r][c] -> [c][r]. */
function transpose<T extends Float32Array | Int8Array>(a: T, r: number, c: number): T {
  const out = new (a.constructor as new (n: number) => T)(a.length);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = a[i * c + j]!;
  return out;
}
