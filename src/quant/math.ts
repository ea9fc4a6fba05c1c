/**
 * All of layerq's quantization maths, as pure functions: integer grids, scale and zero point
 * from a float range, quantize / dequantize / fake-quantize with ONNX QuantizeLinear and
 * DequantizeLinear semantics (DESIGN.md, "Quantization conventions"), weight and bias
 * quantization. This is the TypeScript reference the native kernels are checked against.
 *
 * Layouts: tensors are flat row-major `Float32Array`s with a `dims` array; per-channel
 * parameters run along one `axis` of those dims. Float arithmetic is float32 (`Math.fround`)
 * wherever ONNX Runtime computes in float32, so results match it bit for bit.
 */
import { badArgument } from '../errors';

/** An integer grid: `bits` wide, signed or not; `narrow` drops the most negative signed value. */
export interface QuantRange {
  bits: number;
  signed: boolean;
  narrow: boolean;
}

/** A grid plus how a float range is fitted to it: symmetric (zero point at the middle) or not. */
export interface QuantScheme extends QuantRange {
  symmetric: boolean;
}

/**
 * Quantization parameters: `scale` and `zeroPoint` have 1 entry (per-tensor) or one per
 * channel along `axis`. `scale` is float32 and positive; `zeroPoint` lies in `[qmin, qmax]`.
 */
export interface QParams {
  scale: Float32Array;
  zeroPoint: Int32Array;
  qmin: number;
  qmax: number;
  axis?: number;
}

/**
 * Smallest scale used: float32 machine epsilon (2^-23), as torch's observers do. An all-zero
 * range (a dead channel) would otherwise give scale 0 and a division by zero; with this floor
 * zeros still quantize exactly (to the zero point) and dequantize to 0.
 */
export const SCALE_EPSILON = 1.1920928955078125e-7;

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/**
 * Integer limits of a grid. Signed: `[-2^(b-1), 2^(b-1) - 1]`, narrow `[-2^(b-1) + 1, 2^(b-1) - 1]`
 * (8 bits narrow `[-127, 127]`, 4 bits `[-7, 7]`, 7 bits `[-63, 63]`). Unsigned: `[0, 2^b - 1]`
 * (`narrow` is ignored: it only exists to keep signed products away from `-2^(b-1)` squared).
 * `bits` is an integer in [2, 16].
 */
export function qRange(r: QuantRange): { qmin: number; qmax: number } {
  if (!Number.isInteger(r.bits) || r.bits < 2 || r.bits > 16) {
    throw badArgument('bits', 'integer between 2 and 16', r.bits);
  }
  if (!r.signed) return { qmin: 0, qmax: 2 ** r.bits - 1 };
  const half = 2 ** (r.bits - 1);
  return { qmin: r.narrow ? 1 - half : -half, qmax: half - 1 };
}

