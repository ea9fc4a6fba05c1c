/**
 * The quantized engine against itself (int vs sim), against the QDQ model it exports (run by
 * ONNX Runtime with exact QDQ semantics). Partial re-runs: partial-runs.test.ts.
 */
import { loadClassifier } from '../../src/api/model';
import { ImageSet } from '../../src/data';
import { Engine, quantizedEngine } from '../../src/engine/engine';
import { firstDifference, lowerQuantized } from '../../src/engine/quantized';
import { Program, Value } from '../../src/engine/runtime';
import { accuracy, agreement } from '../../src/eval/metrics';
import { toQdq } from '../../src/onnx/qdq';
import { saveModel } from '../../src/onnx/save';
import { QuantConfig } from '../../src/quant/first-plan';
import { calibratePlan } from '../../src/pipeline/calibrate';
import { findLayers } from '../../src/quant/layers';
import { clonePlan } from '../../src/quant/plan';
import { runOrt } from '../onnx/ort-helpers';
import { modelFile, cifarSubset } from '../helpers';

const base: QuantConfig = {
  weightBits: 8, activationBits: 8, perChannel: true, method: 'minmax', weightMethod: 'minmax', symmetricActivations: false, scope: 'float-residual',
};
const CLASSES = Array.from({ length: 10 }, (_, i) => String(i));

describe('quantized engine', () => {
  const prepared = loadClassifier(modelFile('resnet20'));
  const model = prepared.model;
  const layers = findLayers(model.graph);
  let calib: ImageSet;
  let val: ImageSet;
  let fp32: Float32Array;
  const planFor = async (config: QuantConfig) => (await calibratePlan(model, calib, config)).plan;

  beforeAll(async () => {
    calib = await cifarSubset('calib-pool', 8);
    val = await cifarSubset('val', 15);
    fp32 = await Engine.fp32(model).runAll(val);
  });

  test('ResNet-20 has 19 conv layers and one Gemm; Conv+Relu merged', () => {
    expect(layers.filter((l) => l.kind === 'conv')).toHaveLength(19);
    expect(layers.filter((l) => l.kind === 'gemm')).toHaveLength(1);
    expect(layers.filter((l) => l.activation?.op === 'Relu')).toHaveLength(10);
  });

  test.each([
    ['W8A8 per-channel, float residual', base],
    ['W8A8 per-tensor, symmetric activations', { ...base, perChannel: false, symmetricActivations: true }],
    ['W4A8 per-channel mse, full integer', { ...base, weightBits: 4, weightMethod: 'mse', scope: 'full-integer' } as QuantConfig],
    ['W8A4 entropy', { ...base, activationBits: 4, method: 'entropy' } as QuantConfig],
  ])('%s: int engine = sim engine = exported QDQ in ONNX Runtime', async (_name, config) => {
    const plan = await planFor(config);
    const intLogits = await quantizedEngine(model, layers, plan, 'int').runAll(val);
    const simLogits = await quantizedEngine(model, layers, plan, 'sim').runAll(val);
    expect(agreement(intLogits, simLogits, 10)).toBeGreaterThanOrEqual(98);
    const qdq = saveModel(toQdq(model, layers, plan));
    const ort = runOrt(qdq, { input: { data: val.batch(0, val.count).data, dims: [...val.dims] } }, { exactQdq: true });
    const ortLogits = Float32Array.from(Object.values(ort)[0]!.data);
    expect(agreement(intLogits, ortLogits, 10)).toBeGreaterThanOrEqual(98);
    if (config.weightBits === 8 && config.activationBits === 8) {
      const drop = accuracy(fp32, val.labels, CLASSES).top1 - accuracy(intLogits, val.labels, CLASSES).top1;
      expect(drop).toBeLessThan(3);
    }
  });

  test('quantizing changes the logits (the test would notice a plan being ignored)', async () => {
    const plan = await planFor({ ...base, weightBits: 4, activationBits: 4, perChannel: false });
    const intLogits = await quantizedEngine(model, layers, plan, 'int').runAll(val);
    let diff = 0;
    for (let i = 0; i < intLogits.length; i++) diff = Math.max(diff, Math.abs(intLogits[i]! - fp32[i]!));
    expect(diff).toBeGreaterThan(0.5);
  });

  // The residual Adds' own steps: with the conv before each folded in, see int-residuals.test.ts.
  const apart = { fuseResiduals: false };

  test('int: fused Adds read the residuals the plan quantizes as codes; no float copy is written for them', async () => {
    const plan = await planFor(base);
    const steps = lowerQuantized(model, layers, plan, 'int', undefined, apart);
    const fusedAdds = steps.filter((s) => s.op === 'Add+QuantizeLinear');
    const tensorOf = (name: string): string => name.replace(/#q$/, '');
    for (const s of fusedAdds) {
      for (const i of s.inputs) expect({ step: s.name, input: i, codes: i.endsWith('#q') }).toEqual({ step: s.name, input: i, codes: plan.activations[tensorOf(i)] !== undefined });
    }
    expect(fusedAdds.filter((s) => s.inputs.some((i) => i.endsWith('#q')))).toHaveLength(6);  // the others' residual: a float Pad
    // Floats are written only for float readers: the stem's output needs no dequantize step, and
    // of the fused Adds only those before a downsampling shortcut (Slice) or the last, float Add.
    expect(steps.filter((s) => s.op === 'DequantizeLinear')).toHaveLength(0);
    expect(fusedAdds.filter((s) => s.outputs.some((o) => !o.endsWith('#q'))).map((s) => s.name)).toEqual(
      ['/layer1/layer1.2/Relu_1_output_0/quantize', '/layer2/layer2.2/Relu_1_output_0/quantize', '/layer3/layer3.1/Relu_1_output_0/quantize']);
    // In sim mode nothing reads codes.
    expect(lowerQuantized(model, layers, plan, 'sim').some((s) => s.inputs.some((i) => i.endsWith('#q')))).toBe(false);
  });

  test("int: a residual Add's output quantization is fused into the Add, and a change of it re-runs from there", async () => {
    const plan = await planFor(base);
    const steps = lowerQuantized(model, layers, plan, 'int', undefined, apart);
    const fusedAdds = steps.filter((s) => s.op === 'Add+QuantizeLinear');
    expect(fusedAdds.length).toBe(8);  // 9 residual Adds; the last one feeds the (float) pooling
    expect(steps.some((s) => s.op === 'QuantizeLinear' && fusedAdds.some((f) => f.name === s.name))).toBe(false);
    const changed = clonePlan(plan);
    const tensor = fusedAdds[3]!.name.replace(/\/quantize$/, '');
    changed.activations[tensor] = { ...changed.activations[tensor]!, scale: changed.activations[tensor]!.scale * 1.3 };
    const newSteps = lowerQuantized(model, layers, changed, 'int', undefined, apart);
    const k = firstDifference(steps, newSteps);
    expect(newSteps[k]!.op).toBe('Add+QuantizeLinear');
    const out = model.graph.outputs[0]!.name;
    const batch = val.batch(0, 16);
    const input = (): Map<string, Value> => new Map([['input', { kind: 'f32', data: batch.data, dims: [16, 3, 32, 32] }]]);
    const full = (await new Program(newSteps, new Set([out])).run(input())).get(out)!.data.slice();
    const prefix = await new Program(steps, new Set([out])).run(input(), 0, k);
    const rest = (await new Program(newSteps, new Set([out])).run(prefix, k)).get(out)!.data;
    expect(Array.from(rest)).toEqual(Array.from(full));
  });
});
