/**
 * The context fit alone (ContextFitter, see src/search/rounding.ts): every layer's weight
 * rounding refitted in network order to the inputs the quantized layers before it deliver,
 * against the first plan and against rounding fitted to the FP32 inputs (GPTQ on the FP32 Gram);
 * no search, no other candidate. Measured with the written file's semantics (sim engine) on
 * `--val-per-class` images a class of the shared CIFAR-10 `val` split (calibration: 32 images a
 * class of `calib-pool`; per-channel weights, minmax activations; bias correction as in the first
 * plan for the first two rows, none for the refitted layers).
 * Run: npm run build && node dist/bench/context-fit.js [--model resnet20] [--config w4a8|w4a4] [--val-per-class 100]
 */
import { loadClassifier } from '../src/api/model';
import { isaInfo } from '../src/engine/addon';
import { Engine, quantizedEngine } from '../src/engine/engine';
import { calibratePlan } from '../src/pipeline/calibrate';
import { QuantConfig } from '../src/quant/first-plan';
import { encodeCodes } from '../src/quant/materialize';
import { QuantPlan, clonePlan } from '../src/quant/plan';
import { measure, reference } from '../src/search/measure';
import { ContextFitter, GramCollector } from '../src/search/rounding';
import { loadSplit, modelPath } from './common';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}

async function main(): Promise<void> {
  const name = arg('model', 'resnet20');
  const bits = arg('config', 'w4a8');
  const perClass = Number(arg('val-per-class', '100'));
  const model = loadClassifier(modelPath(name)).model;
  const calib = await loadSplit('calib-pool', 32);
  const val = await loadSplit('val', perClass);
  const config: QuantConfig = {
    weightBits: 4, activationBits: bits === 'w4a4' ? 4 : 8, perChannel: true, method: 'minmax', weightMethod: 'minmax', symmetricActivations: false, scope: 'float-residual',
  };
  const grams = new GramCollector(model, (await calibratePlan(model, calib, config)).layers);
  const cal = await calibratePlan(model, calib, config, { observe: grams.observe });
  const fp32 = await Engine.fp32(model).runAll(val);
  const ref = reference(fp32, 10, val.labels);
  console.log(`${name} ${bits.toUpperCase()}, ${val.count} val images, kernels ${isaInfo().active}; FP32 top-1 ${measure(ref, fp32).top1.toFixed(2)}`);
  console.log('| plan | top-1 | agreement with FP32 | mean KL | seconds |');
  console.log('| --- | --- | --- | --- | --- |');
  const row = async (label: string, plan: QuantPlan, seconds: number): Promise<void> => {
    const m = measure(ref, await quantizedEngine(model, cal.layers, plan, 'sim').runAll(val));
    console.log(`| ${label} | ${m.top1.toFixed(2)} | ${m.agreement.toFixed(2)} | ${m.loss.toFixed(4)} | ${seconds.toFixed(1)} |`);
  };
  await row('first plan', cal.plan, 0);

  let t0 = performance.now();
  const fitted = clonePlan(cal.plan);
  const fit = grams.fitter();
  for (const layer of cal.layers) {
    const lp = fitted.layers.find((l) => l.id === layer.id)!;
    const codes = lp.weight ? await fit(layer, lp.weight) : null;
    if (codes) lp.codes = encodeCodes(codes);
  }
  await row('rounding fitted to FP32 inputs, every layer', fitted, (performance.now() - t0) / 1000);

  t0 = performance.now();
  const fitter = new ContextFitter(model, cal.layers, calib, 64);
  let refit = clonePlan(cal.plan);
  for (const layer of cal.layers) {
    const lp = refit.layers.find((l) => l.id === layer.id)!;
    const codes = lp.weight ? await fitter.fit(layer, lp.weight, refit) : null;
    if (!codes) continue;
    refit = clonePlan(refit);
    const next = refit.layers.find((l) => l.id === layer.id)!;
    next.codes = encodeCodes(codes);
    delete next.biasCorrection;
  }
  await row('context fit, every layer in network order', refit, (performance.now() - t0) / 1000);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
