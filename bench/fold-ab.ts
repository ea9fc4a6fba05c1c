/**
 * The int8 engine with its residual joins folded into the conv before them (the default) against
 * the same plan with them apart ({ fuseResiduals: false }), in one process: the two engines
 * alternate, `rounds` times 5 batches each, after a warm-up; the median of the per-round ratios
 * (apart time over folded time) is what to read on a noisy machine. W8A8 per-channel, 2 threads.
 * Run: npm run build && node dist/bench/fold-ab.js [model=resnet20] [batch] [rounds=30]
 */
import { loadClassifier } from '../src/api/model';
import { isaInfo, setThreads } from '../src/engine/addon';
import { Engine, defaultBatchSize, quantizedEngine } from '../src/engine/engine';
import { inferPreprocess } from '../src/data/preprocess-spec';
import { calibratePlan } from '../src/pipeline/calibrate';
import { findLayers } from '../src/quant/layers';
import { loadSplit, median, modelPath } from './common';

async function main(): Promise<void> {
  const name = process.argv[2] ?? 'resnet20';
  setThreads(2);
  const prepared = loadClassifier(name.endsWith('.onnx') ? name : modelPath(name));
  const model = prepared.model;
  const batch = Number(process.argv[3] ?? defaultBatchSize(model.graph.inputs[0]!.shape));
  const rounds = Number(process.argv[4] ?? 30);
  const preprocess = inferPreprocess(prepared.input);
  const images = await loadSplit('val', Math.ceil(batch / 10), preprocess);
  const { plan } = await calibratePlan(model, await loadSplit('calib-pool', 3, preprocess), {
    weightBits: 8, activationBits: 8, perChannel: true, method: 'minmax', weightMethod: 'minmax', symmetricActivations: false, scope: 'float-residual',
  });
  const layers = findLayers(model.graph);
  const engines: [string, Engine][] = [
    ['folded', quantizedEngine(model, layers, plan, 'int')],
    ['apart', quantizedEngine(model, layers, plan, 'int', undefined, { fuseResiduals: false })],
  ];
  const folds = engines[0]![1].steps.filter((s) => s.op === 'QConv+Add+QuantizeLinear').length;
  const x = images.batch(0, batch);
  for (const [, e] of engines) for (let i = 0; i < 20; i++) await e.run(x.data, batch);
  const ms: Record<string, number[]> = { folded: [], apart: [] };
  for (let r = 0; r < rounds; r++) {
    for (const [key, e] of engines) {
      const t0 = performance.now();
      for (let i = 0; i < 5; i++) await e.run(x.data, batch);
      ms[key]!.push((performance.now() - t0) / 5);
    }
  }
  const ratios = ms.folded!.map((f, i) => ms.apart![i]! / f);
  const isa = isaInfo();
  console.log(`${name}, batch ${batch}, ${folds} joins folded, kernels ${isa.active}: ms a batch (median of ${rounds} rounds) ` +
    `folded ${median(ms.folded!).toFixed(2)}, apart ${median(ms.apart!).toFixed(2)}; apart / folded, median of the rounds: ${median(ratios).toFixed(3)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
