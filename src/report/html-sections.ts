/**
 * The report page's sections, each a pure function of the report. A section whose data the
 * report lacks (an older report, a run without search or profile) is not drawn.
 */
import type { SearchReport, SensitivityReport } from './report';
import type { ReadableReport } from './upgrade';
import { layerStrip, profileChart, sensitivityChart } from './charts-layers';
import { allowedDropOf, conditionLevels, conditionValue, searchChart } from './charts-search';
import { macShareBars, perClassChart } from './charts-summary';
import { bitClass, bitLabel, bytes, facts, figure, legend, macs, pct, points, seconds, section, table } from './html-parts';
import { esc } from './svg';

/** Why a search stopped, for people. */
const STOPPED_BY: Record<SearchReport['stoppedBy'], string> = {
  condition: 'the condition held', trials: 'the trial budget', time: 'the time budget', exhausted: 'no candidates left',
};

/** Colour keys of the bit widths the report's layers use, widest first, float last. */
function bitLegend(r: ReadableReport): string {
  const used = new Set(r.layers.flatMap((l) => [bitClass(l.weightBits), bitClass(l.activationBits)]));
  const keys: [string, string][] = [['b8', '8-bit'], ['b7', '7-bit'], ['b4', '4-bit'], ['bother', 'other'], ['bfloat', 'float']];
  return legend(keys.filter(([cls]) => used.has(cls)));
}

function preprocessLine(p: ReadableReport['preprocess']): string {
  const list = (v: number[]): string => v.map((x) => Number(x.toPrecision(4))).join(', ');
  return `${p.name}: ${p.resize ? `resize ${p.resize}, centre-crop` : 'resize to'} ${p.crop[0]}x${p.crop[1]}, scale ${Number(p.scale.toPrecision(4))}, mean [${list(p.mean)}], std [${list(p.std)}]`;
}

export function headline(r: ReadableReport): string {
  const a = r.accuracy;
  const total = Object.values(r.timings).reduce((s, v) => s + v, 0);
  const figures = [
    figure(`FP32 top-1 (${r.data.validationImages} validation images)`, pct(a.fp32.top1), 'fp32-top1'),
    figure('quantized top-1 (the written model)', pct(a.quantized.top1), 'quantized-top1', `${points(a.quantized.top1 - a.fp32.top1)} points`),
    figure('same top-1 as FP32', pct(a.agreement), 'agreement'),
    figure('int8 engine top-1', pct(a.int8Engine.top1), 'int8-top1', `same top-1 as the file on ${pct(a.int8EngineAgreement)}`),
    r.files ? figure('model size', bytes(r.files.outputBytes), 'output-bytes', `FP32 ${bytes(r.files.modelBytes)} (${(r.files.modelBytes / r.files.outputBytes).toFixed(1)}x smaller)`) : '',
    r.search ? figure('search', r.search.reached ? 'condition reached' : 'not reached', 'search-reached', esc(`${r.search.trials.length} trials in ${seconds(r.search.seconds)}, stopped by ${STOPPED_BY[r.search.stoppedBy] ?? r.search.stoppedBy}`)) : '',
    figure('wall time', seconds(total), 'wall-seconds', esc(Object.entries(r.timings).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', '))),
  ];
  const run = r.run;
  const runFacts: [string, string][] = run
    ? [['command', `<code>${esc(run.command)}</code>`], ['versions', esc(`layerq ${run.layerqVersion}, Node ${run.node}, kernels ${run.isa}, ${run.threads} threads, ${run.cpu}`)]]
    : [['command', '<span class="muted">not recorded (report version 1)</span>']];
  return section('headline', 'Headline', [
    `<div class="figures">${figures.join('')}</div>`,
    '<h3>Share of multiply-accumulates by bit width</h3>',
    macShareBars(r.macShare),
    bitLegend(r),
    facts([
      ...runFacts,
      ['configuration', esc(configLine(r))],
      ['data', esc(`${r.data.calibrationImages} calibration images (${r.data.calibrationPerClass} a class) from ${r.data.calibrationPool}; ${r.data.validationImages} validation images from ${r.data.validationPool}; seed ${r.data.seed}${r.data.labelFree ? '; label-free' : ''}${r.data.skipped.length ? `; ${r.data.skipped.length} unreadable files skipped` : ''}`)],
      ['preprocessing', esc(preprocessLine(r.preprocess))],
      ['model', esc(`${r.model} -> ${r.output}`)],
    ]),
  ].join('\n'));
}

