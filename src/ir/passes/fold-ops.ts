/**
 * Per-op constant evaluators for small tensors (shape arithmetic and weight preprocessing,
 * including QDQ models' DequantizeLinear on integer weights and biases: see qdq-params.ts).
 *
 * Unknown dims: a `Shape` of a tensor with a symbolic dim yields NaN at that position (the
 * unknown-dim sentinel, int64 tensors only). Data-moving ops (Gather, Concat, Slice, Unsqueeze,
 * Squeeze, Reshape, Transpose, Expand, Identity) carry it along and arithmetic (Add, Sub, Mul,
 * Div) propagates it, so a statically known entry (a channel count) folds cleanly. Where the
 * sentinel would decide a shape or a predicate (ConstantOfShape, Range, Equal, Slice/Gather
 * parameters, a Reshape/Expand target, a non-int64 Cast) the evaluator declines and the node
 * stays; `foldConstants` then reports any sentinel that reaches a runtime node.
 */
import { DType, Node, Tensor, numel } from '../graph';
import { allocData, castValue, dtypeFromOnnx, makeTensor } from '../dtype';
import { broadcastDims, normAxis, reshapeDims, sliceRange, stridesOf } from '../shape-math';
import { checkAllocation } from '../../util/limits';
import { dequantizeTensor, qdqParams, quantizeOutputDType, quantizeTensor } from './qdq-params';

type Inputs = (Tensor | undefined)[];

const hasNaN = (t: Tensor | undefined): boolean => !!t && t.data.some((v) => Number.isNaN(v));
const ints = (t: Tensor | undefined): number[] => (t ? Array.from(t.data, Number) : []);
const attrNum = (n: Node, key: string, dflt: number): number => {
  const v = n.attrs[key];
  return typeof v === 'number' ? v : dflt;
};
const attrInts = (n: Node, key: string): number[] | undefined => {
  const v = n.attrs[key];
  return Array.isArray(v) ? (v as number[]) : undefined;
};

/**
 * Evaluates `node` on constant inputs (`inputs[i]` undefined for an absent optional input);
 * returns its outputs, or undefined when the op is not foldable here or the sentinel forbids it.
 * `Shape` is evaluated by the caller, which knows runtime shapes.
 */
