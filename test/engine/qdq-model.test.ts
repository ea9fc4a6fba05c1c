/**
 * The engine runs the QDQ file it exports: saveModel(toQdq(plan)) loaded back through
 * loadClassifier (weight DequantizeLinear folded, activation Q -> DQ pairs fused to FakeQuantize)
 * and run in FP32 mode computes the 'sim' engine's logits, and agrees with ONNX Runtime's exact
 * QDQ execution of the same file.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadClassifier } from '../../src/api/model';
import { ImageSet } from '../../src/data';
import { Engine, quantizedEngine } from '../../src/engine/engine';
import { agreement } from '../../src/eval/metrics';
import { toQdq } from '../../src/onnx/qdq';
import { saveModel } from '../../src/onnx/save';
import { QuantConfig } from '../../src/quant/first-plan';
import { calibratePlan } from '../../src/pipeline/calibrate';
import { findLayers } from '../../src/quant/layers';
import { maxAbsDiff, runOrt } from '../onnx/ort-helpers';
import { modelFile, cifarSubset } from '../helpers';

const base: QuantConfig = {
  weightBits: 8, activationBits: 8, perChannel: true, method: 'minmax', weightMethod: 'minmax', symmetricActivations: false, scope: 'float-residual',
};

describe('a QDQ model exported by layerq, run by layerq', () => {
  const model = loadClassifier(modelFile('resnet20')).model;
  const layers = findLayers(model.graph);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerq-qdq-'));
  let calib: ImageSet;
  let val: ImageSet;
  let fp32: Float32Array;

  beforeAll(async () => {
    calib = await cifarSubset('calib-pool', 8);
    val = await cifarSubset('val', 10);
    fp32 = await Engine.fp32(model).runAll(val);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test.each([
    ['W8A8 per-channel', base],
    ['W4A8 per-channel mse, full integer', { ...base, weightBits: 4, weightMethod: 'mse', scope: 'full-integer' } as QuantConfig],
    ['W8A8 per-tensor, symmetric int8 activations', { ...base, perChannel: false, symmetricActivations: true }],
  ])('%s: FP32 engine on the file = sim engine; = ONNX Runtime exact QDQ', async (_name, config) => {
    const { plan } = await calibratePlan(model, calib, config);
    const file = path.join(dir, 'model.qdq.onnx');
    const bytes = saveModel(toQdq(model, layers, plan));
    fs.writeFileSync(file, bytes);

    const loaded = loadClassifier(file).model;
    const ops = loaded.graph.nodes.map((n) => n.op);
    expect(ops).not.toContain('QuantizeLinear');
    expect(ops).not.toContain('DequantizeLinear');
    expect(ops.filter((op) => op === 'FakeQuantize')).toHaveLength(Object.keys(plan.activations).length);
    expect([...loaded.graph.initializers.values()].every((t) => t.dtype === 'float32' || t.dtype === 'int64')).toBe(true);

    const fromFile = await Engine.fp32(loaded).runAll(val);
    const sim = await quantizedEngine(model, layers, plan, 'sim').runAll(val);
    expect(maxAbsDiff(fromFile, sim)).toBeLessThan(1e-3);
    expect(agreement(fromFile, sim, 10)).toBe(100);

    const ort = runOrt(bytes, { input: { data: val.batch(0, val.count).data, dims: [...val.dims] } }, { exactQdq: true });
    const ortLogits = Float32Array.from(Object.values(ort)[0]!.data);
    expect(agreement(fromFile, ortLogits, 10)).toBeGreaterThanOrEqual(98);

    // Not vacuous: the file's logits are the quantized ones, not the float model's.
    expect(maxAbsDiff(fromFile, fp32)).toBeGreaterThan(0.01);
  });
});