export function configLine(r: ReadableReport): string {
  const c = r.config;
  return `W${c.weightBits}A${c.activationBits} ${c.perChannel ? 'per-channel' : 'per-tensor'} weights (${c.weightMethod}), ${c.method} activations${c.symmetricActivations ? ' (symmetric)' : ''}${c.biasCorrection === false ? '' : ', bias correction'}, ${c.scope}`;
}

export function sensitivitySection(r: ReadableReport, s: SensitivityReport): string {
  const targets = s.layers.filter((l) => l.target).length;
  return section('sensitivity', 'Sensitivity: each layer quantized alone', [
    facts([
      ['FP32', esc(`top-1 ${pct(s.fp32.top1)}`)],
      ['first plan (all layers)', esc(`top-1 ${pct(s.firstPlan.top1)}, same top-1 as FP32 on ${pct(s.firstPlan.agreement)}, loss ${s.firstPlan.loss.toExponential(2)}`)],
      ['threshold', esc(`${s.threshold.toFixed(2)} points of top-1 (accuracy standard error ${s.accuracyStandardError.toFixed(2)})`)],
      ['targets', esc(`${targets} of ${s.layers.length} layers`)],
    ]),
    sensitivityChart(r.layers, s),
    legend([['sens-drop', 'top-1 drop'], ['sens-drop target', 'target layer'], ['weight', 'weights alone'], ['activation', 'input activation alone'], ['threshold', 'threshold']]),
  ].join('\n'));
}

function conditionText(s: SearchReport): string {
  const c = s.condition;
  const what = c.metric === 'agreement' ? 'agreement with FP32' : 'top-1';
  const unit = c.relative ? '% (relative)' : ' points';
  const allowed = allowedDropOf(s);
  const noise = c.noise && allowed > c.maxDrop
    ? ` (the default ${c.maxDrop.toFixed(2)}${unit}, widened to ${c.noise} standard errors of the paired difference: the validation set cannot resolve less)`
    : c.noise ? ` (the default; it widens to ${c.noise} standard errors of the paired difference when the validation set cannot resolve it)` : '';
  return `${what} at most ${allowed.toFixed(2)}${unit} below FP32${noise}`;
}