/** Round to nearest, ties to even (0.5 -> 0, 1.5 -> 2, 2.5 -> 2, -1.5 -> -2), as ONNX and numpy. */
export function roundHalfEven(v: number): number {
  const r = Math.round(v); // ties toward +infinity
  // `+ 0` turns -0 into 0.
  return (r - v === 0.5 && r % 2 !== 0 ? r - 1 : r) + 0;
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

function scaleAndZero(min: number, max: number, scheme: QuantScheme, qmin: number, qmax: number): [number, number] {
  if (!Number.isFinite(min) || !Number.isFinite(max) || min > max) {
    throw badArgument('range', 'finite [min, max] with min <= max', `[${min}, ${max}]`);
  }
  // The range always holds 0, so that 0 (padding, Relu output) is exactly representable.
  let lo = Math.min(min, 0);
  let hi = Math.max(max, 0);
  if (scheme.symmetric) {
    const a = Math.max(-lo, hi);
    lo = -a;
    hi = a;
  }
  // Symmetric: (2 a) / (qmax - qmin) == a / ((qmax - qmin) / 2).
  const scale = Math.fround(Math.max((hi - lo) / (qmax - qmin), SCALE_EPSILON));
  const zero = scheme.symmetric
    ? roundHalfEven((qmin + qmax) / 2) // 0 when signed, 128 for uint8 (ONNX Runtime)
    : clamp(roundHalfEven(Math.fround(qmin - Math.fround(lo / scale))), qmin, qmax);
  return [scale, zero];
}

/**
 * Per-tensor parameters fitting the float range `[min, max]` (widened to include 0) to the
 * scheme's grid, ONNX Runtime / torch conventions. Symmetric: `scale = max(|min|, |max|) /
 * ((qmax - qmin) / 2)`, zero point 0 (signed) or the grid's middle (unsigned). Asymmetric:
 * `scale = (max - min) / (qmax - qmin)`, `zeroPoint = clamp(round(qmin - min / scale))`.
 * Scale is at least `SCALE_EPSILON`.
 */
export function qparamsFromRange(min: number, max: number, scheme: QuantScheme): QParams {
  const { qmin, qmax } = qRange(scheme);
  const [s, z] = scaleAndZero(min, max, scheme, qmin, qmax);
  return { scale: Float32Array.of(s), zeroPoint: Int32Array.of(z), qmin, qmax };
}

/** Per-channel parameters: `mins[c], maxs[c]` per channel `c` along `axis`. */
export function qparamsFromRanges(
  mins: ArrayLike<number>,
  maxs: ArrayLike<number>,
  scheme: QuantScheme,
  axis: number,
): QParams {
  if (mins.length !== maxs.length || mins.length === 0) {
    throw badArgument('maxs', `${mins.length} channel maxima`, maxs.length);
  }
  if (!Number.isInteger(axis) || axis < 0) throw badArgument('axis', 'non-negative integer', axis);
  const { qmin, qmax } = qRange(scheme);
  const scale = new Float32Array(mins.length);
  const zeroPoint = new Int32Array(mins.length);
  for (let c = 0; c < mins.length; c++) {
    [scale[c], zeroPoint[c]] = scaleAndZero(mins[c]!, maxs[c]!, scheme, qmin, qmax);
  }
  return { scale, zeroPoint, qmin, qmax, axis };
}

/** Float range each channel's grid represents: `[(qmin - zp) * scale, (qmax - zp) * scale]`. */
export function representableRange(qp: QParams): { min: Float64Array; max: Float64Array } {
  const n = qp.scale.length;
  const min = new Float64Array(n);
  const max = new Float64Array(n);
  for (let c = 0; c < n; c++) {
    min[c] = Math.fround((qp.qmin - qp.zeroPoint[c]!) * qp.scale[c]!);
    max[c] = Math.fround((qp.qmax - qp.zeroPoint[c]!) * qp.scale[c]!);
  }
  return { min, max };
}

/**
 * Refits `qp` to `scheme` (which may have another bit width) over its representable range
 * scaled by `ratio` (< 1 clips, > 1 widens). Keeps granularity and axis. Used by the search.
 */
export function refitQParams(qp: QParams, scheme: QuantScheme, ratio = 1): QParams {
  if (!(ratio > 0) || !Number.isFinite(ratio)) throw badArgument('ratio', 'positive number', ratio);
  const { min, max } = representableRange(qp);
  for (let c = 0; c < min.length; c++) {
    min[c] = min[c]! * ratio;
    max[c] = max[c]! * ratio;
  }
  if (qp.scale.length === 1 && qp.axis === undefined) return qparamsFromRange(min[0]!, max[0]!, scheme);
  return qparamsFromRanges(min, max, scheme, qp.axis ?? 0);
}

/** Clips `qp`'s range by `ratio` in (0, 1] on the same grid (an adjustment of the search). */
export function clipQParams(qp: QParams, ratio: number, scheme: QuantScheme): QParams {
  return refitQParams(qp, scheme, ratio);
}

/** Moves `qp` to another bit width, keeping its float range: `scheme` is the new grid. */
export function qparamsWithBits(qp: QParams, scheme: QuantScheme): QParams {
  return refitQParams(qp, scheme, 1);
}

/** `q = clamp(roundHalfEven(x / scale) + zeroPoint, qmin, qmax)`, `x / scale` in float32. */
export function quantizeValue(x: number, scale: number, zeroPoint: number, qmin: number, qmax: number): number {
  return clamp(roundHalfEven(Math.fround(Math.fround(x) / scale)) + zeroPoint, qmin, qmax);
}

/** `x' = (q - zeroPoint) * scale` in float32. */
export function dequantizeValue(q: number, scale: number, zeroPoint: number): number {
  return Math.fround((q - zeroPoint) * scale);
}

/**
 * Calls `fn(start, end, c)` for each contiguous run of elements `[start, end)` that shares the
 * channel `c` of `qp` (all of them, channel 0, when per-tensor). Checks `dims` against `n`.
 */
function forEachChannelRun(n: number, qp: QParams, dims: readonly number[] | undefined, fn: (start: number, end: number, c: number) => void): void {
  const channels = qp.scale.length;
  if (qp.zeroPoint.length !== channels) throw badArgument('zeroPoint', `${channels} entries`, qp.zeroPoint.length);
  if (channels === 1) {
    fn(0, n, 0);
    return;
  }
  const axis = qp.axis ?? 0;
  if (!dims) throw badArgument('dims', 'tensor dims for per-channel parameters', dims);
  if (dims.reduce((a, b) => a * b, 1) !== n) throw badArgument('dims', `dims with ${n} elements`, `[${dims.join(', ')}]`);
  if (dims[axis] !== channels) throw badArgument(`dims[${axis}]`, `${channels} channels`, dims[axis]);
  let inner = 1;
  for (let d = axis + 1; d < dims.length; d++) inner *= dims[d]!;
  for (let start = 0, c = 0; start < n; start += inner, c = (c + 1) % channels) fn(start, start + inner, c);
}

/** Quantizes `x` (layout `dims`; needed when per-channel) to integers in `[qmin, qmax]`. */
export function quantize(x: Float32Array, qp: QParams, dims?: readonly number[], out = new Int32Array(x.length)): Int32Array {
  forEachChannelRun(x.length, qp, dims, (start, end, c) => {
    const s = qp.scale[c]!;
    const z = qp.zeroPoint[c]!;
    for (let i = start; i < end; i++) out[i] = clamp(roundHalfEven(Math.fround(x[i]! / s)) + z, qp.qmin, qp.qmax);
  });
  return out;
}

/** Dequantizes integers `q` (layout `dims`; needed when per-channel) to float32. */
export function dequantize(q: ArrayLike<number>, qp: QParams, dims?: readonly number[]): Float32Array {
  const out = new Float32Array(q.length);
  forEachChannelRun(q.length, qp, dims, (start, end, c) => {
    const s = qp.scale[c]!;
    const z = qp.zeroPoint[c]!;
    for (let i = start; i < end; i++) out[i] = (q[i]! - z) * s; // store rounds to float32
  });
  return out;
}

/** Quantize then dequantize (the `sim` mode of the engine): float32 values on the grid. */
export function fakeQuantize(x: Float32Array, qp: QParams, dims?: readonly number[]): Float32Array {
  const out = new Float32Array(x.length);
  forEachChannelRun(x.length, qp, dims, (start, end, c) => {
    const s = qp.scale[c]!;
    const z = qp.zeroPoint[c]!;
    for (let i = start; i < end; i++) {
      out[i] = (clamp(roundHalfEven(Math.fround(x[i]! / s)) + z, qp.qmin, qp.qmax) - z) * s;
    }
  });
  return out;
}

/** Weight quantization options; the grid is always symmetric and signed (zero point 0). */
export interface WeightQuantOptions {
  /** 2..8 (the result is an Int8Array). */
  bits: number;
  perChannel: boolean;
  /** Output-channel axis (Conv 0; Gemm 1 when transB=0, 0 when transB=1). Default 0. */
  axis?: number;
  /** 'minmax': absmax; 'mse': clipping ratio per channel minimizing squared error. Default 'minmax'. */
  method?: 'minmax' | 'mse';
  /** Default true: `[-2^(b-1) + 1, 2^(b-1) - 1]`. */
  narrow?: boolean;
  /** Ratios of the absmax tried by 'mse': `steps` evenly from `minRatio` to 1. Default 0.3, 100. */
  minRatio?: number;
  steps?: number;
}

/** Sum of squared fake-quantization errors of `x` on a symmetric grid with scale `s`. */
function squaredError(x: Float32Array, s: number, qmin: number, qmax: number): number {
  let e = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    const d = Math.fround(clamp(roundHalfEven(Math.fround(v / s)), qmin, qmax) * s) - v;
    e += d * d;
  }
  return e;
}

