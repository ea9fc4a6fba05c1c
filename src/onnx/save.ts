/**
 * layerq IR -> ONNX protobuf. The only module that writes protobuf (DESIGN.md); the QDQ exporter
 * builds an IR graph and hands it here.
 */
import { onnx } from 'onnx-proto';
import { LayerqError } from '../errors';
import { AttrValue, Model, Node, Tensor, ValueInfo } from '../ir/graph';
import { ONNX_DTYPE, packNibbles } from '../ir/dtype';
import { INTERNAL_OPS } from '../ir/passes/fuse-qdq';

/**
 * Serializes a model to ONNX bytes.
 *
 * - Initializers are written as raw_data (little-endian); int64 from Float64Array (clamped to the
 *   int64 range, so +-2^63 from a loaded INT64_MAX/MIN round-trips); int4/uint4 (ONNX 22/21, newer
 *   than the onnx-proto schema, written by number) packed two per byte, low nibble first.
 * - The default-domain opset is `model.opset`; ir_version is raised to what that opset (and any
 *   4-bit tensor) needs.
 * - Inputs and outputs get value_info with symbolic dims as dim_param.
 * - Attribute types: numbers named in FLOAT_ATTRS or non-integral are FLOAT, others INT (the IR
 *   keeps numbers untyped).
 * - Clip whose min/max are attributes (the prepared-IR form) gets them back as scalar inputs
 *   when opset >= 11; ReduceMean's `axes` attribute becomes an input when opset >= 18, and a
 *   Split without sizes gets `num_outputs` there.
 *
 * Throws LayerqError INTERNAL if an int64 tensor still holds the unknown-dim sentinel (NaN), or
 * for a layerq-internal op (FakeQuantize: prepared graphs only).
 */
export function saveModel(model: Model): Uint8Array {
  const g = model.graph;
  const internal = g.nodes.find((n) => INTERNAL_OPS.has(n.op));
  if (internal) {
    throw new LayerqError('INTERNAL', `node '${internal.name}' is layerq's internal op ${internal.op}, which ONNX files never hold`);
  }
  const extra: onnx.ITensorProto[] = [];
  const taken = new Set<string>([...g.initializers.keys(), ...g.nodes.flatMap((n) => n.outputs)]);
  const nodes = g.nodes.map((n) => nodeToProto(n, model.opset, extra, taken));
  const has4bit = [...g.initializers.values()].some((t) => t.dtype === 'int4' || t.dtype === 'uint4');
  const irVersion = Math.max(model.irVersion, irVersionFor(model.opset), has4bit ? 10 : 0);

  const proto = onnx.ModelProto.create({
    irVersion,
    producerName: model.producerName || 'layerq',
    opsetImport: [{ domain: '', version: model.opset }],
    graph: {
      name: g.name,
      node: nodes,
      input: g.inputs.map(valueInfoToProto),
      output: g.outputs.map(valueInfoToProto),
      initializer: [
        ...[...g.initializers].map(([name, t]) => tensorToProto(name, t)),
        ...extra,
      ],
    },
  });
  return onnx.ModelProto.encode(proto).finish();
}

/** The lowest ONNX IR version that allows default-domain opset `opset`. */
function irVersionFor(opset: number): number {
  if (opset >= 23) return 11;
  if (opset >= 21) return 10;
  if (opset >= 19) return 9;
  if (opset >= 15) return 8;
  if (opset >= 12) return 7;
  if (opset >= 11) return 6;
  if (opset >= 10) return 5;
  if (opset >= 9) return 4;
  return 3;
}

/** A tensor as a TensorProto with raw_data. */
function tensorToProto(name: string, t: Tensor): onnx.ITensorProto {
  let raw: Uint8Array;
  const d = t.data;
  switch (t.dtype) {
    case 'int64': {
      const dv = new DataView(new ArrayBuffer(d.length * 8));
      for (let i = 0; i < d.length; i++) {
        const v = d[i] as number;
        if (Number.isNaN(v)) {
          throw new LayerqError(
            'INTERNAL',
            `tensor '${name}' holds an unknown dimension (a shape value that depends on a symbolic dim)`,
          );
        }
        const big = v >= 2 ** 63 ? 2n ** 63n - 1n : v <= -(2 ** 63) ? -(2n ** 63n) : BigInt(Math.trunc(v));
        dv.setBigInt64(i * 8, big, true);
      }
      raw = new Uint8Array(dv.buffer);
      break;
    }
    case 'int4':
    case 'uint4':
      raw = packNibbles(d);
      break;
    default:
      raw = new Uint8Array(d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength));
  }
  return { name, dims: t.dims, dataType: ONNX_DTYPE[t.dtype], rawData: raw };
}

