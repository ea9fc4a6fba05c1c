/**
 * Argument checks shared by every typed wrapper over the addon (native-f32, native-int8,
 * native-stats, native-rounding, bench; sharp's `lib/is.js`): each returns the checked value or
 * throws a LayerqError naming the parameter, what was expected and what was received
 * ("Expected positive integer for width but received 1.5"). The addon re-checks types and
 * lengths against shapes (native/src/bindings/args.h) before touching memory.
 *
 * The wrappers share one style: arguments in the order data, dims, then one options object
 * (`params` / `spec`) for everything else; weights packed once into a class with a static
 * `create` that validates, holding the addon's handle (an opaque, type-tagged External owning
 * the packed memory, released by the garbage collector; a running call keeps its own
 * reference, so dropping the object mid-call is safe).
 */
import { badArgument } from '../errors';

/** What was received, for messages: a value as itself, an object as its type name (unquoted). */
export function describe(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  const type = (v as object).constructor?.name ?? 'object';
  return { toString: () => type };
}

export function intIn(name: string, v: unknown, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < lo || v > hi) throw badArgument(name, `integer in [${lo}, ${hi}]`, v);
  return v;
}

export function positiveInt(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw badArgument(name, 'positive integer', v);
  return v;
}

export function int(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw badArgument(name, 'integer', v);
  return v;
}

export function nonNegativeInt(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw badArgument(name, 'non-negative integer', v);
  return v;
}

export function finite(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw badArgument(name, 'finite number', v);
  return v;
}

/** A clamp bound: any number but NaN (+-Infinity: no bound on that side). */
export function bound(name: string, v: unknown): number {
  if (typeof v !== 'number' || Number.isNaN(v)) throw badArgument(name, 'number (or +-Infinity)', v);
  return v;
}

/** A fused Relu / Clip as an output clamp { min, max }; none: { -Infinity, Infinity }. */
export function activationOf(name: string, a: unknown): { min: number; max: number } {
  if (a === undefined) return { min: -Infinity, max: Infinity };
  if (typeof a !== 'object' || a === null) throw badArgument(name, '{ min, max }', describe(a));
  const { min: lo, max: hi } = a as { min: unknown; max: unknown };
  const min = bound(`${name}.min`, lo), max = bound(`${name}.max`, hi);
  if (min > max) throw badArgument(`${name}.max`, `number >= ${name}.min (${min})`, max);
  return { min, max };
}

export function options(name: string, v: unknown, what: string): void {
  if (typeof v !== 'object' || v === null) throw badArgument(name, what, describe(v));
}

/** A positive finite number that stays positive and finite as a float32. */
export function positiveScale(name: string, v: unknown): number {
  const f = typeof v === 'number' ? Math.fround(v) : NaN;
  if (!(f > 0) || !Number.isFinite(f)) throw badArgument(name, 'positive finite float32', v);
  return f;
}

export type TypedCtor<T> = { new (n: number): T; name: string };

export function typed<T extends ArrayLike<number>>(name: string, v: unknown, ctor: TypedCtor<T>, length?: number): T {
  if (!(v instanceof ctor)) throw badArgument(name, ctor.name, describe(v));
  if (length !== undefined && (v as T).length !== length) throw badArgument(`${name}.length`, `${length} (from the shape)`, (v as T).length);
  return v as T;
}

export function dimsOf(name: string, v: unknown, rank?: number, positive = true): number[] {
  if (!Array.isArray(v)) throw badArgument(name, 'array of dimensions', describe(v));
  if (rank !== undefined && v.length !== rank) throw badArgument(`${name}.length`, String(rank), v.length);
  if (v.length > 8) throw badArgument(`${name}.length`, 'at most 8', v.length);
  // Every kernel call checks its dims: the element names are built only for the error.
  const min = positive ? 1 : 0;
  return v.map((d: unknown, i) => {
    if (typeof d === 'number' && Number.isSafeInteger(d) && d >= min) return d;
    return positive ? positiveInt(`${name}[${i}]`, d) : nonNegativeInt(`${name}[${i}]`, d);
  });
}

/** An array of `length` integers (strides in elements, which may be negative). */
export function intArray(name: string, v: unknown, length: number, lengthNote = 'dims.length'): number[] {
  if (!Array.isArray(v)) throw badArgument(name, 'array of integers', describe(v));
  if (v.length !== length) throw badArgument(`${name}.length`, `${length} (${lengthNote})`, v.length);
  return v.map((s, i) => int(`${name}[${i}]`, s));
}

export function tuple(name: string, v: unknown, n: number, check: (name: string, v: unknown) => number): number[] {
  if (!Array.isArray(v) || v.length !== n) throw badArgument(name, `array of ${n} integers`, describe(v));
  return v.map((x, i) => check(`${name}[${i}]`, x));
}

export function product(dims: readonly number[]): number {
  return dims.reduce((p, d) => p * d, 1);
}

/**
 * Output size of a conv/pool along one axis (ONNX floor rule, or ceil_mode for pooling: a last
 * window must start inside the input or the left pad); an error naming `name` when the kernel
 * does not fit.
 */
export function outDim(name: string, input: number, k: number, stride: number, pad0: number, pad1: number, dilation: number, ceil = false): number {
  const span = (k - 1) * dilation + 1, padded = input + pad0 + pad1;
  if (padded < span) throw badArgument(name, `input size + pads >= kernel extent ${span}`, padded);
  let out = Math.floor((padded - span + (ceil ? stride - 1 : 0)) / stride) + 1;
  if (ceil && (out - 1) * stride >= input + pad0) out -= 1;
  return out;
}

/** A convolution's window: the part of ConvParams / QConvParams the f32 and int8 kernels share. */
export interface ConvWindow {
  strides: [number, number];
  /** [top, left, bottom, right] */
  pads: [number, number, number, number];
  dilations: [number, number];
  group: number;
}

/** Validated copy of the window of conv params `p` (named `params.*` in errors). */
export function convWindowOf(p: ConvWindow): ConvWindow {
  return {
    strides: tuple('params.strides', p.strides, 2, positiveInt) as [number, number],
    pads: tuple('params.pads', p.pads, 4, nonNegativeInt) as [number, number, number, number],
    dilations: tuple('params.dilations', p.dilations, 2, positiveInt) as [number, number],
    group: positiveInt('params.group', p.group),
  };
}

/**
 * Output dims [N, Cout, Ho, Wo] of a convolution of x [N, Cin, H, W] by weights [Cout,
 * Cin/group, kh, kw] (both validated dims) with window `c`; an error naming xDims when they do
 * not fit.
 */
export function convOutDims(x: readonly number[], w: readonly number[], c: ConvWindow): [number, number, number, number] {
  const cin = w[1]! * c.group;
  if (x[1] !== cin) throw badArgument('xDims[1]', `${cin} (wDims[1] * group)`, x[1]);
  return [
    x[0]!,
    w[0]!,
    outDim('xDims[2]', x[2]!, w[2]!, c.strides[0], c.pads[0], c.pads[2], c.dilations[0]),
    outDim('xDims[3]', x[3]!, w[3]!, c.strides[1], c.pads[1], c.pads[3], c.dilations[1]),
  ];
}

/** [K, N] of a GEMM's constant right-hand side B with dims bDims: [K, N], or [N, K] when transB. */
export function gemmRhsDims(bDims: readonly number[], transB: boolean): [number, number] {
  const d = dimsOf('bDims', bDims, 2);
  if (typeof transB !== 'boolean') throw badArgument('transB', 'boolean', describe(transB));
  return transB ? [d[1]!, d[0]!] : [d[0]!, d[1]!];
}
