/**
 * Loading QDQ models: DequantizeLinear / QuantizeLinear on constants fold to exactly what ONNX
 * Runtime computes; runtime Q -> DQ pairs run as one FakeQuantize step with ORT's exact-QDQ
 * results; any other runtime Q/DQ is a one-line UNSUPPORTED_OP error naming the node.
 */
import { Engine } from '../../src/engine/engine';
import { LayerqError } from '../../src/errors';
import { DType, Model, Tensor } from '../../src/ir/graph';
import { makeTensor } from '../../src/ir/dtype';
import { foldConstants, inferShapes, prepareModel } from '../../src/ir/passes';
import { loadModel } from '../../src/onnx/load';
import { saveModel } from '../../src/onnx/save';
import { model, node, vi } from '../ir/build';
import { runOrt, seededRandom } from './ort-helpers';

/** Integers in [lo, hi] from a seed (replayable). */
function ints(n: number, seed: number, lo: number, hi: number): number[] {
  return Array.from(seededRandom(n, seed, lo, hi + 1), Math.floor);
}

/**
 * out = zeros + DequantizeLinear(q, scale, zp): ORT computes the dequantized constant exactly
 * (adding 0 is exact), layerq folds it to an initializer.
 */
function dqModel(q: Tensor, scale: Tensor, zp: Tensor | undefined, attrs: Record<string, number>, opset: number): Uint8Array {
  const inits: Record<string, Tensor> = { q, scale, ...(zp ? { zp } : {}) };
  return saveModel(model(
    [node('DequantizeLinear', ['q', 'scale', ...(zp ? ['zp'] : [])], ['w'], attrs, 'dq'), node('Add', ['zeros', 'w'], ['out'], {}, 'add')],
    [vi('zeros', [1])], [vi('out', q.dims)], inits, opset,
  ));
}

function foldedDq(bytes: Uint8Array): number[] {
  const g = foldConstants(loadModel(bytes).graph);
  expect(g.nodes.map((n) => n.op)).toEqual(['Add']); // the DequantizeLinear is gone
  const w = g.initializers.get('w')!;
  expect(w.dtype).toBe('float32');
  return Array.from(w.data);
}

function ortOut(bytes: Uint8Array, name = 'out'): number[] {
  return runOrt(bytes, { zeros: { data: new Float32Array(1), dims: [1] } }, { exactQdq: true })[name]!.data;
}

describe('DequantizeLinear on constants folds to what ONNX Runtime computes', () => {
  const cases: [string, () => Uint8Array][] = [
    ['int8 per-channel (axis 0, non-zero zero points)', () => dqModel(
      makeTensor('int8', [4, 3, 2, 2], ints(48, 1, -128, 127)),
      makeTensor('float32', [4], [0.013, 0.5, 1.7e-3, 2.25]),
      makeTensor('int8', [4], [-3, 0, 7, 127]), { axis: 0 }, 13)],
    ['uint8 per-channel, default axis 1', () => dqModel(
      makeTensor('uint8', [2, 3, 5], ints(30, 2, 0, 255)),
      makeTensor('float32', [3], [0.1, 0.02, 3.5]),
      makeTensor('uint8', [3], [128, 0, 255]), {}, 13)],
    ['uint8 per-tensor, no zero point, negative axis ignored', () => dqModel(
      makeTensor('uint8', [6, 7], ints(42, 3, 0, 255)),
      makeTensor('float32', [], [0.0371]), undefined, { axis: -1 }, 13)],
    ['int8 per-channel along axis -1', () => dqModel(
      makeTensor('int8', [5, 3], ints(15, 4, -128, 127)),
      makeTensor('float32', [3], [0.25, 0.0625, 0.3]),
      makeTensor('int8', [3], [1, -1, 0]), { axis: -1 }, 13)],
    ['int4 per-channel (opset 21)', () => dqModel(
      makeTensor('int4', [4, 2, 3, 3], ints(72, 5, -8, 7)),
      makeTensor('float32', [4], [0.11, 0.07, 1.3, 0.0021]),
      makeTensor('int4', [4], [0, -2, 3, 7]), { axis: 0 }, 21)],
    ['uint4 per-tensor (opset 21)', () => dqModel(
      makeTensor('uint4', [3, 5], ints(15, 6, 0, 15)),
      makeTensor('float32', [], [0.3]), makeTensor('uint4', [], [9]), {}, 21)],
    ['int32 bias per-channel (axis 0), values beyond 2^24', () => dqModel(
      makeTensor('int32', [5], [123456, -98765, 33554433, -2147483647, 0]),
      makeTensor('float32', [5], [1.1e-5, 3.3e-4, 7e-6, 1e-9, 0.5]),
      makeTensor('int32', [5], [0, 0, 0, 0, 0]), { axis: 0 }, 13)],
  ];
  test.each(cases)('%s', (_name, build) => {
    const bytes = build();
    const want = ortOut(bytes);
    const got = foldedDq(bytes);
    expect(got).toEqual(want);
    expect(new Set(got).size).toBeGreaterThan(2); // not vacuous
  });

  test('QuantizeLinear of a constant folds too (int8 per-channel, ties to even, saturation)', () => {
    const x = makeTensor('float32', [3, 4], [0.5, 1.5, 2.5, -2.5, 100, -100, 0.26, -0.74, 1.0, 2.0, 3.0, 1e9]);
    const bytes = saveModel(model(
      [
        node('QuantizeLinear', ['x', 'scale', 'zp'], ['xq'], { axis: 0 }, 'q'),
        node('DequantizeLinear', ['xq', 'scale', 'zp'], ['w'], { axis: 0 }, 'dq'),
        node('Add', ['zeros', 'w'], ['out'], {}, 'add'),
      ],
      [vi('zeros', [1])], [vi('out', [3, 4])],
      { x, scale: makeTensor('float32', [3], [1, 0.5, 0.25]), zp: makeTensor('int8', [3], [0, 3, -1]) }, 13,
    ));
    expect(foldedDq(bytes)).toEqual(ortOut(bytes));
  });
});

