/**
 * The architectures users bring (test/fixtures/arch/*.onnx, written by generate.py there:
 * ResNet-50, ResNeXt, MobileNetV3, EfficientNet, ShuffleNetV2, SqueezeNet, DenseNet, Inception,
 * ConvNeXt styles at opsets 13 and 17, 224x224, random weights) against ONNX Runtime:
 * - FP32: max logit difference at most 1e-4 of the largest logit, the same top-1;
 * - W8A8 and W4A8 (per-channel): the exported QDQ file loads and runs in ONNX Runtime's default
 *   session and its exact QDQ mode, and layerq's engine on the file agrees with the exact run
 *   to within float accumulation order (a top-1 flips only where the exact run's top-2 margin
 *   is small). The measured distribution is printed at the end.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadClassifier } from '../../src/api/model';
import { ImageSet, listImageFolder, preprocessPreset } from '../../src/data';
import { Engine, quantizedEngine } from '../../src/engine/engine';
import { agreement, argmaxRows } from '../../src/eval/metrics';
import { toQdq } from '../../src/onnx/qdq';
import { saveModel } from '../../src/onnx/save';
import { QuantConfig, initialPlan } from '../../src/quant/first-plan';
import { collectStatistics } from '../../src/pipeline/calibrate';
import { findLayers, quantizedTensors } from '../../src/quant/layers';
import { runOrt } from '../onnx/ort-helpers';
import { CIFAR } from '../helpers';

const FIXTURES = path.resolve(__dirname, '..', 'fixtures', 'arch');
const NAMES = fs.readdirSync(FIXTURES).filter((f) => f.endsWith('.onnx')).sort();
const CLASSES = 16;

const W8A8: QuantConfig = {
  weightBits: 8, activationBits: 8, perChannel: true, method: 'minmax', weightMethod: 'minmax', symmetricActivations: false, scope: 'float-residual',
};
const W4A8: QuantConfig = { ...W8A8, weightBits: 4, weightMethod: 'mse' };

/** Largest |a - b| over the largest |b|. */
function relDiff(a: Float32Array, b: ArrayLike<number>): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return d / m;
}

/** Images whose top-1 differs although the reference's top-2 margin is above `margin` (of its logit range). */
function clearFlips(ours: Float32Array, ref: Float32Array, margin: number): number {
  const a = argmaxRows(ours, CLASSES);
  const b = argmaxRows(ref, CLASSES);
  let flips = 0;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue;
    const row = Array.from(ref.subarray(i * CLASSES, (i + 1) * CLASSES)).sort((x, y) => y - x);
    if (row[0]! - row[1]! > margin * (row[0]! - row[row.length - 1]!)) flips++;
  }
  return flips;
}

const ortLogits = (bytes: string | Uint8Array, x: { data: Float32Array; dims: number[] }, exactQdq = false): Float32Array =>
  Float32Array.from(Object.values(runOrt(bytes, { input: x }, { exactQdq }))[0]!.data);

describe('architecture fixtures against ONNX Runtime', () => {
  let calib: ImageSet;
  let val: ImageSet;
  let input: { data: Float32Array; dims: number[] };
  const rows: string[] = [];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerq-arch-'));

  beforeAll(async () => {
    // CIFAR-10 photos upscaled by the imagenet recipe (256, centre 224): natural image statistics.
    const pool = await listImageFolder(path.join(CIFAR, 'val'));
    const pick = (from: number, n: number) => pool.classes.flatMap((_, c) => pool.samples.filter((s) => s.label === c).slice(from, from + n));
    calib = await ImageSet.load(pick(0, 1), preprocessPreset('imagenet'));
    val = await ImageSet.load(pick(1, 1), preprocessPreset('imagenet'));
    input = { data: val.batch(0, val.count).data, dims: [...val.dims] };
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    process.stdout.write(
      `\narchitecture fixtures, ${val?.count} images (layerq engine on the QDQ file vs ONNX Runtime exact QDQ; int8 engine vs the file):\n` +
        '| fixture | FP32 rel diff | config | file vs exact: top-1 agreement, rel diff | default vs exact agreement | int8 engine vs file |\n' +
        '| --- | --- | --- | --- | --- | --- |\n' +
        `${rows.join('\n')}\n`,
    );
  });

  test.each(NAMES)('%s', async (name) => {
    const file = path.join(FIXTURES, name);
    const model = loadClassifier(file).model;
    const engine = Engine.fp32(model);
    const ours = await engine.runAll(val);
    const ref = ortLogits(file, input);
    const fp32Diff = relDiff(ours, ref);
    expect(fp32Diff).toBeLessThanOrEqual(1e-4);
    expect(Array.from(argmaxRows(ours, CLASSES))).toEqual(Array.from(argmaxRows(ref, CLASSES)));

    const layers = findLayers(model.graph);
    expect(layers.length).toBeGreaterThan(4);
    for (const [label, config] of [['W8A8', W8A8], ['W4A8', W4A8]] as const) {
      const stats = await collectStatistics(engine, calib, quantizedTensors(model.graph, layers, config.scope));
      const plan = initialPlan(model, layers, stats, config);
      const bytes = saveModel(toQdq(model, layers, plan));
      const qdqFile = path.join(dir, `${name}-${label}.onnx`);
      fs.writeFileSync(qdqFile, bytes);
      const fromFile = await Engine.fp32(loadClassifier(qdqFile).model).runAll(val);
      const exact = ortLogits(qdqFile, input, true);
      const fused = ortLogits(qdqFile, input, false);
      for (const l of [exact, fused]) {
        expect(l).toHaveLength(val.count * CLASSES);
        expect(l.every(Number.isFinite)).toBe(true);
      }
      const agree = agreement(fromFile, exact, CLASSES);
      expect(clearFlips(fromFile, exact, 0.02)).toBe(0);
      expect(agree).toBeGreaterThanOrEqual(90);
      const int8 = await quantizedEngine(model, layers, plan, 'int').runAll(val);
      rows.push(
        `| ${name} | ${fp32Diff.toExponential(1)} | ${label} | ${agree.toFixed(1)}%, ${relDiff(fromFile, exact).toExponential(1)} | ` +
          `${agreement(fused, exact, CLASSES).toFixed(1)}% | ${agreement(int8, fromFile, CLASSES).toFixed(1)}% |`,
      );
    }
  });
});
