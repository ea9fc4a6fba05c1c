/**
 * The candidate space: every candidate edits only its layer's entry and its layer's input grid,
 * changes what it says it changes, and is skipped (null) when it would change nothing.
 */
import { loadClassifier } from '../../src/api/model';
import { calibratePlan, Calibration } from '../../src/pipeline/calibrate';
import { QuantConfig } from '../../src/quant/first-plan';
import { diffPlans } from '../../src/quant/plan';
import { ACTIVATION_REPAIRS, CandidateContext, PRECISION_STEPS, WEIGHT_REPAIRS, repairOrder } from '../../src/search/candidates';
import { GramCollector } from '../../src/search/rounding';
import { cifarSubset, modelFile } from '../helpers';

const config: QuantConfig = {
  weightBits: 4, activationBits: 4, perChannel: true, method: 'minmax', weightMethod: 'minmax', symmetricActivations: false, scope: 'float-residual',
};

describe('search candidates', () => {
  const model = loadClassifier(modelFile('resnet20')).model;
  let cal: Calibration;
  let ctx: CandidateContext;
  beforeAll(async () => {
    const calib = await cifarSubset('calib-pool', 2);
    const grams = new GramCollector(model, (await calibratePlan(model, calib, config)).layers);
    cal = await calibratePlan(model, calib, config, { observe: grams.observe });
    ctx = { model, layers: cal.layers, config, stats: cal.stats, fitRounding: grams.fitter() };
  });

  test('each candidate touches only its layer and its input grid', async () => {
    const layer = cal.layers[4]!;
    for (const cand of [...WEIGHT_REPAIRS, ...ACTIVATION_REPAIRS, ...PRECISION_STEPS]) {
      const next = await cand.apply(cal.plan, layer, ctx);
      if (!next) continue;
      const d = diffPlans(cal.plan, next);
      expect(d.layers.every((id) => id === layer.id)).toBe(true);
      expect(d.activations.every((t) => t === layer.input)).toBe(true);
      expect(d.layers.length + d.activations.length).toBeGreaterThan(0);
      if (cand.family.startsWith('weight')) expect(d.layers).toEqual([layer.id]);
      if (cand.family.startsWith('activation')) expect(d.activations).toEqual([layer.input]);
    }
  });

  test('fitted rounding stores codes on the grid, close to nearest rounding', async () => {
    const layer = cal.layers[4]!;
    const next = (await WEIGHT_REPAIRS[0]!.apply(cal.plan, layer, ctx))!;
    const lp = next.layers.find((l) => l.id === layer.id)!;
    const codes = new Int8Array(Buffer.from(lp.codes!, 'base64'));
    const w = model.graph.initializers.get(layer.weight)!;
    expect(codes.length).toBe(w.data.length);
    let moved = 0;
    const perChannel = codes.length / layer.channels;
    for (let i = 0; i < codes.length; i++) {
      const nearest = Math.max(-7, Math.min(7, Math.round((w.data[i] as number) / lp.weight!.scale[Math.floor(i / perChannel)]!)));
      expect(codes[i]).toBeGreaterThanOrEqual(-7);
      expect(codes[i]).toBeLessThanOrEqual(7);
      if (codes[i] !== nearest) moved++;
    }
    expect(moved).toBeGreaterThan(0); // it is not round-to-nearest
    expect(moved).toBeLessThan(codes.length / 2);
  });

  test('precision steps: 8-bit input, 8-bit weights, then float (input grid dropped when no one else reads it)', async () => {
    const layer = cal.layers[4]!;
    const [a8, w8, float] = PRECISION_STEPS;
    expect((await a8!.apply(cal.plan, layer, ctx))!.activations[layer.input]!.bits).toBe(8);
    expect((await w8!.apply(cal.plan, layer, ctx))!.layers.find((l) => l.id === layer.id)!.weight!.bits).toBe(8);
    const f = (await float!.apply(cal.plan, layer, ctx))!;
    expect(f.layers.find((l) => l.id === layer.id)!.float).toBe(true);
    const readers = cal.layers.filter((l) => l.input === layer.input);
    expect(f.activations[layer.input] === undefined).toBe(readers.length === 1);
    expect(await float!.apply(f, layer, ctx)).toBeNull();
  });

  test('repair order: the dominant part of the loss first', () => {
    expect(repairOrder(2, 1)[0]!.family).toBe('weight-rounding');
    expect(repairOrder(1, 2)[0]!.family).toBe('activation-clipping');
  });
});
