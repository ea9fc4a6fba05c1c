/**
 * `layerq evaluate` on the QDQ file `layerq quantize` wrote: the accuracy the report gives is
 * what running the written file measures; a QDQ pattern layerq cannot run is one line.
 */
import * as fs from 'fs';
import * as path from 'path';
import { makeTensor } from '../../src/ir/dtype';
import { saveModel } from '../../src/onnx/save';
import { model, node, vi } from '../ir/build';
import { CIFAR, modelFile } from '../helpers';
import { layerq, tempDir } from './cli-helpers';

/** The first `perClass` images of every class of the shared val split, as an ImageFolder. */
function valSubset(root: string, perClass: number): void {
  const val = path.join(CIFAR, 'val');
  for (const c of fs.readdirSync(val).sort()) {
    fs.mkdirSync(path.join(root, c), { recursive: true });
    for (const f of fs.readdirSync(path.join(val, c)).sort().slice(0, perClass)) {
      fs.copyFileSync(path.join(val, c, f), path.join(root, c, f));
    }
  }
}

describe('layerq evaluate on a QDQ model', () => {
  const dir = tempDir();
  const images = path.join(dir, 'val');
  beforeAll(() => valSubset(images, 10));

  test('evaluates model.qdq.onnx to the accuracy the quantize report gives (same images)', () => {
    const out = path.join(dir, 'q');
    const q = layerq(['quantize', modelFile('resnet20'), '--calib-data', path.join(CIFAR, 'calib-pool'), '--val-data', images,
      '--out', out, '--calib-per-class', '4', '--per-channel', '--json', '--quiet']);
    expect(q.stderr).toBe('');
    expect(q.code).toBe(0);
    const report = JSON.parse(q.stdout);
    expect(report.data.validationImages).toBe(100);

    const r = layerq(['evaluate', path.join(out, 'model.qdq.onnx'), '--data', images, '--json', '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.count).toBe(100);
    // The report measures with the int8 kernels, the file runs in float on the same grid: the
    // two agree on >= 98% of predictions, so top-1 differs by at most 2 points on 100 images.
    expect(Math.abs(result.top1 - report.accuracy.quantized.top1)).toBeLessThanOrEqual(2);
    expect(result.top1).toBeGreaterThan(50);
  });

  test('a QuantizeLinear not followed by a matching DequantizeLinear is one line', () => {
    const file = path.join(dir, 'bad-qdq.onnx');
    fs.writeFileSync(file, saveModel(model(
      [
        node('QuantizeLinear', ['input', 'scale', 'zp'], ['xq'], {}, 'input_QuantizeLinear'),
        node('MaxPool', ['xq'], ['p'], { kernel_shape: [2, 2], strides: [2, 2] }, 'pool'),
        node('DequantizeLinear', ['p', 'scale', 'zp'], ['pdq'], {}, 'dq'),
        node('GlobalAveragePool', ['pdq'], ['g'], {}, 'gap'),
        node('Flatten', ['g'], ['logits'], {}, 'flatten'),
      ],
      [vi('input', ['N', 3, 32, 32])], [vi('logits', ['N', 3])],
      { scale: makeTensor('float32', [], [0.02]), zp: makeTensor('uint8', [], [128]) }, 13,
    )));
    const r = layerq(['evaluate', file, '--data', images]);
    expect(r.code).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^layerq: error: unsupported ONNX op 'QuantizeLinear' \(node 'input_QuantizeLinear'\): its output 'xq' is read by 'pool' \(MaxPool\)/);
  });
});
