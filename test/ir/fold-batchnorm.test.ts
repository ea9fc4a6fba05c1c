/** BatchNorm folding maths, checked against ONNX Runtime on the unfolded graph. */
import { Tensor } from '../../src/ir/graph';
import { makeTensor } from '../../src/ir/dtype';
import { foldBatchNorm } from '../../src/ir/passes/fold-batchnorm';
import { inferShapes } from '../../src/ir/passes/infer-shapes';
import { saveModel } from '../../src/onnx/save';
import { maxAbsDiff, runOrt, seededRandom } from '../onnx/ort-helpers';
import { model, node, vi } from './build';

const rand = (dims: number[], seed: number, lo = -1, hi = 1): Tensor =>
  makeTensor('float32', dims, seededRandom(dims.reduce((a, b) => a * b, 1), seed, lo, hi));
/** BN parameters for `c` channels with a non-trivial variance, mean and epsilon. */
const bnParams = (c: number, seed: number): Record<string, Tensor> => ({
  gamma: rand([c], seed, 0.5, 2),
  beta: rand([c], seed + 1),
  mean: rand([c], seed + 2),
  var: rand([c], seed + 3, 0.01, 3),
});
const bn = (x: string, y: string) =>
  node('BatchNormalization', [x, 'gamma', 'beta', 'mean', 'var'], [y], { epsilon: 1e-3 }, 'bn');

function expectSameAsOrt(before: ReturnType<typeof model>, after: ReturnType<typeof model>, dims: number[]): void {
  const x = { data: seededRandom(dims.reduce((a, b) => a * b, 1), 99, -2, 2), dims };
  const want = runOrt(saveModel(before), { x })['y']!;
  const got = runOrt(saveModel(after), { x })['y']!;
  expect(got.dims).toEqual(want.dims);
  expect(maxAbsDiff(got.data, want.data)).toBeLessThan(1e-5);
}

describe('foldBatchNorm', () => {
  it('folds Conv (with bias) + BN into one Conv: w * s per output channel, (b - mean) * s + beta', () => {
    const m = model(
      [node('Conv', ['x', 'w', 'b'], ['c'], { pads: [1, 1, 1, 1] }, 'conv'), bn('c', 'y')],
      [vi('x', ['batch', 2, 5, 5])], [vi('y', ['batch', 3, 5, 5])],
      { w: rand([3, 2, 3, 3], 1), b: rand([3], 2), ...bnParams(3, 10) },
    );
    const g = foldBatchNorm(m.graph);
    expect(g.nodes.map((n) => n.op)).toEqual(['Conv']);
    expect(g.nodes[0]!.outputs).toEqual(['y']);
    // Spot-check the formula on one weight and the bias of channel 2.
    const p = m.graph.initializers;
    const s2 = p.get('gamma')!.data[2]! / Math.sqrt(p.get('var')!.data[2]! + 1e-3);
    expect(g.initializers.get(g.nodes[0]!.inputs[1]!)!.data[2 * 18 + 5]).toBeCloseTo(p.get('w')!.data[2 * 18 + 5]! * s2, 6);
    expect(g.initializers.get(g.nodes[0]!.inputs[2]!)!.data[2]).toBeCloseTo(
      (p.get('b')!.data[2]! - p.get('mean')!.data[2]!) * s2 + p.get('beta')!.data[2]!, 6);
    expectSameAsOrt(m, { ...m, graph: g }, [3, 2, 5, 5]);
  });

  it('folds a bias-free grouped Conv (the PyTorch export case) and adds a bias', () => {
    const m = model(
      [node('Conv', ['x', 'w'], ['c'], { group: 2 }, 'conv'), bn('c', 'y')],
      [vi('x', ['batch', 4, 4, 4])], [vi('y', [])],
      { w: rand([4, 2, 3, 3], 3), ...bnParams(4, 20) },
    );
    const g = foldBatchNorm(m.graph);
    expect(g.nodes.map((n) => n.op)).toEqual(['Conv']);
    expect(g.nodes[0]!.inputs).toHaveLength(3);
    expectSameAsOrt(m, { ...m, graph: g }, [2, 4, 4, 4]);
  });

  it.each([0, 1])('folds Gemm (transB=%i, beta 0.5) + BN', (transB) => {
    const m = model(
      [node('Gemm', ['x', 'w', 'b'], ['c'], { transB, beta: 0.5 }, 'gemm'), bn('c', 'y')],
      [vi('x', ['batch', 6])], [vi('y', [])],
      { w: rand(transB ? [5, 6] : [6, 5], 4), b: rand([5], 5), ...bnParams(5, 30) },
    );
    const g = foldBatchNorm(m.graph);
    expect(g.nodes.map((n) => n.op)).toEqual(['Gemm']);
    expectSameAsOrt(m, { ...m, graph: g }, [3, 6]);
  });

  it('turns a BN whose Conv output has another reader into Mul + Add, leaving the Conv alone', () => {
    const m = model(
      [node('Conv', ['x', 'w'], ['c'], {}, 'conv'), bn('c', 'n'), node('Add', ['n', 'c'], ['y'], {}, 'add')],
      [vi('x', ['batch', 2, 4, 4])], [vi('y', [])],
      { w: rand([3, 2, 1, 1], 6), ...bnParams(3, 40) },
    );
    const g = foldBatchNorm(inferShapes(m.graph));
    expect(g.nodes.map((n) => n.op)).toEqual(['Conv', 'Mul', 'Add', 'Add']);
    expect(g.initializers.get('w')).toBe(m.graph.initializers.get('w'));
    expect(g.initializers.get(g.nodes[1]!.inputs[1]!)!.dims).toEqual([3, 1, 1]);
    expectSameAsOrt(m, { ...m, graph: g }, [2, 2, 4, 4]);
  });

  it('does not modify its input graph', () => {
    const m = model(
      [node('Conv', ['x', 'w'], ['c'], {}, 'conv'), bn('c', 'y')],
      [vi('x', ['batch', 2, 4, 4])], [vi('y', [])], { w: rand([3, 2, 1, 1], 7), ...bnParams(3, 50) },
    );
    const w = Array.from(m.graph.initializers.get('w')!.data);
    foldBatchNorm(m.graph);
    expect(m.graph.nodes.map((n) => n.op)).toEqual(['Conv', 'BatchNormalization']);
    expect(Array.from(m.graph.initializers.get('w')!.data)).toEqual(w);
  });
});
