/**
 * ONNX Runtime's default (fused) int8 kernels against exact QDQ semantics on layerq's exported
 * models: top-1 agreement and accuracy on `val`, for 8-bit and 7-bit weights. On x86 AVX2
 * without VNNI the fused kernels saturate in vpmaddubsw (u8 x s8 pairs summed in int16);
 * 7-bit weights ([-63, 63]) keep every pair sum within int16, so both sessions agree.
 * Run: npm run build && node dist/bench/ort-fused.js [model]
 */
import { loadClassifier } from '../src/api/model';
import { isaInfo } from '../src/engine/addon';
import { Engine } from '../src/engine/engine';
import { quantizedEngine } from '../src/engine/quantized';
import { accuracy, agreement } from '../src/eval/metrics';
import { toQdq } from '../src/onnx/qdq';
import { saveModel } from '../src/onnx/save';
import { collectStatistics, initialPlan } from '../src/quant/calibration';
import { findLayers, quantizedTensors } from '../src/quant/layers';
import { loadSplit, modelPath, ortLogits, ortSession } from './common';

async function main(): Promise<void> {
  const name = process.argv[2] ?? 'mobilenetv2-w05';
  const model = loadClassifier(modelPath(name)).model;
  const layers = findLayers(model.graph);
  const calib = await loadSplit('calib-pool', 32);
  const val = await loadSplit('val');
  const classes = Array.from({ length: 10 }, (_, i) => String(i));
  const fp32 = Engine.fp32(model);
  const stats = await collectStatistics(fp32, calib, quantizedTensors(model.graph, layers, 'float-residual'));
  const fp32Top1 = accuracy(await fp32.runAll(val), val.labels, classes).top1;
  const cpu = (await import('fs')).readFileSync('/proc/cpuinfo', 'utf8');
  const vnni = /avx512_vnni|avx_vnni/.test(cpu);
  console.log(`${name}, per-channel weights, minmax activations, ${val.count} val images; layerq kernels ${isaInfo().active}; CPU ${vnni ? 'has' : 'lacks'} VNNI`);
  console.log(`FP32 top-1 ${fp32Top1.toFixed(2)}`);
  console.log('| weights | layerq int8 engine | ORT exact QDQ | ORT default (fused) | default vs exact agreement | layerq vs exact agreement |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const bits of [8, 7]) {
    const plan = initialPlan(model, layers, stats, {
      weightBits: bits, activationBits: 8, perChannel: true, method: 'minmax', weightMethod: 'minmax', symmetricActivations: false, scope: 'float-residual',
    });
    const ours = await quantizedEngine(model, layers, plan, 'int').runAll(val);
    const bytes = saveModel(toQdq(model, layers, plan));
    const exact = await ortLogits(await ortSession(bytes, { exactQdq: true }), val);
    const fused = await ortLogits(await ortSession(bytes), val);
    const top1 = (l: Float32Array): string => accuracy(l, val.labels, classes).top1.toFixed(2);
    console.log(`| ${bits}-bit | ${top1(ours)} | ${top1(exact)} | ${top1(fused)} | ${agreement(fused, exact, 10).toFixed(2)}% | ${agreement(ours, exact, 10).toFixed(2)}% |`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
