/**
 * FP32 kernels computed in TypeScript for ops that are rare or cheap in image classifiers
 * (normalization and reductions of ConvNeXt-style blocks, Erf/Gelu/Sqrt/Tanh/Pow): pure
 * functions on typed arrays, float64 inside, each output rounded once to float32. The heavy
 * ops (Conv, Gemm, pooling, elementwise Add/Mul...) stay in the addon.
 */
import { stridesOf } from './tensor-ops';

/**
 * erf(x) to float32 precision: Numerical Recipes' Chebyshev fit of erfc (fractional error
 * below 1.2e-7 everywhere), in double.
 */
export function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const erfc =
    t *
    Math.exp(
      -z * z - 1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - erfc : erfc - 1;
}

export type UnaryJsOp = 'erf' | 'sqrt' | 'tanh' | 'gelu' | 'gelu-tanh';

/** out[i] = op(x[i]); Gelu exact: x * (1 + erf(x / sqrt 2)) / 2, or its tanh approximation. */
export function unaryJs(op: UnaryJsOp, x: Float32Array, out: Float32Array): void {
  const n = x.length;
  switch (op) {
    case 'erf':
      for (let i = 0; i < n; i++) out[i] = erf(x[i]!);
      return;
    case 'sqrt':
      for (let i = 0; i < n; i++) out[i] = Math.sqrt(x[i]!);
      return;
    case 'tanh':
      for (let i = 0; i < n; i++) out[i] = Math.tanh(x[i]!);
      return;
    case 'gelu':
      for (let i = 0; i < n; i++) {
        const v = x[i]!;
        out[i] = 0.5 * v * (1 + erf(v * Math.SQRT1_2));
      }
      return;
    case 'gelu-tanh': {
      const c = Math.sqrt(2 / Math.PI);
      for (let i = 0; i < n; i++) {
        const v = x[i]!;
        out[i] = 0.5 * v * (1 + Math.tanh(c * (v + 0.044715 * v * v * v)));
      }
    }
  }
}

/** Pow with numpy broadcasting of `b` (and `a`) to `dims`. Exponent 2 is x * x in float32, as ONNX Runtime. */
export function powBroadcast(a: { data: Float32Array; dims: readonly number[] }, b: { data: Float32Array; dims: readonly number[] }, dims: readonly number[], out: Float32Array): void {
  const rank = dims.length;
  const stridesFor = (d: readonly number[]): number[] => {
    const full = [...new Array<number>(rank - d.length).fill(1), ...d];
    const s = stridesOf(full);
    return full.map((v, i) => (v === 1 ? 0 : s[i]!));
  };
  const sa = stridesFor(a.dims);
  const sb = stridesFor(b.dims);
  const idx = new Array<number>(rank).fill(0);
  let ia = 0;
  let ib = 0;
  for (let i = 0; i < out.length; i++) {
    const base = a.data[ia]!;
    const e = b.data[ib]!;
    out[i] = e === 2 ? Math.fround(base * base) : Math.pow(base, e);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      ia += sa[d]!;
      ib += sb[d]!;
      if (idx[d]! < dims[d]!) break;
      ia -= sa[d]! * dims[d]!;
      ib -= sb[d]! * dims[d]!;
      idx[d] = 0;
    }
  }
}

/**
 * Mean over the consecutive axes [from, to) of a tensor `dims` (outer x reduced x inner), each
 * sum in double: out has outer * inner values.
 */
export function reduceMean(x: Float32Array, dims: readonly number[], from: number, to: number, out: Float32Array): void {
  const outer = dims.slice(0, from).reduce((p, v) => p * v, 1);
  const red = dims.slice(from, to).reduce((p, v) => p * v, 1);
  const inner = dims.slice(to).reduce((p, v) => p * v, 1);
  if (inner === 1) {
    for (let o = 0; o < outer; o++) {
      let s = 0;
      for (let r = 0, k = o * red; r < red; r++, k++) s += x[k]!;
      out[o] = s / red;
    }
    return;
  }
  const acc = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    acc.fill(0);
    for (let r = 0; r < red; r++) {
      const base = (o * red + r) * inner;
      for (let i = 0; i < inner; i++) acc[i] += x[base + i]!;
    }
    for (let i = 0; i < inner; i++) out[o * inner + i] = acc[i]! / red;
  }
}

/**
 * ONNX LayerNormalization over the trailing `cols` values of each of `rows` rows: mean and
 * variance in double, y = (x - mean) / sqrt(var + epsilon) * scale + bias (scale and bias
 * broadcast over rows: `cols` values, or 1).
 */
export function layerNorm(x: Float32Array, rows: number, cols: number, epsilon: number, scale: Float32Array, bias: Float32Array | null, out: Float32Array): void {
  const sOne = scale.length === 1;
  const bOne = bias !== null && bias.length === 1;
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += x[o + c]!;
    const mean = sum / cols;
    let sq = 0;
    for (let c = 0; c < cols; c++) {
      const d = x[o + c]! - mean;
      sq += d * d;
    }
    const inv = 1 / Math.sqrt(sq / cols + epsilon);
    for (let c = 0; c < cols; c++) {
      const y = (x[o + c]! - mean) * inv * scale[sOne ? 0 : c]!;
      out[o + c] = bias === null ? y : y + bias[bOne ? 0 : c]!;
    }
  }
}
