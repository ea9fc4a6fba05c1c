/**
 * ONNX protobuf -> layerq IR. The only module that reads protobuf (DESIGN.md): everything after
 * it works on `Model` (src/ir/graph.ts).
 */
import { onnx } from 'onnx-proto';
import { LayerqError, fsError, quote } from '../errors';
import { AttrValue, Dim, Graph, Model, Node, Tensor, ValueInfo } from '../ir/graph';
import { ONNX_DTYPE_NAMES, dtypeFromOnnx, makeTensor, unpackNibbles } from '../ir/dtype';
import { FILE_LIMITS, checkAllocation, safeProduct } from '../util/limits';
import { UnreadableFileError, readRegularFileSync } from '../util/read-file';

/**
 * Default-domain opsets whose operator semantics layerq implements. Below 7 several ops meant
 * something else (BatchNormalization's `spatial`, Reshape's shape attribute, Gemm without
 * broadcasting); above the upper bound layerq cannot know what changed.
 */
export const SUPPORTED_OPSETS = { min: 7, max: 23 } as const;

type Long = { toNumber(): number };
const toNum = (v: number | Long | null | undefined): number =>
  v == null ? 0 : typeof v === 'number' ? v : v.toNumber();

/**
 * Reads an ONNX model from a file path or from its bytes.
 *
 * Initializers and `Constant` nodes become `graph.initializers` (float16/double converted to
 * float32, int64 held as Float64Array); graph inputs that are also initializers are dropped from
 * `graph.inputs`; symbolic dims stay strings. `graph.values` holds the declared inputs, outputs,
 * value_info entries and initializers; shape inference fills the rest.
 *
 * Every size the file declares (dims of initializers) is checked against the data it holds
 * and the memory budget (src/util/limits.ts) before anything is allocated for it.
 *
 * Throws LayerqError FILE_NOT_FOUND (no such file), BAD_MODEL (not a regular file, not ONNX or
 * malformed, sizes that contradict the data), TOO_LARGE (a tensor over the memory budget),
 * UNSUPPORTED_OP (an opset outside SUPPORTED_OPSETS, a node outside the default domain, or with
 * a subgraph attribute).
 */
export function loadModel(pathOrBytes: string | Uint8Array): Model {
  const where = typeof pathOrBytes === 'string' ? quote(pathOrBytes, 200) : '<bytes>';
  const bytes = typeof pathOrBytes === 'string' ? readModelFile(pathOrBytes) : pathOrBytes;
  const bad = (why: string): LayerqError =>
    new LayerqError('BAD_MODEL', `${where} is not an ONNX model: ${why}`);

  let proto: onnx.ModelProto;
  try {
    proto = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw bad(`protobuf decoding failed (${quote((e as Error).message, 100)})`);
  }
  if (!proto.graph) throw bad('no graph');
  if (toNum(proto.irVersion) <= 0) throw bad('no ir_version');

  let opset = 0;
  for (const o of proto.opsetImport) {
    if (o.domain === '' || o.domain === 'ai.onnx') opset = toNum(o.version);
  }
  if (opset <= 0) throw bad('no default-domain opset_import');
  if (opset < SUPPORTED_OPSETS.min || opset > SUPPORTED_OPSETS.max) {
    throw new LayerqError(
      'UNSUPPORTED_OP',
      `${where} uses ONNX opset ${opset}; layerq supports opsets ${SUPPORTED_OPSETS.min} to ${SUPPORTED_OPSETS.max}`,
    );
  }

  const graph = convertGraph(proto.graph, bad);
  return {
    graph,
    opset,
    irVersion: toNum(proto.irVersion),
    producerName: proto.producerName ?? '',
  };
}

/** The bytes of a model file: a regular file of at most FILE_LIMITS.model bytes. */
function readModelFile(file: string): Buffer {
  try {
    return readRegularFileSync(file, FILE_LIMITS.model);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new LayerqError('FILE_NOT_FOUND', `model file not found: ${quote(file, 200)}`);
    if (e instanceof UnreadableFileError) throw new LayerqError('BAD_MODEL', `model file ${quote(file, 200)}: ${e.reason}`);
    throw fsError(e, 'BAD_MODEL', 'cannot read the model file', file);
  }
}

