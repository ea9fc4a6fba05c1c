/**
 * f32 depthwise conv (group == cin == cout): the scalar plane kernel against a naive JS
 * reference, and every SIMD path (AVX2 forced on AVX-512 CPUs; each skipped, not failed, where
 * the CPU lacks it) against scalar, on a seeded sweep of shapes around the flat kernels' vector
 * sizes (8 and 16 lanes: planes of fewer pixels pack several channels per vector), channel
 * counts that are not multiples of 8/16, strides 1/2/3, pads 0/1/2 (also asymmetric),
 * dilations 1/2, with and without bias and clamp; plus MobileNetV2-w05's depthwise layers.
 * Errors are relative to sum |products| (XNNPACK style). Seeds and shapes are in the messages.
 */
import { isaInfo, setIsa, type IsaName } from '../../src/engine/addon';
import { SIMD_ISAS, naiveConv, randomArray, rng } from './helpers';
import { ConvParams, PackedConv, conv2d, convOutputDims } from '../../src/engine/native-f32';

type Isa = IsaName;
const itSimd = SIMD_ISAS.length > 0 ? it : it.skip;
const TOL = 1e-5;



async function runConv(isa: Isa, packed: PackedConv, x: Float32Array, xd: number[]): Promise<Float32Array> {
  const out = new Float32Array(convOutputDims(xd, packed.wDims, packed.params).reduce((a, b) => a * b, 1)).fill(NaN);
  const before = isaInfo().active;
  setIsa(isa);
  try {
    await conv2d(packed, x, xd, out);
  } finally {
    setIsa(before);
  }
  return out;
}

function expectClose(got: Float32Array, want: Float32Array, mag: Float32Array, what: string): void {
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i]! - want[i]!) / Math.max(mag[i]!, 1e-6);
    if (!(e <= TOL)) throw new Error(`${what}: relative error ${e} at ${i} (got ${got[i]}, want ${want[i]})`);
  }
}

/** Naive depthwise conv: the general naive conv with one channel a group. */
function naiveDw(x: Float32Array, xd: number[], w: Float32Array, k: [number, number], bias: Float32Array | null, p: ConvParams): [Float32Array, Float32Array] {
  const c = xd[1]!;
  return naiveConv(x, xd, w, [c, 1, k[0], k[1]], bias, { ...p, group: c });
}

interface DwCase { n: number; c: number; h: number; w: number; k: [number, number]; p: ConvParams; bias: boolean }

function describeCase(c: DwCase): string {
  return `n ${c.n} c ${c.c} ${c.h}x${c.w} k ${c.k} params ${JSON.stringify(c.p)} bias ${c.bias}`;
}

/** Seeded sweep: sizes 1..33 (dense around 1, 2, 4, 8, 16 and their neighbours), channels 1..200. */
function sweepCases(): DwCase[] {
  const rand = rng(777);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const sizes = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33] as const;
  const channels = [1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 33, 48, 96, 97, 130, 200] as const;
  const activations = [undefined, { min: 0, max: 6 }, { min: 0, max: Infinity }, { min: -0.25, max: 0.5 }];
  const cases: DwCase[] = [];
  // Every (size, stride) pair of a square 3x3 pad-1 conv (MobileNet style) at least once.
  for (const hw of sizes)
    for (const s of [1, 2])
      cases.push({ n: 2, c: pick(channels), h: hw, w: hw, k: [3, 3], p: { strides: [s, s], pads: [1, 1, 1, 1], dilations: [1, 1], group: 1, activation: pick(activations) }, bias: rand() < 0.7 });
  while (cases.length < 160) {
    const k: [number, number] = pick([[3, 3], [3, 3], [5, 5], [1, 1], [3, 1], [2, 3]] as const).slice() as [number, number];
    const s = pick([1, 1, 2, 2, 3] as const), d = pick([1, 1, 1, 2] as const);
    const pad = (): number => pick([0, 1, 1, 2] as const);
    const p: ConvParams = { strides: [s, pick([s, s, 1, 2])], pads: [pad(), pad(), pad(), pad()], dilations: [d, pick([d, 1])], group: 1, activation: pick(activations) };
    const c: DwCase = { n: pick([1, 2, 3] as const), c: pick(channels), h: pick(sizes), w: pick(sizes), k, p, bias: rand() < 0.6 };
    const [, , ho, wo] = (() => {
      try {
        return convOutputDims([c.n, c.c, c.h, c.w], [c.c, 1, k[0], k[1]], p);
      } catch {
        return [0, 0, 0, 0];
      }
    })();
    if (ho! > 0 && wo! > 0) cases.push(c);
  }
  for (const c of cases) c.p.group = c.c;
  return cases;
}

describe('f32 depthwise conv2d', () => {
  const cases = sweepCases();
  it.each(cases.map((c, i) => [i, describeCase(c), c] as const))('sweep %i (%s): scalar matches the naive conv, SIMD paths match scalar', async (i, _d, c) => {
    const seed = 9000 + i;
    const rand = rng(seed);
    const xd = [c.n, c.c, c.h, c.w], wd = [c.c, 1, c.k[0], c.k[1]];
    const x = randomArray(xd.reduce((a, b) => a * b, 1), rand);
    const w = randomArray(wd.reduce((a, b) => a * b, 1), rand);
    const bias = c.bias ? randomArray(c.c, rand) : null;
    const packed = PackedConv.create(w, wd, bias, c.p);
    const [naive, mag] = naiveDw(x, xd, w, c.k, bias, c.p);
    const what = `seed ${seed} ${describeCase(c)}`;
    const scalar = await runConv('scalar', packed, x, xd);
    expectClose(scalar, naive, mag, `scalar vs naive ${what}`);
    for (const isa of SIMD_ISAS) expectClose(await runConv(isa, packed, x, xd), scalar, mag, `${isa} vs scalar ${what}`);
  });

  // MobileNetV2-w05's depthwise layers (3x3, pad 1, Relu6), batch 3.
  const layers: Array<[number, number, number]> = [[16, 16, 1], [48, 16, 1], [96, 16, 1], [96, 16, 2], [96, 8, 1], [96, 8, 2], [192, 4, 1], [288, 4, 1], [288, 4, 2], [480, 2, 1]];
  itSimd.each(layers)('MobileNetV2 dw %i ch @%i stride %i: SIMD paths match scalar', async (c, hw, s) => {
    const seed = c * 100 + hw * 10 + s;
    const rand = rng(seed);
    const p: ConvParams = { strides: [s, s], pads: [1, 1, 1, 1], dilations: [1, 1], group: c, activation: { min: 0, max: 6 } };
    const xd = [3, c, hw, hw], wd = [c, 1, 3, 3];
    const x = randomArray(xd.reduce((a, b) => a * b, 1), rand);
    const w = randomArray(wd.reduce((a, b) => a * b, 1), rand);
    const bias = randomArray(c, rand);
    const packed = PackedConv.create(w, wd, bias, p);
    const [, mag] = naiveDw(x, xd, w, [3, 3], bias, p);
    const want = await runConv('scalar', packed, x, xd);
    for (const isa of SIMD_ISAS) expectClose(await runConv(isa, packed, x, xd), want, mag, `${isa} seed ${seed}`);
  });
});
