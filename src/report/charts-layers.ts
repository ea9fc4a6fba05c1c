/**
 * Per-layer charts of the report page, one row or cell per layer in network order: sensitivity
 * (top-1 drop with the threshold, and the smooth loss split into weight and activation parts),
 * the final plan's layer strip (bit widths, float layers, MACs), and the FP32/int8 time profile.
 */
import type { LayerSensitivity, ReportLayer, SensitivityReport } from './report';
import { bitClass, bitLabel, macs } from './html-parts';
import { esc, line, linear, rect, shorten, svg, text, ticks, tip, xAxis } from './svg';

const WIDTH = 900;
const LABEL_W = 210;
const ROW_H = 16;
const TOP = 30;
const BOTTOM = 26;

/** A row's label: the layer id, shortened, the full id on hover. */
function rowLabel(id: string, y: number, cls = ''): string {
  return `<text x="${LABEL_W - 8}" y="${y + ROW_H / 2 + 4}" text-anchor="end" class="label${cls ? ` ${cls}` : ''}">${tip(id)}${esc(shorten(id, 32))}</text>`;
}

/** Sensitivity entries in network order (layers the plan lacks at the end). */
function inNetworkOrder(layers: readonly ReportLayer[], s: SensitivityReport): LayerSensitivity[] {
  const rank = new Map(layers.map((l, i) => [l.id, i]));
  return [...s.layers].sort((a, b) => (rank.get(a.id) ?? Infinity) - (rank.get(b.id) ?? Infinity));
}

/**
 * One row per analysed layer: left, the top-1 drop when the layer alone is quantized (points,
 * whisker = one standard error) against the threshold; right, the smooth loss (KL, nats) of its
 * weights alone and of its input activation alone, stacked.
 */
export function sensitivityChart(layers: readonly ReportLayer[], s: SensitivityReport): string {
  const rows = inNetworkOrder(layers, s);
  const dropLo = Math.min(0, ...rows.map((r) => r.drop - r.dropStandardError));
  const dropHi = Math.max(s.threshold, ...rows.map((r) => r.drop + r.dropStandardError)) * 1.05 || 1;
  const dropX = linear(dropLo, dropHi, LABEL_W, 560);
  const lossHi = Math.max(...rows.map((r) => r.weightLoss + r.activationLoss), 1e-9);
  const lossX = linear(0, lossHi, 600, WIDTH - 20);
  const bottom = TOP + rows.length * ROW_H;
  const body = rows.map((r, i) => {
    const y = TOP + i * ROW_H;
    const target = r.target ? ' target' : '';
    const whisker = r.dropStandardError > 0 ? line(dropX(r.drop - r.dropStandardError), y + ROW_H / 2, dropX(r.drop + r.dropStandardError), y + ROW_H / 2, 'whisker') : '';
    const w = lossX(r.weightLoss) - lossX(0);
    return `<g class="sens-row${target}" data-layer="${esc(r.id)}">${rowLabel(r.id, y, target.trim())}`
      + rect(dropX(0), y + 2, dropX(r.drop) - dropX(0), ROW_H - 4, `bar sens-drop${target}`, `${r.id}: top-1 ${r.drop.toFixed(2)} ± ${r.dropStandardError.toFixed(2)} points when quantized alone${r.target ? ' (target)' : ''}`)
      + whisker
      + rect(lossX(0), y + 3, w, ROW_H - 6, 'bar weight', `${r.id}: weights alone, loss ${r.weightLoss.toExponential(2)} nats`)
      + rect(lossX(0) + w, y + 3, lossX(r.activationLoss) - lossX(0), ROW_H - 6, 'bar activation', `${r.id}: input activation alone, loss ${r.activationLoss.toExponential(2)} nats`)
      + '</g>';
  }).join('\n');
  const fmtLoss = (v: number): string => (v === 0 ? '0' : v.toPrecision(2));
  const parts = [
    text(LABEL_W, 14, 'top-1 drop when quantized alone (points)', 'axis-title'),
    text(600, 14, 'loss (KL, nats): weights | activation', 'axis-title'),
    xAxis(ticks(dropLo, dropHi, 5), dropX, bottom + 4, TOP - 4, (v) => v.toFixed(Math.abs(dropHi - dropLo) < 2 ? 1 : 0)),
    xAxis(ticks(0, lossHi, 3), lossX, bottom + 4, TOP - 4, fmtLoss),
    line(dropX(0), TOP - 4, dropX(0), bottom, 'zero'),
    body,
    line(dropX(s.threshold), TOP - 8, dropX(s.threshold), bottom + 2, 'threshold', `threshold ${s.threshold.toFixed(2)} points`),
    text(dropX(s.threshold) + 3, TOP - 8, `threshold ${s.threshold.toFixed(2)}`, 'threshold-label'),
  ];
  return svg(WIDTH, bottom + BOTTOM, 'Per-layer sensitivity', parts.join('\n'), 'sensitivity');
}