function valueInfoToProto(v: ValueInfo): onnx.IValueInfoProto {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: ONNX_DTYPE[v.dtype],
        shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** Float-typed ONNX attributes (by name, across the default-domain ops). */
const FLOAT_ATTRS = new Set([
  'alpha', 'beta', 'gamma', 'epsilon', 'momentum', 'min', 'max', 'ratio', 'bias', 'lambd',
  'scale', 'spatial_scale', 'value_float', 'cubic_coeff_a', 'extrapolation_value', 'value', 'mean', 'seed',
  'high', 'low', 'threshold',
]);
const FLOATS_ATTRS = new Set(['value_floats', 'scales', 'activation_alpha', 'activation_beta']);

function nodeToProto(n: Node, opset: number, extra: onnx.ITensorProto[], taken: Set<string>): onnx.INodeProto {
  const inputs = [...n.inputs];
  const attrs = { ...n.attrs };
  if (n.op === 'Clip' && opset >= 11 && ('min' in attrs || 'max' in attrs)) {
    // Prepared IR keeps Clip bounds as attributes; opset 11+ takes them as inputs.
    const x = inputs[0] ?? '';
    const bound = (key: 'min' | 'max'): string => {
      const v = attrs[key];
      delete attrs[key];
      if (typeof v !== 'number') return '';
      let name = `${n.name}_${key}`;
      while (taken.has(name)) name += '_';
      taken.add(name);
      extra.push(tensorToProto(name, { dtype: 'float32', dims: [], data: Float32Array.of(v) }));
      return name;
    };
    const lo = bound('min');
    const hi = bound('max');
    inputs.splice(0, inputs.length, x, lo, hi);
    while (inputs.length > 1 && inputs[inputs.length - 1] === '') inputs.pop();
  }
  if (n.op === 'ReduceMean' && opset >= 18 && Array.isArray(attrs['axes'])) {
    // Prepared IR keeps ReduceMean axes as an attribute; opset 18+ takes them as an input.
    const axes = attrs['axes'] as number[];
    delete attrs['axes'];
    let name = `${n.name}_axes`;
    while (taken.has(name)) name += '_';
    taken.add(name);
    extra.push(tensorToProto(name, { dtype: 'int64', dims: [axes.length], data: Float64Array.from(axes) }));
    inputs.splice(1, inputs.length - 1, name);
  }
  if (n.op === 'Split' && opset >= 18 && !inputs[1] && attrs['num_outputs'] === undefined) {
    attrs['num_outputs'] = n.outputs.length; // opset 18+ needs the split sizes or their count
  }
  return {
    name: n.name,
    opType: n.op,
    domain: '',
    input: inputs,
    output: n.outputs,
    attribute: Object.entries(attrs).map(([k, v]) => attrToProto(k, v)),
  };
}

const AT = onnx.AttributeProto.AttributeType;

function attrToProto(name: string, v: AttrValue): onnx.IAttributeProto {
  if (typeof v === 'string') return { name, type: AT.STRING, s: Buffer.from(v, 'utf8') };
  if (typeof v === 'number') {
    return FLOAT_ATTRS.has(name) || !Number.isInteger(v)
      ? { name, type: AT.FLOAT, f: v }
      : { name, type: AT.INT, i: v };
  }
  if (Array.isArray(v)) {
    if (v.length > 0 && typeof v[0] === 'string') {
      return { name, type: AT.STRINGS, strings: (v as string[]).map((s) => Buffer.from(s, 'utf8')) };
    }
    const nums = v as number[];
    return FLOATS_ATTRS.has(name) || nums.some((x) => !Number.isInteger(x))
      ? { name, type: AT.FLOATS, floats: nums }
      : { name, type: AT.INTS, ints: nums };
  }
  return { name, type: AT.TENSOR, t: tensorToProto('', v) };
}
