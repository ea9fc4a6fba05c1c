/**
 * Weight rounding fitted in the quantized model's context (ContextFitter): the codes it gives a
 * layer reproduce the FP32 layer's output, from the inputs the quantized model delivers, better
 * than nearest rounding and than rounding fitted to the FP32 inputs; the fit is deterministic and
 * leaves the model's weights alone.
 */
import { loadClassifier } from '../../src/api/model';
import { BatchSource, Engine, quantizedEngine } from '../../src/engine/engine';
import type { Value } from '../../src/engine/runtime';
import { calibratePlan, Calibration } from '../../src/pipeline/calibrate';
import { QuantConfig } from '../../src/quant/first-plan';
import type { Layer } from '../../src/quant/layers';
import { encodeCodes } from '../../src/quant/materialize';
import { QuantPlan, clonePlan } from '../../src/quant/plan';
import { CandidateContext, PRECISION_STEPS } from '../../src/search/candidates';
import { ContextFitter, GramCollector } from '../../src/search/rounding';
import { cifarSubset, modelFile } from '../helpers';

const config: QuantConfig = {
  weightBits: 4, activationBits: 4, perChannel: true, method: 'minmax', weightMethod: 'minmax', symmetricActivations: false, scope: 'float-residual',
};

/** Sum over `images` of the squared difference between the layer step's output under `plan` (sim) and under FP32. */
async function outputError(model: Calibration & { model: ReturnType<typeof loadClassifier>['model'] }, plan: QuantPlan, layer: Layer, images: BatchSource): Promise<number> {
  const grab = async (engine: Engine): Promise<Float32Array[]> => {
    const out = engine.steps.find((s) => s.name === layer.id)!.outputs[0]!;
    const kept: Float32Array[] = [];
    await engine.observe(images, (name: string, v: Value) => {
      if (name === out && v.kind === 'f32') kept.push(Float32Array.from(v.data.subarray(0, v.dims.reduce((a, b) => a * b, 1))));
    });
    return kept;
  };
  const ref = await grab(Engine.fp32(model.model));
  const got = await grab(quantizedEngine(model.model, model.layers, plan, 'sim'));
  expect(got.length).toBe(ref.length);
  let e = 0;
  got.forEach((g, b) => g.forEach((x, i) => (e += (x - ref[b]![i]!) ** 2)));
  return e;
}

