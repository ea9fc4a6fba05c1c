/**
 * Partial re-runs are exact: after a plan change, a run from a snapshot taken before the first
 * differing step gives the same logits as a whole run of the changed plan, in both modes, for the
 * changes the search makes (a layer's weights, an activation's grid in int mode where the producer
 * requantizes, a layer switched to float, a bit-width change). And a snapshot taken with a
 * program that differs earlier is refused rather than silently reused.
 */
import { loadClassifier } from '../../src/api/model';
import { ImageSet } from '../../src/data';
import { Engine, divergence, quantizedEngine } from '../../src/engine/engine';
import { StepCache, codesOf } from '../../src/engine/quantized';
import { QuantConfig, tensorQuant, weightQuant } from '../../src/quant/first-plan';
import { Calibration, calibratePlan } from '../../src/pipeline/calibrate';
import { QuantPlan, clonePlan } from '../../src/quant/plan';
import { modelFile, cifarSubset } from '../helpers';

const base: QuantConfig = {
  weightBits: 4, activationBits: 8, perChannel: true, method: 'minmax', weightMethod: 'minmax', symmetricActivations: false, scope: 'float-residual',
};

describe('partial re-runs', () => {
  const model = loadClassifier(modelFile('resnet20')).model;
  let calib: ImageSet;
  let val: ImageSet;
  let cal: Calibration;

  beforeAll(async () => {
    calib = await cifarSubset('calib-pool', 4);
    val = await cifarSubset('val', 4);
    cal = await calibratePlan(model, calib, base);
  });

  const layer = (i: number) => cal.layers[i]!;
  const changes: [string, (p: QuantPlan) => void][] = [
    ['weight scales of layer 7', (p) => {
      const lp = p.layers[7]!;
      lp.weight = { ...lp.weight!, scale: lp.weight!.scale.map((s) => s * 1.7) };
    }],
    ['activation grid of layer 9 input (its producer requantizes into it in int mode)', (p) => {
      p.activations[layer(9).input] = tensorQuant(cal.stats.histograms.get(layer(9).input)!, base, 'percentile');
    }],
    ['layer 12 to float', (p) => {
      p.layers[12]!.float = true;
    }],
    ['layer 5 weights to 8 bits', (p) => {
      p.layers[5]!.weight = weightQuant(model, layer(5), 8, true, 'minmax');
      delete p.layers[5]!.biasCorrection;
    }],
  ];

  test.each((['int', 'sim'] as const).flatMap((mode) => changes.map(([name, change]) => [mode, name, change] as const)))(
    '%s: %s: the run from the snapshot equals the whole run, and only the suffix runs',
    async (mode, _name, change) => {
      const changed = clonePlan(cal.plan);
      change(changed);
      const cache: StepCache = new Map();
      const before = quantizedEngine(model, cal.layers, cal.plan, mode, cache);
      const after = quantizedEngine(model, cal.layers, changed, mode, cache);
      const at = divergence(before, after);
      expect(at).toBeGreaterThan(3);
      expect(at).toBeLessThan(after.steps.length);
      // Steps before the difference are shared objects (not re-packed); the difference is real.
      for (let i = 0; i < at; i++) expect(after.steps[i]).toBe(before.steps[i]);
      const snapshot = await before.snapshot(val, at, { batchSize: 16 });
      const whole = await after.runAll(val, { batchSize: 16 });
      const partial = await after.runFrom(snapshot);
      expect(Array.from(partial)).toEqual(Array.from(whole));
      // A second suffix run from the same snapshot: the snapshot was not consumed or overwritten.
      expect(Array.from(await after.runFrom(snapshot))).toEqual(Array.from(whole));
      // And the change mattered: the old plan's logits differ.
      expect(Array.from(await before.runFrom(snapshot))).not.toEqual(Array.from(whole));
    },
  );

  test('int mode: an activation change is found at its producer, not at a quantize step', () => {
    const changed = clonePlan(cal.plan);
    changes[1]![1](changed);
    const before = quantizedEngine(model, cal.layers, cal.plan, 'int');
    const after = quantizedEngine(model, cal.layers, changed, 'int');
    const at = divergence(before, after);
    // Its producer: the residual Add (with the conv before it folded in) requantizes into it.
    expect(after.steps[at]!.outputs).toContain(codesOf(layer(9).input));
    expect(after.steps[at]!.op).toBe('QConv+Add+QuantizeLinear');
    expect(after.steps[at]!.name).toBe(`${layer(8).id}+${layer(9).input}/quantize`);
  });

  test('a snapshot from a program that differs before its index is refused', async () => {
    const changed = clonePlan(cal.plan);
    changes[0]![1](changed);
    const before = quantizedEngine(model, cal.layers, cal.plan, 'int');
    const after = quantizedEngine(model, cal.layers, changed, 'int');
    const snapshot = await before.snapshot(val, after.steps.length - 1, { batchSize: 32 });
    await expect(after.runFrom(snapshot)).rejects.toThrow(/prefix differs/);
  });

  test('FP32 snapshot feeds a one-layer-quantized program (sensitivity runs)', async () => {
    const fp32 = Engine.fp32(model);
    const one = clonePlan(cal.plan);
    for (const lp of one.layers) lp.float = lp.id !== layer(10).id;
    one.activations = { [layer(10).input]: cal.plan.activations[layer(10).input]! };
    const q = quantizedEngine(model, cal.layers, one, 'int');
    const at = divergence(fp32, q);
    const snapshot = await fp32.snapshot(val, at);
    expect(Array.from(await q.runFrom(snapshot))).toEqual(Array.from(await q.runAll(val)));
  });
});
