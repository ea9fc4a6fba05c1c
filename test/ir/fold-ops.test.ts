/**
 * Constant folding, op by op: each tiny graph computes its output from constants only; the folded
 * initializer must equal what ONNX Runtime computes on the unfolded graph.
 */
import { DType, Dim, Tensor } from '../../src/ir/graph';
import { int64Tensor, makeTensor } from '../../src/ir/dtype';
import { foldConstants } from '../../src/ir/passes/fold-constants';
import { saveModel } from '../../src/onnx/save';
import { runOrt, seededRandom } from '../onnx/ort-helpers';
import { model, node, vi } from './build';

const f32 = (dims: number[], v: number[]): Tensor => makeTensor('float32', dims, v);
const i64 = (v: number[], dims?: number[]): Tensor => int64Tensor(v, dims);

interface Case {
  op: string;
  inputs: (Tensor | undefined)[];
  attrs?: Record<string, number | number[] | string | Tensor>;
  out: DType;
  opset?: number;
}

const cases: Record<string, Case> = {
  'Gather axis 0, scalar index': { op: 'Gather', inputs: [i64([5, 6, 7, 8]), i64([1], [])], out: 'int64' },
  'Gather axis 1, negative index': { op: 'Gather', inputs: [f32([2, 3], [1, 2, 3, 4, 5, 6]), i64([-1, 0])], attrs: { axis: 1 }, out: 'float32' },
  'Unsqueeze (axes input)': { op: 'Unsqueeze', inputs: [i64([3], []), i64([0])], out: 'int64' },
  'Unsqueeze two axes': { op: 'Unsqueeze', inputs: [f32([2, 2], [1, 2, 3, 4]), i64([0, -1])], out: 'float32' },
  'Squeeze (axes input)': { op: 'Squeeze', inputs: [f32([1, 3, 1], [1, 2, 3]), i64([2])], out: 'float32' },
  'Squeeze all ones': { op: 'Squeeze', inputs: [f32([1, 3, 1], [1, 2, 3])], out: 'float32' },
  'Concat axis 0': { op: 'Concat', inputs: [i64([1, 2]), i64([3]), i64([4, 5])], attrs: { axis: 0 }, out: 'int64' },
  'Concat axis 1': { op: 'Concat', inputs: [f32([2, 1], [1, 2]), f32([2, 2], [3, 4, 5, 6])], attrs: { axis: 1 }, out: 'float32' },
  'Slice INT64 max end, negative step': {
    op: 'Slice', inputs: [i64([0, 1, 2, 3, 4, 5]), i64([-1]), i64([-9223372036854775807]), i64([0]), i64([-1])], out: 'int64',
  },
  'Slice 2-D with step 2': {
    op: 'Slice', inputs: [f32([3, 4], Array.from({ length: 12 }, (_, i) => i)), i64([0, 1]), i64([9223372036854775807, 4]), i64([0, 1]), i64([2, 2])], out: 'float32',
  },
  'Cast float -> int64': { op: 'Cast', inputs: [f32([3], [1.7, -2.5, 3])], attrs: { to: 7 }, out: 'int64' },
  'Cast int64 -> float': { op: 'Cast', inputs: [i64([1, -2])], attrs: { to: 1 }, out: 'float32' },
  'ConstantOfShape int64 zeros': { op: 'ConstantOfShape', inputs: [i64([2, 3])], attrs: { value: i64([0], [1]) }, out: 'int64' },
  'ConstantOfShape float 1.5': { op: 'ConstantOfShape', inputs: [i64([4])], attrs: { value: f32([1], [1.5]) }, out: 'float32' },
  'Reshape with -1 and 0': { op: 'Reshape', inputs: [f32([2, 3, 2], Array.from({ length: 12 }, (_, i) => i)), i64([0, -1])], out: 'float32' },
  'Transpose 2-D': { op: 'Transpose', inputs: [i64([0, 1, 2, 3, 4, 5], [3, 2])], attrs: { perm: [1, 0] }, out: 'int64' },
  'Transpose 3-D default perm': { op: 'Transpose', inputs: [f32([2, 3, 2], Array.from({ length: 12 }, (_, i) => i))], out: 'float32' },
  'Mul broadcast': { op: 'Mul', inputs: [f32([2, 3], [1, 2, 3, 4, 5, 6]), f32([3], [10, 20, 30])], out: 'float32' },
  'Sub int64 scalar': { op: 'Sub', inputs: [i64([8], []), i64([2, 3])], out: 'int64' },
  'Add broadcast column': { op: 'Add', inputs: [f32([2, 1], [1, 2]), f32([1, 3], [10, 20, 30])], out: 'float32' },
  'Div int64 truncates': { op: 'Div', inputs: [i64([7, -7, 9]), i64([2], [])], out: 'int64' },
  'Div float': { op: 'Div', inputs: [f32([2], [1, 3]), f32([1], [4])], out: 'float32' },
  'Range int64': { op: 'Range', inputs: [i64([1], []), i64([10], []), i64([3], [])], out: 'int64' },
  'Equal int64': { op: 'Equal', inputs: [i64([1, 2, 3]), i64([2], [])], out: 'bool' },
  'Where': { op: 'Where', inputs: [makeTensor('bool', [3], [1, 0, 1]), i64([1, 2, 3]), i64([-1], [])], out: 'int64' },
  'Expand': { op: 'Expand', inputs: [f32([3, 1], [1, 2, 3]), i64([2, 3, 4])], out: 'float32' },
  'Identity': { op: 'Identity', inputs: [i64([4, 2])], out: 'int64' },
};

