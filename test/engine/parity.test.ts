/** The FP32 engine against ONNX Runtime on real CIFAR-10 images (a subset of `val`). */
import { loadClassifier } from '../../src/api/model';
import { ImageSet } from '../../src/data';
import { Engine } from '../../src/engine/engine';
import { argmaxRows } from '../../src/eval/metrics';
import { runOrt } from '../onnx/ort-helpers';
import { CIFAR, modelFile, cifarSubset } from '../helpers';

const PER_CLASS = 10;

describe('FP32 engine parity with ONNX Runtime', () => {
  let images: ImageSet;
  beforeAll(async () => {
    images = await cifarSubset('val', PER_CLASS);
  });

  test.each(['resnet20', 'resnet20-bn', 'resnet32', 'mobilenetv2-w05'])('%s: logits within 1e-3, same top-1', async (name) => {
    const engine = Engine.fp32(loadClassifier(modelFile(name)).model);
    const ours = await engine.runAll(images, { batchSize: 32 });
    const ref = runOrt(modelFile(name), { input: { data: images.batch(0, images.count).data, dims: [...images.dims] } });
    const theirs = Float32Array.from(Object.values(ref)[0]!.data);
    expect(theirs.length).toBe(ours.length);
    let maxDiff = 0;
    for (let i = 0; i < ours.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ours[i]! - theirs[i]!));
    expect(maxDiff).toBeLessThanOrEqual(1e-3);
    expect(Array.from(argmaxRows(ours, 10))).toEqual(Array.from(argmaxRows(theirs, 10)));
  });

  test('a partial last batch gives the same logits as a full one', async () => {
    const engine = Engine.fp32(loadClassifier(modelFile('resnet20')).model);
    const all = await engine.runAll(images, { batchSize: 100 });
    const odd = await engine.runAll(images, { batchSize: 7 });
    for (let i = 0; i < all.length; i++) expect(Math.abs(all[i]! - odd[i]!)).toBeLessThan(1e-4);
  });
});
