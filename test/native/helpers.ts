/**
 * Shared pieces of the native kernel tests: which kernel paths this CPU can run (each compared
 * with the scalar reference; missing ones are skipped, not failed), seeded random data, and the
 * naive JS oracles.
 */
import { isaInfo, type IsaName } from '../../src/engine/addon';
import { mulberry32 } from '../../src/data/random';
import { ConvParams, convOutputDims } from '../../src/engine/native-f32';

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

/**
 * Naive f32 conv (groups, strides, pads, dilations; clamped by `p.activation`): returns
 * [y, sum |products| + |bias|], the magnitude errors are measured against (XNNPACK style).
 */
export function naiveConv(x: Float32Array, xd: number[], w: Float32Array, wd: number[], bias: Float32Array | null, p: ConvParams): [Float32Array, Float32Array] {
  const [N, C, H, W] = xd as [number, number, number, number];
  const [M, Cg, KH, KW] = wd as [number, number, number, number];
  const [, , HO, WO] = convOutputDims(xd, wd, p);
  const Mg = M / p.group;
  const y = new Float32Array(N * M * HO * WO), mag = new Float32Array(y.length);
  for (let n = 0; n < N; n++)
    for (let m = 0; m < M; m++) {
      const g = Math.floor(m / Mg);
      for (let oy = 0; oy < HO; oy++)
        for (let ox = 0; ox < WO; ox++) {
          let acc = bias ? bias[m]! : 0, abs = bias ? Math.abs(bias[m]!) : 0;
          for (let c = 0; c < Cg; c++)
            for (let ky = 0; ky < KH; ky++) {
              const iy = oy * p.strides[0] - p.pads[0] + ky * p.dilations[0];
              if (iy < 0 || iy >= H) continue;
              for (let kx = 0; kx < KW; kx++) {
                const ix = ox * p.strides[1] - p.pads[1] + kx * p.dilations[1];
                if (ix < 0 || ix >= W) continue;
                const prod = x[((n * C + g * Cg + c) * H + iy) * W + ix]! * w[((m * Cg + c) * KH + ky) * KW + kx]!;
                acc += prod;
                abs += Math.abs(prod);
              }
            }
          const o = ((n * M + m) * HO + oy) * WO + ox;
          const a = p.activation;
          y[o] = a ? Math.min(Math.max(acc, a.min), a.max) : acc;
          mag[o] = abs;
        }
    }
  return [y, mag];
}
