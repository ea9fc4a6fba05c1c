/**
 * Typed wrapper over the addon's int8 kernels (native/src/kernels/q8-*): quantized conv/GEMM
 * (uint8 activations, int8 weights, int32 accumulation, requantized uint8 or dequantized float32
 * output) and quantize / dequantize / fake-quantize. The arithmetic is DESIGN.md's "Quantization
 * conventions", bit-exact between the scalar reference and the SIMD paths. Scales are float32
 * (numbers are rounded with Math.fround); the requantization multiplier is
 * fround(fround(inputScale * weightScale[c]) / outputScale).
 *
 * Every argument is validated here with errors that name the parameter; the C++ side re-checks
 * lengths against shapes. Calls returning promises run on the calling thread with the addon's
 * thread pool and come back settled (LAYERQ_SYNC=0: off the event loop), reading and writing the
 * caller's typed arrays in place (no copies): do not touch them until the promise settles.
 */
import { addon } from './addon';
import { badArgument } from '../errors';
import { activationOf, bound, convOutDims, convWindowOf, describe, dimsOf, gemmRhsDims, intIn, options, positiveInt, positiveScale, product, typed } from './validate';

export interface QConvParams {
  strides: [number, number];
  /** [top, left, bottom, right] */
  pads: [number, number, number, number];
  dilations: [number, number];
  group: number;
  /** uint8 input: real = (x - inputZero) * inputScale; inputZero in [0, 255]. */
  inputScale: number;
  inputZero: number;
  /** length 1 (per-tensor) or Cout (per output channel); weights are symmetric (zero point 0). */
  weightScale: Float32Array;
  /**
   * 'uint8': requantized, min/max = the bit width's range narrowed by a fused Relu/Clip
   * (within [0, 255]). 'float32': dequantized, optional fused clamp.
   */
  output: { kind: 'uint8'; scale: number; zero: number; min: number; max: number } | { kind: 'float32'; min?: number; max?: number };
}

export type QGemmParams = Omit<QConvParams, 'strides' | 'pads' | 'dilations' | 'group'>;

/** scale/zero: length 1 (per tensor) or dims[axis] (per channel along axis). */
export interface QuantSpec {
  scale: Float32Array;
  zero: Int32Array;
  qmin: number;
  qmax: number;
  axis?: number;
}

// ---- validation (shared predicates: validate.ts) -----------------------------------------

/** Validated copy of the quantization part of QConvParams, as the addon reads it. */
function quantOf(p: QGemmParams, channels: number): QGemmParams {
  options('params', p, 'QConvParams object');
  const inputScale = positiveScale('params.inputScale', p.inputScale);
  const inputZero = intIn('params.inputZero', p.inputZero, 0, 255);
  const ws = typed('params.weightScale', p.weightScale, Float32Array);
  if (ws.length !== 1 && ws.length !== channels) throw badArgument('params.weightScale.length', `1 or ${channels} (Cout)`, ws.length);
  ws.forEach((s, i) => {
    positiveScale(`params.weightScale[${i}]`, s);
    if (!Number.isFinite(Math.fround(inputScale * s))) throw badArgument(`params.weightScale[${i}]`, 'a scale with finite inputScale * weightScale', s);
  });
  const o: unknown = p.output;
  if (typeof o !== 'object' || o === null) throw badArgument('params.output', "{ kind: 'uint8' | 'float32', ... }", describe(o));
  const out = o as QConvParams['output'];
  if (out.kind === 'uint8') {
    const scale = positiveScale('params.output.scale', out.scale);
    const zero = intIn('params.output.zero', out.zero, 0, 255);
    const min = intIn('params.output.min', out.min, 0, 255);
    const max = intIn('params.output.max', out.max, min, 255);
    ws.forEach((s, i) => {
      if (!Number.isFinite(Math.fround(Math.fround(inputScale * s) / scale))) throw badArgument('params.output.scale', `a scale giving a finite multiplier for channel ${i}`, out.scale);
    });
    return { inputScale, inputZero, weightScale: ws, output: { kind: 'uint8', scale, zero, min, max } };
  }
  if (out.kind === 'float32') {
    const min = out.min === undefined ? -Infinity : bound('params.output.min', out.min);
    const max = out.max === undefined ? Infinity : bound('params.output.max', out.max);
    if (min > max) throw badArgument('params.output.max', `number >= output.min (${min})`, max);
    return { inputScale, inputZero, weightScale: ws, output: { kind: 'float32', min, max } };
  }
  throw badArgument('params.output.kind', "'uint8' or 'float32'", (out as { kind: unknown }).kind);
}

function outputArray(kind: 'uint8' | 'float32', v: unknown, length: number): Uint8Array | Float32Array {
  return kind === 'uint8' ? typed('out', v, Uint8Array, length) : typed('out', v, Float32Array, length);
}

