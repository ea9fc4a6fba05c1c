/**
 * Typed wrapper over the addon's fitted-rounding kernels (native/src/kernels/f32-rounding):
 * weight rounding fitted to a layer's calibration inputs (GPTQ, Frantar et al. 2022). First sum
 * the layer's input Gram matrix H = sum x x^T over calibration batches (accumulateConvGram /
 * accumulateGemmGram), then round the weights against it (fitRounding): columns are rounded in
 * order and each rounding error is pushed onto the columns not yet rounded, so that
 * ||W X - s Q X||^2 over the calibration inputs stays small.
 *
 * Layouts: H is float64 [group][K][K] with K = (Cin / group) * kh * kw for Conv (patch order
 * (ci, ky, kx), the ONNX weight's) or the input width for Gemm; weights are float32 [Cout][K]
 * (row c = output channel c). Every argument is validated here; calls run off the event loop
 * reading and writing the caller's typed arrays in place: do not touch them until the promise
 * settles.
 */
import { addon } from './addon';
import { badArgument } from '../errors';
import { describe, dimsOf, intIn, nonNegativeInt, outDim, positiveInt, positiveScale, product, tuple, typed } from './validate';

export interface GramConvParams {
  kernel: [number, number];
  strides: [number, number];
  /** [top, left, bottom, right] */
  pads: [number, number, number, number];
  dilations: [number, number];
  group: number;
}

export interface FittedCodes {
  /** int8 [Cout][K] within [qmin, qmax] */
  codes: Int8Array;
  /** Groups whose damped H stayed indefinite after raising damping: rounded to nearest. */
  fallbackGroups: number;
}

/** Entries of a float64 array are all finite (a NaN in H or W would silently poison the fit). */
function finiteArray(name: string, a: Float32Array | Float64Array): void {
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i])) throw badArgument(`${name}[${i}]`, 'finite number', a[i]);
  }
}

/**
 * h[g] += sum of patch patch^T over the output positions (n, oy, ox) of a Conv with input x
 * [N, C, H, W] (dims), taking every positionStride-th flattened position starting at 0. Zero
 * padding contributes zeros. Resolves to the number of positions added (per group).
 * h: float64, length group * K * K, K = (C / group) * kh * kw.
 */
export function accumulateConvGram(h: Float64Array, x: Float32Array, dims: readonly number[], conv: GramConvParams, positionStride: number): Promise<number> {
  const d = dimsOf('dims', dims, 4);
  if (typeof conv !== 'object' || conv === null) throw badArgument('conv', 'GramConvParams object', describe(conv));
  const kernel = tuple('conv.kernel', conv.kernel, 2, positiveInt);
  const strides = tuple('conv.strides', conv.strides, 2, positiveInt);
  const pads = tuple('conv.pads', conv.pads, 4, nonNegativeInt);
  const dilations = tuple('conv.dilations', conv.dilations, 2, positiveInt);
  const group = positiveInt('conv.group', conv.group);
  if (d[1]! % group !== 0) throw badArgument('conv.group', `a divisor of dims[1] (${d[1]})`, group);
  outDim('dims[2]', d[2]!, kernel[0]!, strides[0]!, pads[0]!, pads[2]!, dilations[0]!);
  outDim('dims[3]', d[3]!, kernel[1]!, strides[1]!, pads[1]!, pads[3]!, dilations[1]!);
  positiveInt('positionStride', positionStride);
  const K = (d[1]! / group) * kernel[0]! * kernel[1]!;
  typed('h', h, Float64Array, group * K * K);
  typed('x', x, Float32Array, product(d));
  return addon.accumulateConvGram(h, x, d, { kernel, strides, pads, dilations, group }, positionStride);
}

/** h [K][K] += sum of x_r x_r^T over rows r = 0, rowStride, 2 rowStride, ... of x [rows][K]. Resolves to the rows added. */
export function accumulateGemmGram(h: Float64Array, x: Float32Array, rows: number, K: number, rowStride: number): Promise<number> {
  positiveInt('rows', rows);
  positiveInt('K', K);
  positiveInt('rowStride', rowStride);
  typed('h', h, Float64Array, K * K);
  typed('x', x, Float32Array, rows * K);
  return addon.accumulateGemmGram(h, x, rows, K, rowStride);
}

/**
 * GPTQ codes for weights w [cout][K] (float32) with symmetric scales (length 1 or cout), codes
 * clamp(roundHalfEven(.), qmin, qmax) (-7/7 for 4 bits, -127/127 for 8), against the Gram
 * matrices h [group][K][K] (output channels [g cout/group, (g+1) cout/group) use h[g]).
 * damp (default 0.01) adds damp * mean(diag H) to H's diagonal; inputs never seen (H_kk = 0)
 * round to nearest. Arithmetic in float64. Bad arguments throw synchronously.
 */
export function fitRounding(
  w: Float32Array,
  cout: number,
  K: number,
  scale: Float32Array,
  qmin: number,
  qmax: number,
  h: Float64Array,
  group: number,
  damp = 0.01,
): Promise<FittedCodes> {
  positiveInt('cout', cout);
  positiveInt('K', K);
  positiveInt('group', group);
  if (cout % group !== 0) throw badArgument('group', `a divisor of cout (${cout})`, group);
  typed('w', w, Float32Array, cout * K);
  const s = typed('scale', scale, Float32Array);
  if (s.length !== 1 && s.length !== cout) throw badArgument('scale.length', `1 or ${cout} (cout)`, s.length);
  s.forEach((v, i) => positiveScale(`scale[${i}]`, v));
  intIn('qmin', qmin, -128, 127);
  intIn('qmax', qmax, qmin, 127);
  typed('h', h, Float64Array, group * K * K);
  if (typeof damp !== 'number' || !Number.isFinite(damp) || damp < 0) throw badArgument('damp', 'finite number >= 0', damp);
  finiteArray('w', w);
  finiteArray('h', h);
  const codes = new Int8Array(cout * K);
  const run: Promise<number> = addon.fitRounding(w, cout, K, scale, qmin, qmax, h, group, damp, codes);
  return run.then((fallbackGroups) => ({ codes, fallbackGroups }));
}
