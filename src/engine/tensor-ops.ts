/**
 * Layout-only ops the engine runs in TypeScript: they move memory, do no arithmetic, and are
 * small next to the convolutions (Slice/Pad/Concat/Transpose on NCHW tensors).
 */
import { numel } from '../ir/graph';

function stridesOf(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1]! * dims[i + 1]!;
  return s;
}

/** Calls fn(outIndex, coords) for every element of `dims` in row-major order. */
function forEachIndex(dims: readonly number[], fn: (flat: number, coords: number[]) => void): void {
  const total = numel(dims);
  const coords = new Array<number>(dims.length).fill(0);
  for (let flat = 0; flat < total; flat++) {
    fn(flat, coords);
    for (let d = dims.length - 1; d >= 0; d--) {
      if (++coords[d]! < dims[d]!) break;
      coords[d] = 0;
    }
  }
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

export function slice(x: Float32Array, dims: readonly number[], spec: SliceSpec): { data: Float32Array; dims: number[] } {
  const { outDims, start, step } = sliceGeometry(dims, spec);
  const inStrides = stridesOf(dims);
  const out = new Float32Array(numel(outDims));
  forEachIndex(outDims, (flat, c) => {
    let src = 0;
    for (let d = 0; d < c.length; d++) src += (start[d]! + c[d]! * step[d]!) * inStrides[d]!;
    out[flat] = x[src]!;
  });
  return { data: out, dims: outDims };
}

/** ONNX Pad, constant mode; pads = [b_0..b_{r-1}, e_0..e_{r-1}], negative pads crop. */
export function padConstant(x: Float32Array, dims: readonly number[], pads: readonly number[], value: number): { data: Float32Array; dims: number[] } {
  const r = dims.length;
  const outDims = dims.map((d, i) => d + pads[i]! + pads[i + r]!);
  const out = new Float32Array(numel(outDims)).fill(value);
  const outStrides = stridesOf(outDims);
  forEachIndex(dims, (flat, c) => {
    let dst = 0;
    for (let d = 0; d < r; d++) {
      const o = c[d]! + pads[d]!;
      if (o < 0 || o >= outDims[d]!) return;
      dst += o * outStrides[d]!;
    }
    out[dst] = x[flat]!;
  });
  return { data: out, dims: outDims };
}

export function concat(parts: { data: Float32Array; dims: readonly number[] }[], rawAxis: number): { data: Float32Array; dims: number[] } {
  const rank = parts[0]!.dims.length;
  const axis = rawAxis < 0 ? rawAxis + rank : rawAxis;
  const outDims = [...parts[0]!.dims];
  outDims[axis] = parts.reduce((s, p) => s + p.dims[axis]!, 0);
  const out = new Float32Array(numel(outDims));
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

export function transpose(x: Float32Array, dims: readonly number[], perm: readonly number[]): { data: Float32Array; dims: number[] } {
  const outDims = perm.map((p) => dims[p]!);
  const inStrides = stridesOf(dims);
  const out = new Float32Array(x.length);
  forEachIndex(outDims, (flat, c) => {
    let src = 0;
    for (let d = 0; d < c.length; d++) src += c[d]! * inStrides[perm[d]!]!;
    out[flat] = x[src]!;
  });
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
