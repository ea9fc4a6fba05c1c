/**
 * Writes the preprocessed float32 tensors the accuracy peers read (bench/peers/), so that
 * ONNX Runtime's quantize_static sees exactly the inputs layerq sees:
 * - `calib50.bin`: the first 50 images a class of calib-pool by file name (PRODUCT.md's
 *   "Measured starting points" protocol);
 * - `calib32-seed0.bin`: layerq's own calibration set (32 a class, seed 0, as selectData draws it);
 * - `test.bin` + `test.labels.bin` (int32): the split to evaluate (default `test`, 8,000 images).
 * Each tensor is raw little-endian NCHW float32; `header.json` gives the shapes and sources.
 *
 * Run: npm run build:ts && node dist/bench/export-tensors.js OUT_DIR [--split test]
 * (OUT_DIR outside the repository: the test tensor alone is 98 MB.)
 */
import * as fs from 'fs';
import * as path from 'path';
import { loadClassifier } from '../src/api/model';
import { selectData } from '../src/api/select-data';
import { ImageSet, preprocessPreset } from '../src/data';
import { CIFAR, loadSplit, modelPath } from './common';

function write(dir: string, file: string, data: Float32Array | Int32Array): void {
  fs.writeFileSync(path.join(dir, file), new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
}

async function main(): Promise<void> {
  const out = process.argv[2];
  if (!out) throw new Error('usage: export-tensors.js OUT_DIR [--split test]');
  const splitAt = process.argv.indexOf('--split');
  const split = splitAt > 0 ? process.argv[splitAt + 1]! : 'test';
  fs.mkdirSync(out, { recursive: true });
  const preprocess = preprocessPreset('cifar');
  const header: Record<string, unknown> = { preprocess, layout: 'NCHW float32 little-endian; labels int32', tensors: {} };
  const tensors = header.tensors as Record<string, unknown>;
  const put = (name: string, set: ImageSet, source: string): void => {
    write(out, `${name}.bin`, set.batch(0, set.count).data);
    write(out, `${name}.labels.bin`, set.labels);
    tensors[name] = { file: `${name}.bin`, labels: `${name}.labels.bin`, dims: set.dims, source, skipped: set.skipped.length };
    process.stderr.write(`${name}: ${set.count} images (${source})\n`);
  };

  put('calib50', await loadSplit('calib-pool', 50), 'calib-pool, first 50 a class by file name');
  // layerq's calibration set, drawn the way `layerq quantize` draws it (any model with 10 classes).
  const model = loadClassifier(modelPath('resnet20'));
  const sel = await selectData(model, preprocess, {
    calibData: path.join(CIFAR, 'calib-pool'),
    valData: path.join(CIFAR, 'val'),
    calibrationPerClass: 32,
    validationPerClass: 1,
    seed: 0,
    labelFree: false,
  });
  put('calib32-seed0', sel.calibration, 'calib-pool, 32 a class, selectData seed 0 (layerq)');
  put(split, await loadSplit(split), `${split}, all images, sorted by file name`);
  fs.writeFileSync(path.join(out, 'header.json'), `${JSON.stringify(header, null, 2)}\n`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
