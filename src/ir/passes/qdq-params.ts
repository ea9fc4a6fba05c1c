/**
 * QuantizeLinear / DequantizeLinear conventions (ONNX opset 10..21), shared by constant folding
 * (fold-ops.ts), shape inference (shape-rules.ts) and the Q -> DQ fusion (fuse-qdq.ts):
 * inputs (x, y_scale, y_zero_point?), `axis` (default 1) for a 1-D scale, float32 arithmetic.
 *
 *   QuantizeLinear:   y = saturate(roundHalfEven(x / scale) + zero_point)  (into the zero point's type)
 *   DequantizeLinear: y = (x - zero_point) * scale                          (float32)
 */
import { DType, Node, Tensor, numel } from '../graph';
import { QuantDType, allocData, dtypeFromOnnx, isQuantDType, quantRange } from '../dtype';
import { normAxis } from '../shape-math';

/** Per-tensor (`axis` undefined, one scale) or per-channel along `axis` (one scale per index). */
export interface QdqParams {
  /** Integer type of the quantized side (Q output, DQ input). */
  dtype: QuantDType;
  scale: Float32Array;
  zero: Int32Array;
  axis?: number;
}

/**
 * The integer type a QuantizeLinear writes: its zero point's type, else the `output_dtype`
 * attribute (opset 21), else uint8 (the ONNX default).
 */
export function quantizeOutputDType(node: Node, zeroPointDType: DType | undefined): DType {
  if (zeroPointDType) return zeroPointDType;
  const code = node.attrs.output_dtype;
  return (typeof code === 'number' && code !== 0 ? dtypeFromOnnx(code) : undefined) ?? 'uint8';
}

/**
 * The quantization parameters of a Q/DQ node whose quantized side has `dtype` and whose data has
 * dims `xDims`, from its constant scale and optional zero point. Returns a string saying why
 * when layerq cannot take them (blocked quantization, a type outside int4/uint4/int8/uint8/int32);
 * throws RangeError on parameters inconsistent with the data (a bad scale length, a zero point
 * of another type or shape).
 */
export function qdqParams(node: Node, dtype: DType, xDims: readonly number[], scale: Tensor, zero: Tensor | undefined): QdqParams | string {
  const blockSize = node.attrs.block_size;
  if (typeof blockSize === 'number' && blockSize !== 0) return `blocked quantization (block_size ${blockSize}) is not supported`;
  if (!isQuantDType(dtype)) return `quantized type ${dtype} is not supported (int4, uint4, int8, uint8, int32)`;
  if (zero && zero.dtype !== dtype) throw new RangeError(`zero point type ${zero.dtype} differs from the quantized type ${dtype}`);
  if (zero && (zero.data.length !== scale.data.length || zero.dims.length !== scale.dims.length)) {
    throw new RangeError(`zero point shape [${zero.dims.join(', ')}] differs from scale shape [${scale.dims.join(', ')}]`);
  }
  const scales = Float32Array.from(scale.data as ArrayLike<number>);
  const zeros = zero ? Int32Array.from(zero.data as ArrayLike<number>) : new Int32Array(scales.length);
  if (scale.dims.length === 0 || (scale.dims.length === 1 && scales.length === 1)) {
    if (scales.length !== 1) throw new RangeError(`scale has ${scales.length} elements`);
    return { dtype, scale: scales, zero: zeros };
  }
  if (scale.dims.length !== 1) throw new RangeError(`scale must be a scalar or 1-D, got [${scale.dims.join(', ')}]`);
  const axis = normAxis(typeof node.attrs.axis === 'number' ? node.attrs.axis : 1, xDims.length);
  if (xDims[axis] !== scales.length) {
    throw new RangeError(`${scales.length} scales for axis ${axis} of [${xDims.join(', ')}]`);
  }
  return { dtype, scale: scales, zero: zeros, axis };
}

/** roundHalfEven: ties to the even neighbour (what QuantizeLinear does). */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Calls f(i, c) for every element index i with its channel c (0 when per-tensor). */
function forEachChannel(dims: readonly number[], p: QdqParams, f: (i: number, c: number) => void): void {
  const n = numel(dims as number[]);
  if (p.axis === undefined) {
    for (let i = 0; i < n; i++) f(i, 0);
    return;
  }
  const channels = dims[p.axis] as number;
  const inner = numel(dims.slice(p.axis + 1) as number[]);
  for (let i = 0; i < n; i++) f(i, Math.floor(i / inner) % channels);
}

/**
 * DequantizeLinear on a constant: `float(x - zero) * scale` in float32 (as ONNX Runtime: the
 * integer difference is converted first, which rounds only for int32 beyond 2^24).
 */
export function dequantizeTensor(x: Tensor, p: QdqParams): Tensor {
  const out = new Float32Array(x.data.length);
  forEachChannel(x.dims, p, (i, c) => {
    out[i] = Math.fround(Math.fround((x.data[i] as number) - (p.zero[c] as number)) * (p.scale[c] as number));
  });
  return { dtype: 'float32', dims: [...x.dims], data: out };
}

/** QuantizeLinear on a constant: `clamp(roundHalfEven(x / scale) + zero)` into the type's range. */
export function quantizeTensor(x: Tensor, p: QdqParams): Tensor {
  const { qmin, qmax } = quantRange(p.dtype);
  const out = allocData(p.dtype, x.data.length);
  forEachChannel(x.dims, p, (i, c) => {
    const q = roundHalfEven(Math.fround(Math.fround(x.data[i] as number) / (p.scale[c] as number))) + (p.zero[c] as number);
    out[i] = Math.min(qmax, Math.max(qmin, q));
  });
  return { dtype: p.dtype, dims: [...x.dims], data: out };
}
