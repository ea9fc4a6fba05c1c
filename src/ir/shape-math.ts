/**
 * Shape arithmetic shared by constant folding and shape inference: broadcasting, Slice ranges,
 * Reshape targets, products of possibly-symbolic dims.
 */
import { Dim } from './graph';

/** Normalizes a possibly negative axis for a tensor of `rank`. */
export function normAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) throw new RangeError(`axis ${axis} out of range for rank ${rank}`);
  return a;
}

/**
 * Numpy-style broadcast of dims. Symbolic dims broadcast against 1 (keep the symbol) and against
 * a number other than 1 (take the number); two different symbols keep the first.
 */
export function broadcastDims(shapes: readonly (readonly Dim[])[]): Dim[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let d: Dim = 1;
    for (const s of shapes) {
      const x = s[i - rank + s.length];
      if (x === undefined || x === 1) continue;
      if (d === 1 || typeof d === 'string') d = typeof x === 'number' || d === 1 ? x : d;
      else if (typeof x === 'number' && x !== d) {
        throw new RangeError(`cannot broadcast shapes ${shapes.map((t) => `[${t.join(', ')}]`).join(' and ')}`);
      }
    }
    out.push(d);
  }
  return out;
}

/** The product of dims: a number when all are static, else a symbolic name like 'batch*64'. */
export function dimProduct(dims: readonly Dim[]): Dim {
  let n = 1;
  const syms: string[] = [];
  for (const d of dims) {
    if (typeof d === 'number') n *= d;
    else syms.push(d);
  }
  if (syms.length === 0) return n;
  if (n === 0) return 0;
  return n === 1 ? syms.join('*') : `${syms.join('*')}*${n}`;
}

/** One axis of a Slice: first index, step, and element count. */
export interface SliceRange {
  start: number;
  step: number;
  count: number;
}

/**
 * ONNX Slice semantics for one axis of extent `dim`: negative starts/ends count from the end,
 * both clamp to [0, dim] (steps > 0) or [-1, dim - 1] (steps < 0); INT64_MAX/MIN as loaded
 * (+-2^63) clamp like any other out-of-range value.
 */
export function sliceRange(dim: number, start: number, end: number, step: number): SliceRange {
  if (step === 0) throw new RangeError('Slice step 0');
  let s = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  if (step > 0) {
    s = Math.min(Math.max(s, 0), dim);
    e = Math.min(Math.max(e, 0), dim);
  } else {
    s = Math.min(Math.max(s, -1), dim - 1);
    e = Math.min(Math.max(e, -1), dim - 1);
  }
  const count = step > 0 ? Math.max(0, Math.ceil((e - s) / step)) : Math.max(0, Math.ceil((s - e) / -step));
  return { start: s, step, count };
}

/** True when a Slice of (start, end, step) keeps every element whatever the extent. */
export function isFullSlice(start: number, end: number, step: number): boolean {
  return step === 1 && start === 0 && end >= 2 ** 31;
}

/**
 * Output dims of Reshape(input dims, target) with ONNX rules: 0 copies the input dim (unless
 * `allowZero`), one -1 is inferred. With symbolic input dims, -1 is inferred when the symbols
 * cancel (those copied by 0), else it becomes a symbolic product.
 */
export function reshapeDims(input: readonly Dim[], target: readonly number[], allowZero: boolean): Dim[] {
  const out: Dim[] = target.map((t, i) => (t === 0 && !allowZero ? (input[i] ?? 0) : t));
  const unknown = out.indexOf(-1);
  if (unknown < 0) return out;
  const remaining: Dim[] = [...input];
  let known = 1;
  for (const [i, d] of out.entries()) {
    if (i === unknown) continue;
    if (typeof d === 'number') known *= d;
    else {
      const j = remaining.indexOf(d);
      if (j < 0) return out.map((x, k) => (k === unknown ? `reshape_${i}` : x));
      remaining.splice(j, 1);
    }
  }
  const rest = dimProduct(remaining);
  out[unknown] = typeof rest === 'number' ? rest / known : known === 1 ? rest : `${rest}/${known}`;
  return out;
}

/**
 * Spatial output size of a Conv or pool along one axis: (in + pads - dilated kernel) / stride + 1,
 * rounded down, or up with `ceilMode` (dropping a last window that would start in the end padding,
 * as PyTorch and ONNX do).
 */
export function windowOutDim(input: number, kernel: number, stride: number, padBegin: number,
  padEnd: number, dilation: number, ceilMode: boolean): number {
  const span = input + padBegin + padEnd - ((kernel - 1) * dilation + 1);
  if (!ceilMode) return Math.floor(span / stride) + 1;
  let out = Math.ceil(span / stride) + 1;
  if ((out - 1) * stride >= input + padBegin) out -= 1;
  return out;
}

/** Row-major strides of `dims`. */
export function stridesOf(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length);
  let acc = 1;
  for (let i = dims.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= dims[i] as number;
  }
  return s;
}
