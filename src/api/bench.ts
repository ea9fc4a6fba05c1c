/**
 * `layerq bench`: what this CPU can do and how close layerq's kernels come to it.
 * (a) peak probes: register-only loops of each kernel's instruction sequence, 1 and N threads;
 * (b) kernels on layer shapes (a model's, or the standard list): int8 against FP32 on every
 *     ISA path, each checked against the scalar reference before it is timed, GOPS and share of
 *     the path's peak;
 * (c) with `profile`, the FP32 and int8 engines' time per step of a whole model.
 */
import { isaInfo, setThreads, type IsaName } from '../engine/addon';
import { badArgument } from '../errors';
import { loadClassifier } from './model';
import { layerMacs, measurePeak, nativeCpu, peakProbes, timeLayer, type LayerTiming, type PeakProbeInfo } from '../bench/native-bench';
import { BenchLayer, modelLayers, standardLayers } from '../bench/shapes';
import { profileModel, type ProfileResult } from '../bench/profile';
import { systemInfo, type SystemInfo } from '../bench/system';

/** int8: W8A8; w4a8: int8 activations, 4-bit weights (on AVX2 their own vpmaddubsw kernels). */
export type BenchDtype = 'f32' | 'int8' | 'w4a8';

export interface BenchOptions {
  /** Time the Conv/Gemm shapes of this ONNX model instead of the standard list. */
  model?: string;
  /** Profile this ONNX model per step, FP32 against int8. */
  profile?: string;
  /** Skip the kernel table (default: on unless only `profile` is asked for). */
  kernels?: boolean;
  /** Only the layers whose name contains this text (e.g. 'dw 3x3', 'pw 1x1', '@8'). */
  filter?: string;
  /** Batch of the kernel shapes (default 64). */
  batch?: number;
  /** Batches of the profile (default [1, 64]). */
  profileBatches?: number[];
  /** Weight bits of the profile's int8 engine: 8 (W8A8, default) or 4 (W4A8). */
  profileWeightBits?: 4 | 8;
  /** N of the "1 and N threads" columns (default: the kernels' thread count, all cores). */
  threads?: number;
  /** Kernel paths (default: every SIMD path this CPU has; 'scalar' only on request). */
  isas?: IsaName[];
  /** Shorter timing (about 4x less time; noisier). */
  quick?: boolean;
  /**
   * Rates from CPU time instead of wall time (GOPS, shares of peak and speed-ups in the text;
   * the JSON has both): on a shared machine, time other processes hold the cores does not count.
   */
  cpuTime?: boolean;
  onProgress?: (stage: string, done: number, total: number) => void;
}

export interface PeakResult extends PeakProbeInfo {
  threads: number;
  /** Best rate over the repeats, all threads together, 10^9 ops/s (2 per multiply-accumulate), per wall time. */
  gops: number;
  /** The same per each thread's own CPU time (summed over the threads). */
  cpuGops: number;
}

export interface KernelResult {
  dtype: BenchDtype;
  isa: IsaName;
  threads: number;
  /** 'bit-exact' (int8), 'max abs diff D <= T' (f32), or why it failed (then nothing is timed). */
  check: string;
  passed: boolean;
  /** One call: fastest sample, median sample. */
  seconds: number;
  medianSeconds: number;
  /** One call's least process CPU time, all threads together (not counting other processes' time on a shared machine). */
  cpuSeconds: number;
  /** 2 * MACs / seconds / 1e9. */
  gops: number;
  /** 2 * MACs * threads / cpuSeconds / 1e9: per core-second of CPU time, times the threads. */
  cpuGops: number;
  /** The probe the path's kernels are built from, and gops (cpuGops) as a share of its rate (CPU rate) at these threads. */
  peakProbe: string | null;
  peakShare: number | null;
  cpuPeakShare: number | null;
  /** int8 rows: FP32 time / int8 time on the same path and threads, wall and CPU. */
  speedupOverF32?: number;
  cpuSpeedupOverF32?: number;
}

export interface KernelRow extends BenchLayer {
  macs: number;
  results: KernelResult[];
}

export interface KernelTotals {
  dtype: BenchDtype;
  isa: IsaName;
  threads: number;
  /** Sum over the rows of count * seconds: the network's conv/Gemm time per batch. */
  seconds: number;
  gops: number;
  /** The same from CPU time (cpuSeconds / threads per call). */
  cpuSeconds: number;
  cpuGops: number;
}

export interface BenchResult {
  system: SystemInfo;
  /** What the text output's rates are per: wall time, or CPU time (BenchOptions.cpuTime). */
  basis: 'wall' | 'cpu';
  /** Thread counts measured: 1 and N. */
  threads: number[];
  isas: IsaName[];
  peaks: PeakResult[];
  kernels?: { source: string; batch: number; rows: KernelRow[]; totals: KernelTotals[] };
  profile?: ProfileResult;
}

