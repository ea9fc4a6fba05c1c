/**
 * report.html: one self-contained page drawn from report.json alone. Inline SVG and CSS, no
 * script, no external resource (a Content-Security-Policy forbids any), light and dark, printable.
 * Sections whose data a report lacks (older versions, runs without search or profile) are left
 * out. Pure and deterministic: the same report gives the same bytes.
 */
import { configLine, headline, perClassSection, planSection, profileSection, searchSection, sensitivitySection } from './html-sections';
import { REPORT_CSS } from './html-style';
import type { ReadableReport } from './upgrade';
import { esc } from './svg';

/** Nothing may load from anywhere: styles and images inline only. */
const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/** The page for `report` (any version, brought to the current shape by `parseReport`). */
export function renderReportHtml(report: ReadableReport): string {
  const name = report.model.split(/[\\/]/).pop() ?? report.model;
  const { sensitivity, search, perClass, profile } = report;
  type Section = [id: string, title: string, html: string];
  const sections = [
    ['headline', 'Headline', headline(report)],
    sensitivity && ['sensitivity', 'Sensitivity', sensitivitySection(report, sensitivity)],
    search && ['search', 'Search', searchSection(report, search)],
    ['plan', 'Final plan', planSection(report)],
    perClass?.length && ['per-class', 'Per class', perClassSection(perClass)],
    profile?.layers.length && ['profile', 'Time per layer', profileSection(profile)],
  ].filter((s): s is Section => Array.isArray(s));
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="generator" content="layerq report.json version ${esc(report.version)}">
<title>layerq: ${esc(name)} ${esc(`W${report.config.weightBits}A${report.config.activationBits}`)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<header>
<h1>layerq report: ${esc(name)}</h1>
<div class="sub">${esc(configLine(report))}</div>
<nav>${sections.map(([id, title]) => `<a href="#${id}">${esc(title)}</a>`).join('')}</nav>
</header>
<main>
${sections.map(([, , html]) => html).join('\n')}
</main>
<footer class="muted"><p>${esc(`Drawn from report.json (version ${report.version}) by layerq${report.run ? ` ${report.run.layerqVersion}` : ''}.`)}</p></footer>
</body>
</html>
`;
}
