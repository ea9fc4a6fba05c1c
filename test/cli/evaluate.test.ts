/** `layerq evaluate` end to end, and every bad input it must answer with one line and exit 1. */
import * as fs from 'fs';
import * as path from 'path';
import { saveModel } from '../../src/onnx/save';
import { Model } from '../../src/ir/graph';
import { CIFAR, modelFile } from '../helpers';
import { layerq, makeImageFolder, tempDir } from './cli-helpers';

const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

function expectOneLineError(r: { code: number; stderr: string; stdout: string }, pattern: RegExp): void {
  expect(r.code).toBe(1);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^layerq: error: /);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

/** A valid ONNX model whose input is [N, 10], not an image. */
function nonImageModel(file: string): void {
  const model: Model = {
    irVersion: 8,
    opset: 17,
    producerName: 'test',
    graph: {
      name: 'g',
      nodes: [{ name: 'relu', op: 'Relu', inputs: ['x'], outputs: ['y'], attrs: {} }],
      inputs: [{ name: 'x', dtype: 'float32', shape: ['N', 10] }],
      outputs: [{ name: 'y', dtype: 'float32', shape: ['N', 10] }],
      initializers: new Map(),
      values: new Map(),
    },
  };
  fs.writeFileSync(file, saveModel(model));
}

describe('layerq evaluate', () => {
  const dir = tempDir();
  const small = path.join(dir, 'small');
  beforeAll(() => makeImageFolder(small, CLASSES, 3, path.join(CIFAR, 'val', 'cat')));

  test('--json prints one object with top1/top5 in percent; progress stays on stderr', () => {
    const r = layerq(['evaluate', modelFile('resnet20'), '--data', path.join(CIFAR, 'val'), '--limit', '10', '--json']);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.count).toBe(100);
    expect(result.top1).toBeGreaterThan(50);
    expect(result.top5).toBeGreaterThanOrEqual(result.top1);
    expect(result.perClass).toHaveLength(10);
    expect(result.timings.engineImagesPerSecond).toBeGreaterThan(0);
  });

  test('human output lists per-class accuracy', () => {
    const r = layerq(['evaluate', modelFile('resnet20'), '--data', small, '--quiet']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/top-1\s+\d+\.\d+%/);
    expect(r.stdout).toMatch(/truck/);
    expect(r.stderr).toBe('');
  });

  test('missing model file', () => {
    expectOneLineError(layerq(['evaluate', path.join(dir, 'nope.onnx'), '--data', small]), /nope\.onnx/);
  });

  test('a file that is not ONNX', () => {
    const fake = path.join(dir, 'fake.onnx');
    fs.writeFileSync(fake, 'this is not a model\n'.repeat(20));
    expectOneLineError(layerq(['evaluate', fake, '--data', small]), /not an ONNX model/);
  });

  test('a model whose input is not an image', () => {
    const file = path.join(dir, 'vector.onnx');
    nonImageModel(file);
    expectOneLineError(layerq(['evaluate', file, '--data', small]), /image/);
  });

  test('missing data folder', () => {
    expectOneLineError(layerq(['evaluate', modelFile('resnet20'), '--data', path.join(dir, 'missing')]), /missing/);
  });

  test('empty data folder', () => {
    const empty = path.join(dir, 'empty');
    fs.mkdirSync(empty);
    expectOneLineError(layerq(['evaluate', modelFile('resnet20'), '--data', empty]), /empty|no class/i);
  });

  test('an empty class folder is named', () => {
    const root = path.join(dir, 'hole');
    makeImageFolder(root, CLASSES, 2, path.join(CIFAR, 'val', 'dog'));
    for (const f of fs.readdirSync(path.join(root, 'frog'))) fs.unlinkSync(path.join(root, 'frog', f));
    expectOneLineError(layerq(['evaluate', modelFile('resnet20'), '--data', root]), /frog/);
  });

  test('class count different from the model outputs', () => {
    const root = path.join(dir, 'three');
    makeImageFolder(root, ['a', 'b', 'c'], 2, path.join(CIFAR, 'val', 'dog'));
    expectOneLineError(layerq(['evaluate', modelFile('resnet20'), '--data', root]), /3 classes.*10/);
  });

  test('a corrupt image is skipped and counted', () => {
    const root = path.join(dir, 'corrupt');
    makeImageFolder(root, CLASSES, 2, path.join(CIFAR, 'val', 'ship'));
    fs.writeFileSync(path.join(root, 'cat', 'broken.jpg'), Buffer.from('not a jpeg at all'));
    const r = layerq(['evaluate', modelFile('resnet20'), '--data', root, '--json', '--quiet']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/skipped 1 unreadable file/);
    expect(JSON.parse(r.stdout).count).toBe(20);
  });

  test('an unknown preset is a usage error naming the presets', () => {
    expectOneLineError(layerq(['evaluate', modelFile('resnet20'), '--data', small, '--preset', 'foo']), /cifar, imagenet/);
  });
});
