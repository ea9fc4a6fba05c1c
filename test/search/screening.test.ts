/**
 * Screening of whole-model trials: a candidate runs on a sample of the validation batches first
 * and is measured on the rest only when it may beat the plan it would replace. Checked here: the
 * decision rule on hand-made losses; a screened-out result is exactly the sample's measurement;
 * a candidate that passes gets the same measurement as without screening, bit for bit, from a
 * snapshot and from whole runs (the sample's and the rest's logits put back in order).
 */
import { loadClassifier } from '../../src/api/model';
import { ImageSet } from '../../src/data';
import { Engine, quantizedEngine } from '../../src/engine/engine';
import { Calibration, calibratePlan } from '../../src/pipeline/calibrate';
import { QuantConfig } from '../../src/quant/first-plan';
import { QuantPlan, clonePlan } from '../../src/quant/plan';
import { Journal } from '../../src/search/checkpoint';
import { Evaluator } from '../../src/search/evaluator';
import { LOSS_MARGIN, clearlyBetter, clearlyWorse, discordantPairs, imageKl, lossGain, measure, meanKl, reference, subReference } from '../../src/search/measure';
import { clearlyImproves, improves } from '../../src/search/repair';
import { cifarSubset, modelFile } from '../helpers';

describe('screening rule', () => {
  // Deterministic per-image losses around 0.2 with spread.
  const base = Float64Array.from({ length: 400 }, (_, i) => 0.2 + 0.15 * Math.sin(i * 1.7));

  test('lower losses are never screened out; the same ones are only where acceptance needs a margin', () => {
    expect(clearlyWorse(base.map((v) => v * 0.9), base, LOSS_MARGIN)).toBe(false);
    expect(clearlyWorse(base, base, 0)).toBe(false);
    expect(clearlyWorse(base, base, LOSS_MARGIN)).toBe(true);
  });

  test('losses higher on every image are screened out; higher on average by less than the noise are not', () => {
    expect(clearlyWorse(base.map((v) => v + 0.01), base, LOSS_MARGIN)).toBe(true);
    // +0.02 on even images, -0.02 on odd ones plus a tiny mean shift: mean +0.0005, noise 0.001.
    const noisy = base.map((v, i) => v + (i % 2 ? -0.02 : 0.02) + 0.0005);
    expect(clearlyWorse(noisy, base, 0)).toBe(false);
    expect(clearlyWorse(noisy.map((v) => v + 0.01), base, 0)).toBe(true);
  });

  test('a candidate that would just miss the acceptance margin is screened out; one that meets it is not', () => {
    expect(clearlyWorse(base.map((v) => v * (1 - LOSS_MARGIN / 4)), base, LOSS_MARGIN)).toBe(true);
    expect(clearlyWorse(base.map((v) => v * (1 - 2 * LOSS_MARGIN)), base, LOSS_MARGIN)).toBe(false);
  });

  test('acceptance in context needs a gain beyond the per-image noise, not only a lower mean', () => {
    const g = lossGain(base.map((v) => v * 0.9), base);
    expect(g.mean).toBeCloseTo(0.1 * g.base, 12);
    expect(clearlyBetter(g, LOSS_MARGIN)).toBe(true);
    // Mean 1% lower (twice the margin), but +-0.05 from image to image: se 0.0025, noise.
    const noisy = lossGain(base.map((v, i) => v + (i % 2 ? -0.05 : 0.05) - 0.002), base);
    expect(noisy.mean).toBeGreaterThan(LOSS_MARGIN * noisy.base);
    expect(clearlyBetter(noisy, LOSS_MARGIN)).toBe(false);
    expect(clearlyBetter(lossGain(base.map((v, i) => v + (i % 2 ? -0.05 : 0.05) - 0.02), base), LOSS_MARGIN)).toBe(true);
    expect(clearlyBetter(lossGain(base.subarray(0, 1).map((v) => v / 2), base.subarray(0, 1)), LOSS_MARGIN)).toBe(false);
  });

  test('the best of a family in context is accepted on a clear gain only; the sweep\'s and a layer-alone one (no pairing) on the mean', () => {
    const cur = { top1: 80, agreement: 90, loss: base.reduce((a, b) => a + b, 0) / base.length, discordant: [10, 5] as [number, number] };
    const noisy = base.map((v, i) => v + (i % 2 ? -0.05 : 0.05) - 0.002);
    const m = { ...cur, loss: noisy.reduce((a, b) => a + b, 0) / noisy.length };
    expect(clearlyImproves(cur, m, base.length)).toBe(true);
    expect(clearlyImproves(cur, { ...m, gain: lossGain(noisy, base) }, base.length)).toBe(false);
    expect(improves(cur, { ...m, gain: lossGain(noisy, base) }, base.length)).toBe(true); // the sweep's rule
    const clear = base.map((v) => v * 0.9);
    expect(clearlyImproves(cur, { ...m, loss: cur.loss * 0.9, gain: lossGain(clear, base) }, base.length)).toBe(true);
  });

  test('unpaired samples are refused', () => {
    expect(() => clearlyWorse(base.subarray(1), base, LOSS_MARGIN)).toThrow(/paired/);
  });

  test('per-image losses average to the mean loss; a sub-reference picks its rows', () => {
    const fp32 = Float32Array.from({ length: 30 }, (_, i) => Math.cos(i));
    const other = fp32.map((v, i) => v + 0.3 * Math.sin(i * 3));
    const ref = reference(fp32, 3, Int32Array.from([0, 1, 2, 0, 1, 2, 0, 1, 2, 0]));
    const kl = imageKl(ref, other);
    expect(kl.reduce((a, b) => a + b, 0) / kl.length).toBeCloseTo(meanKl(ref, other), 12);
    const sub = subReference(ref, [7, 2]);
    const rows = Float32Array.from([...other.subarray(21, 24), ...other.subarray(6, 9)]);
    expect(Array.from(imageKl(sub, rows))).toEqual([kl[7], kl[2]]);
    expect(Array.from(sub.labels)).toEqual([1, 2]);
  });
});

