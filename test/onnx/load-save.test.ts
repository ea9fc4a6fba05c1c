/** Loader and writer details: error cases, Constant forms, typed fields, 4-bit packing. */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { onnx } from 'onnx-proto';
import { LayerqError } from '../../src/errors';
import { makeTensor } from '../../src/ir/dtype';
import { imageInput } from '../../src/ir/image-input';
import { prepareModel } from '../../src/ir/passes/prepare';
import { loadModel } from '../../src/onnx/load';
import { saveModel } from '../../src/onnx/save';
import { model, node, vi } from '../ir/build';
import { runOrt } from './ort-helpers';
import { pythonOnnx, testWithTool } from '../tools';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'layerq-load-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function caught(f: () => unknown): LayerqError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(LayerqError);
    return e as LayerqError;
  }
  throw new Error('expected a LayerqError');
}

describe('loadModel errors', () => {
  it('FILE_NOT_FOUND names the path on one line', () => {
    const p = path.join(tmp, 'nope.onnx');
    const e = caught(() => loadModel(p));
    expect(e.code).toBe('FILE_NOT_FOUND');
    expect(e.message).toContain(p);
    expect(e.message).not.toContain('\n');
  });

  it('BAD_MODEL for a text file renamed .onnx', () => {
    const p = path.join(tmp, 'notes.onnx');
    fs.writeFileSync(p, 'these are not the weights you are looking for\nline two\n');
    const e = caught(() => loadModel(p));
    expect(e.code).toBe('BAD_MODEL');
    expect(e.message.startsWith(`'${p}' is not an ONNX model: `)).toBe(true);
    expect(e.message).not.toContain('\n');
  });

  it('BAD_MODEL for an empty file and for truncated bytes', () => {
    const p = path.join(tmp, 'empty.onnx');
    fs.writeFileSync(p, '');
    expect(caught(() => loadModel(p)).code).toBe('BAD_MODEL');
    const bytes = fs.readFileSync(path.resolve(__dirname, '../../../shared/models/resnet20.onnx'));
    expect(caught(() => loadModel(bytes.subarray(0, 5000))).code).toBe('BAD_MODEL');
  });

  it('UNSUPPORTED_OP for a node outside the default domain', () => {
    const m = model([node('Relu', ['x'], ['y'])], [vi('x', [1, 3, 4, 4])], [vi('y', [])], {});
    const proto = onnx.ModelProto.decode(saveModel(m));
    proto.graph!.node![0]!.domain = 'com.microsoft';
    proto.opsetImport.push(onnx.OperatorSetIdProto.create({ domain: 'com.microsoft', version: 1 }));
    const e = caught(() => loadModel(onnx.ModelProto.encode(proto).finish()));
    expect(e.code).toBe('UNSUPPORTED_OP');
    expect(e.message).toMatch(/com\.microsoft\.Relu.*node 'Relu_y'/);
  });
});

describe('preparation errors', () => {
  it("UNSUPPORTED_OP \"unsupported ONNX op 'X' (node 'name')\" after preparation", () => {
    const m = model([node('Relu', ['x'], ['r'], {}, 'relu'), node('Elu', ['r'], ['y'], {}, 'elu1')],
      [vi('x', ['batch', 3, 4, 4])], [vi('y', [])], {});
    const e = caught(() => prepareModel(loadModel(saveModel(m))));
    expect(e.code).toBe('UNSUPPORTED_OP');
    expect(e.message).toBe("unsupported ONNX op 'Elu' (node 'elu1')");
  });

  it('BAD_MODEL_INPUT for an input [N, 10], with the shape received', () => {
    const m = model([node('Gemm', ['x', 'w'], ['y'], {}, 'fc')], [vi('x', ['N', 10])], [vi('y', ['N', 2])],
      { w: makeTensor('float32', [10, 2], new Array(20).fill(0.5)) });
    const g = prepareModel(loadModel(saveModel(m))).graph;
    const e = caught(() => imageInput(g));
    expect(e.code).toBe('BAD_MODEL_INPUT');
    expect(e.message).toContain("['N', 10]");
  });

  it('BAD_MODEL_INPUT for a symbolic spatial size', () => {
    const m = model([node('Relu', ['x'], ['y'])], [vi('x', ['N', 3, 'h', 'w'])], [vi('y', [])], {});
    expect(caught(() => imageInput(m.graph)).code).toBe('BAD_MODEL_INPUT');
  });
});

