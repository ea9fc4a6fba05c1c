/**
 * Typed wrapper over the addon's benchmark functions (native/src/bench): the peak probes
 * (register-only loops of each kernel's instruction sequence), native kernel timing with the
 * reference check first, and what the kernels see of the CPU. Arguments are validated here
 * (sharp style); the C++ side re-checks them.
 */
import { addon, type IsaName } from '../engine/addon';
import { badArgument } from '../errors';

export interface NativeCpu {
  /** CPUID brand string on x86 ('' when the CPU does not say). */
  model: string;
  /** Features the kernels use, as detected (CPUID + xgetbv, HWCAP), space separated. */
  features: string;
  flags: { avx2Fma: boolean; avx512: boolean; avx512Vnni: boolean; avx512Vbmi: boolean; avxVnni: boolean; neon: boolean; neonDot: boolean; neonI8mm: boolean };
  /** The instruction of the int8 GEMM kernels on the fastest path: vpdpbusd, vpmaddwd, usmmla (i8mm), sdot, smlal or scalar. */
  int8Sequence: 'vpdpbusd' | 'vpmaddwd' | 'usmmla' | 'sdot' | 'smlal' | 'scalar';
  /** The compiler the addon was built with. */
  compiler?: string;
}

export interface PeakProbeInfo {
  /** e.g. 'f32-fma-avx2', 'int8-vpdpbusd-avx512'. */
  name: string;
  /** The kernel path it bounds. */
  isa: IsaName;
  dtype: 'f32' | 'int8';
  /** The instructions of one multiply-accumulate unit. */
  sequence: string;
}

/**
 * A conv over NCHW (weights [cout, cin / group, kh, kw]) or, `gemm`, a GEMM of n rows x cin
 * times [cout, cin] (spatial fields 1, pads 0).
 */
export interface LayerShape {
  gemm: boolean;
  n: number;
  cin: number;
  cout: number;
  h: number;
  w: number;
  kh: number;
  kw: number;
  group: number;
  strideH: number;
  strideW: number;
  dilationH: number;
  dilationW: number;
  padTop: number;
  padLeft: number;
  padBottom: number;
  padRight: number;
}

export interface LayerTiming {
  /** The path's output matched the scalar reference (int8 bit for bit, f32 within tolerance); nothing is timed otherwise. */
  passed: boolean;
  /** Images (GEMM rows) the check ran on: all, or fewer for very large shapes. */
  checkedImages: number;
  maxAbsDiff: number;
  tolerance: number;
  mismatches: number;
  /** One call, fastest and median sample. */
  bestSeconds: number;
  medianSeconds: number;
  /** One call: least process CPU time of a sample, all threads together (robust to other processes on a shared machine). */
  cpuSeconds: number;
  calls: number;
}

export function nativeCpu(): NativeCpu {
  return addon.benchCpu();
}

export function peakProbes(): PeakProbeInfo[] {
  return addon.benchPeakProbes();
}

function positiveInt(name: string, v: unknown, max = 1 << 20): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > max) throw badArgument(name, `integer in [1, ${max}]`, v);
  return v;
}

function seconds(name: string, v: unknown): number {
  if (typeof v !== 'number' || !(v >= 1e-4 && v <= 60)) throw badArgument(name, 'seconds in [0.0001, 60]', v);
  return v;
}

/**
 * Best rates of `probe` over `repeats` runs on `threads` threads at once, in ops per second (2
 * per MAC), all threads together: per wall time, and per each thread's own CPU time (what the
 * cores do while the loop holds them; robust to other processes taking turns on a shared machine).
 */
export function measurePeak(probe: string, threads: number, minSeconds = 0.05, repeats = 5): Promise<{ wall: number; cpu: number }> {
  if (!peakProbes().some((p) => p.name === probe)) throw badArgument('probe', `one of ${peakProbes().map((p) => p.name).join(', ')}`, probe);
  return addon.benchPeak(probe, positiveInt('threads', threads, 1024), seconds('minSeconds', minSeconds), positiveInt('repeats', repeats, 1000));
}

const SHAPE_KEYS = ['n', 'cin', 'cout', 'h', 'w', 'kh', 'kw', 'group', 'strideH', 'strideW', 'dilationH', 'dilationW'] as const;
const PAD_KEYS = ['padTop', 'padLeft', 'padBottom', 'padRight'] as const;

/** Multiply-accumulates of one call of `s`. */
export function layerMacs(s: LayerShape): number {
  if (s.gemm) return s.n * s.cin * s.cout;
  const out = (i: number, k: number, st: number, p0: number, p1: number, d: number): number => Math.floor((i + p0 + p1 - ((k - 1) * d + 1)) / st) + 1;
  const ho = out(s.h, s.kh, s.strideH, s.padTop, s.padBottom, s.dilationH);
  const wo = out(s.w, s.kw, s.strideW, s.padLeft, s.padRight, s.dilationW);
  return s.n * s.cout * ho * wo * (s.cin / s.group) * s.kh * s.kw;
}

/**
 * Checks `shape` on `isa` against the scalar reference (unless `check` is false: a repeat of a
 * checked measurement; checkedImages is then 0), then times it natively with `threads` kernel
 * threads for about minSeconds (restoring the active ISA and thread count afterwards).
 */
export function timeLayer(shape: LayerShape, dtype: 'f32' | 'int8' | 'w4a8', isa: IsaName, threads: number, minSeconds = 0.2, check = true): Promise<LayerTiming> {
  if (typeof shape !== 'object' || shape === null) throw badArgument('shape', 'LayerShape object', shape);
  for (const k of SHAPE_KEYS) positiveInt(`shape.${k}`, shape[k]);
  for (const k of PAD_KEYS) {
    if (!Number.isSafeInteger(shape[k]) || shape[k] < 0) throw badArgument(`shape.${k}`, 'non-negative integer', shape[k]);
  }
  if (shape.cin % shape.group || shape.cout % shape.group) throw badArgument('shape.group', `a divisor of cin (${shape.cin}) and cout (${shape.cout})`, shape.group);
  if (dtype !== 'f32' && dtype !== 'int8' && dtype !== 'w4a8') throw badArgument('dtype', "'f32', 'int8' or 'w4a8'", dtype);
  return addon.benchLayer({ ...shape, gemm: Boolean(shape.gemm) }, dtype, isa, positiveInt('threads', threads, 1024), seconds('minSeconds', minSeconds), Boolean(check));
}