// ---- convolution -----------------------------------------------------------------------

/** Int8 conv weights packed once (bias and zero-point correction folded in); reuse for every call. */
export class PackedQConv {
  readonly wDims: readonly number[];
  readonly params: Readonly<QConvParams>;
  /** @internal the addon's packed weights (see validate.ts) */
  readonly handle: unknown;

  private constructor(wDims: readonly number[], params: QConvParams, handle: unknown) {
    this.wDims = wDims;
    this.params = params;
    this.handle = handle;
  }

  /** weight int8 [Cout, Cin/group, kh, kw]; bias int32 [Cout] (scale inputScale*weightScale[c]) or null. */
  static create(weight: Int8Array, wDims: readonly number[], bias: Int32Array | null, params: QConvParams): PackedQConv {
    const w = dimsOf('wDims', wDims, 4);
    options('params', params, 'QConvParams object');
    const window = convWindowOf(params);
    if (w[0] % window.group !== 0) throw badArgument('params.group', `a divisor of Cout (${w[0]})`, window.group);
    typed('weight', weight, Int8Array, product(w));
    if (bias !== null) typed('bias', bias, Int32Array, w[0]);
    const p: QConvParams = { ...window, ...quantOf(params, w[0]) };
    const handle = addon.q8PackConv(weight, w, bias, window, p);
    return new PackedQConv(Object.freeze(w), Object.freeze(p), handle);
  }

  /** Output dims [N, Cout, Ho, Wo] for input dims [N, Cin, H, W]. */
  outputDims(xDims: readonly number[]): [number, number, number, number] {
    return convOutDims(dimsOf('xDims', xDims, 4), this.wDims, this.params);
  }
}

/**
 * A residual added to a conv's output (the float-residual Add after it, and its Relu / Clip):
 * the sum of the conv's outputs (floats, or codes read as DQ(codes)) and `data`, clamped to
 * `activation`, quantized into `codes` and/or DQ of those into `fake`: bit for bit qconv2d then
 * addQuantize() on its output, added while the outputs are in the caches.
 */
export interface QConvResidual {
  /** The output's shape: floats, or codes of a per-tensor quantization. */
  data: Float32Array | CodesOperand;
  activation?: { min: number; max: number };
  /** The sum's quantization: per tensor, [qmin, qmax] within [0, 255]. */
  spec: QuantSpec;
  /** The sum's codes (the output's shape); may be `out` itself when the conv's output is uint8. */
  codes?: Uint8Array;
  /** DQ of the sum's codes (the output's shape). */
  fake?: Float32Array;
}

/**
 * x uint8 [N, Cin, H, W] -> out [N, Cout, Ho, Wo]: Uint8Array when output.kind is 'uint8',
 * Float32Array when 'float32'; with a residual, also the sum (QConvResidual).
 */
export function qconv2d(packed: PackedQConv, x: Uint8Array, xDims: readonly number[], out: Uint8Array | Float32Array,
  residual?: QConvResidual): Promise<void> {
  if (!(packed instanceof PackedQConv)) throw badArgument('packed', 'PackedQConv', describe(packed));
  const od = packed.outputDims(xDims);
  typed('x', x, Uint8Array, product(xDims));
  const n = product(od);
  outputArray(packed.params.output.kind, out, n);
  if (residual === undefined) return addon.q8Conv2d(packed.handle, x, [...xDims], out);
  options('residual', residual, 'QConvResidual object');
  const [data, scale, zero] = operandOf('residual.data', residual.data, n);
  const sum = perTensorSpec('residual.spec', residual.spec, n);
  if (residual.codes === undefined && residual.fake === undefined) throw badArgument('residual.codes', 'a Uint8Array when fake is not given', undefined);
  if (residual.codes !== undefined) typed('residual.codes', residual.codes, Uint8Array, n);
  if (residual.fake !== undefined) typed('residual.fake', residual.fake, Float32Array, n);
  return addon.q8Conv2d(packed.handle, x, [...xDims], out, {
    data, scale, zero, clamp: clampOf(residual.activation), sum, codes: residual.codes ?? null, fake: residual.fake ?? null,
  });
}

// ---- GEMM ------------------------------------------------------------------------------

/** Int8 right-hand side of out = A x B (+ bias), packed once. */
export class PackedQGemm {
  readonly K: number;
  readonly N: number;
  readonly params: Readonly<QGemmParams>;
  /** @internal the addon's packed weights (see validate.ts) */
  readonly handle: unknown;

  private constructor(K: number, N: number, params: QGemmParams, handle: unknown) {
    this.K = K;
    this.N = N;
    this.params = params;
    this.handle = handle;
  }

