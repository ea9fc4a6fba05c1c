/**
 * Shape inference per runtime op: the inferred shape (batch symbolic) must equal the shape ONNX
 * Runtime produces at batch 3, and keep 'batch' in the batch position.
 */
import { AttrValue, Dim, Tensor } from '../../src/ir/graph';
import { int64Tensor, makeTensor } from '../../src/ir/dtype';
import { inferShapes } from '../../src/ir/passes/infer-shapes';
import { saveModel } from '../../src/onnx/save';
import { runOrt, seededRandom } from '../onnx/ort-helpers';
import { model, node, vi } from './build';

const w = (dims: number[]): Tensor => makeTensor('float32', dims, seededRandom(dims.reduce((a, b) => a * b, 1), 5, -1, 1));

interface Case {
  op: string;
  x: Dim[];
  params?: Tensor[];
  attrs?: Record<string, AttrValue>;
  want: Dim[];
}

const X = ['batch', 4, 9, 9];
const cases: Record<string, Case> = {
  'Conv stride 2 pad 1': { op: 'Conv', x: X, params: [w([8, 4, 3, 3])], attrs: { strides: [2, 2], pads: [1, 1, 1, 1] }, want: ['batch', 8, 5, 5] },
  'Conv dilation 2, SAME_UPPER': { op: 'Conv', x: X, params: [w([8, 4, 3, 3])], attrs: { auto_pad: 'SAME_UPPER', strides: [2, 2] }, want: ['batch', 8, 5, 5] },
  'Conv depthwise dilated': { op: 'Conv', x: X, params: [w([4, 1, 3, 3])], attrs: { group: 4, dilations: [2, 2] }, want: ['batch', 4, 5, 5] },
  'MaxPool ceil_mode': { op: 'MaxPool', x: X, attrs: { kernel_shape: [2, 2], strides: [2, 2], ceil_mode: 1 }, want: ['batch', 4, 5, 5] },
  'MaxPool floor': { op: 'MaxPool', x: X, attrs: { kernel_shape: [3, 3], strides: [2, 2] }, want: ['batch', 4, 4, 4] },
  'AveragePool pads': { op: 'AveragePool', x: X, attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, want: ['batch', 4, 5, 5] },
  'GlobalAveragePool': { op: 'GlobalAveragePool', x: X, want: ['batch', 4, 1, 1] },
  'Flatten': { op: 'Flatten', x: X, want: ['batch', 324] },
  'Gemm transB': { op: 'Gemm', x: ['batch', 6], params: [w([5, 6]), w([5])], attrs: { transB: 1 }, want: ['batch', 5] },
  'MatMul 4-D x 2-D': { op: 'MatMul', x: X, params: [w([9, 2])], want: ['batch', 4, 9, 2] },
  'Reshape [0, -1]': { op: 'Reshape', x: X, params: [int64Tensor([0, -1])], want: ['batch', 324] },
  'Reshape [0, 2, 2, -1]': { op: 'Reshape', x: X, params: [int64Tensor([0, 2, 2, -1])], want: ['batch', 2, 2, 81] },
  'Concat channels (second input [batch, 2, 9, 9])': { op: 'Concat', x: X, attrs: { axis: 1 }, want: ['batch', 6, 9, 9] },
  'Pad channels': { op: 'Pad', x: X, params: [int64Tensor([0, 2, 0, 1, 0, 2, 0, 1])], want: ['batch', 8, 9, 11] },
  'Slice ::2 on H and W': { op: 'Slice', x: X, params: [int64Tensor([0, 0]), int64Tensor([9223372036854775807, 9223372036854775807]), int64Tensor([2, 3]), int64Tensor([2, 2])], want: ['batch', 4, 5, 5] },
  'Slice negative on C': { op: 'Slice', x: X, params: [int64Tensor([-3]), int64Tensor([-1]), int64Tensor([1])], want: ['batch', 2, 9, 9] },
  'Softmax': { op: 'Softmax', x: ['batch', 10], want: ['batch', 10] },
  'Transpose NCHW->NHWC': { op: 'Transpose', x: X, attrs: { perm: [0, 2, 3, 1] }, want: ['batch', 9, 9, 4] },
  'Add broadcast [C,1,1]': { op: 'Add', x: X, params: [w([4, 1, 1])], want: X },
  'Mul broadcast scalar': { op: 'Mul', x: X, params: [w([])], want: X },
  'Sub': { op: 'Sub', x: X, params: [w([9])], want: X },
  'Div': { op: 'Div', x: X, params: [w([1, 4, 1, 1])], want: X },
  'Relu': { op: 'Relu', x: X, want: X },
  'Clip': { op: 'Clip', x: X, attrs: { min: 0, max: 6 }, want: X },
  'Sigmoid': { op: 'Sigmoid', x: X, want: X },
  'HardSigmoid': { op: 'HardSigmoid', x: X, attrs: { alpha: 0.2 }, want: X },
  'HardSwish': { op: 'HardSwish', x: X, want: X },
};

describe('inferShapes matches ONNX Runtime', () => {
  it.each(Object.entries(cases))('%s', (_, c) => {
    const init: Record<string, Tensor> = {};
    const names = (c.params ?? []).map((t, i) => {
      init[`p${i}`] = t;
      return `p${i}`;
    });
    const inputs = c.op === 'Concat' ? ['x', 'x2'] : ['x', ...names];
    const extra = c.op === 'Concat' ? [vi('x2', ['batch', 2, 9, 9])] : [];
    const m = model([node(c.op, inputs, ['y'], c.attrs ?? {})], [vi('x', c.x), ...extra], [vi('y', [])], init);
    const got = inferShapes(m.graph).values.get('y')!.shape;
    expect(got).toEqual(c.want);

    const concrete = (s: Dim[]) => s.map((d) => (typeof d === 'number' ? d : 3));
    const feeds: Record<string, { data: Float32Array; dims: number[] }> = {};
    for (const v of m.graph.inputs) {
      const dims = concrete(v.shape);
      feeds[v.name] = { data: seededRandom(dims.reduce((a, b) => a * b, 1), 1), dims };
    }
    const ort = runOrt(saveModel(m), feeds)['y']!;
    expect(ort.dims).toEqual(concrete(got));
  });
});

it('raises BAD_MODEL naming the node when a runtime shape cannot be inferred', () => {
  const m = model([node('Reshape', ['x', 'x'], ['y'], {}, 'r')], [vi('x', [2])], [vi('y', [])], {});
  expect(() => inferShapes(m.graph)).toThrow(/node 'r' \(Reshape\)/);
});