function convertGraph(g: onnx.IGraphProto, bad: (why: string) => LayerqError): Graph {
  const initializers = new Map<string, Tensor>();
  for (const t of g.initializer ?? []) {
    initializers.set(t.name ?? '', tensorFromProto(t, `initializer ${quote(t.name ?? '', 80)}`, bad));
  }
  const nodes: Node[] = [];
  for (const [i, n] of (g.node ?? []).entries()) {
    const name = n.name || `${n.opType}_${i}`;
    const op = n.opType ?? '';
    if (n.domain && n.domain !== 'ai.onnx') {
      throw new LayerqError(
        'UNSUPPORTED_OP',
        `unsupported ONNX op ${quote(`${n.domain}.${op}`, 80)} (node ${quote(name, 80)}): only the default ONNX domain is supported`,
      );
    }
    const outputs = [...(n.output ?? [])];
    if (op === 'Constant') {
      initializers.set(outputs[0] ?? '', constantValue(n, name, bad));
      continue;
    }
    const attrs: Record<string, AttrValue> = {};
    for (const a of n.attribute ?? []) attrs[a.name ?? ''] = attrValue(a, op, name, bad);
    nodes.push({ name, op, inputs: [...(n.input ?? [])], outputs, attrs });
  }

  const values = new Map<string, ValueInfo>();
  const inputs: ValueInfo[] = [];
  for (const vi of g.input ?? []) {
    if (initializers.has(vi.name ?? '')) continue;
    const v = valueInfo(vi);
    inputs.push(v);
    values.set(v.name, v);
  }
  const outputs = (g.output ?? []).map(valueInfo);
  for (const vi of g.valueInfo ?? []) {
    const v = valueInfo(vi);
    if (v.shape.length > 0) values.set(v.name, v);
  }
  for (const v of outputs) values.set(v.name, v);
  for (const [name, t] of initializers) values.set(name, { name, dtype: t.dtype, shape: [...t.dims] });
  return { name: g.name ?? 'graph', nodes, inputs, outputs, initializers, values };
}

function valueInfo(vi: onnx.IValueInfoProto): ValueInfo {
  const name = vi.name ?? '';
  const tt = vi.type?.tensorType;
  const dtype = dtypeFromOnnx(tt?.elemType ?? 1) ?? 'float32';
  const shape: Dim[] = (tt?.shape?.dim ?? []).map((d, i) => {
    if (d.dimParam) return d.dimParam;
    const v = toNum(d.dimValue as number | Long | null | undefined);
    return v > 0 ? v : `${name}_dim${i}`; // an unnamed unknown dim: give it a symbol
  });
  return { name, dtype, shape };
}

/** Bytes a TensorProto's raw_data holds for one element of ONNX type `code` (0.5 for 4-bit). */
const RAW_BYTES: Readonly<Record<number, number>> = { 1: 4, 2: 1, 3: 1, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 21: 0.5, 22: 0.5 };
/** Bytes of IR storage per element (float16/double are held as float32, int64 as float64). */
const IR_BYTES: Readonly<Record<number, number>> = { 1: 4, 2: 1, 3: 1, 6: 4, 7: 8, 9: 1, 10: 4, 11: 4, 21: 1, 22: 1 };

/**
 * A TensorProto as an IR tensor; float16 and double become float32. Its dims are checked first
 * (non-negative integers, a product within the memory budget), then the number of values the
 * data holds against them, so a file cannot make layerq allocate more than it could fill.
 */
function tensorFromProto(t: onnx.ITensorProto, what: string, bad: (w: string) => LayerqError): Tensor {
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    throw bad(`${what} uses external data, which layerq does not read`);
  }
  const dims = (t.dims ?? []).map((d) => toNum(d));
  const shown = `[${dims.slice(0, 8).join(', ')}${dims.length > 8 ? ', ...' : ''}]`;
  if (dims.length > 32) throw bad(`${what} has rank ${dims.length}`);
  const n = safeProduct(dims);
  if (Number.isNaN(n)) throw bad(`${what} has dims ${shown}, which are not sizes`);
  const code = t.dataType ?? 0;
  const irBytes = IR_BYTES[code];
  if (irBytes === undefined) {
    throw new LayerqError(
      'UNSUPPORTED_OP',
      `${what} has data type ${ONNX_DTYPE_NAMES[code] ?? code}, which layerq does not support`,
    );
  }
  checkAllocation(what, n, irBytes, dims);
  const raw = t.rawData !== null && t.rawData !== undefined && t.rawData.length > 0;
  const held = heldValues(t, code);
  // raw_data in bytes; 4-bit typed data packed two a int32_data entry; other typed fields one a value.
  const expected = raw ? Math.ceil(n * RAW_BYTES[code]!) : code === 21 || code === 22 ? Math.ceil(n / 2) : n;
  if (held !== expected) {
    throw bad(`${what} holds ${held} ${raw ? 'bytes' : 'values'} for dims ${shown} (${expected} expected)`);
  }
  const values = decodeTensorData(t, code, dims);
  if (values === undefined) throw bad(`${what} has data type ${ONNX_DTYPE_NAMES[code] ?? code} without data`);
  const dtype = dtypeFromOnnx(code) ?? 'float32';
  try {
    return { ...makeTensor(dtype, dims, values), dims };
  } catch {
    throw bad(`${what} holds ${values.length} values for dims ${shown}`);
  }
}

/** How much data a TensorProto holds: raw_data bytes, or the length of its typed field. */
function heldValues(t: onnx.ITensorProto, code: number): number {
  if (t.rawData && t.rawData.length > 0) return t.rawData.length;
  const T = onnx.TensorProto.DataType;
  switch (code) {
    case T.FLOAT: return t.floatData?.length ?? 0;
    case T.DOUBLE: return t.doubleData?.length ?? 0;
    case T.INT64: return t.int64Data?.length ?? 0;
    default: return t.int32Data?.length ?? 0;
  }
}