  /** B int8 [K, N] (transB false) or [N, K] (transB true); weightScale length 1 or N; bias int32 [N] or null. */
  static create(b: Int8Array, bDims: readonly number[], transB: boolean, bias: Int32Array | null, params: QGemmParams): PackedQGemm {
    const [K, N] = gemmRhsDims(bDims, transB);
    typed('b', b, Int8Array, K * N);
    if (bias !== null) typed('bias', bias, Int32Array, N);
    const p = quantOf(params, N);
    return new PackedQGemm(K, N, Object.freeze(p), addon.q8PackGemm(b, transB ? [N, K] : [K, N], transB, bias, p));
  }
}

/** a uint8 [M, K] -> out [M, N] (Uint8Array or Float32Array per output.kind). */
export function qgemm(packed: PackedQGemm, a: Uint8Array, M: number, out: Uint8Array | Float32Array): Promise<void> {
  if (!(packed instanceof PackedQGemm)) throw badArgument('packed', 'PackedQGemm', describe(packed));
  positiveInt('M', M);
  typed('a', a, Uint8Array, M * packed.K);
  outputArray(packed.params.output.kind, out, M * packed.N);
  return addon.q8Gemm(packed.handle, a, M, out);
}

// ---- quantize / dequantize / fake-quantize -----------------------------------------------

/** [outer, channels, inner] view of dims for spec (channels 1: per tensor). */
function layoutOf(dims: readonly number[], spec: QuantSpec, qRange: [number, number]): [number, number, number] {
  const d = dimsOf('dims', dims, undefined, false);
  options('spec', spec, 'QuantSpec object');
  const scale = typed('spec.scale', spec.scale, Float32Array);
  const zero = typed('spec.zero', spec.zero, Int32Array, scale.length);
  const qmin = intIn('spec.qmin', spec.qmin, qRange[0], qRange[1]);
  const qmax = intIn('spec.qmax', spec.qmax, qmin, qRange[1]);
  scale.forEach((s, i) => positiveScale(`spec.scale[${i}]`, s));
  zero.forEach((z, i) => intIn(`spec.zero[${i}]`, z, qmin, qmax));
  const total = product(d);
  if (spec.axis === undefined) {
    if (scale.length !== 1) throw badArgument('spec.axis', 'an axis (scale has more than one element)', spec.axis);
    return [1, 1, total];
  }
  const axis = intIn('spec.axis', spec.axis, -d.length, d.length - 1);
  const a = axis < 0 ? axis + d.length : axis;
  if (scale.length === 1) return [1, 1, total];
  if (scale.length !== d[a]) throw badArgument('spec.scale.length', `1 or ${d[a]} (dims[${a}])`, scale.length);
  return [product(d.slice(0, a)), d[a]!, product(d.slice(a + 1))];
}

const FAKE_RANGE: [number, number] = [-65536, 65536];

function quantizeArgs(x: Float32Array, dims: readonly number[], spec: QuantSpec, out: Uint8Array | Int8Array): unknown[] {
  const signed = out instanceof Int8Array;
  if (!signed && !(out instanceof Uint8Array)) throw badArgument('out', 'Uint8Array or Int8Array', describe(out));
  const layout = layoutOf(dims, spec, signed ? [-128, 127] : [0, 255]);
  const n = product(layout);
  typed('x', x, Float32Array, n);
  if (out.length !== n) throw badArgument('out.length', `${n} (from the shape)`, out.length);
  return [x, layout, spec.scale, spec.zero, spec.qmin, spec.qmax, out];
}

function dequantizeArgs(q: Uint8Array | Int8Array, dims: readonly number[], spec: QuantSpec, out: Float32Array): unknown[] {
  const signed = q instanceof Int8Array;
  if (!signed && !(q instanceof Uint8Array)) throw badArgument('q', 'Uint8Array or Int8Array', describe(q));
  const layout = layoutOf(dims, spec, signed ? [-128, 127] : [0, 255]);
  const n = product(layout);
  if (q.length !== n) throw badArgument('q.length', `${n} (from the shape)`, q.length);
  typed('out', out, Float32Array, n);
  return [q, layout, spec.scale, spec.zero, spec.qmin, spec.qmax, out];
}

function fakeQuantizeArgs(x: Float32Array, dims: readonly number[], spec: QuantSpec, out: Float32Array): unknown[] {
  const layout = layoutOf(dims, spec, FAKE_RANGE);
  const n = product(layout);
  typed('x', x, Float32Array, n);
  typed('out', out, Float32Array, n);
  return [x, layout, spec.scale, spec.zero, spec.qmin, spec.qmax, out];
}

/**
 * q = clamp(roundHalfEven(x / scale) + zero, qmin, qmax) (float32 division; NaN -> qmin).
 * out Uint8Array ([qmin, qmax] within [0, 255]) or Int8Array (within [-128, 127]).
 */
