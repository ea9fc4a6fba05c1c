'use strict';
/**
 * Seeded mutations of ONNX model bytes for the fuzz run (test/fuzz/models.test.ts): byte-level
 * damage (truncation, bit flips) and field edits of the decoded protobuf (dims, data types,
 * attributes, opsets, shapes, op types, inputs). Plain JavaScript: it runs in worker processes
 * next to the built library (dist/). `mutate(bytes, rng)` returns the new bytes and a short
 * description that replays the case from its seed.
 */
const { onnx } = require('onnx-proto');

const pick = (rng, xs) => xs[Math.floor(rng() * xs.length)];
const BIG = [0, -1, 1, 2, 3, 7, 255, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 1, 2 ** 40, 2 ** 53, -(2 ** 31)];
const STRINGS = ['', 'SAME_MIDDLE', 'SAME_UPPER', 'VALID', 'NOTSET', 'reflect', '\u001b[31m', 'x'.repeat(5000)];
const OPS = ['Conv', 'Relu', 'Clip', 'Add', 'Gemm', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'Flatten', 'Reshape',
  'Pad', 'Slice', 'Softmax', 'Transpose', 'Concat', 'QuantizeLinear', 'DequantizeLinear', 'Identity', 'Loop', 'NoSuchOp', ''];

function byteEdit(bytes, rng) {
  const out = Uint8Array.from(bytes);
  if (rng() < 0.4) {
    const at = Math.floor(rng() * out.length);
    return { bytes: out.subarray(0, at), what: `truncate at ${at}` };
  }
  const flips = 1 + Math.floor(rng() * 16);
  // Half the flips land in the first 4 KiB, where the graph structure usually is.
  for (let k = 0; k < flips; k++) {
    const at = Math.floor(rng() * (rng() < 0.5 ? Math.min(4096, out.length) : out.length));
    out[at] ^= 1 << Math.floor(rng() * 8);
  }
  return { bytes: out, what: `${flips} bit flips` };
}

function fieldEdit(m, rng) {
  const g = m.graph;
  const kind = Math.floor(rng() * 10);
  switch (kind) {
    case 0: { // initializer dims
      const t = pick(rng, g.initializer);
      if (!t) return 'no initializer';
      const dims = (t.dims || []).map(Number);
      const r = rng();
      if (r < 0.2) dims.push(pick(rng, BIG));
      else if (r < 0.35) dims.pop();
      else if (dims.length) dims[Math.floor(rng() * dims.length)] = pick(rng, BIG);
      t.dims = dims;
      return `initializer ${t.name} dims [${dims}]`;
    }
    case 1: { // initializer data type, or its data cut
      const t = pick(rng, g.initializer);
      if (!t) return 'no initializer';
      if (rng() < 0.5) {
        t.dataType = Math.floor(rng() * 26);
        return `initializer ${t.name} type ${t.dataType}`;
      }
      if (t.rawData && t.rawData.length) t.rawData = t.rawData.subarray(0, Math.floor(rng() * t.rawData.length));
      return `initializer ${t.name} data cut`;
    }
    case 2: case 3: { // an attribute value
      const n = pick(rng, g.node.filter((x) => x.attribute && x.attribute.length));
      if (!n) return 'no attribute';
      const a = pick(rng, n.attribute);
      if (a.ints && a.ints.length) a.ints = a.ints.map((v) => (rng() < 0.5 ? pick(rng, BIG) : v));
      else if (a.type === onnx.AttributeProto.AttributeType.INT) a.i = pick(rng, BIG);
      else if (a.type === onnx.AttributeProto.AttributeType.STRING) a.s = Buffer.from(pick(rng, STRINGS));
      else if (a.type === onnx.AttributeProto.AttributeType.FLOAT) a.f = pick(rng, [NaN, Infinity, -Infinity, 0, 1e30]);
      else a.type = Math.floor(rng() * 16);
      return `node ${n.name} attribute ${a.name}`;
    }
    case 4: { // a new attribute on a node
      const n = pick(rng, g.node);
      if (!n) return 'no node';
      const name = pick(rng, ['auto_pad', 'kernel_shape', 'pads', 'strides', 'dilations', 'group', 'axis', 'perm', 'ceil_mode']);
      n.attribute = (n.attribute || []).filter((a) => a.name !== name);
      if (name === 'auto_pad') n.attribute.push({ name, type: 3, s: Buffer.from(pick(rng, STRINGS)) });
      else if (rng() < 0.5) n.attribute.push({ name, type: 2, i: pick(rng, BIG) });
      else n.attribute.push({ name, type: 7, ints: Array.from({ length: Math.floor(rng() * 6) }, () => pick(rng, BIG)) });
      return `node ${n.name} new ${name}`;
    }
    case 5: { // opset and ir_version
      if (rng() < 0.7) m.opsetImport = [{ domain: '', version: pick(rng, [-1, 0, 1, 6, 7, 9, 11, 13, 17, 21, 23, 24, 99, 2 ** 31]) }];
      else m.irVersion = pick(rng, [0, 1, 3, 99]);
      return `opset ${m.opsetImport[0] && m.opsetImport[0].version} ir ${m.irVersion}`;
    }
    case 6: { // a graph input or output shape
      const v = pick(rng, [...(g.input || []), ...(g.output || [])]);
      const dims = v && v.type && v.type.tensorType && v.type.tensorType.shape && v.type.tensorType.shape.dim;
      if (!dims || !dims.length) return 'no shape';
      const d = pick(rng, dims);
      if (rng() < 0.7) { d.dimValue = pick(rng, BIG); d.dimParam = ''; } else { d.dimParam = 'N'; d.dimValue = 0; }
      if (rng() < 0.2) v.type.tensorType.elemType = Math.floor(rng() * 26);
      return `value ${v.name} shape`;
    }
    case 7: { // an op type
      const n = pick(rng, g.node);
      if (!n) return 'no node';
      n.opType = pick(rng, OPS);
      return `node ${n.name} op ${n.opType}`;
    }
    case 8: { // node inputs: drop, duplicate, dangle
      const n = pick(rng, g.node);
      if (!n) return 'no node';
      const r = rng();
      if (r < 0.33) n.input = n.input.slice(0, Math.max(0, n.input.length - 1));
      else if (r < 0.66) n.input = [...n.input, pick(rng, n.input.length ? n.input : ['x'])];
      else n.input = n.input.map((i) => (rng() < 0.5 ? `${i}_missing` : i));
      return `node ${n.name} inputs`;
    }
    default: { // node order
      if (g.node.length < 2) return 'no nodes';
      const i = Math.floor(rng() * g.node.length);
      const j = Math.floor(rng() * g.node.length);
      [g.node[i], g.node[j]] = [g.node[j], g.node[i]];
      return `swap nodes ${i} ${j}`;
    }
  }
}

/** One seeded mutation of `bytes`: byte-level damage or 1-3 protobuf field edits. */
function mutate(bytes, rng) {
  if (rng() < 0.3) return byteEdit(bytes, rng);
  const m = onnx.ModelProto.decode(bytes);
  const edits = 1 + Math.floor(rng() * 3);
  const what = [];
  for (let k = 0; k < edits; k++) what.push(fieldEdit(m, rng));
  return { bytes: onnx.ModelProto.encode(m).finish(), what: what.join('; ') };
}

module.exports = { mutate };
