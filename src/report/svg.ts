/**
 * Small building blocks for the report page's inline SVG charts: escaping, linear scales, ticks,
 * and elements. Every function returns markup as a string; colours come from CSS classes (the
 * page's stylesheet switches them for dark mode and print), never from attributes.
 */

/** Escapes text for HTML and SVG content and attribute values. */
export function esc(text: string | number): string {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Numbers in SVG coordinates: at most 2 decimals, no exponent. */
export const num = (v: number): string => String(Math.round(v * 100) / 100);

/** Maps [d0, d1] linearly onto [r0, r1]; a degenerate domain maps everything to r0. */
export function linear(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const span = d1 - d0;
  return (v) => (span === 0 ? r0 : r0 + ((v - d0) / span) * (r1 - r0));
}

/** About `count` round tick values (1, 2 or 5 times a power of ten) covering [lo, hi]. */
export function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  // Multiples of the step, rounded so that 3 * 0.01 prints as 0.03 and -0 as 0.
  for (let k = Math.ceil(lo / step); k * step <= hi + step * 1e-9; k++) out.push(Number((k * step).toPrecision(12)) + 0);
  return out;
}

/** A <title> child: the tooltip a pointer shows, and what a screen reader reads. */
export const tip = (text: string): string => (text ? `<title>${esc(text)}</title>` : '');

export function rect(x: number, y: number, w: number, h: number, cls: string, title = '', attrs = ''): string {
  const left = w < 0 ? x + w : x;
  return `<rect x="${num(left)}" y="${num(y)}" width="${num(Math.abs(w))}" height="${num(h)}" class="${cls}"${attrs}>${tip(title)}</rect>`;
}

export function line(x1: number, y1: number, x2: number, y2: number, cls: string, title = ''): string {
  return `<line x1="${num(x1)}" y1="${num(y1)}" x2="${num(x2)}" y2="${num(y2)}" class="${cls}">${tip(title)}</line>`;
}

export function text(x: number, y: number, content: string, cls = '', anchor: 'start' | 'middle' | 'end' = 'start'): string {
  return `<text x="${num(x)}" y="${num(y)}"${cls ? ` class="${cls}"` : ''}${anchor === 'start' ? '' : ` text-anchor="${anchor}"`}>${esc(content)}</text>`;
}

export function circle(cx: number, cy: number, r: number, cls: string, title = '', attrs = ''): string {
  return `<circle cx="${num(cx)}" cy="${num(cy)}" r="${num(r)}" class="${cls}"${attrs}>${tip(title)}</circle>`;
}

/** A polyline through points [x, y]. */
export function path(points: [number, number][], cls: string): string {
  if (points.length === 0) return '';
  return `<path d="${points.map(([x, y], i) => `${i ? 'L' : 'M'}${num(x)} ${num(y)}`).join('')}" class="${cls}"/>`;
}

/** The chart's outer element, `width` x `height` user units, scaled down to fit narrow pages. */
export function svg(width: number, height: number, label: string, body: string, cls = ''): string {
  return `<svg class="chart${cls ? ` ${cls}` : ''}" viewBox="0 0 ${num(width)} ${num(height)}" width="${num(width)}" height="${num(height)}" role="img" aria-label="${esc(label)}">${body}</svg>`;
}

/** A vertical axis at x: tick lines across to `x2`, labels on the left. */
export function yAxis(ticksAt: number[], y: (v: number) => number, x: number, x2: number, format: (v: number) => string): string {
  return ticksAt.map((t) => line(x, y(t), x2, y(t), 'grid') + text(x - 4, y(t) + 3.5, format(t), 'tick', 'end')).join('');
}

/** A horizontal axis at y: tick lines up to `y2`, labels below. */
export function xAxis(ticksAt: number[], x: (v: number) => number, y: number, y2: number, format: (v: number) => string): string {
  return ticksAt.map((t) => line(x(t), y2, x(t), y, 'grid') + text(x(t), y + 12, format(t), 'tick', 'middle')).join('');
}

/** Shortens a long name in the middle ("/layer3/la…/conv2/Conv"); the full name goes in a tooltip. */
export function shorten(name: string, max: number): string {
  if (name.length <= max) return name;
  const head = Math.ceil((max - 1) / 2);
  return `${name.slice(0, head)}…${name.slice(name.length - (max - 1 - head))}`;
}
