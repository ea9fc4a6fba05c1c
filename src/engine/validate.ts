/**
 * Argument checks shared by the typed wrappers over the addon (sharp's `lib/is.js`): each
 * returns the checked value or throws a LayerqError naming the parameter, what was expected and
 * what was received ("Expected positive integer for group but received 1.5").
 */
import { badArgument } from '../errors';

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

export function nonNegativeInt(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw badArgument(name, 'non-negative integer', v);
  return v;
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

export function tuple(name: string, v: unknown, n: number, check: (name: string, v: unknown) => number): number[] {
  if (!Array.isArray(v) || v.length !== n) throw badArgument(name, `array of ${n} integers`, describe(v));
  return v.map((x, i) => check(`${name}[${i}]`, x));
}

export function product(dims: readonly number[]): number {
  return dims.reduce((p, d) => p * d, 1);
}

/** Output size of a conv/pool along one axis; an error naming `name` when the kernel does not fit. */
export function outDim(name: string, input: number, k: number, stride: number, pad0: number, pad1: number, dilation: number): number {
  const span = (k - 1) * dilation + 1, padded = input + pad0 + pad1;
  if (padded < span) throw badArgument(name, `input size + pads >= kernel extent ${span}`, padded);
  return Math.floor((padded - span) / stride) + 1;
}
