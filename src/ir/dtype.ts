/**
 * Element-type facts shared by the loader, the writer and the passes: ONNX TensorProto
 * data-type numbers, typed storage, and small tensor constructors.
 */
import { DType, Tensor, TensorData, numel } from './graph';
import { checkAllocation } from '../util/limits';

/**
 * ONNX `TensorProto.DataType` numbers of the IR dtypes. 21 (UINT4) and 22 (INT4) came after
 * ONNX 1.10 (the schema onnx-proto was generated from), so they are written by number.
 */
export const ONNX_DTYPE: Readonly<Record<DType, number>> = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
  uint4: 21,
  int4: 22,
};

/** ONNX data-type numbers without an IR dtype, by name, for error messages. */
export const ONNX_DTYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'UNDEFINED', 1: 'FLOAT', 2: 'UINT8', 3: 'INT8', 4: 'UINT16', 5: 'INT16', 6: 'INT32',
  7: 'INT64', 8: 'STRING', 9: 'BOOL', 10: 'FLOAT16', 11: 'DOUBLE', 12: 'UINT32', 13: 'UINT64',
  14: 'COMPLEX64', 15: 'COMPLEX128', 16: 'BFLOAT16', 17: 'FLOAT8E4M3FN', 18: 'FLOAT8E4M3FNUZ',
  19: 'FLOAT8E5M2', 20: 'FLOAT8E5M2FNUZ', 21: 'UINT4', 22: 'INT4',
};

/** The IR dtype of an ONNX data-type number, or undefined (float16/double are not IR dtypes). */
export function dtypeFromOnnx(code: number): DType | undefined {
  for (const [k, v] of Object.entries(ONNX_DTYPE)) if (v === code) return k as DType;
  return undefined;
}

/** Bytes of storage per element of `dtype`. */
export function storageBytes(dtype: DType): number {
  return dtype === 'int64' ? 8 : dtype === 'float32' || dtype === 'int32' ? 4 : 1;
}

/**
 * Zeroed storage of `n` elements of `dtype` (int64 as Float64Array, bool as Uint8Array). Throws
 * TOO_LARGE when `n` is not a size or is over the memory budget (src/util/limits.ts).
 */
export function allocData(dtype: DType, n: number): TensorData {
  checkAllocation('a tensor', n, storageBytes(dtype));
  switch (dtype) {
    case 'float32':
      return new Float32Array(n);
    case 'int64':
      return new Float64Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'int8':
    case 'int4':
      return new Int8Array(n);
    case 'uint8':
    case 'uint4':
    case 'bool':
      return new Uint8Array(n);
  }
}

/** A tensor of `dtype` and `dims` holding `values` (converted to the dtype's storage). */
export function makeTensor(dtype: DType, dims: number[], values: ArrayLike<number>): Tensor {
  const data = allocData(dtype, numel(dims));
  if (values.length !== data.length) {
    throw new Error(`makeTensor: ${values.length} values for dims [${dims.join(', ')}]`);
  }
  for (let i = 0; i < data.length; i++) data[i] = castValue(dtype, values[i] as number);
  return { dtype, dims: [...dims], data };
}

/** An int64 tensor (Float64Array storage); a plain array gives a 1-D tensor, a number a scalar. */
export function int64Tensor(values: number | number[], dims?: number[]): Tensor {
  const list = typeof values === 'number' ? [values] : values;
  const shape = dims ?? (typeof values === 'number' ? [] : [list.length]);
  return makeTensor('int64', shape, list);
}

/** `v` converted as ONNX Cast would to `dtype` (truncation toward zero, wrap for 8-bit types). */
export function castValue(dtype: DType, v: number): number {
  switch (dtype) {
    case 'float32':
      return Math.fround(v);
    case 'int64':
      return Number.isNaN(v) ? v : Math.trunc(v); // NaN is the unknown-dim sentinel; keep it
    case 'int32':
      return Math.trunc(v) | 0;
    case 'int8':
      return (Math.trunc(v) << 24) >> 24;
    case 'uint8':
      return Math.trunc(v) & 0xff;
    case 'bool':
      return v !== 0 ? 1 : 0;
    case 'int4':
      return Math.max(-8, Math.min(7, Math.trunc(v)));
    case 'uint4':
      return Math.max(0, Math.min(15, Math.trunc(v)));
  }
}

/** A shallow copy of `t` with its own data and dims. */
export function cloneTensor(t: Tensor): Tensor {
  return { dtype: t.dtype, dims: [...t.dims], data: t.data.slice() };
}

/**
 * Packs 4-bit values (one per element, int4 in [-8, 7] or uint4 in [0, 15]) two per byte, low nibble
 * first, as ONNX stores INT4/UINT4; an odd count leaves the last high nibble zero.
 */
export function packNibbles(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(Math.ceil(values.length / 2));
  for (let i = 0; i < values.length; i++) {
    const nib = (values[i] as number) & 0x0f;
    out[i >> 1]! |= i & 1 ? nib << 4 : nib;
  }
  return out;
}

/** Inverse of `packNibbles`: `n` values, sign-extended from 4 bits when `signed`. */
export function unpackNibbles(bytes: Uint8Array, n: number, signed: boolean): Int8Array {
  const out = new Int8Array(n);
  for (let i = 0; i < n; i++) {
    const b = bytes[i >> 1] ?? 0;
    const nib = i & 1 ? (b >> 4) & 0x0f : b & 0x0f;
    out[i] = signed && nib >= 8 ? nib - 16 : nib;
  }
  return out;
}

/** The integer dtypes QuantizeLinear / DequantizeLinear read and write. */
export type QuantDType = 'uint8' | 'int8' | 'uint4' | 'int4' | 'int32';

export function isQuantDType(dtype: DType): dtype is QuantDType {
  return dtype === 'uint8' || dtype === 'int8' || dtype === 'uint4' || dtype === 'int4' || dtype === 'int32';
}

/**
 * The saturation range of QuantizeLinear into `dtype` (ONNX: the whole type, no narrow range):
 * uint8 [0, 255], int8 [-128, 127], uint4 [0, 15], int4 [-8, 7], int32 [-2^31, 2^31 - 1].
 */
export function quantRange(dtype: QuantDType): { qmin: number; qmax: number } {
  switch (dtype) {
    case 'uint8':
      return { qmin: 0, qmax: 255 };
    case 'int8':
      return { qmin: -128, qmax: 127 };
    case 'uint4':
      return { qmin: 0, qmax: 15 };
    case 'int4':
      return { qmin: -8, qmax: 7 };
    case 'int32':
      return { qmin: -2147483648, qmax: 2147483647 };
  }
}
