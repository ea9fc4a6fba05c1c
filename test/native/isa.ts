/**
 * Shared pieces of the native kernel tests: which kernel paths this CPU can run (each compared
 * with the scalar reference; missing ones are skipped, not failed) and seeded random data.
 */
import { isaInfo, type IsaName } from '../../src/engine/addon';
import { mulberry32 } from '../../src/data/random';

export const DETECTED: IsaName = isaInfo().detected;
export const HAS_AVX512 = DETECTED === 'avx512';
/** AVX-512 CPUs can run (and force) the AVX2 path too. */
export const HAS_AVX2 = DETECTED === 'avx2' || HAS_AVX512;
/** SIMD paths this CPU can run, each compared against scalar. */
export const SIMD_ISAS: IsaName[] = [...(HAS_AVX2 ? (['avx2'] as const) : []), ...(HAS_AVX512 ? (['avx512'] as const) : [])];
/** Scalar first, then every SIMD path. */
export const ALL_ISAS: IsaName[] = ['scalar', ...SIMD_ISAS];

/** Seeded uniform stream in [0, 1) (mulberry32): failures replay from the seed in the message. */
export const rng = mulberry32;

/** n values uniform in [-scale, scale). */
export function randomArray(n: number, rand: () => number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rand() * 2 - 1) * scale;
  return a;
}

/** An integer uniform in [lo, hi]. */
export function randomInt(rand: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

/** Round half to even of a float32 value: the JS oracle of the int8 kernels' rounding. */
export function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}