describe('foldConstants matches ONNX Runtime', () => {
  it.each(Object.entries(cases))('%s', (_, c) => {
    const init: Record<string, Tensor> = {};
    const names = c.inputs.map((t, i) => {
      if (!t) return '';
      init[`c${i}`] = t;
      return `c${i}`;
    });
    const m = model([node(c.op, names, ['y'], c.attrs ?? {})], [], [vi('y', [], c.out)], init, c.opset ?? 17);
    const want = runOrt(saveModel(m), {})['y']!;
    const folded = foldConstants(m.graph);
    expect(folded.nodes).toHaveLength(0);
    const got = folded.initializers.get('y')!;
    expect(got.dtype).toBe(c.out);
    expect(got.dims).toEqual(want.dims);
    expect(Array.from(got.data)).toEqual(want.data.map((v) => (c.out === 'bool' ? Number(v) : v)));
  });
});

describe('Shape of a tensor with a symbolic batch', () => {
  const x = vi('x', ['batch', 16, 8, 8]);
  const shapeThenGather = () => [
    node('Relu', ['x'], ['r']),
    node('Shape', ['r'], ['s']),
    node('Gather', ['s', 'idx'], ['g'], { axis: 0 }),
    node('Mul', ['g', 'two'], ['m']),
    node('Unsqueeze', ['m', 'zero'], ['u']),
    node('Concat', ['u', 'minus1'], ['shape'], { axis: 0 }),
    node('Reshape', ['r', 'shape'], ['y']),
  ];
  const init = { idx: i64([1], []), two: i64([2], []), zero: i64([0]), minus1: i64([-1]) };

  it('folds when only a static dim is used (the channel count)', () => {
    const g = foldConstants(model(shapeThenGather(), [x], [vi('y', [])], { ...init, idx: i64([1], []) }).graph);
    expect(g.nodes.map((n) => n.op)).toEqual(['Relu', 'Reshape']);
    const target = g.initializers.get(g.nodes[1]!.inputs[1]!)!;
    expect(Array.from(target.data)).toEqual([32, -1]);
  });

  it('raises UNSUPPORTED_OP naming the node when the batch reaches a runtime node', () => {
    const m = model(shapeThenGather(), [x], [vi('y', [])], { ...init, idx: i64([0], []) });
    expect(() => foldConstants(m.graph)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_OP' }));
    expect(() => foldConstants(m.graph)).toThrow(/node 'Reshape_y'.*symbolic/);
  });

  it("resolves PyTorch's x.view(x.size(0), -1): the batch entry becomes 0 (copy), same results in ORT", () => {
    const nodes = [
      node('Relu', ['x'], ['r']),
      node('Shape', ['r'], ['s']),
      node('Gather', ['s', 'idx'], ['g'], { axis: 0 }),
      node('Unsqueeze', ['g', 'zero'], ['u']),
      node('Concat', ['u', 'minus1'], ['shape'], { axis: 0 }),
      node('Reshape', ['r', 'shape'], ['y']),
    ];
    const m = model(nodes, [x], [vi('y', ['batch', 1024])], { ...init, idx: i64([0], []) });
    const g = foldConstants(m.graph);
    expect(g.nodes.map((n) => n.op)).toEqual(['Relu', 'Reshape']);
    expect(Array.from(g.initializers.get(g.nodes[1]!.inputs[1]!)!.data)).toEqual([0, -1]);
    for (const batch of [2, 5]) {
      const feed = { x: { data: seededRandom(batch * 1024, batch, -1, 1), dims: [batch, 16, 8, 8] } };
      expect(runOrt(saveModel({ ...m, graph: g }), feed)['y']).toEqual(runOrt(saveModel(m), feed)['y']);
    }
  });

  it('never lets the unknown-dim sentinel decide a predicate (Equal is not folded, then reported)', () => {
    const nodes = [node('Shape', ['x'], ['s']), node('Gather', ['s', 'idx'], ['g'], { axis: 0 }), node('Equal', ['g', 'two'], ['e'])];
    const m = model(nodes, [x], [vi('e', [] as Dim[], 'bool')], { idx: i64([0], []), two: i64([2], []) });
    expect(() => foldConstants(m.graph)).toThrow(/'Equal' \(node 'Equal_e'\): its input 'g' is computed from a symbolic/);
  });
});
