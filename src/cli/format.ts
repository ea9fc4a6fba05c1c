/** Human-readable renderings of results for the terminal. */
import type { EvaluateResult } from '../api/evaluate';

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