/** The fast kernel paths of this CPU: AVX2 (and AVX-512) on x86, NEON on AArch64; scalar when none. */
export function defaultIsas(): IsaName[] {
  const d = isaInfo().detected;
  if (d === 'avx512') return ['avx2', 'avx512'];
  return [d];
}

/** The peak probe whose instruction sequence the `dtype` kernels of `isa` are built from. */
export function kernelProbe(dtype: BenchDtype, isa: IsaName, probes: readonly PeakProbeInfo[]): string | null {
  const has = (n: string): string | null => (probes.some((p) => p.name === n) ? n : null);
  if (dtype === 'f32') return isa === 'avx2' ? has('f32-fma-avx2') : isa === 'avx512' ? has('f32-fma-avx512') : isa === 'neon' ? has('f32-fmla-neon') : null;
  const avx2 = dtype === 'w4a8' ? has('int8-vpmaddubsw-i16-avx2') : has('int8-vpmaddwd-avx2');
  if (isa === 'avx512') return has('int8-vpdpbusd-avx512') ?? avx2;  // no VNNI: the AVX2 kernels run
  if (isa === 'avx2') return avx2;
  if (isa === 'neon') {
    const seq = nativeCpu().int8Sequence;
    return seq === 'usmmla' ? has('int8-usmmla-neon') : seq === 'sdot' ? has('int8-sdot-neon') : has('int8-smlal-neon');
  }
  return null;
}

function checkOptions(o: BenchOptions): { batch: number; threads: number; isas: IsaName[] } {
  const batch = o.batch ?? 64;
  if (!Number.isInteger(batch) || batch < 1 || batch > 4096) throw badArgument('batch', 'integer in [1, 4096]', batch);
  const threads = o.threads ?? isaInfo().threads;
  if (!Number.isInteger(threads) || threads < 1 || threads > 1024) throw badArgument('threads', 'integer in [1, 1024]', threads);
  const supported: IsaName[] = ['scalar', ...defaultIsas()];
  const isas = o.isas ?? defaultIsas();
  for (const isa of isas) if (!supported.includes(isa)) throw badArgument('isa', `one of ${supported.join(', ')} on this CPU`, isa);
  if (o.profileWeightBits !== undefined && o.profileWeightBits !== 4 && o.profileWeightBits !== 8) throw badArgument('profileWeightBits', '4 or 8', o.profileWeightBits);
  for (const b of o.profileBatches ?? []) {
    if (!Number.isInteger(b) || b < 1 || b > 4096) throw badArgument('profile batch', 'integer in [1, 4096]', b);
  }
  return { batch, threads, isas };
}

function checkText(dtype: BenchDtype, t: LayerTiming): string {
  const on = t.checkedImages;
  if (dtype !== 'f32') return t.passed ? `bit-exact (${on} images)` : `${t.mismatches} outputs differ from the reference`;
  const d = `max abs diff ${t.maxAbsDiff.toExponential(1)}`;
  return t.passed ? `${d} <= ${t.tolerance.toExponential(1)} (${on} images)` : `${d} > ${t.tolerance.toExponential(1)}`;
}

