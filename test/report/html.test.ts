/** report.html as a pure function of report.json: sections, figures, scales, escaping, old versions. */
import { LayerqError } from '../../src/errors';
import { renderReportHtml } from '../../src/report/html';
import { REPORT_VERSION } from '../../src/report/report';
import { esc, linear, shorten, ticks } from '../../src/report/svg';
import { parseReport } from '../../src/report/upgrade';
import { CLASSES, reportV1, syntheticReport } from './synthetic';

const count = (html: string, re: RegExp): number => (html.match(new RegExp(re.source, 'g')) ?? []).length;
const figure = (html: string, key: string): string | undefined => new RegExp(`data-figure="${key}">([^<]*)<`).exec(html)?.[1];
/** The `<g class="CLS..." data-layer="ID">...</g>` groups of a chart, in document order. */
const groups = (html: string, cls: string): { attrs: string; body: string }[] =>
  [...html.matchAll(new RegExp(`<g class="${cls}([^"]*)" data-[a-z]+="([^"]*)">(.*?)</g>`, 'g'))].map((m) => ({ attrs: `${m[1]} ${m[2]}`, body: m[3]! }));

describe('renderReportHtml', () => {
  const report = syntheticReport({ layers: 20, triesPerTarget: 5 });
  const html = renderReportHtml(report);

  test('every section of a full report, one chart element per layer, trial and class', () => {
    for (const id of ['headline', 'sensitivity', 'search', 'plan', 'per-class', 'profile']) expect(html).toContain(`<section id="${id}">`);
    expect(count(html, /class="bar sens-drop/)).toBe(20);
    expect(count(html, /<g class="strip-cell"/)).toBe(20);
    expect(count(html, /<g class="profile-row"/)).toBe(20);
    expect(count(html, /<g class="class-row"/)).toBe(CLASSES.length);
    expect(count(html, /data-trial="/)).toBe(report.search!.trials.length);
    expect(count(html, /class="trial [a-z]+ accepted"/)).toBe(report.search!.trials.filter((t) => t.accepted).length);
    expect(report.search!.trials.length).toBeGreaterThan(10);
  });

  test('headline figures are the report\'s, in percent with 2 decimals', () => {
    expect(figure(html, 'fp32-top1')).toBe(`${report.accuracy.fp32.top1.toFixed(2)}%`);
    expect(figure(html, 'quantized-top1')).toBe(`${report.accuracy.quantized.top1.toFixed(2)}%`);
    expect(figure(html, 'agreement')).toBe(`${report.accuracy.agreement.toFixed(2)}%`);
    expect(figure(html, 'int8-top1')).toBe(`${report.accuracy.int8Engine.top1.toFixed(2)}%`);
    expect(figure(html, 'output-bytes')).toBe('302.7 KiB');
    const wall = Object.values(report.timings).reduce((s, v) => s + v, 0);
    expect(figure(html, 'wall-seconds')).toBe(`${wall.toFixed(1)} s`);
    expect(html).toContain(report.run.command);
  });

  test('MAC share segments are as wide as their share', () => {
    const w4 = /<rect x="[\d.]+" y="4" width="([\d.]+)"[^>]*data-share="w:4"/.exec(html);
    const w8 = /<rect x="[\d.]+" y="4" width="([\d.]+)"[^>]*data-share="w:8"/.exec(html);
    expect(Number(w4![1]) / Number(w8![1])).toBeCloseTo(report.macShare.weightBits['4']! / report.macShare.weightBits['8']!, 1);
    expect(html).toContain('data-share="w:float"');
  });

  test('sensitivity: a layer\'s bar crosses the threshold line exactly when it is a target', () => {
    const threshold = /<line x1="([\d.]+)"[^>]*class="threshold"/.exec(html);
    const x = Number(threshold![1]);
    const rows = groups(html, 'sens-row');
    expect(rows).toHaveLength(20);
    for (const r of rows) {
      const bar = /<rect x="([\d.-]+)" y="[\d.]+" width="([\d.]+)"[^>]*class="bar sens-drop/.exec(r.body)!;
      const end = Number(bar[1]) + Number(bar[2]);
      expect(end > x).toBe(r.attrs.startsWith(' target'));
    }
    // Network order, as the layer strip.
    expect(rows.map((r) => r.attrs.split(' ').pop())).toEqual(report.layers.map((l) => l.id));
  });

  test('per-class rows: the classes that lost most first', () => {
    const order = groups(html, 'class-row').map((g) => g.attrs.trim());
    const expected = [...report.perClass].sort((a, b) => a.quantized - a.fp32 - (b.quantized - b.fp32)).map((c) => c.name);
    expect(order).toEqual(expected);
  });

  test('self-contained: no script, no external URL, a CSP that forbids loading anything; deterministic', () => {
    expect(html).not.toMatch(/<script|https?:\/\/|url\(|@import|<link|<img|<iframe/i);
    expect(html).toContain(`content="default-src 'none'`);
    expect(renderReportHtml(report)).toBe(html);
  });

  test('a long search stays small: 60 layers, 1,000+ trials under 1 MB', () => {
    const big = syntheticReport({ layers: 60, triesPerTarget: 40 });
    expect(big.search!.trials.length).toBeGreaterThan(1000);
    expect(Buffer.byteLength(renderReportHtml(big))).toBeLessThan(1 << 20);
  });

  test('names from the model are escaped', () => {
    const evil = syntheticReport({ layers: 4, triesPerTarget: 2, ids: { 0: '<img src=x onerror="alert(1)">', 2: 'a&b' } });
    evil.perClass[0]!.name = '<b>cat</b>';
    const page = renderReportHtml(evil);
    expect(page).not.toContain('<img');
    expect(page).not.toContain('<b>cat</b>');
    expect(page).toContain('&#60;img src=x onerror=&#34;alert(1)&#34;&#62;');
    expect(page).toContain('a&#38;b');
  });

  test('the condition: a stated one as given; the default widened to its noise allowance says so', () => {
    const stated = syntheticReport({ layers: 5, triesPerTarget: 2 });
    expect(renderReportHtml(stated)).toContain('top-1 at most 6.00 points below FP32');
    const byDefault = syntheticReport({ layers: 5, triesPerTarget: 2 });
    byDefault.search = { ...byDefault.search!, condition: { maxDrop: 0.5, relative: false, metric: 'top1', noise: 2 }, allowedDrop: 0.88 };
    const page = renderReportHtml(byDefault);
    expect(page).toContain('top-1 at most 0.88 points below FP32 (the default 0.50 points, widened to 2 standard errors');
    const { allowedDrop: _old, ...before } = stated.search!;
    expect(renderReportHtml({ ...stated, search: before })).toContain('top-1 at most 6.00 points below FP32');
  });

  test('sections without data are left out', () => {
    const { sensitivity, search, profile, ...plain } = syntheticReport({ layers: 5, triesPerTarget: 2 });
    expect(sensitivity && search && profile).toBeTruthy();
    const page = renderReportHtml({ ...plain, perClass: [] });
    expect(page).toContain('<section id="headline">');
    expect(page).toContain('<section id="plan">');
    for (const id of ['sensitivity', 'search', 'per-class', 'profile']) expect(page).not.toContain(`id="${id}"`);
  });
});

describe('older reports', () => {
  test('version 1: bits and MAC shares from its plan, no run info, still a page', () => {
    const v1 = reportV1(6);
    const r = parseReport(JSON.stringify(v1), 'old.json');
    expect(r.version).toBe(1);
    expect(r.layers.map((l) => l.weightBits)).toEqual([8, null, 8, 8, 8, 8]);
    expect(r.macShare.weightBits['float']! + r.macShare.weightBits['8']!).toBeCloseTo(100, 6);
    const page = renderReportHtml(r);
    expect(figure(page, 'fp32-top1')).toBe(`${(v1['accuracy'] as { fp32: { top1: number } }).fp32.top1.toFixed(2)}%`);
    expect(count(page, /<g class="strip-cell"/)).toBe(6);
    // Layer 2 is float: its weights and input cells in the strip, and the float segments of both MAC share bars.
    expect(count(page, /class="cell bfloat"/)).toBe(4);
    expect(page).toContain('not recorded (report version 1)');
    for (const id of ['sensitivity', 'search', 'per-class', 'profile']) expect(page).not.toContain(`id="${id}"`);
  });

  test.each([
    ['not json', /text that is not JSON/],
    ['{"tool":"other","version":1}', /layerq report\.json for r\.json but received 'JSON without "tool"/],
    [`{"tool":"layerq","version":${REPORT_VERSION + 1}}`, new RegExp(`1 to ${REPORT_VERSION}.*received ${REPORT_VERSION + 1}`)],
    ['{"tool":"layerq","version":2,"accuracy":{}}', /"layers" in r\.json/],
  ])('refuses %s', (json, message) => {
    expect(() => parseReport(json, 'r.json')).toThrow(LayerqError);
    expect(() => parseReport(json, 'r.json')).toThrow(message);
  });
});

describe('svg helpers', () => {
  test('ticks are round and cover the range', () => {
    expect(ticks(0, 100, 5)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(ticks(-0.3, 7.9, 5)).toEqual([0, 2, 4, 6]);
    expect(ticks(0, 0.037, 4)).toEqual([0, 0.01, 0.02, 0.03]);
    expect(ticks(5, 5)).toEqual([5]);
  });
  test('linear maps the domain ends onto the range ends', () => {
    const x = linear(10, 20, 100, 300);
    expect([x(10), x(15), x(20)]).toEqual([100, 200, 300]);
    expect(linear(3, 3, 7, 9)(100)).toBe(7);
  });
  test('esc and shorten', () => {
    expect(esc(`<a href="x">'&'</a>`)).toBe('&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;');
    expect(shorten('/layer3/layer3.2/conv2/Conv', 12)).toBe('/layer…/Conv');
    expect(shorten('short', 12)).toBe('short');
  });
});