/**
 * The final plan as a strip of equal cells in network order: weight bits, input bits, and below a
 * bar for each layer's MACs. Cells are numbered; the layer table gives the numbers' ids.
 */
export function layerStrip(layers: readonly ReportLayer[]): string {
  const left = 70;
  const cell = Math.max(6, Math.min(36, (WIDTH - left - 10) / Math.max(1, layers.length)));
  const maxMacs = Math.max(...layers.map((l) => l.macs), 1);
  const macsH = 40;
  const cells = layers.map((l, i) => {
    const x = left + i * cell;
    const tipText = `#${i + 1} ${l.id} (${l.kind}): weights ${bitLabel(l.weightBits)}, input ${bitLabel(l.activationBits)}, ${macs(l.macs)} MACs, ${l.candidate}`;
    const label = (y: number, bits: number | null): string => (cell >= 16 ? text(x + cell / 2, y, l.weightBits === null && bits === null ? 'F' : bitLabel(bits), 'cell-text', 'middle') : '');
    const h = (l.macs / maxMacs) * macsH;
    return `<g class="strip-cell" data-layer="${esc(l.id)}">`
      + rect(x + 0.5, 4, cell - 1, 22, `cell ${bitClass(l.weightBits)}`, tipText) + label(19, l.weightBits)
      + rect(x + 0.5, 28, cell - 1, 22, `cell ${bitClass(l.activationBits)}`, tipText) + label(43, l.activationBits)
      + rect(x + 0.5, 54 + macsH - h, cell - 1, h, 'bar macs', tipText)
      + (cell >= 14 || (i + 1) % 5 === 0 ? text(x + cell / 2, 54 + macsH + 12, String(i + 1), 'tick', 'middle') : '')
      + '</g>';
  }).join('\n');
  const heads = text(left - 6, 19, 'weights', 'tick', 'end') + text(left - 6, 43, 'input', 'tick', 'end') + text(left - 6, 54 + macsH, 'MACs', 'tick', 'end');
  return svg(Math.min(WIDTH, left + layers.length * cell + 10), 54 + macsH + 18, 'Final plan by layer', heads + cells, 'strip');
}

/** Paired bars per layer: FP32 and int8 time (ms), the int8 speed-up at the right. */
export function profileChart(rows: readonly { id: string; fp32Ms: number; int8Ms: number }[]): string {
  const hi = Math.max(...rows.map((r) => Math.max(r.fp32Ms, r.int8Ms)), 1e-9);
  const x = linear(0, hi, LABEL_W, WIDTH - 70);
  const bottom = TOP + rows.length * ROW_H;
  const body = rows.map((r, i) => {
    const y = TOP + i * ROW_H;
    const speedup = r.int8Ms > 0 ? `${(r.fp32Ms / r.int8Ms).toFixed(2)}x` : '';
    return `<g class="profile-row" data-layer="${esc(r.id)}">${rowLabel(r.id, y)}`
      + rect(x(0), y + 2, x(r.fp32Ms) - x(0), (ROW_H - 4) / 2, 'bar fp32', `${r.id}: FP32 ${r.fp32Ms.toFixed(3)} ms`)
      + rect(x(0), y + ROW_H / 2, x(r.int8Ms) - x(0), (ROW_H - 4) / 2, 'bar quant', `${r.id}: int8 ${r.int8Ms.toFixed(3)} ms`)
      + text(WIDTH - 8, y + ROW_H / 2 + 4, speedup, 'tick', 'end')
      + '</g>';
  }).join('\n');
  const parts = [
    text(LABEL_W, 14, 'time a batch (ms)', 'axis-title'),
    text(WIDTH - 8, 14, 'FP32 / int8', 'axis-title', 'end'),
    xAxis(ticks(0, hi, 5), x, bottom + 4, TOP - 4, (v) => String(Number(v.toPrecision(3)))),
    body,
  ];
  return svg(WIDTH, bottom + BOTTOM, 'Per-layer time, FP32 against int8', parts.join('\n'), 'profile');
}
