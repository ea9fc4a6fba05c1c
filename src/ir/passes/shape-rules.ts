/**
 * Per-op output shape rules with symbolic dims (the batch stays 'batch'). Inputs that are
 * constant (Reshape targets, Pad pads, Slice parameters) come from `constOf`.
 */
import { DType, Dim, Node, Tensor, ValueInfo } from '../graph';
import { dtypeFromOnnx } from '../dtype';
import { quantizeOutputDType } from './qdq-params';
import { broadcastDims, dimProduct, isFullSlice, normAxis, reshapeDims, sliceRange, windowOutDim } from '../shape-math';

/** Shape and dtype of a value, as far as known. */
export type ShapeOf = (name: string) => { dtype: DType; shape: Dim[] } | undefined;
export type ConstOf = (name: string) => Tensor | undefined;

const num = (n: Node, key: string, dflt: number): number => {
  const v = n.attrs[key];
  return typeof v === 'number' ? v : dflt;
};
const list = (n: Node, key: string): number[] | undefined => {
  const v = n.attrs[key];
  return Array.isArray(v) ? (v as number[]) : undefined;
};
const constInts = (c: ConstOf, name: string | undefined): number[] | undefined => {
  const t = name ? c(name) : undefined;
  return t ? Array.from(t.data, Number) : undefined;
};

/** Throws RangeError when two static inner (reduced) dims of a matrix product differ. */
function checkInner(a: Dim | undefined, b: Dim | undefined): void {
  if (typeof a === 'number' && typeof b === 'number' && a !== b) {
    throw new RangeError(`matrix product of inner dims ${a} and ${b}`);
  }
}

const SAME_SHAPE = new Set([
  'Relu', 'Clip', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Softmax', 'LogSoftmax', 'Identity',
  'Dropout', 'BatchNormalization', 'LeakyRelu', 'Tanh', 'Neg', 'Abs', 'Sqrt', 'Exp', 'Erf', 'Gelu',
  'FakeQuantize', // layerq-internal (fuse-qdq.ts): float32 in, float32 out
]);
const BROADCAST = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min']);

/**
 * The output ValueInfos of `node`, or undefined when an input shape or a needed constant is
 * missing or the op has no rule. Throws RangeError on inconsistent shapes.
 */