function constantValue(n: onnx.INodeProto, name: string, bad: (w: string) => LayerqError): Tensor {
  const a = (n.attribute ?? [])[0];
  const what = `Constant node '${name}'`;
  switch (a?.name) {
    case 'value':
      return tensorFromProto(a.t ?? {}, what, bad);
    case 'value_float':
      return makeTensor('float32', [], [a.f ?? 0]);
    case 'value_floats':
      return makeTensor('float32', [a.floats?.length ?? 0], a.floats ?? []);
    case 'value_int':
      return makeTensor('int64', [], [toNum(a.i as number | Long)]);
    case 'value_ints': {
      const ints = (a.ints ?? []).map((v) => toNum(v as number | Long));
      return makeTensor('int64', [ints.length], ints);
    }
    default:
      throw new LayerqError(
        'UNSUPPORTED_OP',
        `unsupported ONNX op 'Constant' (node ${quote(name, 80)}): attribute ${quote(a?.name ?? '(none)', 60)}`,
      );
  }
}

const AT = onnx.AttributeProto.AttributeType;

function attrValue(a: onnx.IAttributeProto, op: string, node: string, bad: (w: string) => LayerqError): AttrValue {
  const text = (b: Uint8Array | null | undefined): string => Buffer.from(b ?? []).toString('utf8');
  switch (a.type) {
    case AT.FLOAT:
      return a.f ?? 0;
    case AT.INT:
      return toNum(a.i as number | Long);
    case AT.STRING:
      return text(a.s);
    case AT.TENSOR:
      return tensorFromProto(a.t ?? {}, `attribute ${quote(a.name ?? '', 60)} of node ${quote(node, 80)}`, bad);
    case AT.FLOATS:
      return [...(a.floats ?? [])];
    case AT.INTS:
      return (a.ints ?? []).map((v) => toNum(v as number | Long));
    case AT.STRINGS:
      return (a.strings ?? []).map(text);
    default:
      throw new LayerqError(
        'UNSUPPORTED_OP',
        `unsupported ONNX op ${quote(op, 60)} (node ${quote(node, 80)}): attribute ${quote(a.name ?? '', 60)} of type ${a.type} (subgraphs and sparse tensors are not supported)`,
      );
  }
}

/** Little-endian view over a copy of `raw` (protobufjs may hand out unaligned sub-arrays). */
function view(raw: Uint8Array): DataView {
  const copy = new Uint8Array(raw);
  return new DataView(copy.buffer, copy.byteOffset, copy.byteLength);
}

/** IEEE half-precision bits -> number. */
function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/**
 * The element values of a TensorProto (raw_data or the typed field), or undefined for a data
 * type layerq does not hold. 4-bit types are unpacked (low nibble first); int64 goes through
 * Number (exact up to 2^53, which covers shapes; INT64_MAX/MIN round to +-2^63).
 */
function decodeTensorData(t: onnx.ITensorProto, code: number, dims: readonly number[]): ArrayLike<number> | undefined {
  const n = dims.reduce((a, b) => a * b, 1);
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : undefined;
  const T = onnx.TensorProto.DataType;
  if (raw) {
    const dv = view(raw);
    const read = (bytes: number, get: (off: number) => number): Float64Array => {
      const out = new Float64Array(Math.floor(raw.length / bytes));
      for (let i = 0; i < out.length; i++) out[i] = get(i * bytes);
      return out;
    };
    switch (code) {
      case T.FLOAT: return read(4, (o) => dv.getFloat32(o, true));
      case T.DOUBLE: return read(8, (o) => dv.getFloat64(o, true));
      case T.FLOAT16: return read(2, (o) => halfToFloat(dv.getUint16(o, true)));
      case T.INT64: return read(8, (o) => Number(dv.getBigInt64(o, true)));
      case T.INT32: return read(4, (o) => dv.getInt32(o, true));
      case T.INT8: return read(1, (o) => dv.getInt8(o));
      case T.UINT8: case T.BOOL: return read(1, (o) => dv.getUint8(o));
      case 21: return unpackNibbles(raw, n, false);
      case 22: return unpackNibbles(raw, n, true);
      default: return undefined;
    }
  }
  const longs = (xs: (number | Long)[] | null | undefined): number[] => (xs ?? []).map((v) => toNum(v));
  switch (code) {
    case T.FLOAT: return t.floatData ?? [];
    case T.DOUBLE: return t.doubleData ?? [];
    case T.FLOAT16: return (t.int32Data ?? []).map(halfToFloat);
    case T.INT64: return longs(t.int64Data as (number | Long)[]);
    case T.INT32: case T.INT8: case T.UINT8: case T.BOOL: return t.int32Data ?? [];
    case 21: return unpackNibbles(Uint8Array.from(t.int32Data ?? []), n, false);
    case 22: return unpackNibbles(Uint8Array.from(t.int32Data ?? []), n, true);
    default: return undefined;
  }
}
