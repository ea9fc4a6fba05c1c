/**
 * The decisive check: a prepared, re-serialized model computes the same logits as the original
 * in ONNX Runtime, at several batch sizes (the batch must stay symbolic).
 */
import * as path from 'path';
import { loadModel } from '../../src/onnx/load';
import { saveModel } from '../../src/onnx/save';
import { prepareModel } from '../../src/ir/passes/prepare';
import { MODELS_DIR, maxAbsDiff, runOrt, seededRandom } from './ort-helpers';

const MODELS = ['resnet20.onnx', 'resnet20-bn.onnx', 'resnet32.onnx', 'mobilenetv2-w05.onnx'];

describe.each(MODELS)('%s: saveModel(prepareModel(loadModel))', (file) => {
  const original = path.join(MODELS_DIR, file);
  const prepared = saveModel(prepareModel(loadModel(original)));

  it.each([4, 1, 7])('matches the original logits within 1e-4 at batch %i', (batch) => {
    const dims = [batch, 3, 32, 32];
    const input = { data: seededRandom(batch * 3 * 32 * 32, 1000 + batch), dims };
    const want = (runOrt(original, { input }))['logits']!;
    const got = (runOrt(prepared, { input }))['logits']!;
    expect(got.dims).toEqual([batch, 10]);
    expect(maxAbsDiff(got.data, want.data)).toBeLessThan(1e-4);
    // Guard against a vacuous pass: the logits must actually vary.
    expect(Math.max(...want.data) - Math.min(...want.data)).toBeGreaterThan(0.1);
  });

  it('round-trips without preparation too (loader + writer only)', () => {
    const bytes = saveModel(loadModel(original));
    const input = { data: seededRandom(2 * 3 * 32 * 32, 7), dims: [2, 3, 32, 32] };
    const want = (runOrt(original, { input }))['logits']!;
    const got = (runOrt(bytes, { input }))['logits']!;
    expect(maxAbsDiff(got.data, want.data)).toBe(0);
  });
});
