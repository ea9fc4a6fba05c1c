/**
 * The layer search on the benchmark protocol (PRODUCT.md): `quantize()` with calibration from
 * `calib-pool` (32 a class, seed 0) and the 2,000 `val` images for the search, then the written
 * model.qdq.onnx and the FP32 model run on the 8,000 `test` images (final figures; the search
 * never reads them). Prints one row per model x configuration x strategy: test drop, shares of
 * MACs at low bit widths, raised layers, trials, wall time, and the suffix-caching speed-up.
 *
 * Run: npm run build:ts && node dist/bench/search.js [--models resnet20] [--configs w4a8,w4a4,w8a8]
 *   [--strategies repair,fallback,repair-noprecision,none] [--max-drop P (default: quantize's)] [--limit N (test images a class)] [--json FILE] [--keep DIR] [--no-screen]
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadClassifier } from '../src/api/model';
import { quantize } from '../src/api/quantize';
import { isaInfo } from '../src/engine/addon';
import { Engine } from '../src/engine/engine';
import { accuracy } from '../src/eval/metrics';
import { findLayers } from '../src/quant/layers';
import { lowBitShare } from '../src/report/summary';
import { toQdq } from '../src/onnx/qdq';
import { saveModel } from '../src/onnx/save';
import { loadModel } from '../src/onnx/load';
import { prepareModel } from '../src/ir/passes';
import type { Model } from '../src/ir/graph';
import type { Layer } from '../src/quant/layers';
import type { QuantPlan } from '../src/quant/plan';

/** A plan exported to QDQ and read back as layerq reads a file (what model.qdq.onnx would hold). */
function prepareQdq(model: Model, layers: readonly Layer[], plan: QuantPlan): Model {
  const file = path.join(os.tmpdir(), `layerq-ablation-${process.pid}.onnx`);
  fs.writeFileSync(file, saveModel(toQdq(model, layers, plan)));
  const m = prepareModel(loadModel(file));
  fs.rmSync(file);
  return m;
}
import { CIFAR, loadSplit, modelPath } from './common';

const CONFIGS: Record<string, { weightBits: number; activationBits: number }> = {
  w8a8: { weightBits: 8, activationBits: 8 },
  w4a8: { weightBits: 4, activationBits: 8 },
  w4a4: { weightBits: 4, activationBits: 4 },
};

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}

/** One stderr line per stage and tenth of it (a log, not a terminal animation). */
let lastLine = '';
function progressLine(stage: string, done: number, total: number): void {
  const line = `${stage.split(' ')[0]} ${Math.floor((10 * done) / Math.max(1, total)) * 10}%`;
  if (line !== lastLine) process.stderr.write(`  ${line}\n`);
  lastLine = line;
}

