/**
 * The int engine's residual joins: a quantized Conv whose output only a float-residual Add reads
 * runs with that Add (and its Relu / Clip, and its output's quantization) folded in (convAddStep,
 * qconv2d's residual). The same logits bit for bit as the two steps apart ({ fuseResiduals:
 * false }) on ResNet-20 (W8A8 and W4A8, several batch sizes), MobileNetV2-w05 and every
 * architecture fixture that has such joins; a residual that broadcasts takes the fallback (conv,
 * then the Add's step) with the same values; an engine with folded steps refuses to observe.
 */
import * as fs from 'fs';
import * as path from 'path';
import { loadClassifier } from '../../src/api/model';
import { BatchSource, Engine, quantizedEngine } from '../../src/engine/engine';
import { codesOf, lowerQuantized } from '../../src/engine/quantized';
import { Model } from '../../src/ir/graph';
import { calibratePlan } from '../../src/pipeline/calibrate';
import { QuantConfig } from '../../src/quant/first-plan';
import { findLayers } from '../../src/quant/layers';
import { QuantPlan, clonePlan } from '../../src/quant/plan';
import { cifarSubset, modelFile } from '../helpers';
import { model as irModel, node, vi } from '../ir/build';
import { randomArray, rng } from '../native/helpers';

const W8A8: QuantConfig = {
  weightBits: 8, activationBits: 8, perChannel: true, method: 'minmax', weightMethod: 'minmax', symmetricActivations: false, scope: 'float-residual',
};
const W4A8: QuantConfig = { ...W8A8, weightBits: 4 };
const FOLDED = 'QConv+Add+QuantizeLinear';
const FIXTURES = path.resolve(__dirname, '..', 'fixtures', 'arch');

/** Random images for a model's input shape (the batch dimension left out). */
function randomImages(model: Model, count: number, seed: number): BatchSource & { data: Float32Array } {
  const per = model.graph.inputs[0]!.shape.slice(1).reduce<number>((p, d) => p * Number(d), 1);
  const data = randomArray(count * per, rng(seed), 2);
  return { count, data, batch: (start, n) => ({ data: data.subarray(start * per, (start + n) * per), count: n }) };
}

/** Logits of the int engine with and without the folded joins, compared bit for bit; the folded step names. */
async function expectFoldedSame(model: Model, plan: QuantPlan, x: Float32Array, n: number, what: string): Promise<string[]> {
  const layers = findLayers(model.graph);
  const folded = quantizedEngine(model, layers, plan, 'int');
  const apart = quantizedEngine(model, layers, plan, 'int', undefined, { fuseResiduals: false });
  expect(apart.steps.some((s) => s.op === FOLDED)).toBe(false);
  const a = await folded.run(x, n), b = await apart.run(x, n);
  const differ = a.findIndex((v, i) => !Object.is(v, b[i]));
  if (differ >= 0) throw new Error(`${what}: logit ${differ} differs (${a[differ]} folded, ${b[differ]} apart)`);
  return folded.steps.filter((s) => s.op === FOLDED).map((s) => s.name);
}