/** x [N, 3, 4, 5] -> Q -> DQ -> Relu -> Flatten: one FakeQuantize at run time. */
function pairModel(zpType: DType, zero: number, scale: number, opset: number, readers = 1): Model {
  const nodes = [node('QuantizeLinear', ['x', 'scale', 'zp'], ['xq'], {}, 'q')];
  for (let i = 0; i < readers; i++) nodes.push(node('DequantizeLinear', ['xq', 'scale', 'zp'], [`xdq${i}`], {}, `dq${i}`));
  nodes.push(node('Relu', ['xdq0'], ['r'], {}, 'relu'));
  if (readers > 1) nodes.push(node('Add', ['r', `xdq${readers - 1}`], ['s'], {}, 'add'));
  nodes.push(node('Flatten', [readers > 1 ? 's' : 'r'], ['y'], {}, 'flatten'));
  return model(nodes, [vi('x', ['N', 3, 4, 5])], [vi('y', ['N', 60])],
    { scale: makeTensor('float32', [], [scale]), zp: makeTensor(zpType, [], [zero]) }, opset);
}

describe('runtime QuantizeLinear -> DequantizeLinear runs as one FakeQuantize', () => {
  test.each([
    ['uint8', 128, 0.02, 13, 1],
    ['int8', 0, 0.015, 13, 1],
    ['int8', -5, 0.03, 13, 2],
    ['uint4', 7, 0.2, 21, 1],
    ['int4', 0, 0.3, 21, 1],
  ] as [DType, number, number, number, number][])('%s zero point %i scale %f (opset %i, %i DequantizeLinear readers)', async (zpType, zero, scale, opset, readers) => {
    const bytes = saveModel(pairModel(zpType, zero, scale, opset, readers));
    const prepared = prepareModel(loadModel(bytes));
    const ops = prepared.graph.nodes.map((n) => n.op);
    expect(ops.filter((op) => op === 'FakeQuantize')).toHaveLength(1);
    expect(ops).not.toContain('QuantizeLinear');
    expect(ops).not.toContain('DequantizeLinear');
    const n = 4;
    const x = seededRandom(n * 60, 11 + opset, -3, 3);
    const got = await Engine.fp32(prepared).run(x, n);
    const want = runOrt(bytes, { x: { data: x, dims: [n, 3, 4, 5] } }, { exactQdq: true })['y']!.data;
    expect(Array.from(got)).toEqual(want);
    // Not vacuous: every output lies on the grid (q - zero) * scale, which the random input does not.
    const onGrid = (v: number): boolean => Math.abs(v / scale - Math.round(v / scale)) < 1e-3;
    expect(Array.from(got).every(onGrid)).toBe(true);
    expect(Array.from(x).filter(onGrid).length).toBeLessThan(x.length / 10);
  });
});

