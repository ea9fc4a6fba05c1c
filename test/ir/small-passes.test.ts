/** Identity/Dropout removal, Clip bounds to attributes (and back on save), checkSupported. */
import { makeTensor } from '../../src/ir/dtype';
import { checkSupported } from '../../src/ir/passes/check-supported';
import { clipBoundsToAttrs } from '../../src/ir/passes/clip-attrs';
import { eliminateIdentity } from '../../src/ir/passes/eliminate-identity';
import { saveModel } from '../../src/onnx/save';
import { maxAbsDiff, runOrt, seededRandom } from '../onnx/ort-helpers';
import { model, node, vi } from './build';

const scalar = (v: number) => makeTensor('float32', [], [v]);

describe('eliminateIdentity', () => {
  it('rewires readers past Identity and Dropout', () => {
    const m = model(
      [node('Identity', ['x'], ['a']), node('Relu', ['a'], ['b'], {}, 'relu'), node('Dropout', ['b'], ['c']), node('Sigmoid', ['c'], ['y'], {}, 'sig')],
      [vi('x', ['batch', 3])], [vi('y', [])], {},
    );
    const g = eliminateIdentity(m.graph);
    expect(g.nodes.map((n) => [n.op, n.inputs, n.outputs])).toEqual([['Relu', ['x'], ['b']], ['Sigmoid', ['b'], ['y']]]);
    expect(m.graph.nodes).toHaveLength(4);
  });

  it('keeps the graph output name when Identity is the last node', () => {
    const m = model([node('Relu', ['x'], ['r'], {}, 'relu'), node('Identity', ['r'], ['logits'])], [vi('x', [2])], [vi('logits', [2])], {});
    const g = eliminateIdentity(m.graph);
    expect(g.nodes.map((n) => [n.op, n.outputs])).toEqual([['Relu', ['logits']]]);
  });
});

describe('clipBoundsToAttrs', () => {
  it.each([
    ['min and max', ['x', 'lo', 'hi'], { min: 0, max: 6 }],
    ['max only', ['x', '', 'hi'], { max: 6 }],
    ['min only', ['x', 'lo'], { min: 0 }],
  ])('%s: bounds become attributes; saving restores inputs with the same results in ORT', (_, inputs, attrs) => {
    const m = model([node('Clip', inputs, ['y'], {}, 'clip')], [vi('x', ['batch', 8])], [vi('y', [])],
      { lo: scalar(0), hi: scalar(6) });
    const g = clipBoundsToAttrs(m.graph);
    expect(g.nodes[0]!.inputs).toEqual(['x']);
    expect(g.nodes[0]!.attrs).toEqual(attrs);
    expect(g.initializers.size).toBe(0);
    const x = { data: seededRandom(16, 3, -10, 10), dims: [2, 8] };
    const want = runOrt(saveModel(m), { x })['y']!;
    const got = runOrt(saveModel({ ...m, graph: g }), { x })['y']!;
    expect(maxAbsDiff(got.data, want.data)).toBe(0);
  });

  it('leaves a Clip with a runtime bound, which checkSupported then rejects', () => {
    const m = model([node('Clip', ['x', 'x'], ['y'], {}, 'clip')], [vi('x', [4])], [vi('y', [])], {});
    const g = clipBoundsToAttrs(m.graph);
    expect(g.nodes[0]!.inputs).toEqual(['x', 'x']);
    expect(() => checkSupported(g)).toThrow("unsupported ONNX op 'Clip' (node 'clip'): min/max must be constants");
  });
});

describe('checkSupported', () => {
  it('accepts the runtime ops and rejects a non-constant Reshape target', () => {
    const ok = model([node('Relu', ['x'], ['y'])], [vi('x', [4])], [vi('y', [])], {});
    expect(() => checkSupported(ok.graph)).not.toThrow();
    const bad = model([node('Reshape', ['x', 's'], ['y'], {}, 'r')], [vi('x', [4]), vi('s', [1], 'int64')], [vi('y', [])], {});
    expect(() => checkSupported(bad.graph)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_OP' }));
  });
});
