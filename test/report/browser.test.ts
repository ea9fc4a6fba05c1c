/**
 * report.html in a real browser (headless Chromium, Debian's `chromium`): a page from a real
 * ResNet-20 run, and a synthetic report with every section. Checks what a user sees (figures
 * equal report.json's, one bar per layer), that the page loads nothing and logs no error, its
 * size and time to draw; keeps screenshots under test-artifacts/. Without Chromium the tests are
 * skipped, except under CI=true where that fails.
 */
import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import type { Page } from 'playwright-core';
import { CHROMIUM, chromiumAvailable, visitPage } from '../../bench/report-browser';
import { renderReportHtml } from '../../src/report/html';
import type { QuantizeReport } from '../../src/report/report';
import { CIFAR, REPO, modelFile } from '../helpers';
import { layerq, tempDir } from '../cli/cli-helpers';
import { syntheticReport } from './synthetic';

const ARTIFACTS = path.join(REPO, 'test-artifacts');
const haveBrowser = chromiumAvailable();
const MAX_BYTES = 1 << 20;
const MAX_RENDER_MS = 2000;

test('Chromium is installed (required under CI=true)', () => {
  if (!haveBrowser && process.env['CI'] === 'true') throw new Error(`${CHROMIUM} missing: apt-get install -y chromium (.ci/run does)`);
});

/** The page's headline figure `key`, as a number. */
async function figure(page: Page, key: string): Promise<number> {
  return parseFloat((await page.locator(`[data-figure="${key}"]`).textContent()) ?? 'NaN');
}

/** Not blank: a screenshot with many distinct, varied pixels. */
async function expectDrawn(png: string): Promise<void> {
  const stats = await sharp(png).stats();
  expect(Math.max(...stats.channels.map((c) => c.stdev))).toBeGreaterThan(20);
  expect((await sharp(png).metadata()).height).toBeGreaterThan(1000);
}