export function quantize(x: Float32Array, dims: readonly number[], spec: QuantSpec, out: Uint8Array | Int8Array): Promise<void> {
  return addon.q8Quantize(...quantizeArgs(x, dims, spec, out), true);
}
export function quantizeSync(x: Float32Array, dims: readonly number[], spec: QuantSpec, out: Uint8Array | Int8Array): void {
  addon.q8Quantize(...quantizeArgs(x, dims, spec, out), false);
}

/** x' = (q - zero) * scale (float32). */
export function dequantize(q: Uint8Array | Int8Array, dims: readonly number[], spec: QuantSpec, out: Float32Array): Promise<void> {
  return addon.q8Dequantize(...dequantizeArgs(q, dims, spec, out), true);
}
export function dequantizeSync(q: Uint8Array | Int8Array, dims: readonly number[], spec: QuantSpec, out: Float32Array): void {
  addon.q8Dequantize(...dequantizeArgs(q, dims, spec, out), false);
}

/**
 * Quantize then dequantize, float32 to float32 (out may be x). qmin/qmax are any integers in
 * [-65536, 65536] (4-, 7-, 8-bit, signed or not).
 */
export function fakeQuantize(x: Float32Array, dims: readonly number[], spec: QuantSpec, out: Float32Array): Promise<void> {
  return addon.q8FakeQuantize(...fakeQuantizeArgs(x, dims, spec, out), true);
}
export function fakeQuantizeSync(x: Float32Array, dims: readonly number[], spec: QuantSpec, out: Float32Array): void {
  addon.q8FakeQuantize(...fakeQuantizeArgs(x, dims, spec, out), false);
}

/**
 * An operand of addQuantize given as per-tensor uint8 codes: read as (code - zero) * scale, the
 * value dequantize() gives (and DQ(Q(x)) that fakeQuantize() gave when the codes were written).
 */
export interface CodesOperand {
  codes: Uint8Array;
  scale: number;
  zero: number;
}

/**
 * The float-residual Add with the quantization of its output, in one pass and one native call:
 * y = a + b (clamped to [activation.min, activation.max] when given: a fused Relu/Clip), then
 * codes = Q(y) (uint8) and/or fake = DQ(Q(y)), bit for bit what the f32 binary add followed by
 * quantize() and fakeQuantize() give. a and b (float, or codes of a tensor the plan quantizes)
 * have the same length; spec is per tensor with [qmin, qmax] within [0, 255]; fake may be a
 * float operand.
 */
export function addQuantize(
  a: Float32Array | CodesOperand, b: Float32Array | CodesOperand, spec: QuantSpec,
  activation: { min: number; max: number } | undefined, codes: Uint8Array | null, fake: Float32Array | null,
): Promise<void> {
  const [av, aScale, aZero] = operandOf('a', a);
  const n = av.length;
  const [bv, bScale, bZero] = operandOf('b', b, n);
  const sum = perTensorSpec('spec', spec, n);
  if (codes === null && fake === null) throw badArgument('codes', 'a Uint8Array when fake is null', codes);
  if (codes !== null) typed('codes', codes, Uint8Array, n);
  if (fake !== null) typed('fake', fake, Float32Array, n);
  return addon.q8AddQuantize(av, bv, n, clampOf(activation), sum.scale, sum.zero, sum.qmin, sum.qmax, codes, fake, aScale, aZero, bScale, bZero);
}

/** An add operand's data (its length checked when n is given), and its codes' scale and zero point. */
function operandOf(name: string, v: Float32Array | CodesOperand, n?: number): [Float32Array | Uint8Array, number | null, number | null] {
  if (!(typeof v === 'object' && v !== null && 'codes' in v)) return [typed(name, v, Float32Array, n), null, null];
  return [typed(`${name}.codes`, v.codes, Uint8Array, n), positiveScale(`${name}.scale`, v.scale), intIn(`${name}.zero`, v.zero, 0, 255)];
}

/** A per-tensor uint8 spec of a sum of n elements, as the addon reads it. */
function perTensorSpec(name: string, spec: QuantSpec, n: number): { scale: number; zero: number; qmin: number; qmax: number } {
  options(name, spec, 'QuantSpec object');
  const scale = typed(`${name}.scale`, spec.scale, Float32Array);
  if (scale.length !== 1) throw badArgument(`${name}.scale.length`, '1 (per tensor)', scale.length);
  layoutOf([n], spec, [0, 255]);
  return { scale: spec.scale[0]!, zero: spec.zero[0]!, qmin: spec.qmin, qmax: spec.qmax };
}

/** A fused Relu / Clip as the addon's clamp (null: none). */
function clampOf(activation: { min: number; max: number } | undefined): Float32Array | null {
  if (activation === undefined) return null;
  const { min, max } = activationOf('activation', activation);
  return Float32Array.of(min, max);
}
