/**
 * Layout-only ops the engine runs in TypeScript: they move memory, do no arithmetic, and are
 * small next to the convolutions (Slice/Pad/Concat/Transpose on NCHW tensors).
 */
import { numel } from '../ir/graph';

/** Allocates an output buffer; the engine passes its buffer pool (contents are garbage). */
export type Alloc = (dims: readonly number[]) => Float32Array;
const fresh: Alloc = (dims) => new Float32Array(numel(dims));

function stridesOf(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1]! * dims[i + 1]!;
  return s;
}

/**
 * Copies a strided view of `src` into `dst` row by row: for every index of the outer dims of
 * `dims`, the innermost dim is one tight loop (or one `set` when both strides are 1).
 */
function stridedCopy(
  src: Float32Array, srcOffset: number, srcStrides: readonly number[],
  dst: Float32Array, dstOffset: number, dstStrides: readonly number[], dims: readonly number[], d = 0,
): void {
  const n = dims[d]!;
  const ss = srcStrides[d]!;
  const ds = dstStrides[d]!;
  if (d === dims.length - 1) {
    if (ss === 1 && ds === 1) dst.set(src.subarray(srcOffset, srcOffset + n), dstOffset);
    else for (let i = 0; i < n; i++) dst[dstOffset + i * ds] = src[srcOffset + i * ss]!;
    return;
  }
  for (let i = 0; i < n; i++) stridedCopy(src, srcOffset + i * ss, srcStrides, dst, dstOffset + i * ds, dstStrides, dims, d + 1);
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

export function slice(x: Float32Array, dims: readonly number[], spec: SliceSpec, alloc: Alloc = fresh): { data: Float32Array; dims: number[] } {
  const { outDims, start, step } = sliceGeometry(dims, spec);
  const inStrides = stridesOf(dims);
  const out = alloc(outDims);
  if (out.length === 0) return { data: out, dims: outDims };
  const offset = start.reduce((o, s, d) => o + s * inStrides[d]!, 0);
  stridedCopy(x, offset, inStrides.map((s, d) => s * step[d]!), out, 0, stridesOf(outDims), outDims);
  return { data: out, dims: outDims };
}

/** ONNX Pad, constant mode; pads = [b_0..b_{r-1}, e_0..e_{r-1}], negative pads crop. */
export function padConstant(x: Float32Array, dims: readonly number[], pads: readonly number[], value: number, alloc: Alloc = fresh): { data: Float32Array; dims: number[] } {
  const r = dims.length;
  const outDims = dims.map((d, i) => d + pads[i]! + pads[i + r]!);
  const out = alloc(outDims).fill(value);
  // The part of the input that survives (negative pads crop), and where it lands.
  const keep = dims.map((d, i) => Math.max(0, d + Math.min(0, pads[i]!) + Math.min(0, pads[i + r]!)));
  if (keep.some((k) => k === 0)) return { data: out, dims: outDims };
  const inStrides = stridesOf(dims);
  const outStrides = stridesOf(outDims);
  const srcOffset = dims.reduce((o, _, i) => o + Math.max(0, -pads[i]!) * inStrides[i]!, 0);
  const dstOffset = dims.reduce((o, _, i) => o + Math.max(0, pads[i]!) * outStrides[i]!, 0);
  stridedCopy(x, srcOffset, inStrides, out, dstOffset, outStrides, keep);
  return { data: out, dims: outDims };
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

export function transpose(x: Float32Array, dims: readonly number[], perm: readonly number[], alloc: Alloc = fresh): { data: Float32Array; dims: number[] } {
  const outDims = perm.map((p) => dims[p]!);
  const inStrides = stridesOf(dims);
  const out = alloc(outDims);
  stridedCopy(x, 0, perm.map((p) => inStrides[p]!), out, 0, stridesOf(outDims), outDims);
  return { data: out, dims: outDims };
}

/** ONNX Reshape target: 0 copies the input dim (unless allowzero), -1 is inferred. */
export function reshapeDims(dims: readonly number[], target: readonly number[]): number[] {
  const out = target.map((t, i) => (t === 0 ? dims[i]! : t));
  const known = out.reduce((p, d) => (d === -1 ? p : p * d), 1);
  const inferred = out.indexOf(-1);
  if (inferred >= 0) out[inferred] = numel(dims) / known;
  return out;
}