describe('Constant nodes and typed tensor fields', () => {
  it('drops graph inputs that are also initializers (old exporters list weights as inputs)', () => {
    const m = model([node('Add', ['x', 'w'], ['y'])], [vi('x', ['batch', 2])], [vi('y', ['batch', 2])],
      { w: makeTensor('float32', [2], [1, 2]) });
    const proto = onnx.ModelProto.decode(saveModel(m));
    proto.graph!.input!.push(onnx.ValueInfoProto.create({ name: 'w', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 2 }] } } } }));
    const g = loadModel(onnx.ModelProto.encode(proto).finish()).graph;
    expect(g.inputs.map((v) => [v.name, v.shape])).toEqual([['x', ['batch', 2]]]);
    expect(g.initializers.has('w')).toBe(true);
  });

  it('converts value, value_float(s), value_int(s) to initializers of the right dtype', () => {
    const m = model(
      [
        node('Constant', [], ['a'], { value_float: 2 }),
        node('Constant', [], ['b'], { value_floats: [1, 2.5] }),
        node('Constant', [], ['c'], { value_int: 3 }),
        node('Constant', [], ['d'], { value_ints: [4, -5] }),
        node('Constant', [], ['e'], { value: makeTensor('int32', [2, 1], [7, -8]) }),
      ],
      [], [vi('a', [])], {},
    );
    const g = loadModel(saveModel(m)).graph;
    expect(g.nodes).toHaveLength(0);
    const t = (n: string) => { const x = g.initializers.get(n)!; return [x.dtype, x.dims, Array.from(x.data)]; };
    expect(t('a')).toEqual(['float32', [], [2]]);
    expect(t('b')).toEqual(['float32', [2], [1, 2.5]]);
    expect(t('c')).toEqual(['int64', [], [3]]);
    expect(t('d')).toEqual(['int64', [2], [4, -5]]);
    expect(t('e')).toEqual(['int32', [2, 1], [7, -8]]);
  });

  it('reads typed fields (float_data, int64_data, int32_data for int8) and converts float16/double', () => {
    const T = onnx.TensorProto.DataType;
    const init = [
      { name: 'f', dataType: T.FLOAT, dims: [2], floatData: [1.5, -2] },
      { name: 'l', dataType: T.INT64, dims: [3], int64Data: [1, -1, 9007199254740991] },
      { name: 'i8', dataType: T.INT8, dims: [2], int32Data: [-128, 127] },
      { name: 'd', dataType: T.DOUBLE, dims: [1], doubleData: [0.1] },
      { name: 'h', dataType: T.FLOAT16, dims: [3], rawData: new Uint8Array([0x00, 0x3c, 0x00, 0xc0, 0x55, 0x35]) },
    ];
    const proto = onnx.ModelProto.create({
      irVersion: 8, opsetImport: [{ domain: '', version: 17 }],
      graph: { name: 'g', initializer: init, output: [{ name: 'f' }] },
    });
    const g = loadModel(onnx.ModelProto.encode(proto).finish()).graph;
    const v = (n: string) => Array.from(g.initializers.get(n)!.data);
    expect(v('f')).toEqual([1.5, -2]);
    expect(v('l')).toEqual([1, -1, 9007199254740991]);
    expect(g.initializers.get('i8')!.dtype).toBe('int8');
    expect(v('i8')).toEqual([-128, 127]);
    expect(g.initializers.get('d')!.dtype).toBe('float32');
    expect(v('d')[0]).toBeCloseTo(0.1, 7);
    expect(v('h')).toEqual([1, -2, Math.fround(0.33325195)]);
  });
});


describe('4-bit tensors (int4 = 22, uint4 = 21)', () => {
  // An odd element count checks the half-filled last byte.
  const q4 = makeTensor('int4', [5], [-8, -1, 0, 3, 7]);
  const u4 = makeTensor('uint4', [5], [0, 1, 8, 14, 15]);
  const m = model(
    [
      node('DequantizeLinear', ['q4', 'scale'], ['y4'], {}, 'dq4'),
      node('DequantizeLinear', ['u4', 'scale', 'zp'], ['yu'], {}, 'dqu'),
      node('Add', ['y4', 'yu'], ['y'], {}, 'add'),
    ],
    [], [vi('y', [5])],
    { q4, u4, scale: makeTensor('float32', [], [0.5]), zp: makeTensor('uint4', [], [8]) },
    21,
  );
  const bytes = saveModel(m);

  it('packs two values per byte, low nibble first', () => {
    const proto = onnx.ModelProto.decode(bytes);
    const t = proto.graph!.initializer!.find((x) => x.name === 'q4')!;
    expect(t.dataType).toBe(22);
    expect(Array.from(t.rawData!)).toEqual([0xf8, 0x30, 0x07]);
    expect(proto.graph!.initializer!.find((x) => x.name === 'u4')!.dataType).toBe(21);
    expect(Number(proto.irVersion)).toBeGreaterThanOrEqual(10);
  });

  it('round-trips through loadModel', () => {
    const g = loadModel(bytes).graph;
    for (const [name, t] of [['q4', q4], ['u4', u4]] as const) {
      const back = g.initializers.get(name)!;
      expect([back.dtype, back.dims, Array.from(back.data)]).toEqual([t.dtype, t.dims, Array.from(t.data)]);
    }
  });

  it('computes the dequantized values in ONNX Runtime', () => {
    const y = runOrt(bytes, {})['y']!;
    expect(y.data).toEqual([-8, -1, 0, 3, 7].map((q, i) => 0.5 * q + 0.5 * ([0, 1, 8, 14, 15][i]! - 8)));
  });

  testWithTool(pythonOnnx, "Python's onnx (onnx.checker)")('passes onnx.checker (full check)', () => {
    const p = path.join(tmp, 'int4.onnx');
    fs.writeFileSync(p, bytes);
    const r = spawnSync('python3', ['-c', 'import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)', p], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
