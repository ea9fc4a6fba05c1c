/** The search's measurements: pure functions checked on small hand-made logits. */
import { AccuracyCondition, accuracyStandardError, allowedDrop, discordantPairs, drop, holds, measure, meanKl, pairedStandardError, reference } from '../../src/search/measure';
import { accuracyCondition } from '../../src/search';

describe('search measurements', () => {
  // 4 images, 3 classes; FP32 predicts 0, 1, 2, 0; labels 0, 1, 1, 0.
  const fp32 = Float32Array.from([3, 1, 0, 0, 2, 1, 0, 1, 4, 2, 1, 1]);
  const ref = reference(fp32, 3, Int32Array.from([0, 1, 1, 0]));

  test('FP32 against itself: no loss, full agreement, its accuracy', () => {
    const m = measure(ref, fp32);
    expect(m.loss).toBeCloseTo(0, 12);
    expect(m.agreement).toBe(100);
    expect(m.top1).toBe(75);
  });

  test('mean KL is positive for other logits and grows with the change', () => {
    const small = fp32.map((v, i) => (i === 0 ? v - 0.5 : v));
    const large = fp32.map((v, i) => (i === 0 ? v - 3 : v));
    expect(meanKl(ref, small)).toBeGreaterThan(0);
    expect(meanKl(ref, large)).toBeGreaterThan(meanKl(ref, small));
  });

  test('label-free reference: accuracy is agreement with FP32', () => {
    const free = reference(fp32, 3);
    const other = Float32Array.from([0, 3, 0, 0, 2, 1, 0, 1, 4, 2, 1, 1]);
    const m = measure(free, other);
    expect(m.top1).toBe(m.agreement);
    expect(m.top1).toBe(75);
  });

  test('discordant pairs and their standard error', () => {
    // Quantized predicts 1, 1, 1, 0: image 2 now right (FP32 wrong), none newly wrong.
    const q = Float32Array.from([0, 1, 0, 0, 2, 1, 0, 2, 1, 2, 1, 1]);
    expect(discordantPairs(ref, fp32, q)).toEqual([1, 1]);
    // b = c = 5 of 100: Var = (10 - 0) / 100^2 -> s.e. = sqrt(10)/100 points*100.
    expect(pairedStandardError(5, 5, 100)).toBeCloseTo(100 * Math.sqrt(10) / 100, 10);
    expect(pairedStandardError(0, 0, 100)).toBe(0);
    expect(accuracyStandardError(50, 100)).toBeCloseTo(5, 10);
  });

  test('the condition, absolute and relative', () => {
    const abs: AccuracyCondition = { maxDrop: 1, relative: false, metric: 'top1' };
    const rel: AccuracyCondition = { maxDrop: 1, relative: true, metric: 'top1' };
    const a = { top1: 80, agreement: 100, loss: 0 };
    const b = { top1: 79.1, agreement: 95, loss: 0.1, discordant: [0, 0] as const };
    expect(drop(abs, a, b)).toBeCloseTo(0.9, 10);
    expect(holds(abs, a, b, 1000)).toBe(true);
    expect(drop(rel, a, b)).toBeCloseTo(1.125, 10);
    expect(holds(rel, a, b, 1000)).toBe(false);
    expect(holds({ ...abs, metric: 'agreement' }, a, b, 1000)).toBe(false);
  });

  test('the default condition widens to 2 paired standard errors; a stated one is held exactly', () => {
    const stated = accuracyCondition(0.5, false, 'top1');
    const byDefault = accuracyCondition(undefined, false, 'top1');
    expect(stated).toEqual({ maxDrop: 0.5, relative: false, metric: 'top1' });
    expect(byDefault).toEqual({ maxDrop: 0.5, relative: false, metric: 'top1', noise: 2 });
    const fp32 = { top1: 74, agreement: 100, loss: 0 };
    // 2,000 images, 64 only FP32 gets right and 47 only the quantized model: drop 0.85, SE ~0.53.
    const m = { top1: 73.15, agreement: 95, loss: 0.008, discordant: [64, 47] as const };
    const se = pairedStandardError(64, 47, 2000);
    expect(se).toBeGreaterThan(0.5);
    expect(allowedDrop(stated, fp32, m, 2000)).toBe(0.5);
    expect(allowedDrop(byDefault, fp32, m, 2000)).toBeCloseTo(2 * se, 10);
    expect(holds(stated, fp32, m, 2000)).toBe(false);
    expect(holds(byDefault, fp32, m, 2000)).toBe(true);
    // The same drop on 20,000 images is resolved: 0.5 binds again.
    const big = { ...m, discordant: [640, 470] as const };
    expect(allowedDrop(byDefault, fp32, big, 20000)).toBe(0.5);
    expect(holds(byDefault, fp32, big, 20000)).toBe(false);
    // Relative: the allowance in percent of FP32's accuracy.
    expect(allowedDrop({ ...byDefault, relative: true }, fp32, m, 2000)).toBeCloseTo((2 * se * 100) / 74, 10);
  });
});
