/**
 * Seeded randomness for data selection: small, pure and reproducible across platforms and
 * Node versions (Math.random is neither seedable nor stable), so a seed in report.json
 * replays the exact calibration and validation sets.
 */
import { badArgument } from '../errors';

/** A generator of floats uniform in [0, 1), 32 bits of state. */
export type Rng = () => number;

/** Checks that `seed` is an integer in [0, 2^32 - 1] (the seeds report.json records). */
export function checkSeed(seed: unknown, name = 'seed'): number {
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw badArgument(name, 'integer between 0 and 4294967295', seed);
  }
  return seed;
}

/**
 * mulberry32 (Tommy Ettinger): 32-bit state, period 2^32, floats in [0, 1) with 32 bits of
 * resolution. Plenty for shuffling pools of at most a few million images.
 */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Mixes a seed with a stream number (e.g. a class index) into a new 32-bit seed (the
 * splitmix32 finalizer), so each class gets an independent stream: the images drawn for one
 * class do not depend on how many images the other classes have.
 */
export function deriveSeed(seed: number, stream: number): number {
  let z = (seed + Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** Fisher-Yates shuffle of `items` in place with `rng`; returns `items`. */
export function shuffleInPlace<T>(items: T[], rng: Rng): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = items[i] as T;
    items[i] = items[j] as T;
    items[j] = t;
  }
  return items;
}

/** A shuffled copy of `items`, reproducible from `seed`. */
export function seededShuffle<T>(items: readonly T[], seed: number): T[] {
  return shuffleInPlace(items.slice(), mulberry32(checkSeed(seed)));
}