export function searchSection(r: ReadableReport, s: SearchReport): string {
  const levels = conditionLevels(s, r.accuracy.fp32.top1);
  // The tries budget holds per layer and phase, for repairs (precision steps are outside it).
  const perLayer = new Map<string, number>();
  const precision = new Set(['activation-bits', 'weight-bits', 'float']);
  for (const t of s.trials) if (!precision.has(t.family)) perLayer.set(`${t.phase}/${t.layer}`, (perLayer.get(`${t.phase}/${t.layer}`) ?? 0) + 1);
  const mostTries = Math.max(0, ...perLayer.values());
  const measured = (m: SearchReport['before']): string => `top-1 ${pct(m.top1)}, same top-1 as FP32 on ${pct(m.agreement)}`;
  const families = Object.entries(s.acceptedByFamily).map(([f, n]) => [esc(f), String(n)]);
  const raised = s.raised.map((l) => [esc(l.id), bitLabel(l.weightBits), bitLabel(l.activationBits)]);
  const trials = s.trials.map((t) => [
    String(t.index), t.phase, esc(t.layer), esc(t.candidate), esc(t.family), t.result.top1.toFixed(2), t.result.agreement.toFixed(2), t.result.loss.toExponential(2),
    t.accepted ? '<b class="yes">accepted</b>' : t.screened ? `screened out (${t.screened} images)` : '', t.seconds.toFixed(2),
  ]);
  return section('search', `Search (${s.strategy})`, [
    facts([
      ['condition', esc(`${conditionText(s)}: ${levels.target.toFixed(2)}`)],
      ['result', s.reached ? '<b class="yes">reached</b>' : `<b class="no">not reached</b> (stopped by ${esc(STOPPED_BY[s.stoppedBy] ?? s.stoppedBy)})`],
      ['before search', esc(measured(s.before))],
      ['after search', esc(measured(s.after))],
      ['budget used', esc(`${s.trials.length} of ${s.budgets.maxTrials} trials; ${seconds(s.seconds)} of ${seconds(s.budgets.maxSeconds)}; at most ${mostTries} of ${s.budgets.triesPerLayer} repair tries on one layer in one phase`)],
      ['trials ran on', esc(`the ${s.engine.mode === 'int' ? 'int8' : 'simulated'} engine, same top-1 as the written file on ${pct(s.engine.agreementWithFile)}`)],
      ['suffix caching', esc(`trials ${seconds(s.speedup.trialSeconds)} against ${seconds(s.speedup.wholeModelSeconds)} on the whole model (${s.speedup.ratio.toFixed(1)}x)`)],
      ...(s.screening?.stride ? [['screening', esc(`${s.screening.rejected} of ${s.trials.filter((t) => t.phase === 'model').length} whole-model trials screened out on a sample of ${s.screening.images} images (${seconds(s.screening.seconds)})`)] as [string, string]] : []),
    ]),
    s.trials.length === 0 ? `<p>${esc(r.sensitivity ? 'No trial was needed.' : 'No trial was needed: the first plan met the condition, so no sensitivity analysis ran either (layerq analyze gives it).')}</p>` : searchChart(s, r.accuracy.fp32.top1, r.layers.map((l) => l.id)),
    !s.trials.length ? '' : legend([['trial model', 'whole-model trial'], ['trial layer', 'layer-alone trial'], ['trial accepted', 'accepted'], ...(s.trials.some((t) => t.screened) ? [['trial model screened', 'screened out on a sample'] as [string, string]] : []), ['model-level', 'whole model as accepted'], ['ref-target', 'target']]),
    `<p class="muted">${esc(`The condition is on ${s.condition.metric === 'agreement' ? 'agreement with FP32' : 'top-1'}; the first plan scored ${conditionValue(s, s.before).toFixed(2)}.`)}</p>`,
    families.length ? `<h3>Accepted by kind of adjustment</h3>${table(['adjustment', 'accepted'], families, [1])}` : '',
    raised.length ? `<h3>Layers above the configured bits, or float</h3>${table(['layer', 'weights', 'input'], raised)}` : '',
    !s.trials.length ? '' : `<details${s.trials.length <= 40 ? ' open' : ''}><summary>All ${s.trials.length} trials</summary>`
      + table(['#', 'phase', 'layer', 'candidate', 'kind', 'top-1', 'agreement', 'loss', '', 's'], trials, [0, 5, 6, 7, 9], 'trials') + '</details>',
  ].join('\n'));
}

export function planSection(r: ReadableReport): string {
  const total = r.layers.reduce((s, l) => s + l.macs, 0) || 1;
  const drop = new Map(r.sensitivity?.layers.map((l) => [l.id, l]) ?? []);
  const rows = r.layers.map((l, i) => {
    const s = drop.get(l.id);
    return [
      String(i + 1), esc(l.id), esc(l.kind), macs(l.macs), ((100 * l.macs) / total).toFixed(1), bitLabel(l.weightBits), bitLabel(l.activationBits), esc(l.candidate),
      ...(r.sensitivity ? [s ? `${s.drop.toFixed(2)}${s.target ? ' <b class="no">target</b>' : ''}` : ''] : []),
    ];
  });
  const head = ['#', 'layer', 'kind', 'MACs', 'MAC %', 'weights', 'input', 'candidate', ...(r.sensitivity ? ['drop alone'] : [])];
  return section('plan', 'Final plan, in network order', [
    layerStrip(r.layers),
    bitLegend(r),
    table(head, rows, [0, 3, 4, 8], 'layers'),
  ].join('\n'));
}

export function perClassSection(rows: NonNullable<ReadableReport['perClass']>): string {
  return section('per-class', 'Per-class top-1, FP32 against quantized (most lost first)', perClassChart(rows) + legend([['fp32', 'FP32'], ['quant', 'quantized']]));
}

export function profileSection(p: NonNullable<ReadableReport['profile']>): string {
  const fp32 = p.layers.reduce((s, l) => s + l.fp32Ms, 0);
  const int8 = p.layers.reduce((s, l) => s + l.int8Ms, 0);
  return section('profile', 'Time per layer, FP32 against int8', [
    facts([['all layers', esc(`FP32 ${fp32.toFixed(2)} ms, int8 ${int8.toFixed(2)} ms a batch${p.batch ? ` of ${p.batch} images` : ''} (${int8 > 0 ? (fp32 / int8).toFixed(2) : '-'}x)${p.rounds ? `, fastest of ${p.rounds} runs` : ''}`)]]),
    profileChart(p.layers),
    legend([['fp32', 'FP32'], ['quant', 'int8']]),
  ].join('\n'));
}
