/**
 * Bias correction (Nagel et al. 2019, "Data-Free Quantization", empirical form): quantizing a
 * layer's weights shifts the mean of each output channel by E[(W - Wq) x]. With the per-channel
 * means of the layer's input over the calibration set, that shift is known and is added back to
 * the bias. It matters most at 4 bits, where rounding errors of a channel do not average out.
 * Pure function; the means come from a ChannelMeanObserver.
 */
import type { Layer } from './layers';

/**
 * Per-output-channel correction `sum_k (W - Wq)[c, k] * mean[input channel of k]`.
 * `weight` and `weightDQ` share the layout of the layer's weight: Conv `[Cout, Cin/group, kh, kw]`
 * (input channel `g * Cin/group + ci` for output channel c of group g), Gemm `[K, N]` (axis 1) or
 * `[N, K]` (axis 0). `inputMeans` has one entry per input channel (Conv) or input feature (Gemm).
 * Border effects of zero padding are ignored (the mean is taken over the whole input map).
 */
export function biasCorrection(layer: Pick<Layer, 'kind' | 'weightAxis' | 'channels'>, dims: readonly number[], weight: Float32Array, weightDQ: Float32Array, inputMeans: ArrayLike<number>, group = 1): Float64Array {
  const C = layer.channels;
  const out = new Float64Array(C);
  if (layer.kind === 'conv') {
    const cinPerGroup = dims[1]!;
    const taps = dims[2]! * dims[3]!;
    const perGroup = C / group;
    for (let c = 0; c < C; c++) {
      const base = Math.floor(c / perGroup) * cinPerGroup;
      let d = 0;
      for (let ci = 0; ci < cinPerGroup; ci++) {
        const o = (c * cinPerGroup + ci) * taps;
        let s = 0;
        for (let t = 0; t < taps; t++) s += weight[o + t]! - weightDQ[o + t]!;
        d += s * inputMeans[base + ci]!;
      }
      out[c] = d;
    }
    return out;
  }
  const K = weight.length / C;
  for (let c = 0; c < C; c++) {
    let d = 0;
    for (let k = 0; k < K; k++) {
      const i = layer.weightAxis === 0 ? c * K + k : k * C + c;
      d += (weight[i]! - weightDQ[i]!) * inputMeans[k]!;
    }
    out[c] = d;
  }
  return out;
}