export function inferNode(node: Node, shapeOf: ShapeOf, constOf: ConstOf): ValueInfo[] | undefined {
  const ins = node.inputs.map((i) => (i ? shapeOf(i) : undefined));
  const x = ins[0];
  const out = (shape: Dim[], dtype: DType = x?.dtype ?? 'float32'): ValueInfo[] => [
    { name: node.outputs[0] ?? '', dtype, shape },
  ];
  if (!x && node.op !== 'Concat') return undefined;
  const xs = x?.shape ?? [];
  const dim = (i: number): number | undefined => {
    const d = xs[i];
    return typeof d === 'number' ? d : undefined;
  };
  if (SAME_SHAPE.has(node.op)) return out([...xs]);
  if (BROADCAST.has(node.op)) {
    if (ins.some((s) => !s)) return undefined;
    return out(broadcastDims(ins.map((s) => s?.shape ?? [])));
  }
  switch (node.op) {
    case 'Conv':
    case 'MaxPool':
    case 'AveragePool': {
      const spatial = xs.length - 2;
      const w = ins[1]?.shape;
      const kernel = node.op === 'Conv' ? w?.slice(2) : list(node, 'kernel_shape');
      if (!kernel || kernel.some((k) => typeof k !== 'number')) return undefined;
      const strides = list(node, 'strides') ?? new Array<number>(spatial).fill(1);
      const dil = list(node, 'dilations') ?? new Array<number>(spatial).fill(1);
      const pads = list(node, 'pads') ?? new Array<number>(2 * spatial).fill(0);
      const autoPad = (node.attrs.auto_pad as string | undefined) ?? 'NOTSET';
      const ceil = num(node, 'ceil_mode', 0) === 1;
      const dims: Dim[] = [xs[0] ?? 'N', node.op === 'Conv' ? (w?.[0] ?? 'C') : (xs[1] ?? 'C')];
      for (let i = 0; i < spatial; i++) {
        const d = dim(i + 2);
        const [k, s, dl] = [kernel[i] as number, strides[i] as number, dil[i] as number];
        if (d === undefined) dims.push(`${node.outputs[0]}_d${i + 2}`);
        else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') dims.push(Math.ceil(d / s));
        else if (autoPad === 'VALID') dims.push(windowOutDim(d, k, s, 0, 0, dl, ceil));
        else dims.push(windowOutDim(d, k, s, pads[i] as number, pads[i + spatial] as number, dl, ceil));
      }
      const res = out(dims);
      if (node.op === 'MaxPool' && node.outputs[1]) res.push({ name: node.outputs[1], dtype: 'int64', shape: dims });
      return res;
    }
    case 'GlobalAveragePool':
    case 'GlobalMaxPool':
      return out([...xs.slice(0, 2), ...xs.slice(2).map(() => 1)]);
    case 'Gemm': {
      const b = ins[1]?.shape;
      if (!b) return undefined;
      const m = num(node, 'transA', 0) ? xs[1] : xs[0];
      const n = num(node, 'transB', 0) ? b[0] : b[1];
      checkInner(num(node, 'transA', 0) ? xs[0] : xs[1], num(node, 'transB', 0) ? b[1] : b[0]);
      return out([m ?? 'M', n ?? 'N']);
    }
    case 'MatMul': {
      const b = ins[1]?.shape;
      if (!b) return undefined;
      const a2 = xs.length === 1 ? [1, ...xs] : xs;
      const b2 = b.length === 1 ? [...b, 1] : b;
      checkInner(a2[a2.length - 1], b2[b2.length - 2]);
      const batch = broadcastDims([a2.slice(0, -2), b2.slice(0, -2)]);
      const dims: Dim[] = [...batch, a2[a2.length - 2] ?? 1, b2[b2.length - 1] ?? 1];
      if (xs.length === 1) dims.splice(dims.length - 2, 1);
      if (b.length === 1) dims.pop();
      return out(dims);
    }
    case 'Flatten': {
      const axis = normAxis(num(node, 'axis', 1), xs.length + 1);
      return out([dimProduct(xs.slice(0, axis)), dimProduct(xs.slice(axis))]);
    }
    case 'Reshape': {
      const target = constInts(constOf, node.inputs[1]);
      if (!target || target.some(Number.isNaN)) return undefined;
      return out(reshapeDims(xs, target, num(node, 'allowzero', 0) === 1));
    }
    case 'Concat': {
      if (ins.some((s) => !s)) return undefined;
      const shapes = ins.map((s) => s?.shape ?? []);
      const first = shapes[0] ?? [];
      const axis = normAxis(num(node, 'axis', 0), first.length);
      const dims = [...first];
      const along = shapes.map((s) => s[axis] ?? 0);
      dims[axis] = along.every((d) => typeof d === 'number')
        ? (along as number[]).reduce((p, q) => p + q, 0)
        : along.join('+');
      return out(dims, ins[0]?.dtype);
    }
    case 'Pad': {
      const pads = node.inputs[1] ? constInts(constOf, node.inputs[1]) : list(node, 'pads');
      if (!pads) return undefined;
      const r = xs.length;
      const axes = constInts(constOf, node.inputs[3]) ?? xs.map((_, i) => i);
      const dims = [...xs];
      axes.forEach((ax, i) => {
        const a = normAxis(ax, r);
        const d = dims[a] as Dim;
        const add = (pads[i] as number) + (pads[i + axes.length] as number);
        dims[a] = typeof d === 'number' ? d + add : add === 0 ? d : `${d}+${add}`;
      });
      return out(dims);
    }
    case 'Slice': {
      const fromInputs = node.inputs.length > 1;
      const starts = fromInputs ? constInts(constOf, node.inputs[1]) : list(node, 'starts');
      const ends = fromInputs ? constInts(constOf, node.inputs[2]) : list(node, 'ends');
      if (!starts || !ends) return undefined;
      const axes = (fromInputs ? constInts(constOf, node.inputs[3]) : list(node, 'axes')) ?? starts.map((_, i) => i);
      const steps = (fromInputs ? constInts(constOf, node.inputs[4]) : undefined) ?? starts.map(() => 1);
      const dims = [...xs];
      axes.forEach((ax, i) => {
        const a = normAxis(ax, xs.length);
        const d = dims[a] as Dim;
        const [s, e, st] = [starts[i] as number, ends[i] as number, steps[i] as number];
        if (typeof d === 'number') dims[a] = sliceRange(d, s, e, st).count;
        else if (!isFullSlice(s, e, st)) dims[a] = `${node.outputs[0]}_d${a}`;
      });
      return out(dims);
    }
    case 'Transpose': {
      const perm = list(node, 'perm') ?? xs.map((_, i) => xs.length - 1 - i);
      return out(perm.map((p) => xs[p] as Dim));
    }
    case 'Split': {
      const axis = normAxis(num(node, 'axis', 0), xs.length);
      const size = xs[axis];
      const given = constInts(constOf, node.inputs[1]) ?? list(node, 'split');
      const parts = node.outputs.length;
      let sizes: Dim[];
      if (given) sizes = given;
      else if (typeof size === 'number') {
        const each = Math.ceil(size / parts);
        sizes = Array.from({ length: parts }, (_, i) => Math.max(0, Math.min(each, size - i * each)));
      } else return undefined;
      return node.outputs.map((name, i) => {
        const dims = [...xs];
        dims[axis] = sizes[i] as Dim;
        return { name, dtype: x?.dtype ?? 'float32', shape: dims };
      });
    }
    case 'ReduceMean': {
      const given = list(node, 'axes') ?? (node.inputs[1] ? constInts(constOf, node.inputs[1]) : undefined);
      if (node.inputs[1] && !given) return undefined;
      if (num(node, 'noop_with_empty_axes', 0) === 1 && given?.length === 0) return out([...xs]);
      const axes = (given && given.length ? given : xs.map((_, i) => i)).map((a) => normAxis(a, xs.length));
      const keep = num(node, 'keepdims', 1) === 1;
      const dims: Dim[] = [];
      xs.forEach((d, i) => {
        if (!axes.includes(i)) dims.push(d);
        else if (keep) dims.push(1);
      });
      return out(dims);
    }
    case 'LayerNormalization':
      return out([...xs]);
    case 'Shape':
      return out([xs.length], 'int64');
    case 'Cast':
      return out([...xs], dtypeFromOnnx(num(node, 'to', 1)) ?? 'float32');
    case 'QuantizeLinear':
      return out([...xs], quantizeOutputDType(node, ins[2]?.dtype));
    case 'DequantizeLinear':
      return out([...xs], 'float32');
    default:
      return undefined;
  }
}
