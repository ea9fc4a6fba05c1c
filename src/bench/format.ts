/** Terminal rendering of `layerq bench` results (markdown tables, so they paste into a README). */
import type { BenchResult, KernelResult } from '../api/bench';

const table = (head: string[], rows: string[][]): string[] => [
  `| ${head.join(' | ')} |`,
  `| ${head.map(() => '---').join(' | ')} |`,
  ...rows.map((r) => `| ${r.join(' | ')} |`),
];

const f1 = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const ms = (v: number | undefined): string => (v === undefined || Number.isNaN(v) ? '-' : v < 1 ? v.toFixed(3) : v.toFixed(2));

function cell(r: KernelResult | undefined, cpu: boolean): string {
  if (!r) return '-';
  if (!r.passed) return `FAILED: ${r.check}`;
  const shareOf = cpu ? r.cpuPeakShare : r.peakShare, speedup = cpu ? r.cpuSpeedupOverF32 : r.speedupOverF32;
  const share = shareOf === null ? '' : ` (${(100 * shareOf).toFixed(0)}%)`;
  const speed = speedup === undefined ? '' : ` ${speedup.toFixed(2)}x`;
  return `${f1(cpu ? r.cpuGops : r.gops)}${share}${speed}`;
}

export function formatBench(r: BenchResult): string {
  const s = r.system;
  const cpu = r.basis === 'cpu';
  const per = cpu ? 'per CPU time: each thread\'s own (other processes\' turns on the cores not counted)' : 'per wall time';
  const out: string[] = [
    `CPU        ${s.cpu.model} (${s.cpu.logicalCores} logical cores; kernel features: ${Object.entries(s.cpu.kernelFeatures).filter(([, v]) => v).map(([k]) => k).join(', ') || 'none'})`,
    `kernels    detected ${s.isa.detected} (int8 GEMM: ${s.cpu.int8Sequence}), paths ${r.isas.join(', ')}${s.isa.forced ? ` (LAYERQ_ISA=${s.isa.forced})` : ''}; threads ${r.threads.join(' and ')}`,
    `versions   layerq ${s.versions.layerq}, node ${s.versions.node}, addon built with ${s.versions.compiler}`,
    '',
    `Peak: register-only loops of each instruction sequence (GOPS: 10^9 ops/s, 2 ops per multiply-accumulate, ${per}; best of the rounds)`,
  ];
  const rate = (p: { gops: number; cpuGops: number } | undefined): number | undefined => (p ? (cpu ? p.cpuGops : p.gops) : undefined);
  const f32Peak = (t: number, isa: string): number | undefined => rate(r.peaks.find((p) => p.dtype === 'f32' && p.isa === isa && p.threads === t));
  const names = [...new Set(r.peaks.map((p) => p.name))];
  out.push(...table(
    ['probe', 'path', 'sequence', ...r.threads.map((t) => `${t} thread${t > 1 ? 's' : ''} GOPS`), 'per core vs f32 FMA'],
    names.map((n) => {
      const ps = r.peaks.filter((p) => p.name === n);
      const p1 = ps.find((p) => p.threads === 1)!;
      const base = f32Peak(1, p1.isa === 'avx512' ? 'avx512' : p1.isa);
      return [n, p1.isa, p1.sequence, ...r.threads.map((t) => f1(rate(ps.find((p) => p.threads === t)) ?? NaN)), base ? `${(rate(p1)! / base).toFixed(2)}x` : '-'];
    }),
  ));
  if (r.kernels) {
    const k = r.kernels;
    const cols = k.rows[0]?.results.map((x) => ({ dtype: x.dtype, isa: x.isa, threads: x.threads })) ?? [];
    out.push('', `Kernels: ${k.source === 'standard' ? 'standard shapes' : k.source}, batch ${k.batch}. GOPS ${per} (share of the path's peak probe at the same threads); int8 (W8A8) and w4a8 (4-bit weights) cells end with their speed-up over FP32 on the same path. Each path checked against the scalar reference first (int8 and w4a8 bit-exact, f32 within 1e-5).`);
    out.push(...table(
      ['layer', 'count', 'M x N x K', ...cols.map((c) => `${c.dtype} ${c.isa} ${c.threads}t`)],
      k.rows.map((row) => [
        row.name, String(row.count), `${row.gemm.m} x ${row.gemm.n} x ${row.gemm.k}${row.shape.group > 1 ? ` (x${row.shape.group} groups)` : ''}`,
        ...cols.map((c) => cell(row.results.find((x) => x.dtype === c.dtype && x.isa === c.isa && x.threads === c.threads), cpu)),
      ]),
    ));
    if (k.totals.length) {
      out.push('', 'All rows, count-weighted (ms per batch, GOPS):');
      out.push(...table(['dtype', 'path', 'threads', 'ms', 'GOPS'], k.totals.map((t) => [t.dtype, t.isa, String(t.threads), ms((cpu ? t.cpuSeconds : t.seconds) * 1e3), f1(cpu ? t.cpuGops : t.gops)])));
    }
  }
  if (r.profile) {
    const p = r.profile;
    const head = p.batches.flatMap((b) => [`batch ${b} fp32 ms`, `batch ${b} int8 ms`]);
    out.push('', `Profile: ${p.model}, ms per batch (fastest of ${p.rounds} runs after ${p.warmupMs / 1000} s of warm-up, per step and whole; the int8 engine is ${p.int8Plan}, float-residual, kernels ${s.isa.active}; both engines layer by layer, without the inference fusions)`);
    out.push(...table(['', ...head, ...p.batches.map((b) => `batch ${b} int8 / fp32`)], [
      ['whole run', ...p.batches.flatMap((_, i) => [ms(p.fp32TotalMs[i]), ms(p.int8TotalMs[i])]), ...p.batches.map((_, i) => (p.int8TotalMs[i]! / p.fp32TotalMs[i]!).toFixed(2))],
      ...p.categories.map((c) => [c.category, ...p.batches.flatMap((_, i) => [ms(c.fp32Ms[i]), ms(c.int8Ms[i])]), ...p.batches.map(() => '')]),
    ]));
    out.push('', 'Per step:');
    out.push(...table(['step', 'op', 'category', ...head], p.steps.map((st) => [
      st.name, st.op, st.category, ...p.batches.flatMap((_, i) => [ms(st.fp32Ms?.[i]), ms(st.int8Ms?.[i])]),
    ])));
  }
  return `${out.join('\n')}\n`;
}