describe('int engine: residual Adds folded into the conv before them', () => {
  it('ResNet-20: the 8 joins whose output the plan quantizes fold; W8A8 and W4A8 logits equal at batches 1, 5 and 64', async () => {
    const model = loadClassifier(modelFile('resnet20')).model;
    const calib = await cifarSubset('calib-pool', 4);
    const val = await cifarSubset('val', 7);
    for (const config of [W8A8, W4A8]) {
      const { plan } = await calibratePlan(model, calib, config);
      for (const n of [1, 5, 64]) {
        const names = await expectFoldedSame(model, plan, val.batch(0, n).data, n, `resnet20 ${config.weightBits}-bit batch ${n}`);
        // Each block's conv2 with its Add; the last Add feeds the float pooling (its output unquantized).
        expect(names).toHaveLength(8);
        expect(names[0]).toBe('/layer1/layer1.0/conv2/Conv+/layer1/layer1.0/Relu_1_output_0/quantize');
      }
    }
    // The sums' grids reaching below zero (zero point 100): the joins' Relu then decides codes.
    const { plan } = await calibratePlan(model, calib, W8A8);
    const below = clonePlan(plan);
    for (const t of Object.keys(below.activations).filter((t) => /layer\d\.\d\/Relu_1_output_0$/.test(t))) {
      below.activations[t] = { ...below.activations[t]!, zeroPoint: 100 };
    }
    expect(await expectFoldedSame(model, below, val.batch(0, 9).data, 9, 'resnet20, sums below zero')).toHaveLength(8);
    // The folded step reads the conv's input codes and the residual (codes where the plan quantizes it).
    const steps = lowerQuantized(model, findLayers(model.graph), plan, 'int');
    const first = steps.find((s) => s.op === FOLDED)!;
    expect(first.inputs).toEqual([codesOf('/layer1/layer1.0/Relu_output_0'), codesOf('/Relu_output_0')]);
    expect(first.outputs).toEqual([codesOf('/layer1/layer1.0/Relu_1_output_0'), '/layer1/layer1.0/conv2/Conv_output_0#scratch']);
    // The downsampling joins read the float shortcut (Slice+Slice+Pad), which runs before them.
    const down = steps.findIndex((s) => s.op === FOLDED && s.name.startsWith('/layer2/layer2.0/conv2/Conv+'));
    expect(steps[down]!.inputs[1]).toBe('/layer2/layer2.0/Pad_output_0');
    expect(steps.findIndex((s) => s.outputs.includes('/layer2/layer2.0/Pad_output_0'))).toBeLessThan(down);
  }, 120_000);

  it('MobileNetV2-w05: its inverted-residual joins fold, the same logits', async () => {
    const model = loadClassifier(modelFile('mobilenetv2-w05')).model;
    const { plan } = await calibratePlan(model, await cifarSubset('calib-pool', 2), W8A8);
    const names = await expectFoldedSame(model, plan, (await cifarSubset('val', 1)).batch(0, 10).data, 10, 'mobilenetv2-w05');
    expect(names.length).toBeGreaterThanOrEqual(9);
  }, 60_000);

  it('every architecture fixture: the same logits; the residual networks fold their joins', async () => {
    const foldedBy: Record<string, number> = {};
    for (const file of fs.readdirSync(FIXTURES).filter((f) => f.endsWith('-op17.onnx')).sort()) {
      const model = loadClassifier(path.join(FIXTURES, file)).model;
      const { plan } = await calibratePlan(model, randomImages(model, 2, 7), W8A8);
      const x = randomImages(model, 2, 11);
      foldedBy[file] = (await expectFoldedSame(model, plan, x.data, 2, file)).length;
    }
    console.log(`residual joins folded per fixture: ${JSON.stringify(foldedBy)}`);
    for (const net of ['resnet50', 'resnext', 'mobilenetv3', 'efficientnet']) {
      expect({ net, folded: foldedBy[`${net}-op17.onnx`]! > 0 }).toEqual({ net, folded: true });
    }
  }, 300_000);

  it('a residual that broadcasts takes the fallback: conv, then the Add on its output, the same values', async () => {
    // z = Conv(Relu(Conv(x) + Conv1x1(GlobalAveragePool(x)))): the residual is [N, 4, 1, 1].
    const w = (dims: number[], seed: number) => ({ dtype: 'float32' as const, dims, data: randomArray(dims.reduce((p, d) => p * d, 1), rng(seed)) });
    const m = irModel(
      [
        node('Conv', ['x', 'w1', 'b1'], ['c'], { pads: [1, 1, 1, 1] }),
        node('GlobalAveragePool', ['x'], ['g']),
        node('Conv', ['g', 'w2'], ['r']),
        node('Add', ['c', 'r'], ['s']),
        node('Relu', ['s'], ['y']),
        node('Conv', ['y', 'w3'], ['z']),
      ],
      [vi('x', ['N', 3, 6, 7])],
      [vi('z', ['N', 2, 6, 7])],
      { w1: w([4, 3, 3, 3], 1), b1: w([4], 2), w2: w([4, 3, 1, 1], 3), w3: w([2, 4, 1, 1], 4) },
    );
    const { plan } = await calibratePlan(m, randomImages(m, 4, 5), W8A8);
    const x = randomImages(m, 3, 6);
    expect(await expectFoldedSame(m, plan, x.data, 3, 'broadcast residual')).toEqual(['Conv_c+y/quantize']);
    // The Relu was applied: some of the sum's codes sit at its zero point's floor, others above.
    const values = new Map<string, Float32Array | Uint8Array>();
    const engine = quantizedEngine(m, findLayers(m.graph), plan, 'int', undefined, { fuseResiduals: false });
    await engine.observe(x, (name, v) => void values.set(name, v.data.slice()));
    const codes = values.get(codesOf('y'))!;
    expect(new Set(codes).size).toBeGreaterThan(2);
    expect(Math.min(...codes)).toBe(plan.activations.y!.zeroPoint);
  });

  it('an engine with folded steps refuses to observe', async () => {
    const model = loadClassifier(modelFile('resnet20')).model;
    const calib = await cifarSubset('calib-pool', 1);
    const { plan } = await calibratePlan(model, calib, W8A8);
    const engine = quantizedEngine(model, findLayers(model.graph), plan, 'int');
    await expect(engine.observe(calib, () => undefined)).rejects.toThrow(/\(QConv\+Add\+QuantizeLinear\) fuses steps/);
  });
});
