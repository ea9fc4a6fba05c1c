/**
 * Engine throughput against ONNX Runtime in the same run (alternating, median of rounds), plus
 * decode throughput. Ratios are what to read: the machine is shared and noisy. The model is a
 * name in ../shared/models or a path (a fixture); images are the shared CIFAR-10 `val` photos
 * preprocessed as inferred from the model input (upscaled to 224x224 for ImageNet models).
 * Batch: 64 at 32x32, 16 at 224x224 (`defaultBatchSize`), or the third argument.
 * Run: npm run build && node dist/bench/engine.js [model] [rounds] [batch]
 *      e.g. node dist/bench/engine.js mobilenetv2-imagenet 5 16
 */
import * as ort from 'onnxruntime-node';
import { loadClassifier } from '../src/api/model';
import { isaInfo, setThreads } from '../src/engine/addon';
import { Engine, defaultBatchSize, quantizedEngine } from '../src/engine/engine';
import { inferPreprocess } from '../src/data/preprocess-spec';
import { toQdq } from '../src/onnx/qdq';
import { saveModel } from '../src/onnx/save';
import { calibratePlan } from '../src/pipeline/calibrate';
import { findLayers } from '../src/quant/layers';
import { loadSplit, median, modelPath, ortSession } from './common';

const THREADS = 2;

async function main(): Promise<void> {
  const name = process.argv[2] ?? 'resnet20';
  const rounds = Number(process.argv[3] ?? 7);
  const file = name.endsWith('.onnx') ? name : modelPath(name);
  setThreads(THREADS);
  const prepared = loadClassifier(file);
  const model = prepared.model;
  const preprocess = inferPreprocess(prepared.input);
  const BATCH = Number(process.argv[4] ?? defaultBatchSize(model.graph.inputs[0]!.shape));
  const t0 = performance.now();
  const images = await loadSplit('val', Math.max(10, Math.ceil(BATCH / 10)), preprocess);
  const decodeRate = (1000 * images.count) / (performance.now() - t0);
  const x = images.batch(0, BATCH);
  const engine = Engine.fp32(model, { inference: true });
  // The same FP32 engine layer by layer, where it fuses blocks (MobileNet's at 112x112 and 56x56).
  const layered = engine.steps.some((s) => s.op === 'ConvBlock') ? Engine.fp32(model) : undefined;
  // W8A8 per-channel plan, calibrated on 32 images a class, for the int8 engine and the QDQ model;
  // the same with 4-bit weights (W4A8: on AVX2 the vpmaddubsw GEMM kernels).
  const layers = findLayers(model.graph);
  const calib = await loadSplit('calib-pool', preprocess.crop[0] * preprocess.crop[1] <= 64 * 64 ? 32 : 3, preprocess);
  const calibrated = (weightBits: number) => calibratePlan(model, calib, {
    weightBits, activationBits: 8, perChannel: true, method: 'minmax', weightMethod: 'minmax', symmetricActivations: false, scope: 'float-residual',
  });
  const { plan } = await calibrated(8);
  const int8 = quantizedEngine(model, layers, plan, 'int');
  const w4 = quantizedEngine(model, layers, (await calibrated(4)).plan, 'int');
  const session = await ortSession(file, { threads: THREADS, noSpin: true });
  const qdqSession = await ortSession(saveModel(toQdq(model, layers, plan)), { threads: THREADS, noSpin: true });
  const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', x.data, images.dims.map((d, i) => (i === 0 ? BATCH : d))) };
  const runners: Record<string, () => Promise<unknown>> = {
    'layerq fp32': () => engine.run(x.data, BATCH),
    ...(layered ? { 'layerq fp32, blocks layer by layer': () => layered.run(x.data, BATCH) } : {}),
    'layerq int8 (W8A8 per-channel)': () => int8.run(x.data, BATCH),
    'layerq int8 (W4A8 per-channel)': () => w4.run(x.data, BATCH),
    'onnxruntime fp32': () => session.run(feeds),
    'onnxruntime QDQ (same plan)': () => qdqSession.run(feeds),
  };
  // Steady state, as a server sees it: each runner warms up for WARM_MS (at batch 1 layerq's and
  // ONNX Runtime's first hundreds of runs are up to 2x slower than the later ones: JIT tiers,
  // first-touch pages), and a round times enough runs to last about ROUND_MS (at least 3).
  const WARM_MS = 1500, ROUND_MS = 150;
  const times: Record<string, number[]> = {};
  const cpu: Record<string, number[]> = {};
  const reps: Record<string, number> = {};
  for (const [k, run] of Object.entries(runners)) {
    const t = performance.now();
    let n = 0;
    while (n < 3 || performance.now() - t < WARM_MS) await run(), n++;
    reps[k] = Math.max(3, Math.round(ROUND_MS / ((performance.now() - t) / n)));
    times[k] = [];
    cpu[k] = [];
  }
  for (let r = 0; r < rounds; r++) {
    for (const [k, run] of Object.entries(runners)) {
      const t = performance.now();
      const c = process.cpuUsage();
      for (let i = 0; i < reps[k]!; i++) await run();
      const used = process.cpuUsage(c);
      times[k]!.push((performance.now() - t) / reps[k]!);
      cpu[k]!.push((used.user + used.system) / 1000 / reps[k]!);
    }
  }
  const rate = (k: string): number => (1000 * BATCH) / median(times[k]!);
  const cpuRate = (k: string): number => (1000 * BATCH) / median(cpu[k]!);
  const base = rate('onnxruntime fp32'), cpuBase = cpuRate('onnxruntime fp32');
  console.log(`${name} (${preprocess.crop.join('x')}), batch ${BATCH}, ${THREADS} threads, median of ${rounds} alternating rounds (after ${WARM_MS / 1000} s of warm-up each; runs a round: ${Object.values(reps).join(', ')}), kernels: ${isaInfo().active}`);
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
