/** `layerq report`: draws report.json (any version) as a self-contained report.html. */
import * as fs from 'fs';
import * as path from 'path';
import { LayerqError } from '../errors';
import { renderReportHtml } from '../report/html';
import { writeFileAtomic } from '../report/report';
import { parseReport } from '../report/upgrade';

export interface ReportHtmlResult {
  htmlPath: string;
  /** Size of the page written. */
  bytes: number;
  /** report.json's version. */
  version: number;
}

/**
 * Reads `reportPath` (report.json of version 1 or later) and writes its page to `htmlPath`
 * (default: report.html beside it), atomically. Called by `quantize` after report.json.
 */
export function writeReportHtml(reportPath: string, htmlPath = path.join(path.dirname(reportPath), 'report.html')): ReportHtmlResult {
  if (!fs.existsSync(reportPath) || !fs.statSync(reportPath).isFile()) {
    throw new LayerqError('FILE_NOT_FOUND', `report file not found: ${reportPath}`);
  }
  const report = parseReport(fs.readFileSync(reportPath, 'utf8'), reportPath);
  const html = renderReportHtml(report);
  writeFileAtomic(htmlPath, html);
  return { htmlPath, bytes: Buffer.byteLength(html), version: report.version };
}
