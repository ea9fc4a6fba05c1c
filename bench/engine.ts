/**
 * Engine throughput, batch 64, against ONNX Runtime in the same run (alternating, median of
 * rounds), plus decode throughput. Ratios are what to read: the machine is shared and noisy.
 * Run: npm run build && node dist/bench/engine.js [model] [rounds]
 */
import * as ort from 'onnxruntime-node';
import { loadClassifier } from '../src/api/model';
import { isaInfo, setThreads } from '../src/engine/addon';
import { Engine, quantizedEngine } from '../src/engine/engine';
import { toQdq } from '../src/onnx/qdq';
import { saveModel } from '../src/onnx/save';
import { collectStatistics, initialPlan } from '../src/quant/calibration';
import { findLayers, quantizedTensors } from '../src/quant/layers';
import { loadSplit, median, modelPath, ortSession } from './common';

const BATCH = 64;
const THREADS = 2;

async function main(): Promise<void> {
  const name = process.argv[2] ?? 'resnet20';
  const rounds = Number(process.argv[3] ?? 7);
  setThreads(THREADS);
  const t0 = performance.now();
  const images = await loadSplit('val');
  const decodeRate = (1000 * images.count) / (performance.now() - t0);
  const x = images.batch(0, BATCH);
  const model = loadClassifier(modelPath(name)).model;
  const engine = Engine.fp32(model);
  // W8A8 per-channel plan, calibrated on 32 images a class, for the int8 engine and the QDQ model.
  const layers = findLayers(model.graph);
  const calib = await loadSplit('calib-pool', 32);
  const stats = await collectStatistics(engine, calib, quantizedTensors(model.graph, layers, 'float-residual'));
  const plan = initialPlan(model, layers, stats, {
    weightBits: 8, activationBits: 8, perChannel: true, method: 'minmax', weightMethod: 'minmax', symmetricActivations: false, scope: 'float-residual',
  });
  const int8 = quantizedEngine(model, layers, plan, 'int');
  const session = await ortSession(modelPath(name), { threads: THREADS, noSpin: true });
  const qdqSession = await ortSession(saveModel(toQdq(model, layers, plan)), { threads: THREADS, noSpin: true });
  const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', x.data, [BATCH, 3, 32, 32]) };
  const runners: Record<string, () => Promise<unknown>> = {
    'layerq fp32': () => engine.run(x.data, BATCH),
    'layerq int8 (W8A8 per-channel)': () => int8.run(x.data, BATCH),
    'onnxruntime fp32': () => session.run(feeds),
    'onnxruntime QDQ (same plan)': () => qdqSession.run(feeds),
  };
  const times: Record<string, number[]> = {};
  const cpu: Record<string, number[]> = {};
  for (const k of Object.keys(runners)) {
    await runners[k]!(); // warm up
    times[k] = [];
    cpu[k] = [];
  }
  for (let r = 0; r < rounds; r++) {
    for (const [k, run] of Object.entries(runners)) {
      const t = performance.now();
      const c = process.cpuUsage();
      for (let i = 0; i < 3; i++) await run();
      const used = process.cpuUsage(c);
      times[k]!.push((performance.now() - t) / 3);
      cpu[k]!.push((used.user + used.system) / 1000 / 3);
    }
  }
  const rate = (k: string): number => (1000 * BATCH) / median(times[k]!);
  const cpuRate = (k: string): number => (1000 * BATCH) / median(cpu[k]!);
  const base = rate('onnxruntime fp32'), cpuBase = cpuRate('onnxruntime fp32');
  console.log(`${name}, batch ${BATCH}, ${THREADS} threads, median of ${rounds} alternating rounds, kernels: ${isaInfo().active}`);
  console.log('| runner | images/s | ratio to ONNX Runtime FP32 | images per CPU-second | ratio per CPU time |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const k of Object.keys(runners)) {
    console.log(`| ${k} | ${rate(k).toFixed(0)} | ${(rate(k) / base).toFixed(2)} | ${cpuRate(k).toFixed(0)} | ${(cpuRate(k) / cpuBase).toFixed(2)} |`);
  }
  console.log(`| decode + preprocess (sharp, ${images.count} images) | ${decodeRate.toFixed(0)} | | | |`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
