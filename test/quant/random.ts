/** Seeded random data for the quantization tests (mulberry32), replayable from the seed. */
import { mulberry32 as rng } from '../../src/data/random';

export function gaussian(n: number, seed: number, sigma = 1): Float32Array {
  const u = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = sigma * Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
  return out;
}

export function uniform(n: number, seed: number, lo: number, hi: number): Float32Array {
  const u = rng(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * u());
}

export function laplacian(n: number, seed: number, b = 1): Float32Array {
  const u = rng(seed);
  return Float32Array.from({ length: n }, () => {
    const v = u() - 0.5;
    return -b * Math.sign(v) * Math.log(1 - 2 * Math.abs(v));
  });
}
