/** Number formats and small HTML pieces shared by the report page's sections. */
import { esc } from './svg';

/** Percent with 2 decimals, as report.json's accuracies are compared. */
export const pct = (v: number): string => `${v.toFixed(2)}%`;

/** A change in points with its sign: "+0.35", "-12.40". */
export const points = (v: number): string => `${v >= 0 ? '+' : '-'}${Math.abs(v).toFixed(2)}`;

/** Multiply-accumulates: "41.0 M", "1.23 G". */
export function macs(v: number): string {
  if (v >= 1e9) return `${(v / 1e9).toFixed(2)} G`;
  if (v >= 1e6) return `${(v / 1e6).toFixed(1)} M`;
  return `${(v / 1e3).toFixed(1)} k`;
}

export function bytes(v: number): string {
  if (v >= 1 << 20) return `${(v / (1 << 20)).toFixed(2)} MiB`;
  return `${(v / 1024).toFixed(1)} KiB`;
}

export function seconds(v: number): string {
  return v >= 100 ? `${v.toFixed(0)} s` : v >= 10 ? `${v.toFixed(1)} s` : `${v.toFixed(2)} s`;
}

/** Bit width for people: "8", "4", "float". */
export const bitLabel = (bits: number | null): string => (bits === null ? 'float' : String(bits));

/** CSS class colouring a bit width: b8, b7, b4, bfloat (other widths: bother). */
export function bitClass(bits: number | null | string): string {
  const key = bits === null ? 'float' : String(bits);
  return ['8', '7', '4', 'float'].includes(key) ? `b${key}` : 'bother';
}

/** A headline figure; `key` names it for tests and scripts (data-figure). */
export function figure(label: string, value: string, key: string, note = ''): string {
  return `<div class="figure"><div class="label">${esc(label)}</div><div class="value" data-figure="${esc(key)}">${esc(value)}</div>${note ? `<div class="note">${note}</div>` : ''}</div>`;
}

/** A table: cells are markup (escape text before passing it); numeric columns right-aligned. */
export function table(head: string[], rows: string[][], numeric: number[] = [], cls = ''): string {
  const align = (i: number): string => (numeric.includes(i) ? ' class="num"' : '');
  const th = head.map((h, i) => `<th${align(i)}>${esc(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c, i) => `<td${align(i)}>${c}</td>`).join('')}</tr>`).join('\n');
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** A definition list of label -> markup pairs. */
export function facts(pairs: [string, string][]): string {
  return `<dl class="facts">${pairs.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${v}</dd>`).join('')}</dl>`;
}

export function section(id: string, title: string, body: string): string {
  return `<section id="${esc(id)}"><h2>${esc(title)}</h2>\n${body}\n</section>`;
}

/** A colour key: [css class, label] pairs. */
export function legend(items: [string, string][]): string {
  return `<div class="legend">${items.map(([cls, label]) => `<span><i class="swatch ${cls}"></i>${esc(label)}</span>`).join('')}</div>`;
}