export async function bench(options: BenchOptions = {}): Promise<BenchResult> {
  const { batch, threads, isas } = checkOptions(options);
  const threadCounts = threads === 1 ? [1] : [1, threads];
  const quick = Boolean(options.quick);
  const probes = peakProbes();
  const progress = options.onProgress;

  // Probes in rounds (each probe and thread count once a round), the best rate of all rounds.
  const peaks: PeakResult[] = probes.flatMap((p) => threadCounts.map((t) => ({ ...p, threads: t, gops: 0, cpuGops: 0 })));
  const peakRounds = quick ? 2 : 4;
  let done = 0;
  for (let r = 0; r < peakRounds; r++) {
    for (const p of peaks) {
      const rate = await measurePeak(p.name, p.threads, quick ? 0.02 : 0.05, 2);
      p.gops = Math.max(p.gops, rate.wall / 1e9);
      p.cpuGops = Math.max(p.cpuGops, rate.cpu / 1e9);
      progress?.('peak', ++done, peakRounds * peaks.length);
    }
  }
  const result: BenchResult = { system: systemInfo(), basis: options.cpuTime ? 'cpu' : 'wall', threads: threadCounts, isas, peaks };

  const wantKernels = options.kernels ?? (options.model !== undefined || options.profile === undefined);
  if (wantKernels) {
    const all = options.model ? modelLayers(loadClassifier(options.model).model.graph, batch) : standardLayers(batch);
    const layers = options.filter ? all.filter((l) => l.name.includes(options.filter!)) : all;
    if (layers.length === 0) throw badArgument('filter', `text in a layer name (${all.map((l) => `'${l.name}'`).join(', ')})`, options.filter);
    const vnni = nativeCpu().flags.avx512Vnni;
    const rows: KernelRow[] = [];
    const jobs = layers.length * isas.length * threadCounts.length;
    done = 0;
    for (const layer of layers) {
      const macs = layerMacs(layer.shape);
      const results: KernelResult[] = [];
      for (const isa of isas) {
        for (const t of threadCounts) {
          // Without VNNI the int8 kAvx512 path runs the AVX2 kernels: not timed twice.
          const dtypes: BenchDtype[] = isa === 'avx512' && !vnni ? ['f32'] : ['f32', 'int8', 'w4a8'];
          const [f32, ...quantized] = await timeAlternating(layer, macs, dtypes, isa, t, quick, probes, peaks);
          results.push(f32!);
          for (const q of quantized) {
            if (q.passed && f32!.passed) {
              q.speedupOverF32 = f32!.seconds / q.seconds;
              q.cpuSpeedupOverF32 = f32!.cpuSeconds / q.cpuSeconds;
            }
            results.push(q);
          }
          progress?.('kernels', ++done, jobs);
        }
      }
      rows.push({ ...layer, macs, results });
    }
    const totals: KernelTotals[] = [];
    for (const r0 of rows[0]?.results ?? []) {
      const same = rows.map((r) => r.results.find((x) => x.dtype === r0.dtype && x.isa === r0.isa && x.threads === r0.threads));
      if (same.some((x) => !x || !x.passed)) continue;
      const seconds = same.reduce((a, x, i) => a + x!.seconds * rows[i]!.count, 0);
      const cpuSeconds = same.reduce((a, x, i) => a + (x!.cpuSeconds / x!.threads) * rows[i]!.count, 0);
      const ops = rows.reduce((a, r) => a + 2 * r.macs * r.count, 0);
      totals.push({ dtype: r0.dtype, isa: r0.isa, threads: r0.threads, seconds, gops: ops / seconds / 1e9, cpuSeconds, cpuGops: ops / cpuSeconds / 1e9 });
    }
    result.kernels = { source: options.model ?? 'standard', batch, rows, totals };
  }

  if (options.profile) {
    const m = loadClassifier(options.profile);
    const profileBatches = options.profileBatches ?? [1, 64];
    setThreads(threads);
    result.profile = await profileModel(options.profile, m.model, m.input, {
      batches: profileBatches,
      rounds: quick ? 3 : 7,
      warmupMs: quick ? 250 : 1000,
      ...(options.profileWeightBits ? { weightBits: options.profileWeightBits } : {}),
      ...(progress ? { onProgress: progress } : {}),
    });
  }
  return result;
}

/**
 * `dtypes` on one shape, path and thread count, alternating over a few rounds so that a busy
 * machine slows them alike; the first round checks against the reference, the best round counts.
 */
async function timeAlternating(layer: BenchLayer, macs: number, dtypes: BenchDtype[], isa: IsaName, threads: number, quick: boolean,
  probes: readonly PeakProbeInfo[], peaks: readonly PeakResult[]): Promise<KernelResult[]> {
  const rounds = quick ? 1 : 3;
  const best = new Map<BenchDtype, LayerTiming>();
  for (let r = 0; r < rounds; r++) {
    for (const dtype of dtypes) {
      const first = best.get(dtype);
      if (first && !first.passed) continue;
      const t = await timeLayer(layer.shape, dtype, isa, threads, (quick ? 0.05 : 0.2) / rounds, r === 0);
      best.set(dtype, !first ? t : {
        ...first,
        bestSeconds: Math.min(first.bestSeconds, t.bestSeconds),
        medianSeconds: Math.min(first.medianSeconds, t.medianSeconds),
        cpuSeconds: Math.min(first.cpuSeconds, t.cpuSeconds),
        calls: first.calls + t.calls,
      });
    }
  }
  return dtypes.map((dtype) => {
    const t = best.get(dtype)!;
    const probe = kernelProbe(dtype, isa, probes);
    const peak = peaks.find((p) => p.name === probe && p.threads === threads);
    const gops = t.passed ? (2 * macs) / t.bestSeconds / 1e9 : 0;
    const cpuGops = t.passed ? (2 * macs * threads) / t.cpuSeconds / 1e9 : 0;
    return {
      dtype, isa, threads, check: checkText(dtype, t), passed: t.passed,
      seconds: t.bestSeconds, medianSeconds: t.medianSeconds, cpuSeconds: t.cpuSeconds, gops, cpuGops,
      peakProbe: probe, peakShare: peak && t.passed ? gops / peak.gops : null,
      cpuPeakShare: peak && t.passed ? cpuGops / peak.cpuGops : null,
    };
  });
}
