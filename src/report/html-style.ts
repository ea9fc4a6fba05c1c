/**
 * The report page's stylesheet. Colours are CSS variables, switched by prefers-color-scheme and
 * reset to light for print; each colour class sets `fill` (SVG) and `background` (HTML swatches)
 * so a legend and its chart share one rule.
 */
export const REPORT_CSS = `
:root {
  --bg: #ffffff; --fg: #1d2125; --muted: #5f6b76; --grid: #e3e7eb; --panel: #f5f7f9; --border: #d5dbe1;
  --b8: #3b7dd8; --b7: #5aa7c9; --b4: #e8893a; --bfloat: #9aa3ab; --bother: #8e6cc9;
  --fp32: #8a96a3; --quant: #3b7dd8; --weight: #e8893a; --activation: #3b7dd8;
  --drop: #6f8fb3; --target: #d1495b; --threshold: #d1495b; --accept: #2a9d5c; --band: #eef1f4;
  --link: #2f6fbf;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #14181c; --fg: #e4e8ec; --muted: #9aa6b2; --grid: #2b3239; --panel: #1c2228; --border: #343d46;
    --b8: #5b9bef; --b7: #6cc0de; --b4: #f0a05a; --bfloat: #6e7882; --bother: #a88be0;
    --fp32: #7d8a97; --quant: #5b9bef; --weight: #f0a05a; --activation: #5b9bef;
    --drop: #7fa2cb; --target: #ef6b7b; --threshold: #ef6b7b; --accept: #4cc283; --band: #1f262d;
    --link: #7fb0f0;
  }
}
@media print {
  :root {
    --bg: #ffffff; --fg: #000000; --muted: #444444; --grid: #dddddd; --panel: #ffffff; --border: #bbbbbb; --band: #f1f1f1;
  }
  body { margin: 0; max-width: none; }
  section, svg, .figures { break-inside: avoid; }
  details > summary { display: none; }
}
* { box-sizing: border-box; }
body {
  margin: 0 auto; padding: 24px; max-width: 980px; background: var(--bg); color: var(--fg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif;
  -webkit-print-color-adjust: exact; print-color-adjust: exact;
}
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--border); }
h3 { font-size: 14px; margin: 16px 0 6px; }
code { font: 12px/1.4 ui-monospace, "DejaVu Sans Mono", monospace; word-break: break-all; }
.muted, .sub { color: var(--muted); }
nav a { color: var(--link); margin-right: 12px; text-decoration: none; }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(200px, 1fr)); gap: 10px; }
.figure { background: var(--panel); border: 1px solid var(--border); border-radius: 6px; padding: 10px 12px; }
.figure .label { color: var(--muted); font-size: 12px; }
.figure .value { font-size: 24px; font-weight: 600; font-variant-numeric: tabular-nums; }
.figure .note { color: var(--muted); font-size: 12px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 3px 14px; margin: 12px 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
table { border-collapse: collapse; font-size: 12px; margin: 6px 0; font-variant-numeric: tabular-nums; }
th, td { padding: 2px 8px; border-bottom: 1px solid var(--grid); text-align: left; }
th { color: var(--muted); font-weight: 600; }
td.num, th.num { text-align: right; }
table.layers td:nth-child(2), table.trials td:nth-child(3) { max-width: 260px; overflow-wrap: anywhere; }
details summary { cursor: pointer; color: var(--link); margin: 8px 0; }
.yes { color: var(--accept); }
.no { color: var(--target); }
.legend { display: flex; flex-wrap: wrap; gap: 4px 16px; font-size: 12px; color: var(--muted); margin: 4px 0 8px; }
.legend span { display: inline-flex; align-items: center; gap: 5px; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; }
svg.chart { display: block; max-width: 100%; height: auto; margin: 6px 0; overflow: visible; }
svg text { fill: var(--fg); font-size: 11px; }
svg text.tick, svg text.band-label, svg text.level-label { fill: var(--muted); font-size: 10px; }
svg text.axis-title { fill: var(--muted); font-size: 11px; font-weight: 600; }
svg text.label.target { fill: var(--target); font-weight: 600; }
svg text.cell-text { fill: #ffffff; font-size: 10px; font-weight: 600; }
svg text.loss { fill: var(--target); }
svg text.threshold-label { fill: var(--threshold); font-size: 10px; }
.grid { stroke: var(--grid); stroke-width: 1; }
.zero { stroke: var(--muted); stroke-width: 1; }
.whisker { stroke: var(--fg); stroke-width: 1; opacity: 0.6; }
.band { fill: transparent; } .band.odd { fill: var(--band); }
.b8 { fill: var(--b8); background: var(--b8); } .b7 { fill: var(--b7); background: var(--b7); }
.b4 { fill: var(--b4); background: var(--b4); } .bfloat { fill: var(--bfloat); background: var(--bfloat); }
.bother { fill: var(--bother); background: var(--bother); }
.macs { fill: var(--muted); opacity: 0.6; }
.fp32 { fill: var(--fp32); background: var(--fp32); } .quant { fill: var(--quant); background: var(--quant); }
.weight { fill: var(--weight); background: var(--weight); } .activation { fill: var(--activation); background: var(--activation); }
.sens-drop { fill: var(--drop); background: var(--drop); } .sens-drop.target { fill: var(--target); background: var(--target); }
line.threshold { stroke: var(--threshold); stroke-width: 1.5; stroke-dasharray: 5 3; } .swatch.threshold { background: var(--threshold); height: 3px; }
line.ref-fp32 { stroke: var(--fp32); stroke-width: 1.5; }
line.ref-target { stroke: var(--threshold); stroke-width: 1.5; stroke-dasharray: 5 3; } .swatch.ref-target { background: var(--threshold); height: 3px; }
path.model-level { fill: none; stroke: var(--accept); stroke-width: 2; } .swatch.model-level { background: var(--accept); height: 3px; }
circle.trial { stroke-width: 1.5; }
circle.trial.model { fill: var(--quant); stroke: var(--quant); } .swatch.trial.model { background: var(--quant); border-radius: 50%; }
circle.trial.layer { fill: var(--bg); stroke: var(--quant); } .swatch.trial.layer { border: 1.5px solid var(--quant); border-radius: 50%; }
circle.trial.accepted { stroke: var(--accept); stroke-width: 2.5; } .swatch.trial.accepted { border: 2.5px solid var(--accept); border-radius: 50%; }
circle.trial.screened { opacity: 0.35; } .swatch.trial.screened { background: var(--quant); opacity: 0.35; border-radius: 50%; }
`;
