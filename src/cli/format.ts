/** Human-readable renderings of results for the terminal. */
import type { EvaluateResult } from '../api/evaluate';
import type { QuantizeResult } from '../api/quantize';
import type { DemoResult } from '../api/demo';
import type { AnalyzeResult } from '../api/analyze';
import type { SearchTrial, SensitivityReport } from '../report/report';

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
    ...(report.search
      ? [
          !report.sensitivity && report.search.trials.length === 0
            ? `search       not needed: the first plan meets the condition (no sensitivity analysis, no trials; \`layerq analyze\` gives the analysis)`
            : `search       ${report.search.strategy}: ${report.search.trials.length} trials in ${report.search.seconds.toFixed(0)} s, condition ${report.search.reached ? 'reached' : `not reached (stopped: ${report.search.stoppedBy})`}; suffix runs ${report.search.speedup.ratio.toFixed(1)}x faster than whole-model trials${report.search.screening?.stride ? `; ${report.search.screening.rejected} trials screened out on ${report.search.screening.images} images` : ''}`,
          `MACs         weights ${shares(report.macShare.weightBits)}; inputs ${shares(report.macShare.activationBits)}`,
          ...(report.search.raised.length ? [`raised       ${report.search.raised.map((x) => `${x.id} (W${x.weightBits ?? 'float'}A${x.activationBits ?? 'float'})`).join(', ')}`] : []),
          '',
          '| layer | MACs % | bits W/A | candidate | alone drop | loss (weights / input) |',
          '| --- | --- | --- | --- | --- | --- |',
          ...report.layers.map((l) => {
            const s = report.sensitivity?.layers.find((x) => x.id === l.id);
            const total = report.layers.reduce((a, b) => a + b.macs, 0) || 1;
            return `| ${l.id} | ${((100 * l.macs) / total).toFixed(1)} | ${l.weightBits ?? 'f'}/${l.activationBits ?? 'f'} | ${l.candidate} | ${s ? s.drop.toFixed(2) : '-'}${s?.target ? ' *' : ''} | ${s ? `${s.alone.loss.toFixed(4)} (${s.weightLoss.toFixed(4)} / ${s.activationLoss.toFixed(4)})` : '-'} |`;
          }),
          '',
        ]
      : []),
    `wrote        ${r.modelPath}`,
    `             ${r.reportPath}${r.htmlPath ? `, ${r.htmlPath}` : ''}`,
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
    '| config | search | FP32 top-1 | quantized top-1 | change | same top-1 as FP32 | MACs at the low width | trials | output |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...r.runs.map((run) =>
      `| ${run.name} | ${run.search ? 'yes' : 'no'} | ${pct(run.fp32.top1)} | ${pct(run.quantized.top1)} | ${(run.quantized.top1 - run.fp32.top1).toFixed(2)} | ${pct(run.agreement)} | ${run.lowBitShare.toFixed(1)}% | ${run.trials} | ${run.outDir}/model.qdq.onnx |`,
    ),
    '',
    `done in ${r.seconds.toFixed(1)} s`,
  ];
  return `${lines.join('\n')}\n`;
}

const shares = (m: Record<string, number>): string =>
  Object.entries(m)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([bits, v]) => `${bits === 'float' ? 'float' : `${bits}-bit`} ${v.toFixed(1)}%`)
    .join(', ');

/** One line per search trial (stderr). */
export function formatTrial(t: SearchTrial): string {
  return `trial ${String(t.index).padStart(3)} ${t.phase.padEnd(5)} ${t.layer} ${t.candidate}: top-1 ${t.result.top1.toFixed(2)}, loss ${t.result.loss.toFixed(4)}${t.accepted ? ' accepted' : ''}${t.screened ? ` (screened out on ${t.screened} images)` : ''}`;
}

export function formatSensitivity(s: SensitivityReport): string[] {
  return [
    `FP32 top-1 ${pct(s.fp32.top1)}; first plan ${pct(s.firstPlan.top1)} (loss ${s.firstPlan.loss.toFixed(4)}); standard error of top-1 ${s.accuracyStandardError.toFixed(2)} points; threshold ${s.threshold.toFixed(2)} points`,
    '',
    '| layer (most sensitive first) | alone top-1 | drop | paired s.e. | loss | weight part | input part | target |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...s.layers.map((l) => `| ${l.id} | ${l.alone.top1.toFixed(2)} | ${l.drop.toFixed(2)} | ${l.dropStandardError.toFixed(2)} | ${l.alone.loss.toFixed(4)} | ${l.weightLoss.toFixed(4)} | ${l.activationLoss.toFixed(4)} | ${l.target ? 'yes' : ''} |`),
  ];
}

export function formatAnalysis(r: AnalyzeResult): string {
  const c = r.config;
  return `${[`model  ${r.model}`, `config W${c.weightBits}A${c.activationBits} ${c.perChannel ? 'per-channel' : 'per-tensor'}, ${r.validationImages} validation images, ${r.seconds.toFixed(0)} s`, ...formatSensitivity(r.sensitivity)].join('\n')}\n`;
}
