/** Whole-model charts of the report page: MAC shares by bit width, and per-class accuracy. */
import type { QuantizeReport } from './report';
import { bitClass } from './html-parts';
import { esc, line, linear, rect, svg, text, ticks, xAxis } from './svg';

const WIDTH = 900;

/** Bit-width keys widest first, float first of all: float, 8, 7, 4. */
function byWidth(keys: string[]): string[] {
  const rank = (k: string): number => (k === 'float' ? Infinity : Number(k));
  return [...keys].sort((a, b) => rank(b) - rank(a));
}

/** Two stacked bars, weights and inputs: the share of MACs (percent) at each bit width. */
export function macShareBars(share: QuantizeReport['macShare']): string {
  const x = linear(0, 100, 80, WIDTH - 10);
  const row = (label: string, kind: string, shares: Record<string, number>, y: number): string => {
    let at = 0;
    const segments = byWidth(Object.keys(shares)).map((k) => {
      const v = shares[k]!;
      const w = x(at + v) - x(at);
      const name = k === 'float' ? 'float' : `${k}-bit`;
      const seg = rect(x(at), y, w, 22, `cell ${bitClass(k)}`, `${label}: ${name} ${v.toFixed(1)}% of MACs`, ` data-share="${esc(`${kind}:${k}`)}"`)
        + (w > 70 ? text(x(at) + w / 2, y + 15, `${name} ${v.toFixed(1)}%`, 'cell-text', 'middle') : '');
      at += v;
      return seg;
    });
    return text(72, y + 15, label, 'tick', 'end') + segments.join('');
  };
  const body = row('weights', 'w', share.weightBits, 4) + row('inputs', 'a', share.activationBits, 30);
  return svg(WIDTH, 56, 'Share of MACs by bit width', body, 'macshare');
}

/** Per class, FP32 and quantized top-1 as paired bars, the classes that lost most first. */
export function perClassChart(rows: QuantizeReport['perClass']): string {
  const sorted = [...rows].sort((a, b) => a.quantized - a.fp32 - (b.quantized - b.fp32) || a.name.localeCompare(b.name));
  const labelW = 150;
  const rowH = 18;
  const top = 8;
  const x = linear(0, 100, labelW, WIDTH - 80);
  const bottom = top + sorted.length * rowH;
  const body = sorted.map((c, i) => {
    const y = top + i * rowH;
    const delta = c.quantized - c.fp32;
    return `<g class="class-row" data-class="${esc(c.name)}">`
      + text(labelW - 8, y + rowH / 2 + 4, c.name, 'label', 'end')
      + rect(x(0), y + 2, x(c.fp32) - x(0), (rowH - 4) / 2, 'bar fp32', `${c.name}: FP32 ${c.fp32.toFixed(2)}% of ${c.images}`)
      + rect(x(0), y + rowH / 2, x(c.quantized) - x(0), (rowH - 4) / 2, 'bar quant', `${c.name}: quantized ${c.quantized.toFixed(2)}% of ${c.images}`)
      + text(WIDTH - 8, y + rowH / 2 + 4, `${delta >= 0 ? '+' : '-'}${Math.abs(delta).toFixed(1)}`, delta < 0 ? 'tick loss' : 'tick', 'end')
      + '</g>';
  }).join('\n');
  const axis = xAxis(ticks(0, 100, 5), x, bottom + 4, top, (v) => `${v}%`) + line(x(0), top, x(0), bottom, 'zero');
  return svg(WIDTH, bottom + 22, 'Per-class top-1, FP32 against quantized', axis + body, 'perclass');
}