/**
 * Symmetric signed weight quantization, per-tensor or per-channel along `axis` of `dims`.
 * 'mse' tries clipping thresholds `ratio * absmax` per channel (the ratio 1 is minmax, so it is
 * never worse than minmax) and keeps the one with the least squared error: it matters most at
 * 4 bits, where one outlier otherwise spends the few levels on an empty range.
 * Returns `q` in the same layout as `w` and the parameters (`axis` set when per-channel).
 */
export function quantizeWeights(w: Float32Array, dims: readonly number[], options: WeightQuantOptions): { q: Int8Array; qp: QParams } {
  const { bits, perChannel, axis = 0, method = 'minmax', narrow = true, minRatio = 0.3, steps = 100 } = options;
  if (!Number.isInteger(bits) || bits < 2 || bits > 8) throw badArgument('bits', 'integer between 2 and 8', bits);
  if (method !== 'minmax' && method !== 'mse') throw badArgument('method', 'one of minmax, mse', method);
  if (!(minRatio > 0 && minRatio <= 1)) throw badArgument('minRatio', 'number in (0, 1]', minRatio);
  if (!Number.isInteger(steps) || steps < 2) throw badArgument('steps', 'integer >= 2', steps);
  if (dims.reduce((a, b) => a * b, 1) !== w.length) throw badArgument('dims', `dims with ${w.length} elements`, `[${dims.join(', ')}]`);
  if (perChannel && !(Number.isInteger(axis) && axis >= 0 && axis < dims.length)) {
    throw badArgument('axis', `integer in [0, ${dims.length - 1}]`, axis);
  }
  const scheme: QuantScheme = { bits, signed: true, narrow, symmetric: true };
  const { qmin, qmax } = qRange(scheme);
  const channels = perChannel ? dims[axis]! : 1;
  // Gather each channel's values contiguously (a placeholder qp only drives the layout walk).
  const layout: QParams = { scale: new Float32Array(channels), zeroPoint: new Int32Array(channels), qmin, qmax, axis };
  const lengths = new Int32Array(channels);
  forEachChannelRun(w.length, layout, dims, (start, end, c) => (lengths[c] += end - start));
  const values = Array.from(lengths, (n) => new Float32Array(n));
  const filled = new Int32Array(channels);
  forEachChannelRun(w.length, layout, dims, (start, end, c) => {
    values[c]!.set(w.subarray(start, end), filled[c]);
    filled[c] += end - start;
  });
  const absmax = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    let a = 0;
    for (const v of values[c]!) a = Math.max(a, Math.abs(v));
    if (method === 'mse' && a > 0) {
      let best = Infinity;
      let bestA = a;
      for (let k = 0; k < steps; k++) {
        const t = a * (minRatio + ((1 - minRatio) * k) / (steps - 1));
        const s = qparamsFromRange(-t, t, scheme).scale[0]!;
        const e = squaredError(values[c]!, s, qmin, qmax);
        if (e < best) [best, bestA] = [e, t];
      }
      a = bestA;
    }
    absmax[c] = a;
  }
  const negated = absmax.map((a) => -a);
  const qp = perChannel ? qparamsFromRanges(negated, absmax, scheme, axis) : qparamsFromRange(-absmax[0]!, absmax[0]!, scheme);
  const q = new Int8Array(w.length);
  q.set(quantize(w, qp, dims));
  return { q, qp };
}

/**
 * Bias as int32 with scale `inputScale * weightScales[c]` (float32) and zero point 0:
 * `clamp(roundHalfEven(bias[c] / scale[c]), int32)`. `weightScales` has 1 or `bias.length` entries.
 */
export function quantizeBias(bias: Float32Array, inputScale: number, weightScales: Float32Array): Int32Array {
  if (weightScales.length !== 1 && weightScales.length !== bias.length) {
    throw badArgument('weightScales', `1 or ${bias.length} entries`, weightScales.length);
  }
  if (!(inputScale > 0) || !Number.isFinite(inputScale)) throw badArgument('inputScale', 'positive number', inputScale);
  const out = new Int32Array(bias.length);
  for (let c = 0; c < bias.length; c++) {
    const s = Math.fround(Math.fround(inputScale) * weightScales[weightScales.length === 1 ? 0 : c]!);
    out[c] = clamp(roundHalfEven(Math.fround(bias[c]! / s)), INT32_MIN, INT32_MAX);
  }
  return out;
}
