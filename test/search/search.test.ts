/**
 * The layer search on the built-in demo task (stripes, a 3-layer CNN the repository makes): a
 * layer whose first parameters are planted bad is found first by the sensitivity analysis and
 * repaired at its bit widths; the fallback strategy reverts it to float instead; the same inputs
 * give the same plan.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadClassifier } from '../../src/api/model';
import { ImageSet, listImageFolder, preprocessPreset } from '../../src/data';
import { buildSyntheticModel, writeSplit } from '../../src/demo/synthetic';
import { Engine } from '../../src/engine/engine';
import { Calibration, calibratePlan } from '../../src/pipeline/calibrate';
import { QuantConfig } from '../../src/quant/first-plan';
import { clonePlan } from '../../src/quant/plan';
import { ContextFitter, GramCollector, SearchInput, searchPlan } from '../../src/search';

const config: QuantConfig = {
  weightBits: 8, activationBits: 8, perChannel: true, method: 'minmax', weightMethod: 'minmax', symmetricActivations: false, scope: 'float-residual',
};
const PLANTED = 'smooth';

describe('layer search on the demo task', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerq-search-'));
  let input: SearchInput;
  let calib: ImageSet;

  beforeAll(async () => {
    await writeSplit(path.join(dir, 'train'), 40, 1);
    await writeSplit(path.join(dir, 'calib'), 8, 2);
    await writeSplit(path.join(dir, 'val'), 40, 3);
    fs.writeFileSync(path.join(dir, 'model.onnx'), await buildSyntheticModel(path.join(dir, 'train')));
    const model = loadClassifier(path.join(dir, 'model.onnx')).model;
    const load = async (split: string) => ImageSet.load((await listImageFolder(path.join(dir, split))).samples, preprocessPreset('cifar'));
    calib = await load('calib');
    const val = await load('val');
    const grams = new GramCollector(model, (await calibratePlan(model, calib, config)).layers);
    const cal: Calibration = await calibratePlan(model, calib, config, { observe: grams.observe });
    // Plant: layer 'smooth' gets a grid 500x too coarse (every weight rounds to 0).
    const lp = cal.plan.layers.find((l) => l.id === PLANTED)!;
    lp.weight = { ...lp.weight!, scale: lp.weight!.scale.map((s) => s * 500) };
    delete lp.biasCorrection;
    const fp32Logits = await Engine.fp32(model).runAll(val);
    input = { model, calibration: cal, fitRounding: grams.fitter(), refitRounding: new ContextFitter(model, cal.layers, calib, 16).fitter(), validation: val, fp32Logits, classes: 4, labels: val.labels };
  }, 120000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const condition = { maxDrop: 1, relative: false, metric: 'top1' as const };

  test('repair: the planted layer is found first and repaired at 8 bits; the condition is reached', async () => {
    const r = await searchPlan(input, { strategy: 'repair', condition });
    expect(r.sensitivity.layers[0]!.id).toBe(PLANTED);
    expect(r.sensitivity.layers[0]!.target).toBe(true);
    expect(r.sensitivity.layers[0]!.weightLoss).toBeGreaterThan(r.sensitivity.layers[0]!.activationLoss);
    expect(r.search!.before.top1).toBeLessThan(r.sensitivity.fp32.top1 - 1);
    expect(r.search!.reached).toBe(true);
    const planted = r.plan.layers.find((l) => l.id === PLANTED)!;
    expect(planted.float).toBe(false);
    expect(planted.weight!.bits).toBe(8);
    const first = input.calibration.plan.layers.find((l) => l.id === PLANTED)!;
    expect(planted.weight!.scale).not.toEqual(first.weight!.scale);
    expect(r.search!.trials.some((t) => t.accepted && t.layer === PLANTED)).toBe(true);
    expect(r.search!.raised).toEqual([]);
  }, 120000);

  test('repair without repair tries: precision goes to the planted layer alone (float: W8A8 has no higher bits)', async () => {
    const r = await searchPlan(input, { strategy: 'repair', condition, budgets: { triesPerLayer: 0 } });
    expect(r.search!.reached).toBe(true);
    expect(r.search!.raised.map((l) => l.id)).toEqual([PLANTED]);
    expect(r.plan.layers.find((l) => l.id === PLANTED)!.float).toBe(true);
    const accepted = r.search!.trials.filter((t) => t.accepted);
    expect(accepted.map((t) => [t.layer, t.candidate])).toEqual([[PLANTED, 'float']]);
  }, 120000);

  test('a small budget: repairs stop short of it, so the precision phase still gets its trials', async () => {
    // A condition no plan meets: repairs would take every trial; 2 of 8 are kept for precision (3 layers, a quarter of 8).
    const r = await searchPlan(input, { strategy: 'repair', condition: { ...condition, maxDrop: -50 }, budgets: { maxTrials: 8 } });
    const precision = r.search!.trials.filter((t) => ['activation-bits', 'weight-bits', 'float'].includes(t.family));
    expect(r.search!.trials).toHaveLength(8);
    expect(precision).toHaveLength(2);
    expect(r.search!.reached).toBe(false);
    expect(r.search!.stoppedBy).toBe('trials');
  }, 120000);

  test('the whole-model sweep: in network order, an input below 8 bits clipped by squared error, then the layer refitted in context', async () => {
    const w4a4: QuantConfig = { ...config, weightBits: 4, activationBits: 4 };
    const grams = new GramCollector(input.model, (await calibratePlan(input.model, calib, w4a4)).layers);
    const cal = await calibratePlan(input.model, calib, w4a4, { observe: grams.observe });
    const low = { ...input, calibration: cal, fitRounding: grams.fitter(), refitRounding: new ContextFitter(input.model, cal.layers, calib, 16).fitter() };
    const sweep = async (inp: SearchInput): Promise<string[][]> => {
      const r = await searchPlan(inp, { strategy: 'repair', condition: { ...condition, maxDrop: -50 }, precision: false });
      return r.search!.trials.filter((t) => t.phase === 'model').map((t) => [t.layer, t.candidate]);
    };
    const ids = cal.layers.map((l) => l.id);
    const quantizedInput = cal.layers.filter((l) => cal.plan.activations[l.input]).map((l) => l.id);
    expect(quantizedInput.length).toBeGreaterThan(0);
    const expected = ids.flatMap((id) => [...(quantizedInput.includes(id) ? [[id, 'act-clip-mse']] : []), [id, 'weight-rounding-refit']]);
    expect((await sweep(low)).slice(0, expected.length)).toEqual(expected);
    // 8-bit inputs: the context fit alone.
    expect((await sweep(input)).slice(0, ids.length)).toEqual(ids.map((id) => [id, 'weight-rounding-refit']));
  }, 240000);

  test('fallback: the planted layer goes back to float', async () => {
    const r = await searchPlan(input, { strategy: 'fallback', condition });
    expect(r.search!.reached).toBe(true);
    expect(r.plan.layers.find((l) => l.id === PLANTED)!.float).toBe(true);
  }, 120000);

  test('same inputs, same plan', async () => {
    const a = await searchPlan(input, { strategy: 'repair', condition });
    const b = await searchPlan({ ...input, calibration: { ...input.calibration, plan: clonePlan(input.calibration.plan) } }, { strategy: 'repair', condition });
    expect(JSON.stringify(b.plan)).toBe(JSON.stringify(a.plan));
    expect(b.search!.trials.map((t) => [t.layer, t.candidate, t.accepted])).toEqual(a.search!.trials.map((t) => [t.layer, t.candidate, t.accepted]));
  }, 120000);
});