describe('weight rounding fitted in context', () => {
  const model = loadClassifier(modelFile('resnet20')).model;
  let cal: Calibration;
  let grams: GramCollector;
  let images: BatchSource;
  beforeAll(async () => {
    images = await cifarSubset('calib-pool', 4);
    grams = new GramCollector(model, (await calibratePlan(model, images, config)).layers);
    cal = await calibratePlan(model, images, config, { observe: grams.observe });
  }, 120000);

  const withCodes = (plan: QuantPlan, layer: Layer, codes: Int8Array): QuantPlan => {
    const next = clonePlan(plan);
    const lp = next.layers.find((l) => l.id === layer.id)!;
    lp.codes = encodeCodes(codes);
    delete lp.biasCorrection;
    return next;
  };

  test.each([3, 10, 18])('layer %i: the context fit leaves less output error than nearest and FP32-fitted rounding', async (i) => {
    const layer = cal.layers[i]!;
    const weight = cal.plan.layers.find((l) => l.id === layer.id)!.weight!;
    const nearest = clonePlan(cal.plan);
    delete nearest.layers.find((l) => l.id === layer.id)!.biasCorrection;
    const fitted = withCodes(cal.plan, layer, (await grams.fitter()(layer, weight))!);
    const refit = withCodes(cal.plan, layer, (await new ContextFitter(model, cal.layers, images, 16).fit(layer, weight, cal.plan))!);
    const e = { nearest: await outputError({ ...cal, model }, nearest, layer, images), fitted: await outputError({ ...cal, model }, fitted, layer, images), refit: await outputError({ ...cal, model }, refit, layer, images) };
    expect(e.refit).toBeLessThan(e.nearest);
    expect(e.refit).toBeLessThan(e.fitted);
  }, 120000);

  test('deterministic, on the grid, and the model weights untouched', async () => {
    const layer = cal.layers[7]!;
    const weight = cal.plan.layers.find((l) => l.id === layer.id)!.weight!;
    const before = Float32Array.from(model.graph.initializers.get(layer.weight)!.data as Float32Array);
    const a = (await new ContextFitter(model, cal.layers, images, 16).fit(layer, weight, cal.plan))!;
    const b = (await new ContextFitter(model, cal.layers, images, 16).fit(layer, weight, cal.plan))!;
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    expect(a.every((c) => c >= weight.qmin && c <= weight.qmax)).toBe(true);
    expect(Float32Array.from(model.graph.initializers.get(layer.weight)!.data as Float32Array)).toEqual(before);
  }, 120000);

  test('Gram matrices summed lazily, on the first fit, give the codes of those summed during calibration', async () => {
    const lazy = new GramCollector(model, cal.layers).lazyFitter(images, 64);
    for (const i of [0, 9, 19]) {
      const layer = cal.layers[i]!;
      const weight = cal.plan.layers.find((l) => l.id === layer.id)!.weight!;
      expect(Array.from((await lazy(layer, weight))!)).toEqual(Array.from((await grams.fitter()(layer, weight))!));
    }
  }, 120000);

  test('a raise to 8-bit weights in context gets codes fitted there: less output error than nearest 8-bit codes, bias correction off', async () => {
    const raise = PRECISION_STEPS.find((c) => c.name === 'weight-bits-8')!;
    const fitter = new ContextFitter(model, cal.layers, images, 16);
    const ctx: CandidateContext = { model, layers: cal.layers, config, stats: cal.stats, fitRounding: grams.fitter(), refitRounding: fitter.fitter() };
    const { refitRounding: _, ...alone } = ctx;
    for (const i of [3, 18]) {
      const layer = cal.layers[i]!;
      const inContext = (await raise.apply(cal.plan, layer, ctx))!;
      const nearest = (await raise.apply(cal.plan, layer, alone))!;
      const lp = inContext.layers.find((l) => l.id === layer.id)!;
      expect(lp.weight!.bits).toBe(8);
      expect(lp.codes).toBeDefined();
      expect(lp.biasCorrection).toBeUndefined();
      expect(nearest.layers.find((l) => l.id === layer.id)!.codes).toBeUndefined();
      const nearestNoBias = clonePlan(nearest);
      delete nearestNoBias.layers.find((l) => l.id === layer.id)!.biasCorrection;
      const e = { inContext: await outputError({ ...cal, model }, inContext, layer, images), nearest: await outputError({ ...cal, model }, nearestNoBias, layer, images) };
      expect(e.inContext).toBeLessThan(e.nearest);
    }
  }, 120000);

  test('the fit reads the input as the plan quantizes it, also where the quantize step rewrites it in place', async () => {
    const sim = quantizedEngine(model, cal.layers, cal.plan, 'sim');
    const inPlace = cal.layers.filter((l) => sim.steps.some((s) => s.rewrites?.includes(l.input)));
    expect(inPlace.length).toBeGreaterThan(0);
    const layer = inPlace[0]!;
    const weight = cal.plan.layers.find((l) => l.id === layer.id)!.weight!;
    const coarse = clonePlan(cal.plan);
    coarse.activations[layer.input] = { ...coarse.activations[layer.input]!, scale: 4 * coarse.activations[layer.input]!.scale };
    const fitter = new ContextFitter(model, cal.layers, images, 16);
    const a = (await fitter.fit(layer, weight, cal.plan))!;
    const b = (await fitter.fit(layer, weight, coarse))!;
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(false);
  }, 120000);

  test('a layer whose input stays float has nothing to absorb: no candidate', async () => {
    const layer = cal.layers[5]!;
    const plan = clonePlan(cal.plan);
    delete plan.activations[layer.input];
    expect(await new ContextFitter(model, cal.layers, images, 16).fit(layer, cal.plan.layers.find((l) => l.id === layer.id)!.weight!, plan)).toBeNull();
  });
});