test('shape inference: Q output has the zero point type (uint8 without one), DQ output float32', () => {
  const g = inferShapes(model(
    [
      node('QuantizeLinear', ['x', 'scale', 'zp'], ['xq'], {}, 'q'),
      node('DequantizeLinear', ['xq', 'scale', 'zp'], ['xdq'], {}, 'dq'),
      node('QuantizeLinear', ['xdq', 'scale'], ['xq2'], {}, 'q2'),
    ],
    [vi('x', ['N', 3, 4, 5])], [vi('xq2', [])],
    { scale: makeTensor('float32', [], [0.1]), zp: makeTensor('int4', [], [0]) }, 21,
  ).graph);
  expect(g.values.get('xq')).toEqual({ name: 'xq', dtype: 'int4', shape: ['N', 3, 4, 5] });
  expect(g.values.get('xdq')).toEqual({ name: 'xdq', dtype: 'float32', shape: ['N', 3, 4, 5] });
  expect(g.values.get('xq2')?.dtype).toBe('uint8');
});

describe('other runtime QuantizeLinear / DequantizeLinear: one-line UNSUPPORTED_OP naming the node', () => {
  const expectUnsupported = (m: Model, pattern: RegExp): void => {
    let err: unknown;
    try {
      prepareModel(loadModel(saveModel(m)));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LayerqError);
    expect((err as LayerqError).code).toBe('UNSUPPORTED_OP');
    expect((err as LayerqError).message).not.toMatch(/\n/);
    expect((err as LayerqError).message).toMatch(pattern);
  };
  const scales = { scale: makeTensor('float32', [], [0.02]), zp: makeTensor('uint8', [], [128]) };

  test('a QuantizeLinear read by MaxPool (not by a DequantizeLinear)', () => {
    expectUnsupported(model(
      [
        node('QuantizeLinear', ['x', 'scale', 'zp'], ['xq'], {}, 'q'),
        node('MaxPool', ['xq'], ['p'], { kernel_shape: [2, 2] }, 'pool'),
        node('DequantizeLinear', ['p', 'scale', 'zp'], ['y'], {}, 'dq'),
      ],
      [vi('x', ['N', 3, 4, 4])], [vi('y', ['N', 3, 3, 3])], scales, 13,
    ), /^unsupported ONNX op 'QuantizeLinear' \(node 'q'\): its output 'xq' is read by 'pool' \(MaxPool\)/);
  });

  test('a DequantizeLinear with another scale', () => {
    expectUnsupported(model(
      [node('QuantizeLinear', ['x', 'scale', 'zp'], ['xq'], {}, 'q'), node('DequantizeLinear', ['xq', 'scale2', 'zp'], ['y'], {}, 'dq')],
      [vi('x', ['N', 3, 4, 4])], [vi('y', ['N', 3, 4, 4])], { ...scales, scale2: makeTensor('float32', [], [0.04]) }, 13,
    ), /node 'q'\): its reader 'dq' \(DequantizeLinear\) has scale 0\.04/);
  });

  test('a QuantizeLinear whose output is a graph output', () => {
    expectUnsupported(model(
      [node('QuantizeLinear', ['x', 'scale', 'zp'], ['y'], {}, 'q')],
      [vi('x', ['N', 3, 4, 4])], [vi('y', ['N', 3, 4, 4], 'uint8')], scales, 13,
    ), /node 'q'\): its output 'y' is a graph output/);
  });

  test('per-channel quantization of a runtime tensor', () => {
    const pc = { scale: makeTensor('float32', [3], [0.1, 0.2, 0.3]), zp: makeTensor('uint8', [3], [1, 2, 3]) };
    expectUnsupported(model(
      [node('QuantizeLinear', ['x', 'scale', 'zp'], ['xq'], {}, 'q'), node('DequantizeLinear', ['xq', 'scale', 'zp'], ['y'], {}, 'dq')],
      [vi('x', ['N', 3, 4, 4])], [vi('y', ['N', 3, 4, 4])], pc, 13,
    ), /node 'q'\): per-channel quantization of a run-time tensor/);
  });
});
