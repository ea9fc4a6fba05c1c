/**
 * What layerq cannot honour in a model is refused in one line (issue 8): opsets outside the
 * supported range, unknown auto_pad, a kernel_shape contradicting the weights, pooling options
 * the engine does not implement, non-finite weights; absurd weights are a warning.
 */
import { loadClassifier } from '../../src/api/model';
import { Model, Node } from '../../src/ir/graph';
import { makeTensor } from '../../src/ir/dtype';
import { prepareModel } from '../../src/ir/passes';
import { checkWeights } from '../../src/ir/passes/check-values';
import { SUPPORTED_OPSETS, loadModel } from '../../src/onnx/load';
import { saveModel } from '../../src/onnx/save';
import { model, node, vi } from '../ir/build';
import * as fs from 'fs';
import { expectLayerqError } from '../helpers';
import * as os from 'os';
import * as path from 'path';


/** x [N, 4, 8, 8] -> (extra nodes) -> Conv(w [6, 4, 3, 3]) -> GlobalAveragePool -> Flatten. */
function convModel(convAttrs: Record<string, number[] | number | string> = {}, opset = 13, before: Node[] = [], w = 0.1): Model {
  const x = before.length ? before[before.length - 1]!.outputs[0]! : 'x';
  return model(
    [...before, node('Conv', [x, 'w'], ['c'], { pads: [1, 1, 1, 1], ...convAttrs }, 'conv'), node('GlobalAveragePool', ['c'], ['p'], {}, 'gap'), node('Flatten', ['p'], ['y'], {}, 'flat')],
    [vi('x', ['N', 4, 8, 8])], [vi('y', ['N', 6])],
    { w: makeTensor('float32', [6, 4, 3, 3], new Array(216).fill(w)) }, opset,
  );
}
const roundTrip = (m: Model): Model => prepareModel(loadModel(saveModel(m)));

describe('opsets outside the supported range', () => {
  test.each([99, 1, SUPPORTED_OPSETS.max + 1])('opset %i is refused with the range', (opset) => {
    expectLayerqError(() => loadModel(saveModel(convModel({}, opset))), 'UNSUPPORTED_OP', new RegExp(`opset ${opset}; layerq supports opsets ${SUPPORTED_OPSETS.min} to ${SUPPORTED_OPSETS.max}`));
  });
  test.each([SUPPORTED_OPSETS.min, 13, SUPPORTED_OPSETS.max])('opset %i loads', (opset) => {
    expect(loadModel(saveModel(convModel({}, opset))).opset).toBe(opset);
  });
});

describe('attributes the engine would misread', () => {
  test('an unknown auto_pad', () => {
    expectLayerqError(() => roundTrip(convModel({ auto_pad: 'SAME_MIDDLE', pads: [0, 0, 0, 0] })), 'BAD_MODEL', /node 'conv' \(Conv\): unknown auto_pad 'SAME_MIDDLE'/);
  });
  test('a kernel_shape that contradicts the weights', () => {
    expectLayerqError(() => roundTrip(convModel({ kernel_shape: [5, 5] })), 'BAD_MODEL', /kernel_shape \[5, 5\] contradicts the weights' kernel \[3, 3\]/);
  });
  test('strides of the wrong length, negative pads', () => {
    expectLayerqError(() => roundTrip(convModel({ strides: [1, 1, 1] })), 'BAD_MODEL', /attribute strides must be 2 integers from 1 to 65535/);
    expectLayerqError(() => roundTrip(convModel({ pads: [-1, 0, 0, 0] })), 'BAD_MODEL', /attribute pads must be 4 integers from 0 to 65535/);
    expectLayerqError(() => roundTrip(convModel({ strides: [2 ** 32 + 1, 1] })), 'BAD_MODEL', /attribute strides must be 2 integers from 1 to 65535 but is \[4294967297, 1\]/);
  });
  test('weights for another channel count, a group that does not divide', () => {
    const m = convModel();
    m.graph.inputs = [vi('x', ['N', 5, 8, 8])];
    expectLayerqError(() => roundTrip(m), 'BAD_MODEL', /input has 5 channels but the weights expect 4/);
    expectLayerqError(() => roundTrip(convModel({ group: 4 })), 'BAD_MODEL', /group 4 does not divide the 6 output channels/);
  });
  test('pooling with SAME padding or dilations', () => {
    const pool = (attrs: Record<string, number[] | string>): Node => node('MaxPool', ['x'], ['xp'], { kernel_shape: [2, 2], ...attrs }, 'pool');
    expectLayerqError(() => roundTrip(convModel({}, 13, [pool({ auto_pad: 'SAME_UPPER' })])), 'UNSUPPORTED_OP', /node 'pool' \(MaxPool\): auto_pad SAME_UPPER on pooling is not supported/);
    expectLayerqError(() => roundTrip(convModel({}, 13, [pool({ dilations: [2, 2] })])), 'UNSUPPORTED_OP', /pooling with dilations \[2, 2\] is not supported/);
  });
  test('a model with valid attributes still prepares', () => {
    expect(roundTrip(convModel({ kernel_shape: [3, 3], auto_pad: 'NOTSET', strides: [1, 1] })).graph.nodes.map((n) => n.op)).toEqual(['Conv', 'GlobalAveragePool', 'Flatten']);
  });
});

describe('weights sanity', () => {
  const file = (m: Model): string => {
    const p = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'layerq-w-')), 'model.onnx');
    fs.writeFileSync(p, saveModel(m));
    return p;
  };
  test.each([NaN, Infinity, -Infinity])('a weight of %f is an error naming the tensor', (bad) => {
    const m = convModel();
    const w = m.graph.initializers.get('w')!;
    (w.data as Float32Array)[7] = bad;
    expectLayerqError(() => loadClassifier(file(m)), 'BAD_MODEL', /weight tensor 'w' \(read by 'conv', Conv\) holds 1 non-finite value/);
  });
  test('an absurd magnitude is a warning, not an error', () => {
    const m = convModel({}, 13, [], 3e9);
    expect(checkWeights(roundTrip(m).graph)).toEqual([expect.stringMatching(/weight tensor 'w' .* magnitude 3\.00e\+9/)]);
    expect(checkWeights(roundTrip(convModel()).graph)).toEqual([]);
  });
});