async function main(): Promise<void> {
  const models = arg('models', 'resnet20').split(',');
  const configs = arg('configs', 'w4a8').split(',');
  const strategies = arg('strategies', 'repair').split(',');
  // No --max-drop: quantize's default condition (0.5, widened to the validation set's noise).
  const maxDrop = process.argv.includes('--max-drop') ? Number(arg('max-drop', '')) : undefined;
  const limit = process.argv.includes('--limit') ? Number(arg('limit', '800')) : undefined;
  const jsonOut = process.argv.includes('--json') ? arg('json', '') : undefined;
  // --keep DIR: keep each run's output folder (model.qdq.onnx, report.json, report.html) as DIR/model-config-strategy.
  const keep = process.argv.includes('--keep') ? arg('keep', '') : undefined;
  const screen = !process.argv.includes('--no-screen');
  const cpu = fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? 'unknown';
  console.log(`CPU ${cpu}, ${os.cpus().length} cores, kernels ${isaInfo().active}; ${maxDrop === undefined ? 'default condition (max-drop 0.5, or 2 paired standard errors)' : `max-drop ${maxDrop}`} on val (2,000 images), figures on test`);
  console.log('| model | config | strategy | FP32 test | quantized test | test drop | val drop | MACs 4-bit w | MACs 4-bit w+in | raised | trials | quantize s | speed-up |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  const test = await loadSplit('test', limit);
  const rows: unknown[] = [];
  for (const name of models) {
    const file = modelPath(name);
    const prepared = loadClassifier(file);
    const layers = findLayers(prepared.model.graph);
    const classes = Array.from({ length: prepared.classes }, (_, i) => String(i));
    const fp32Test = accuracy(await Engine.fp32(prepared.model).runAll(test), test.labels, classes).top1;
    for (const c of configs) {
      for (const strategy of strategies) {
        const out = fs.mkdtempSync(path.join(os.tmpdir(), 'layerq-search-'));
        const t0 = performance.now();
        const cpu0 = process.cpuUsage();
        const r = await quantize({
          model: file,
          calibData: path.join(CIFAR, 'calib-pool'),
          valData: path.join(CIFAR, 'val'),
          out,
          preset: 'cifar',
          config: { ...CONFIGS[c]!, perChannel: true, method: 'minmax', weightMethod: 'minmax', symmetricActivations: false, scope: 'float-residual' },
          // 'repair-noprecision': repairs only (ablation); 'none': the first plan.
          search: strategy === 'none' ? false : { strategy: strategy === 'fallback' ? 'fallback' : 'repair', ...(maxDrop !== undefined ? { maxDrop } : {}), ...(strategy === 'repair-noprecision' ? { precision: false } : {}), ...(screen ? {} : { screen: false }) },
          calibrationPerClass: 32,
          seed: 0,
          labelFree: false,
          onProgress: progressLine,
        });
        const seconds = (performance.now() - t0) / 1000;
        const cpu = process.cpuUsage(cpu0);
        const cpuSeconds = (cpu.user + cpu.system) / 1e6;
        const q = accuracy(await Engine.fp32(loadClassifier(r.modelPath).model).runAll(test), test.labels, classes).top1;
        // The ablation "search without precision changes": the same run's plan before any layer was raised.
        const repaired = r.repairedPlan ? accuracy(await Engine.fp32(prepareQdq(prepared.model, layers, r.repairedPlan)).runAll(test), test.labels, classes).top1 : undefined;
        // The ablation "first parameters only": the plan the search started from.
        const first = r.firstPlan ? accuracy(await Engine.fp32(prepareQdq(prepared.model, layers, r.firstPlan)).runAll(test), test.labels, classes).top1 : undefined;
        const s = r.report.search;
        const row = {
          model: name, config: c, strategy, fp32Test, quantizedTest: q, testDrop: fp32Test - q,
          valDrop: r.report.accuracy.fp32.top1 - r.report.accuracy.quantized.top1,
          share4: lowBitShare(r.plan, layers, 4), share4in: lowBitShare(r.plan, layers, 4, CONFIGS[c]!.activationBits),
          raised: s?.raised.map((x) => `${x.id}:${x.weightBits ?? 'f'}/${x.activationBits ?? 'f'}`) ?? [],
          trials: s?.trials.length ?? 0, screened: s?.screening?.rejected ?? 0, seconds, cpuSeconds, searchSeconds: s?.seconds ?? 0, speedup: s?.speedup.ratio ?? 1,
          acceptedByFamily: s?.acceptedByFamily ?? {}, reached: s?.reached ?? null,
          repairsOnly: repaired === undefined ? null : { testDrop: fp32Test - repaired, share4: lowBitShare(r.repairedPlan!, layers, 4), share4in: lowBitShare(r.repairedPlan!, layers, 4, CONFIGS[c]!.activationBits) },
          firstPlanValDrop: s ? r.report.accuracy.fp32.top1 - s.before.top1 : null,
          firstPlanTestDrop: first === undefined ? null : fp32Test - first,
          valImages: r.report.data.validationImages,
          allowedDrop: s?.allowedDrop ?? null,
        };
        rows.push(row);
        const f = (x: number) => x.toFixed(2);
        console.log(`| ${name} | ${c} | ${strategy} | ${f(fp32Test)} | ${f(q)} | ${f(row.testDrop)} | ${f(row.valDrop)} | ${row.share4.toFixed(1)}% | ${row.share4in.toFixed(1)}% | ${row.raised.join(' ') || '-'} | ${row.trials} | ${seconds.toFixed(0)} | ${row.speedup.toFixed(2)}x |`);
        console.log(`  accepted by family: ${JSON.stringify(row.acceptedByFamily)}; reached: ${row.reached}; stopped: ${s?.stoppedBy}` +
          (row.allowedDrop !== null ? `; allowed val drop ${f(row.allowedDrop)}` : '') +
          (row.firstPlanTestDrop !== null ? `; first plan: test drop ${f(row.firstPlanTestDrop)}` : '') +
          (row.repairsOnly ? `; repairs only (before precision): test drop ${f(row.repairsOnly.testDrop)} at ${row.repairsOnly.share4.toFixed(1)}% / ${row.repairsOnly.share4in.toFixed(1)}%` : '') +
          `; quantize ${seconds.toFixed(0)} s wall, ${cpuSeconds.toFixed(0)} s CPU (load ${os.loadavg()[0]!.toFixed(1)} at the end)` +
          (s?.screening?.stride ? `; screened out ${s.screening.rejected} of ${s.trials.filter((t) => t.phase === 'model').length} whole-model trials on ${s.screening.images} images (${f(s.screening.seconds)} s)` : '') +
          (s ? `; suffix runs ${s.speedup.suffixRuns}, whole ${s.speedup.wholeRuns}, sampled ${s.speedup.sampledRuns}: ${f(s.speedup.wholeModelSeconds)} s whole vs ${f(s.speedup.trialSeconds)} s suffix` : ''));
        if (keep) {
          const kept = path.join(keep, `${name}-${c}-${strategy}`);
          fs.mkdirSync(keep, { recursive: true });
          fs.rmSync(kept, { recursive: true, force: true });
          fs.cpSync(out, kept, { recursive: true });
        }
        fs.rmSync(out, { recursive: true, force: true });
      }
    }
  }
  if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify(rows, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
