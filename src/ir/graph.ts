/**
 * layerq's graph IR: plain typed data. Only `src/onnx/` converts between this and protobuf;
 * every pass, the engine, calibration and the search work on these types.
 */

export type DType = 'float32' | 'int64' | 'int32' | 'int8' | 'uint8' | 'bool' | 'int4' | 'uint4';

/**
 * Typed storage per dtype. int64 values are held as Float64Array (shape arithmetic only).
 * int4 / uint4 hold one value per element in Int8Array / Uint8Array ([-8, 7] / [0, 15]); they are
 * packed two a byte only in the protobuf written by `src/onnx/save.ts`.
 */
export type TensorData = Float32Array | Float64Array | Int32Array | Int8Array | Uint8Array;

/** A constant or runtime tensor. `data.length` equals the product of `dims` (1 for a scalar). */
export interface Tensor {
  dtype: DType;
  dims: number[];
  data: TensorData;
}

export type AttrValue = number | string | number[] | string[] | Tensor;

/** One ONNX node. An empty string in `inputs` is an absent optional input. */
export interface Node {
  name: string;
  op: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrValue>;
}

/** A dimension is a number, or a string for a symbolic dimension such as 'batch'. */
export type Dim = number | string;

export interface ValueInfo {
  name: string;
  dtype: DType;
  shape: Dim[];
}

export interface Graph {
  name: string;
  /** Topologically sorted. */
  nodes: Node[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  /** Weights and folded constants, by tensor name. */
  initializers: Map<string, Tensor>;
  /** Shapes of every value, filled by shape inference (inputs and initializers included). */
  values: Map<string, ValueInfo>;
}

export interface Model {
  graph: Graph;
  /** Default-domain opset version. */
  opset: number;
  irVersion: number;
  producerName: string;
}

export function numel(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

export function floatTensor(dims: number[], data?: Float32Array): Tensor {
  return { dtype: 'float32', dims, data: data ?? new Float32Array(numel(dims)) };
}