export function evalNode(node: Node, inputs: Inputs): Tensor[] | undefined {
  const [a, b, c] = inputs;
  if (!a && node.op !== 'Range') return undefined;
  const x = a as Tensor;
  switch (node.op) {
    case 'Identity':
      return [x];
    case 'Add': case 'Sub': case 'Mul': case 'Div':
      return b ? [binary(node.op, x, b)] : undefined;
    case 'Equal':
      return b && !hasNaN(x) && !hasNaN(b) ? [compare(x, b)] : undefined;
    case 'Where':
      return b && c && !hasNaN(x) ? [where(x, b, c)] : undefined;
    case 'Cast': {
      const to = dtypeFromOnnx(attrNum(node, 'to', 1));
      if (!to || (hasNaN(x) && to !== 'int64' && to !== 'float32')) return undefined;
      return [makeTensor(to, x.dims, x.data)];
    }
    case 'ConstantOfShape': {
      if (hasNaN(x)) return undefined;
      const v = node.attrs.value as Tensor | undefined;
      const dtype: DType = v?.dtype ?? 'float32';
      const dims = ints(x);
      const data = allocData(dtype, numel(dims)).fill(v ? (v.data[0] as number) : 0);
      return [{ dtype, dims, data }];
    }
    case 'Range': {
      if (!a || !b || !c || [a, b, c].some(hasNaN)) return undefined;
      const [s, l, d] = [a.data[0] as number, b.data[0] as number, c.data[0] as number];
      const n = Math.max(Math.ceil((l - s) / d), 0);
      checkAllocation('Range output', n, 8);
      return [makeTensor(a.dtype, [n], Array.from({ length: n }, (_, i) => s + i * d))];
    }
    case 'Gather':
      return b && !hasNaN(b) ? [gather(x, b, attrNum(node, 'axis', 0))] : undefined;
    case 'Unsqueeze': {
      const axes = b ? ints(b) : attrInts(node, 'axes');
      if (!axes || hasNaN(b)) return undefined;
      const rank = x.dims.length + axes.length;
      const norm = axes.map((ax) => normAxis(ax, rank)).sort((p, q) => p - q);
      const dims = [...x.dims];
      for (const ax of norm) dims.splice(ax, 0, 1);
      return [{ ...x, dims }];
    }
    case 'Squeeze': {
      const axes = b ? ints(b) : attrInts(node, 'axes');
      if (hasNaN(b)) return undefined;
      const drop = new Set((axes ?? x.dims.flatMap((d, i) => (d === 1 ? [i] : []))).map((ax) => normAxis(ax, x.dims.length)));
      return [{ ...x, dims: x.dims.filter((_, i) => !drop.has(i)) }];
    }
    case 'Reshape': {
      if (!b || hasNaN(b)) return undefined;
      const dims = reshapeDims(x.dims, ints(b), attrNum(node, 'allowzero', 0) === 1) as number[];
      return [{ ...x, dims }];
    }
    case 'Flatten': {
      const axis = normAxis(attrNum(node, 'axis', 1), x.dims.length + 1);
      return [{ ...x, dims: [numel(x.dims.slice(0, axis)), numel(x.dims.slice(axis))] }];
    }
    case 'Concat':
      return inputs.every((t) => t) ? [concat(inputs as Tensor[], attrNum(node, 'axis', 0))] : undefined;
    case 'Slice': {
      if (inputs.slice(1).some(hasNaN)) return undefined;
      const starts = b ? ints(b) : attrInts(node, 'starts') ?? [];
      const ends = c ? ints(c) : attrInts(node, 'ends') ?? [];
      const axes = inputs[3] ? ints(inputs[3]) : attrInts(node, 'axes') ?? starts.map((_, i) => i);
      const steps = inputs[4] ? ints(inputs[4]) : starts.map(() => 1);
      return [slice(x, starts, ends, axes, steps)];
    }
    case 'Transpose': {
      const perm = attrInts(node, 'perm') ?? x.dims.map((_, i) => x.dims.length - 1 - i);
      return [transpose(x, perm)];
    }
    case 'Expand':
      return b && !hasNaN(b) ? [expand(x, ints(b))] : undefined;
    case 'DequantizeLinear': {
      // Weights and biases of QDQ models: int8/int4 (per-tensor or per-channel) and int32.
      const p = b ? qdqParams(node, x.dtype, x.dims, b, c) : undefined;
      return p && typeof p !== 'string' ? [dequantizeTensor(x, p)] : undefined;
    }
    case 'QuantizeLinear': {
      const p = b && x.dtype === 'float32' ? qdqParams(node, quantizeOutputDType(node, c?.dtype), x.dims, b, c) : undefined;
      return p && typeof p !== 'string' ? [quantizeTensor(x, p)] : undefined;
    }
    default:
      return undefined;
  }
}

/** Index into a broadcast operand: the flat index of output element `i` in a tensor of `dims`. */
function broadcastIndexer(outDims: number[], dims: number[]): (i: number) => number {
  const outStrides = stridesOf(outDims);
  const strides = stridesOf(dims);
  const off = outDims.length - dims.length;
  return (i) => {
    let j = 0;
    for (let k = 0; k < dims.length; k++) {
      if (dims[k] === 1) continue;
      const coord = Math.floor(i / (outStrides[k + off] as number)) % (outDims[k + off] as number);
      j += coord * (strides[k] as number);
    }
    return j;
  };
}

function elementwise(ts: Tensor[], dtype: DType, f: (...v: number[]) => number): Tensor {
  const dims = broadcastDims(ts.map((t) => t.dims)) as number[];
  const idx = ts.map((t) => broadcastIndexer(dims, t.dims));
  const out = allocData(dtype, numel(dims));
  for (let i = 0; i < out.length; i++) {
    out[i] = castValue(dtype, f(...ts.map((t, k) => t.data[(idx[k] as (i: number) => number)(i)] as number)));
  }
  return { dtype, dims, data: out };
}