(haveBrowser ? describe : describe.skip)('report.html in headless Chromium', () => {
  const dir = tempDir();

  test('a real ResNet-20 W4 run: quantize writes the page; it shows report.json\'s figures, loads nothing, draws fast', async () => {
    const out = path.join(dir, 'resnet20-w4');
    const r = layerq(['quantize', modelFile('resnet20'), '--calib-data', path.join(CIFAR, 'calib-pool'), '--val-data', path.join(CIFAR, 'val'),
      '--calib-per-class', '8', '--val-per-class', '20', '--w-bits', '4', '--per-channel', '--out', out, '--quiet']);
    expect(r.code).toBe(0);
    const report = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8')) as QuantizeReport;
    const html = path.join(out, 'report.html');
    const bytes = fs.statSync(html).size;
    expect(bytes).toBeLessThan(MAX_BYTES);

    const visit = await visitPage(html, async (page) => ({
      fp32: await figure(page, 'fp32-top1'),
      quantized: await figure(page, 'quantized-top1'),
      agreement: await figure(page, 'agreement'),
      int8: await figure(page, 'int8-top1'),
      sensitivityBars: await page.locator('#sensitivity rect.sens-drop').count(),
      stripCells: await page.locator('#plan g.strip-cell').count(),
      classRows: await page.locator('#per-class g.class-row').count(),
      hasSensitivity: (await page.locator('#sensitivity').count()) > 0,
      text: await page.locator('body').innerText(),
      height: (await page.locator('main').boundingBox())?.height ?? 0,
    }), { screenshot: path.join(ARTIFACTS, 'report-resnet20.png') });
    const seen = visit.result;
    expect(seen.fp32).toBeCloseTo(report.accuracy.fp32.top1, 2);
    expect(seen.quantized).toBeCloseTo(report.accuracy.quantized.top1, 2);
    expect(seen.agreement).toBeCloseTo(report.accuracy.agreement, 2);
    expect(seen.int8).toBeCloseTo(report.accuracy.int8Engine.top1, 2);
    expect(seen.stripCells).toBe(report.layers.length);
    expect(seen.classRows).toBe(report.perClass.length);
    // The search fills `sensitivity`; until a run has it, the section must be absent (the synthetic test below draws it).
    expect(seen.hasSensitivity).toBe(report.sensitivity !== undefined);
    if (report.sensitivity) expect(seen.sensitivityBars).toBe(report.layers.length);
    expect(seen.text).toContain(report.run.command);
    expect(seen.height).toBeGreaterThan(1000);
    expect(visit.errors).toEqual([]);
    expect(visit.requests).toEqual([]);
    expect(visit.renderMs).toBeLessThan(MAX_RENDER_MS);
    await expectDrawn(path.join(ARTIFACTS, 'report-resnet20.png'));
    process.stdout.write(`report.html of the ResNet-20 run: ${(bytes / 1024).toFixed(1)} KiB, drawn in ${visit.renderMs.toFixed(0)} ms\n`);

    // `layerq report` draws the same page again from report.json.
    const again = path.join(dir, 'again.html');
    const rr = layerq(['report', path.join(out, 'report.json'), '--out', again]);
    expect(rr.code).toBe(0);
    expect(fs.readFileSync(again, 'utf8')).toBe(fs.readFileSync(html, 'utf8'));
  });

  test('every section (synthetic report): one bar per layer, one dot per trial; dark mode and print', async () => {
    const report = syntheticReport({ layers: 20, triesPerTarget: 6 });
    const html = path.join(dir, 'synthetic.html');
    fs.writeFileSync(html, renderReportHtml(report));
    const background = "getComputedStyle(document.body).backgroundColor";
    const inspect = async (page: Page): Promise<Record<string, unknown>> => ({
      sensitivityBars: await page.locator('#sensitivity rect.sens-drop').count(),
      targets: await page.locator('#sensitivity rect.sens-drop.target').count(),
      trials: await page.locator('#search circle.trial').count(),
      accepted: await page.locator('#search circle.trial.accepted').count(),
      profileRows: await page.locator('#profile g.profile-row').count(),
      chartWidth: (await page.locator('#sensitivity svg').boundingBox())?.width ?? 0,
      background: await page.evaluate<string>(background),
      printBackground: await page.emulateMedia({ media: 'print' }).then(() => page.evaluate<string>(background)),
    });
    const light = await visitPage(html, inspect, { screenshot: path.join(ARTIFACTS, 'report-synthetic.png') });
    expect(light.result).toMatchObject({
      sensitivityBars: report.layers.length,
      targets: report.sensitivity!.layers.filter((l) => l.target).length,
      trials: report.search!.trials.length,
      accepted: report.search!.trials.filter((t) => t.accepted).length,
      profileRows: report.layers.length,
      background: 'rgb(255, 255, 255)',
    });
    expect(light.result['chartWidth']).toBeGreaterThan(800);
    expect(light.errors).toEqual([]);
    expect(light.requests).toEqual([]);
    expect(light.renderMs).toBeLessThan(MAX_RENDER_MS);
    await expectDrawn(path.join(ARTIFACTS, 'report-synthetic.png'));

    const dark = await visitPage(html, inspect, { colorScheme: 'dark', width: 600, screenshot: path.join(ARTIFACTS, 'report-synthetic-dark.png') });
    expect(dark.result['background']).toBe('rgb(20, 24, 28)');
    expect(dark.result['printBackground']).toBe('rgb(255, 255, 255)');
    expect(dark.result['chartWidth']).toBeLessThan(600); // charts shrink to a narrow window
    expect(dark.errors).toEqual([]);
  });

  test('a search at its trial budget (ResNet-20 sized: 20 layers, 400 trials): under 1 MB, drawn in under 2 s', async () => {
    const report = syntheticReport({ layers: 20, triesPerTarget: 50 });
    report.search!.trials = report.search!.trials.slice(0, report.search!.budgets.maxTrials);
    expect(report.search!.trials).toHaveLength(400);
    const html = path.join(dir, 'budget.html');
    fs.writeFileSync(html, renderReportHtml(report));
    const visit = await visitPage(html, async (page) => page.locator('#search circle.trial').count());
    expect(visit.result).toBe(400);
    expect(fs.statSync(html).size).toBeLessThan(MAX_BYTES);
    expect(visit.renderMs).toBeLessThan(MAX_RENDER_MS);
    expect(visit.errors).toEqual([]);
    process.stdout.write(`report.html of a 400-trial search: ${(fs.statSync(html).size / 1024).toFixed(1)} KiB, drawn in ${visit.renderMs.toFixed(0)} ms\n`);
  });
});
