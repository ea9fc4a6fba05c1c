/**
 * Renders a report.json (any version) as report.html and takes its picture in headless Chromium
 * (Debian's `chromium`); prints the page's size and the time to draw it (median of the runs).
 * Fails if the page logs an error or requests anything.
 * Run: npm run build && node dist/bench/report-screenshot.js REPORT.json OUT.png
 *        [--dark] [--width 1000] [--max-height 1600] [--runs 3]
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { renderReportHtml } from '../src/report/html';
import { parseReport } from '../src/report/upgrade';
import { CHROMIUM, chromiumAvailable, visitPage } from './report-browser';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

function option(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = Number(args[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`Expected a positive number for ${name} but received ${args[i + 1]}`);
  return v;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const [input, png] = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.match(/^--(width|max-height|runs)$/));
  if (!input || !png) throw new Error('usage: report-screenshot REPORT.json OUT.png [--dark] [--width 1000] [--max-height N] [--runs 3]');
  if (!chromiumAvailable()) throw new Error(`${CHROMIUM} missing: apt-get install -y chromium (or set LAYERQ_CHROMIUM)`);
  const html = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'layerq-report-')), 'report.html');
  fs.writeFileSync(html, renderReportHtml(parseReport(fs.readFileSync(input, 'utf8'), input)));
  const width = option(args, '--width', 1000);
  const maxHeight = option(args, '--max-height', Infinity);
  const runs = option(args, '--runs', 3);
  const colorScheme = args.includes('--dark') ? 'dark' : 'light';

  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const last = i === runs - 1;
    const visit = await visitPage(html, async (page) => {
      if (!last) return;
      fs.mkdirSync(path.dirname(path.resolve(png)), { recursive: true });
      const height = Math.min(maxHeight, (await page.locator('body').boundingBox())?.height ?? 800);
      const shot = await page.screenshot({ fullPage: true, clip: { x: 0, y: 0, width, height: Math.ceil(height) } });
      // A page of flat colours: a palette PNG is a quarter of the size, for the README.
      await sharp(shot).png({ palette: true, compressionLevel: 9 }).toFile(png);
    }, { colorScheme, width });
    if (visit.errors.length || visit.requests.length) throw new Error(`the page logged ${JSON.stringify(visit.errors)} and requested ${JSON.stringify(visit.requests)}`);
    times.push(visit.renderMs);
  }
  const kib = fs.statSync(html).size / 1024;
  console.log(`${input}: report.html ${kib.toFixed(1)} KiB, drawn in ${median(times).toFixed(0)} ms (median of ${runs}; runs ${times.map((t) => t.toFixed(0)).join(', ')})`);
  console.log(`screenshot ${png} (${width} px wide, ${colorScheme}); no console error, no request`);
  fs.rmSync(path.dirname(html), { recursive: true, force: true });
}

main().catch((e: Error) => {
  console.error(`report-screenshot: ${e.message}`);
  process.exit(1);
});
