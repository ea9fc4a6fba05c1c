/** `layerq report`: draws report.json (any version) as a self-contained report.html. */
import * as fs from 'fs';
import * as path from 'path';
import { LayerqError, fsError, quote } from '../errors';
import { FILE_LIMITS } from '../util/limits';
import { UnreadableFileError, readRegularFileSync } from '../util/read-file';
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
    throw new LayerqError('FILE_NOT_FOUND', `report file not found: ${quote(reportPath, 200)}`);
  }
  let text: string;
  try {
    text = readRegularFileSync(reportPath, FILE_LIMITS.listFile).toString('utf8');
  } catch (e) {
    if (e instanceof UnreadableFileError) throw new LayerqError('BAD_ARGUMENT', `report file ${quote(reportPath, 200)}: ${e.reason}`);
    throw fsError(e, 'BAD_ARGUMENT', 'cannot read the report file', reportPath);
  }
  const html = reportHtml(text, reportPath);
  writeFileAtomic(htmlPath, html);
  return { htmlPath, bytes: Buffer.byteLength(html), version: parseReport(text, reportPath).version };
}

/** The page of a report.json's text (`where` names it in errors). */
export function reportHtml(reportText: string, where: string): string {
  return renderReportHtml(parseReport(reportText, where));
}
