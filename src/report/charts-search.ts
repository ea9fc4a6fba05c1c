/**
 * The search chart: validation accuracy of every trial in order, the layer each trial worked on
 * as bands behind, accepted trials marked, the whole model's accuracy as it was accepted, and
 * the FP32 and target levels.
 */
import type { Measurement, SearchReport } from './report';
import { circle, line, linear, path, rect, svg, text, ticks, xAxis, yAxis } from './svg';

const WIDTH = 900;
const HEIGHT = 300;
const LEFT = 50;
const RIGHT = 90;
const TOP = 28;
const BOTTOM = 30;

/** The measure the search's accuracy condition is on. */
export function conditionValue(search: SearchReport, m: Measurement): number {
  return search.condition.metric === 'agreement' ? m.agreement : m.top1;
}

/** The drop the search's condition allowed (reports before the noise-aware condition have only maxDrop). */
export function allowedDropOf(search: SearchReport): number {
  return search.allowedDrop ?? search.condition.maxDrop;
}

/** The FP32 level and the lowest accepted level of the condition's measure. */
export function conditionLevels(search: SearchReport, fp32Top1: number): { fp32: number; target: number } {
  const fp32 = search.condition.metric === 'agreement' ? 100 : fp32Top1;
  const allowed = allowedDropOf(search);
  return { fp32, target: search.condition.relative ? fp32 * (1 - allowed / 100) : fp32 - allowed };
}

/** `name` cut to `max` characters keeping its end, after `prefix` ("#7 …3.2/conv2"). */
function tail(name: string, max: number, prefix: string): string {
  if (name.length <= max) return name;
  const room = max - prefix.length - 1;
  return room > 2 ? `${prefix}…${name.slice(name.length - room)}` : prefix.trim();
}

/** Runs of consecutive trials on the same layer: [layer, first index, count]. */
function layerRuns(search: SearchReport): [string, number, number][] {
  const runs: [string, number, number][] = [];
  search.trials.forEach((t, i) => {
    const last = runs[runs.length - 1];
    if (last && last[0] === t.layer) last[2]++;
    else runs.push([t.layer, i, 1]);
  });
  return runs;
}

/**
 * `order`: the layer ids in network order; a band is labelled with its layer's number there
 * (the plan table's #) and as much of the id's end as fits.
 */
export function searchChart(search: SearchReport, fp32Top1: number, order: readonly string[]): string {
  const trials = search.trials;
  const value = (m: Measurement): number => conditionValue(search, m);
  const levels = conditionLevels(search, fp32Top1);
  const all = [...trials.map((t) => value(t.result)), value(search.before), value(search.after), levels.fp32, levels.target];
  const lo = Math.max(0, Math.floor(Math.min(...all) - 1));
  const hi = Math.min(100, Math.ceil(Math.max(...all) + 0.5));
  const x = linear(-0.5, Math.max(trials.length, 1) - 0.5, LEFT, WIDTH - RIGHT);
  const y = linear(lo, hi, HEIGHT - BOTTOM, TOP);
  const step = x(1) - x(0);

  const bands = layerRuns(search).map(([layer, first, count], k) => {
    const bx = x(first - 0.5);
    const w = count * step;
    const number = order.indexOf(layer) + 1;
    const name = `${number ? `#${number} ` : ''}${layer.replace(/\/(Conv|Gemm|MatMul)$/, '')}`;
    const label = w >= 22 ? text(bx + 3, TOP - 6, tail(name, Math.floor((w - 4) / 6.2), number ? `#${number} ` : ''), 'band-label') : '';
    return rect(bx, TOP, w, HEIGHT - BOTTOM - TOP, `band${k % 2 ? ' odd' : ''}`, `${layer}: trials ${first}..${first + count - 1}`) + label;
  });

  // The whole model's level: the first plan's, then each accepted whole-model trial's.
  let level = value(search.before);
  const steps: [number, number][] = [[x(-0.5), y(level)]];
  trials.forEach((t, i) => {
    if (t.phase !== 'model' || !t.accepted) return;
    steps.push([x(i), y(level)], [x(i), y(value(t.result))]);
    level = value(t.result);
  });
  steps.push([x(trials.length - 0.5), y(level)]);

  const radius = Math.max(1.5, Math.min(3, step / 2.5)); // dots may touch, not hide each other
  const dots = trials.map((t, i) => {
    const cls = `trial ${t.phase}${t.accepted ? ' accepted' : ''}${t.screened ? ' screened' : ''}`;
    const title = `trial ${t.index}: ${t.layer}, ${t.candidate} (${t.family}, ${t.phase === 'layer' ? 'layer alone' : 'whole model'}): `
      + `top-1 ${t.result.top1.toFixed(2)}, agreement ${t.result.agreement.toFixed(2)}, loss ${t.result.loss.toExponential(2)}${t.accepted ? ', accepted' : ''}`
      + `${t.screened ? `, screened out on ${t.screened} images` : ''}`;
    return circle(x(i), y(value(t.result)), t.accepted ? radius * 1.5 : radius, cls, title, ` data-trial="${t.index}"`);
  });

  const levelLine = (v: number, cls: string, label: string): string =>
    line(LEFT, y(v), WIDTH - RIGHT, y(v), cls, `${label} ${v.toFixed(2)}`) + text(WIDTH - RIGHT + 4, y(v) + 4, `${label} ${v.toFixed(1)}`, `level-label ${cls}`);
  const metric = search.condition.metric === 'agreement' ? 'agreement with FP32 (%)' : 'validation top-1 (%)';
  const parts = [
    ...bands,
    yAxis(ticks(lo, hi, 5), y, LEFT, WIDTH - RIGHT, (v) => String(v)),
    xAxis(ticks(0, Math.max(trials.length - 1, 1), 10).filter((t) => t < trials.length), x, HEIGHT - BOTTOM + 4, HEIGHT - BOTTOM, (v) => String(v)),
    text(LEFT, TOP - 16, metric, 'axis-title'),
    text(WIDTH - RIGHT, HEIGHT - 4, 'trial', 'axis-title', 'end'),
    levelLine(levels.fp32, 'ref-fp32', 'FP32'),
    levelLine(levels.target, 'ref-target', 'target'),
    path(steps, 'model-level'),
    ...dots,
  ];
  return svg(WIDTH, HEIGHT, 'Search trials: accuracy over trials', parts.join('\n'), 'search');
}
