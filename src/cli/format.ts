/** Human-readable renderings of results for the terminal. */
import type { EvaluateResult } from '../api/evaluate';
import type { QuantizeResult } from '../api/quantize';
import type { DemoResult } from '../api/demo';

const pct = (v: number): string => `${v.toFixed(2)}%`;

export function formatEvaluation(r: EvaluateResult): string {
  const lines = [
    `model      ${r.model}`,
    `data       ${r.data} (${r.count} images, preset ${r.preprocess.name})`,
    `top-1      ${pct(r.top1)}`,
    `top-5      ${pct(r.top5)}`,
    `throughput ${r.timings.engineImagesPerSecond.toFixed(0)} images/s (engine), ${r.timings.decodeImagesPerSecond.toFixed(0)} images/s (decode)`,
    '',
    'per class:',
    ...r.perClass.map((c) => `  ${c.name.padEnd(14)} ${pct(c.accuracy).padStart(8)}  (${c.correct}/${c.total})`),
  ];
  return `${lines.join('\n')}\n`;
}

export function formatQuantize(r: QuantizeResult): string {
  const { report } = r;
  const c = report.config;
  const a = report.accuracy;
  const lines = [
    `model        ${report.model}`,
    `config       W${c.weightBits}A${c.activationBits} ${c.perChannel ? 'per-channel' : 'per-tensor'}, ${c.method} activations, ${c.weightMethod} weights${c.biasCorrection === false ? '' : ', bias correction'}, ${c.scope}`,
    `data         ${report.data.calibrationImages} calibration, ${report.data.validationImages} validation images (seed ${report.data.seed})`,
    `validation   FP32 top-1 ${pct(a.fp32.top1)}, quantized top-1 ${pct(a.quantized.top1)} (${(a.quantized.top1 - a.fp32.top1).toFixed(2)} points, the written file), same top-1 on ${pct(a.agreement)}`,
    `             int8 engine top-1 ${pct(a.int8Engine.top1)}, same top-1 as the file on ${pct(a.int8EngineAgreement)}`,
    `wrote        ${r.modelPath}`,
    `             ${r.reportPath}`,
    `time         ${Object.entries(report.timings).map(([k, v]) => `${k} ${v.toFixed(1)}s`).join(', ')}`,
  ];
  return `${lines.join('\n')}\n`;
}

export function formatDemo(r: DemoResult): string {
  const what = r.source === 'shared' ? 'ResNet-20 on CIFAR-10 (../shared)' : 'built-in stripes task (synthetic images and a small CNN made on the spot)';
  const lines = [
    `layerq demo: ${what}`,
    `model ${r.model}; test images ${r.testImages}; calibration 32 images a class; per-channel weights`,
    '',
    '| config | FP32 top-1 | quantized top-1 | change | same top-1 as FP32 | output |',
    '| --- | --- | --- | --- | --- | --- |',
    ...r.runs.map((run) =>
      `| ${run.name} | ${pct(run.fp32.top1)} | ${pct(run.quantized.top1)} | ${(run.quantized.top1 - run.fp32.top1).toFixed(2)} | ${pct(run.agreement)} | ${run.outDir}/model.qdq.onnx |`,
    ),
    '',
    `done in ${r.seconds.toFixed(1)} s`,
  ];
  return `${lines.join('\n')}\n`;
}
