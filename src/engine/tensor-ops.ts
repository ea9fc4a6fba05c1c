/**
 * Layout-only ops the engine runs on the addon's strided copy (Slice/Pad/Transpose on NCHW
 * tensors; Concat with typed-array `set`): they move memory and do no arithmetic.
 */
import { numel } from '../ir/graph';
import { stridedCopy } from './native-f32';

/** Allocates an output buffer; the engine passes its buffer pool (contents are garbage). */
export type Alloc = (dims: readonly number[]) => Float32Array;
const fresh: Alloc = (dims) => new Float32Array(numel(dims));

export function stridesOf(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1]! * dims[i + 1]!;
  return s;
}

export interface SliceSpec {
  starts: number[];
  ends: number[];
  axes: number[];
  steps: number[];
}

/** ONNX Slice: returns the output dims and, per output axis, (start, step) into the input. */
export function sliceGeometry(dims: readonly number[], spec: SliceSpec): { outDims: number[]; start: number[]; step: number[] } {
  const start = dims.map(() => 0);
  const step = dims.map(() => 1);
  const outDims = [...dims];
  spec.axes.forEach((rawAxis, i) => {
    const axis = rawAxis < 0 ? rawAxis + dims.length : rawAxis;
    const size = dims[axis]!;
    const st = spec.steps[i] ?? 1;
    const clampIdx = (v: number, lo: number, hi: number): number => Math.min(Math.max(v < 0 ? v + size : v, lo), hi);
    let s: number;
    let e: number;
    if (st > 0) {
      s = clampIdx(spec.starts[i]!, 0, size);
      e = clampIdx(spec.ends[i]!, 0, size);
      outDims[axis] = Math.max(0, Math.ceil((e - s) / st));
    } else {
      s = clampIdx(spec.starts[i]!, 0, size - 1);
      e = clampIdx(spec.ends[i]!, -1, size - 1);
      outDims[axis] = Math.max(0, Math.ceil((e - s) / st));
    }
    start[axis] = s;
    step[axis] = st;
  });
  return { outDims, start, step };
}

/** A strided view of a tensor: element i is data[offset + sum(i[d] * strides[d])]. */
export interface View {
  offset: number;
  strides: number[];
  dims: number[];
}

/** The view ONNX Slice takes of `input` (a view of some buffer). */
export function sliceView(input: View, spec: SliceSpec): View {
  const { outDims, start, step } = sliceGeometry(input.dims, spec);
  return {
    offset: start.reduce((o, st, d) => o + st * input.strides[d]!, input.offset),
    strides: input.strides.map((s, d) => s * step[d]!),
    dims: outDims,
  };
}

export const denseView = (dims: readonly number[]): View => ({ offset: 0, strides: stridesOf(dims), dims: [...dims] });

/** Materialises a view of `x` into a fresh buffer (contiguous, dims of the view). */
export async function copyView(x: Float32Array, v: View, alloc: Alloc = fresh): Promise<{ data: Float32Array; dims: number[] }> {
  const out = alloc(v.dims);
  if (out.length > 0) await stridedCopy(x, v.offset, v.strides, out, 0, stridesOf(v.dims), v.dims);
  return { data: out, dims: v.dims };
}

export function slice(x: Float32Array, dims: readonly number[], spec: SliceSpec, alloc: Alloc = fresh): Promise<{ data: Float32Array; dims: number[] }> {
  return copyView(x, sliceView(denseView(dims), spec), alloc);
}

/**
 * ONNX Pad (constant mode) of a view of `x`; pads = [b_0..b_{r-1}, e_0..e_{r-1}], negative
 * pads crop. Returns a dense tensor.
 */
export async function padView(x: Float32Array, v: View, pads: readonly number[], value: number, alloc: Alloc = fresh): Promise<{ data: Float32Array; dims: number[] }> {
  const dims = v.dims;
  const r = dims.length;
  const outDims = dims.map((d, i) => d + pads[i]! + pads[i + r]!);
  const out = alloc(outDims);
  // The part of the input that survives (negative pads crop), and where it lands.
  const keep = dims.map((d, i) => Math.max(0, d + Math.min(0, pads[i]!) + Math.min(0, pads[i + r]!)));
  const outStrides = stridesOf(outDims);
  const srcOffset = dims.reduce((o, _, i) => o + Math.max(0, -pads[i]!) * v.strides[i]!, v.offset);
  const dstOffset = dims.reduce((o, _, i) => o + Math.max(0, pads[i]!) * outStrides[i]!, 0);
  if (out.length > 0) {
    if (keep.some((k) => k === 0)) out.fill(value);
    else await stridedCopy(x, srcOffset, v.strides, out, dstOffset, outStrides, keep, value);
  }
  return { data: out, dims: outDims };
}

/** ONNX Pad, constant mode; pads = [b_0..b_{r-1}, e_0..e_{r-1}], negative pads crop. */
export function padConstant(x: Float32Array, dims: readonly number[], pads: readonly number[], value: number, alloc: Alloc = fresh): Promise<{ data: Float32Array; dims: number[] }> {
  return padView(x, denseView(dims), pads, value, alloc);
}

export function concat(parts: { data: Float32Array; dims: readonly number[] }[], rawAxis: number, alloc: Alloc = fresh): { data: Float32Array; dims: number[] } {
  const rank = parts[0]!.dims.length;
  const axis = rawAxis < 0 ? rawAxis + rank : rawAxis;
  const outDims = [...parts[0]!.dims];
  outDims[axis] = parts.reduce((s, p) => s + p.dims[axis]!, 0);
  const out = alloc(outDims);
  const outer = numel(outDims.slice(0, axis));
  const outRow = numel(outDims.slice(axis));
  let offset = 0;
  for (const p of parts) {
    const row = numel(p.dims.slice(axis));
    for (let o = 0; o < outer; o++) out.set(p.data.subarray(o * row, (o + 1) * row), o * outRow + offset);
    offset += row;
  }
  return { data: out, dims: outDims };
}

export async function transpose(x: Float32Array, dims: readonly number[], perm: readonly number[], alloc: Alloc = fresh): Promise<{ data: Float32Array; dims: number[] }> {
  const inStrides = stridesOf(dims);
  return copyView(x, { offset: 0, strides: perm.map((p) => inStrides[p]!), dims: perm.map((p) => dims[p]!) }, alloc);
}

/** ONNX Reshape target: 0 copies the input dim (unless allowzero), -1 is inferred. */
export function reshapeDims(dims: readonly number[], target: readonly number[]): number[] {
  const out = target.map((t, i) => (t === 0 ? dims[i]! : t));
  const known = out.reduce((p, d) => (d === -1 ? p : p * d), 1);
  const inferred = out.indexOf(-1);
  if (inferred >= 0) out[inferred] = numel(dims) / known;
  return out;
}