function binary(op: string, a: Tensor, b: Tensor): Tensor {
  const isFloat = a.dtype === 'float32';
  const f: Record<string, (x: number, y: number) => number> = {
    Add: (x, y) => x + y,
    Sub: (x, y) => x - y,
    Mul: (x, y) => x * y,
    Div: (x, y) => (isFloat ? x / y : Math.trunc(x / y)),
  };
  return elementwise([a, b], a.dtype, f[op] as (x: number, y: number) => number);
}

function compare(a: Tensor, b: Tensor): Tensor {
  return elementwise([a, b], 'bool', (x, y) => (x === y ? 1 : 0));
}

function where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  return elementwise([cond, a, b], a.dtype, (c, x, y) => (c ? x : y));
}

function gather(x: Tensor, indices: Tensor, axisAttr: number): Tensor {
  const axis = normAxis(axisAttr, x.dims.length);
  const extent = x.dims[axis] as number;
  const outer = numel(x.dims.slice(0, axis));
  const inner = numel(x.dims.slice(axis + 1));
  const idx = Array.from(indices.data, (v) => (v < 0 ? v + extent : v));
  const dims = [...x.dims.slice(0, axis), ...indices.dims, ...x.dims.slice(axis + 1)];
  const out = allocData(x.dtype, numel(dims));
  let o = 0;
  for (let p = 0; p < outer; p++) {
    for (const k of idx) {
      for (let q = 0; q < inner; q++) out[o++] = x.data[(p * extent + k) * inner + q] as number;
    }
  }
  return { dtype: x.dtype, dims, data: out };
}

function concat(ts: Tensor[], axisAttr: number): Tensor {
  const first = ts[0] as Tensor;
  const axis = normAxis(axisAttr, first.dims.length);
  const outer = numel(first.dims.slice(0, axis));
  const dims = [...first.dims];
  dims[axis] = ts.reduce((s, t) => s + (t.dims[axis] as number), 0);
  const out = allocData(first.dtype, numel(dims));
  let o = 0;
  for (let p = 0; p < outer; p++) {
    for (const t of ts) {
      const chunk = numel(t.dims.slice(axis));
      for (let q = 0; q < chunk; q++) out[o++] = t.data[p * chunk + q] as number;
    }
  }
  return { dtype: first.dtype, dims, data: out };
}

/**
 * A strided view of `x` as a new tensor of `dims`: output element (c_0..c_r) reads input element
 * offset + sum_k c_k * strides[k] (small shape-arithmetic tensors only).
 */
function stridedView(x: Tensor, dims: number[], offset: number, strides: number[]): Tensor {
  const outStrides = stridesOf(dims);
  const out = allocData(x.dtype, numel(dims));
  for (let i = 0; i < out.length; i++) {
    let j = offset;
    for (let k = 0; k < dims.length; k++) {
      j += (Math.floor(i / (outStrides[k] as number)) % (dims[k] as number)) * (strides[k] as number);
    }
    out[i] = x.data[j] as number;
  }
  return { dtype: x.dtype, dims, data: out };
}

function slice(x: Tensor, starts: number[], ends: number[], axes: number[], steps: number[]): Tensor {
  const ranges = x.dims.map((d) => ({ start: 0, step: 1, count: d }));
  axes.forEach((ax, i) => {
    const a = normAxis(ax, x.dims.length);
    ranges[a] = sliceRange(x.dims[a] as number, starts[i] as number, ends[i] as number, steps[i] ?? 1);
  });
  const inStrides = stridesOf(x.dims);
  const offset = ranges.reduce((o, r, k) => o + r.start * (inStrides[k] as number), 0);
  return stridedView(x, ranges.map((r) => r.count), offset, ranges.map((r, k) => r.step * (inStrides[k] as number)));
}

/** Transpose of a tensor: output axis k is input axis perm[k]. */
export function transpose(x: Tensor, perm: number[]): Tensor {
  const inStrides = stridesOf(x.dims);
  return stridedView(x, perm.map((p) => x.dims[p] as number), 0, perm.map((p) => inStrides[p] as number));
}

function expand(x: Tensor, shape: number[]): Tensor {
  const dims = broadcastDims([x.dims, shape]) as number[];
  const idx = broadcastIndexer(dims, x.dims);
  const out = allocData(x.dtype, numel(dims));
  for (let i = 0; i < out.length; i++) out[i] = x.data[idx(i)] as number;
  return { dtype: x.dtype, dims, data: out };
}