describe('evaluator screening on ResNet-20', () => {
  const config: QuantConfig = {
    weightBits: 4, activationBits: 8, perChannel: true, method: 'minmax', weightMethod: 'minmax', symmetricActivations: false, scope: 'float-residual',
  };
  const model = loadClassifier(modelFile('resnet20')).model;
  const BATCH = 16;
  let val: ImageSet;
  let cal: Calibration;
  let fp32: Float32Array;
  let spoiled: QuantPlan;

  beforeAll(async () => {
    val = await cifarSubset('val', 30); // 300 images: 19 batches of 16, a sample of 5 (stride 4)
    cal = await calibratePlan(model, await cifarSubset('calib-pool', 4), config);
    fp32 = await Engine.fp32(model).runAll(val, { batchSize: BATCH });
    // The first plan with layer 9's weight grid 3x too coarse: clearly worse.
    spoiled = clonePlan(cal.plan);
    const lp = spoiled.layers[9]!;
    lp.weight = { ...lp.weight!, scale: lp.weight!.scale.map((s) => s * 3) };
  }, 120000);

  const evaluator = (screenStride: number): Evaluator =>
    new Evaluator(model, cal.layers, val, reference(fp32, 10, val.labels), { mode: 'int', batchSize: BATCH, snapshotBudget: 1e9, screenStride }, new Journal(undefined, '', false));

  test.each([['whole runs', false], ['from a snapshot', true]] as const)('%s: a clearly worse candidate is measured on the sample only, exactly', async (_name, snapshot) => {
    const ev = evaluator(4);
    if (snapshot) await ev.focus(cal.plan, cal.layers[9]!, 'focus');
    const m = await ev.measure(spoiled, 'trial', { against: cal.plan });
    const index = Array.from({ length: val.count }, (_, i) => i).filter((i) => Math.floor(i / BATCH) % 4 === 0);
    expect(m.screened).toBe(index.length);
    expect(ev.screenImages).toBe(index.length);
    const logits = await quantizedEngine(model, cal.layers, spoiled, 'int').runAll(val, { batchSize: BATCH });
    const sub = subReference(reference(fp32, 10, val.labels), index);
    const rows = new Float32Array(index.length * 10);
    index.forEach((img, j) => rows.set(logits.subarray(img * 10, img * 10 + 10), j * 10));
    expect({ ...m }).toEqual({ ...measure(sub, rows), discordant: discordantPairs(sub, sub.fp32, rows), screened: index.length });
    expect(ev.screening.rejected).toBe(1);
  }, 120000);

  test.each([['whole runs', false], ['from a snapshot', true]] as const)('%s: a candidate that may be better is measured on every image, as without screening', async (_name, snapshot) => {
    const screened = evaluator(4);
    const plain = evaluator(0);
    for (const ev of [screened, plain]) if (snapshot) await ev.focus(spoiled, cal.layers[9]!, 'focus');
    const a = await screened.measure(cal.plan, 'trial', { against: spoiled });
    const b = await plain.measure(cal.plan, 'trial', { against: spoiled });
    expect(a.screened).toBeUndefined();
    expect(a).toEqual(b);
    // The gain over the plan replaced, on every image: from the two plans' logits, also when the
    // incumbent was never measured by this evaluator (a resumed search) or was (its kept losses).
    const [cand, inc] = await Promise.all([cal.plan, spoiled].map((p) => quantizedEngine(model, cal.layers, p, 'int').runAll(val, { batchSize: BATCH })));
    const ref = reference(fp32, 10, val.labels);
    expect(a.gain).toEqual(lossGain(imageKl(ref, cand!), imageKl(ref, inc!)));
    expect(a.gain!.mean).toBeGreaterThan(0);
    await plain.measure(spoiled, 'incumbent');
    expect((await plain.measure(cal.plan, 'again', { against: spoiled })).gain).toEqual(a.gain);
    expect(screened.screening.rejected).toBe(0);
    expect(plain.screenImages).toBe(0);
  }, 120000);

  test.each([['whole runs', false], ['from a snapshot', true]] as const)('%s: sampleOnly measures the sample\'s images exactly; without a sample, every image', async (_name, snapshot) => {
    const ev = evaluator(4);
    const plain = evaluator(0);
    for (const e of [ev, plain]) if (snapshot) await e.focus(null, cal.layers[9]!, 'focus');
    const m = await ev.measure(spoiled, 'part', { sampleOnly: true });
    const index = Array.from({ length: val.count }, (_, i) => i).filter((i) => Math.floor(i / BATCH) % 4 === 0);
    const logits = await quantizedEngine(model, cal.layers, spoiled, 'int').runAll(val, { batchSize: BATCH });
    const sub = subReference(reference(fp32, 10, val.labels), index);
    const rows = new Float32Array(index.length * 10);
    index.forEach((img, j) => rows.set(logits.subarray(img * 10, img * 10 + 10), j * 10));
    expect({ ...m }).toEqual({ ...measure(sub, rows), discordant: discordantPairs(sub, sub.fp32, rows), sampled: index.length });
    expect(await plain.measure(spoiled, 'part', { sampleOnly: true })).toEqual(await evaluator(0).measure(spoiled, 'whole'));
  }, 120000);
});
