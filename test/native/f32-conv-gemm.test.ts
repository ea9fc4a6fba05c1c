/**
 * f32 conv and GEMM kernels: the scalar path against naive JS references, and AVX2 and AVX-512
 * (each skipped, not failed, where the CPU lacks it; AVX2 forced on AVX-512 CPUs) against it, on seeded random shapes swept around the microkernel's tile sizes (kMR = 4
 * output rows, kNR = 24 columns). Errors are relative to sum |products| (XNNPACK style), so a
 * failure means a wrong tap, not float reassociation. Seeds and shapes are in the messages.
 */
import { isaInfo, setIsa, type IsaName } from '../../src/engine/addon';
import { HAS_AVX2, HAS_AVX512, SIMD_ISAS, naiveConv, randomArray, rng } from './helpers';
import { ConvParams, PackedConv, PackedGemm, binary, conv2d, convOutputDims, gemm } from '../../src/engine/native-f32';

type Isa = IsaName;
const itAvx2 = HAS_AVX2 ? it : it.skip;
const itAvx512 = HAS_AVX512 ? it : it.skip;
const TOL = 1e-5;




function maxRelError(got: Float32Array, want: Float32Array, mag: Float32Array): { err: number; at: number } {
  let err = 0, at = -1;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i]! - want[i]!) / Math.max(mag[i]!, 1e-6);
    if (!(e <= err)) {
      err = e;
      at = i;
    }
  }
  return { err, at };
}

function expectClose(got: Float32Array, want: Float32Array, mag: Float32Array, what: string): void {
  const { err, at } = maxRelError(got, want, mag);
  if (!(err <= TOL)) {
    throw new Error(`${what}: max relative error ${err} at ${at} (got ${got[at]}, want ${want[at]})`);
  }
}

async function withIsa<T>(isa: Isa, fn: () => Promise<T>): Promise<T> {
  const before = isaInfo().active;
  setIsa(isa);
  try {
    return await fn();
  } finally {
    setIsa(before);
  }
}

async function runConv(isa: Isa, packed: PackedConv, x: Float32Array, xd: number[]): Promise<Float32Array> {
  const out = new Float32Array(convOutputDims(xd, packed.wDims, packed.params).reduce((a, b) => a * b, 1)).fill(NaN);
  await withIsa(isa, () => conv2d(packed, x, xd, out));
  return out;
}

interface ConvCase { xd: number[]; wd: number[]; p: ConvParams; bias: boolean }

function convCases(): ConvCase[] {
  const cases: ConvCase[] = [];
  const base = (over: Partial<ConvParams> = {}): ConvParams => ({ strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 1, ...over });
  // K around block sizes (cin * 9) and partial M tiles (cout % 4) and N tiles (pixels % 24).
  for (const cin of [1, 2, 3, 5, 8])
    for (const cout of [1, 3, 4, 5, 8, 13])
      cases.push({ xd: [2, cin, 5 + (cin % 3), 7 + (cout % 5)], wd: [cout, cin, 3, 3], p: base(), bias: cout % 2 === 0 });
  // 1x1 (the direct pointwise path), 1x1 stride 2.
  for (const hw of [1, 4, 5, 7, 12]) {
    cases.push({ xd: [3, 6, hw, hw], wd: [9, 6, 1, 1], p: base({ pads: [0, 0, 0, 0] }), bias: true });
    cases.push({ xd: [2, 5, hw, hw + 1], wd: [4, 5, 1, 1], p: base({ pads: [0, 0, 0, 0], strides: [2, 2] }), bias: false });
  }
  // Strides, asymmetric pads, dilation, rectangular kernels, fused activations.
  cases.push({ xd: [2, 3, 11, 9], wd: [16, 3, 3, 3], p: base({ strides: [2, 2], pads: [1, 0, 0, 1] }), bias: true });
  cases.push({ xd: [1, 4, 13, 10], wd: [6, 4, 3, 2], p: base({ dilations: [2, 3], pads: [2, 1, 0, 3] }), bias: true });
  cases.push({ xd: [2, 4, 9, 9], wd: [7, 4, 5, 5], p: base({ pads: [2, 2, 2, 2], strides: [1, 2], activation: { min: 0, max: Infinity } }), bias: true });
  cases.push({ xd: [2, 4, 8, 8], wd: [8, 4, 3, 3], p: base({ activation: { min: -0.1, max: 0.2 } }), bias: true });
  // Direct path (output rows >= 8): stride-phase split for strides 2 and 3, dilation, pads,
  // in-place reads (no pads, stride 1, rows a multiple of 8), partial 8-pixel segments.
  cases.push({ xd: [2, 3, 19, 21], wd: [8, 3, 3, 3], p: base({ strides: [2, 2] }), bias: true });
  cases.push({ xd: [1, 5, 17, 30], wd: [6, 5, 3, 3], p: base({ strides: [3, 2], pads: [0, 2, 1, 0] }), bias: true });
  cases.push({ xd: [2, 4, 14, 22], wd: [5, 4, 3, 3], p: base({ dilations: [2, 2], pads: [2, 2, 2, 2], activation: { min: 0, max: Infinity } }), bias: true });
  cases.push({ xd: [1, 4, 10, 18], wd: [4, 4, 3, 3], p: base({ pads: [0, 0, 0, 0] }), bias: true });
  cases.push({ xd: [2, 7, 9, 8], wd: [12, 7, 1, 1], p: base({ pads: [0, 0, 0, 0] }), bias: true });
  cases.push({ xd: [2, 6, 16, 16], wd: [10, 6, 1, 1], p: base({ pads: [0, 0, 0, 0], strides: [2, 2] }), bias: true });
  cases.push({ xd: [3, 4, 8, 25], wd: [6, 2, 3, 3], p: base({ group: 2 }), bias: true });
  // Groups (not depthwise).
  cases.push({ xd: [2, 6, 7, 7], wd: [9, 2, 3, 3], p: base({ group: 3 }), bias: true });
  cases.push({ xd: [1, 8, 6, 10], wd: [4, 4, 1, 1], p: base({ group: 2, pads: [0, 0, 0, 0] }), bias: false });
  // Depthwise: vector interior and scalar borders, stride 1/2, dilation, 5x5, wide rows.
  for (const [h, w] of [[7, 9], [20, 33], [16, 16], [3, 40]] as const)
    for (const s of [1, 2, 3]) {
      cases.push({ xd: [2, 5, h, w], wd: [5, 1, 3, 3], p: base({ group: 5, strides: [s, s], activation: { min: 0, max: 6 } }), bias: true });
      cases.push({ xd: [1, 3, h, w], wd: [3, 1, 5, 5], p: base({ group: 3, strides: [s, s], pads: [2, 1, 2, 3], dilations: [1, 2] }), bias: s === 1 });
    }
  return cases;
}

describe('f32 conv2d', () => {
  const cases = convCases();
  it.each(cases.map((c, i) => [i, c] as const))('case %i: scalar and SIMD paths match the naive conv', async (i, c) => {
    const seed = 1000 + i;
    const rand = rng(seed);
    const x = randomArray(c.xd.reduce((a, b) => a * b, 1), rand);
    const w = randomArray(c.wd.reduce((a, b) => a * b, 1), rand);
    const bias = c.bias ? randomArray(c.wd[0]!, rand) : null;
    const packed = PackedConv.create(w, c.wd, bias, c.p);
    const [want, mag] = naiveConv(x, c.xd, w, c.wd, bias, c.p);
    const what = `seed ${seed} x [${c.xd}] w [${c.wd}] params ${JSON.stringify(c.p)}`;
    expectClose(await runConv('scalar', packed, x, c.xd), want, mag, `scalar ${what}`);
    for (const isa of SIMD_ISAS) expectClose(await runConv(isa, packed, x, c.xd), want, mag, `${isa} ${what}`);
  });

  // Real layer shapes (ResNet-20/32 CIFAR, MobileNetV2-w05), batch 2: AVX2 against scalar,
  // error relative to |x| * |w| computed by the scalar kernel itself.
  const layers: Array<{ name: string; xd: number[]; wd: number[]; p: ConvParams }> = [
    { name: 'resnet stem 3->16', xd: [2, 3, 32, 32], wd: [16, 3, 3, 3], p: { strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 1 } },
    { name: 'resnet 16@32', xd: [2, 16, 32, 32], wd: [16, 16, 3, 3], p: { strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 1, activation: { min: 0, max: Infinity } } },
    { name: 'resnet 16->32 s2', xd: [2, 16, 32, 32], wd: [32, 16, 3, 3], p: { strides: [2, 2], pads: [1, 1, 1, 1], dilations: [1, 1], group: 1 } },
    { name: 'resnet 64@8', xd: [2, 64, 8, 8], wd: [64, 64, 3, 3], p: { strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 1 } },
    { name: 'mobilenet 1x1 48->8', xd: [2, 48, 28, 28], wd: [8, 48, 1, 1], p: { strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1 } },
    { name: 'mobilenet dw 3x3 s2', xd: [2, 48, 56, 56], wd: [48, 1, 3, 3], p: { strides: [2, 2], pads: [1, 1, 1, 1], dilations: [1, 1], group: 48, activation: { min: 0, max: 6 } } },
  ];
  itAvx2.each(layers.map((l) => [l.name, l] as const))('%s: AVX2 and AVX-512 match scalar', async (_name, l) => {
    const seed = 77;
    const rand = rng(seed);
    const x = randomArray(l.xd.reduce((a, b) => a * b, 1), rand);
    const w = randomArray(l.wd.reduce((a, b) => a * b, 1), rand);
    const bias = randomArray(l.wd[0]!, rand);
    const packed = PackedConv.create(w, l.wd, bias, l.p);
    const { activation: _a, ...plain } = l.p;
    const absPacked = PackedConv.create(w.map(Math.abs), l.wd, bias.map(Math.abs), plain);
    const mag = await runConv('scalar', absPacked, x.map(Math.abs), l.xd);
    const want = await runConv('scalar', packed, x, l.xd);
    for (const isa of SIMD_ISAS) expectClose(await runConv(isa, packed, x, l.xd), want, mag, `${isa} seed ${seed} ${l.name}`);
  });

  // AVX-512 direct conv tiles: 16-pixel segments, up to 6 per tile, two-row segments for rows of
  // 8 pixels. Randomized shapes swept around those sizes (output widths 8 +- 1, 16 +- 1, 32,
  // 48 +- 1, 96 +- 1; odd and even heights; cout around the 4-row A panel; in-place reads).
  const sweep: Array<{ xd: number[]; wd: number[]; p: ConvParams }> = [];
  {
    const rand = rng(4242);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    for (let i = 0; i < 48; i++) {
      const stride = pick([1, 1, 1, 2] as const), pad = pick([0, 1, 1] as const), k = pick([1, 3, 3] as const);
      const wo = pick([7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 49, 95, 96, 97] as const), ho = pick([1, 2, 3, 5, 8] as const);
      const cin = pick([1, 3, 4, 9, 16] as const), cout = pick([1, 3, 4, 5, 8, 12, 13] as const);
      const h = (ho - 1) * stride + k - 2 * pad, w = (wo - 1) * stride + k - 2 * pad;
      if (h < 1 || w < 1) continue;
      sweep.push({ xd: [2, cin, h, w], wd: [cout, cin, k, k], p: { strides: [stride, stride], pads: [pad, pad, pad, pad], dilations: [1, 1], group: 1, activation: i % 3 === 0 ? { min: 0, max: Infinity } : undefined } });
    }
  }
  itAvx512.each(sweep.map((c, i) => [i, c] as const))('AVX-512 sweep %i matches scalar', async (i, c) => {
    const seed = 5000 + i;
    const rand = rng(seed);
    const x = randomArray(c.xd.reduce((a, b) => a * b, 1), rand);
    const w = randomArray(c.wd.reduce((a, b) => a * b, 1), rand);
    const bias = randomArray(c.wd[0]!, rand);
    const packed = PackedConv.create(w, c.wd, bias, c.p);
    const { activation: _a, ...plain } = c.p;
    const mag = await runConv('scalar', PackedConv.create(w.map(Math.abs), c.wd, bias.map(Math.abs), plain), x.map(Math.abs), c.xd);
    const want = await runConv('scalar', packed, x, c.xd);
    expectClose(await runConv('avx512', packed, x, c.xd), want, mag, `seed ${seed} x [${c.xd}] w [${c.wd}] params ${JSON.stringify(c.p)}`);
  });

  it('rejects bad arguments with errors naming the parameter', async () => {
    const w = new Float32Array(4 * 2 * 9);
    const p: ConvParams = { strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 1 };
    expect(() => PackedConv.create(w, [4, 2, 3, 3], null, { ...p, group: 1.5 })).toThrow('Expected positive integer for params.group but received 1.5');
    expect(() => PackedConv.create(w, [4, 2, 3, 3], null, { ...p, group: 3 })).toThrow('params.group');
    expect(() => PackedConv.create(w, [4, 2, 3], null, p)).toThrow('wDims.length');
    expect(() => PackedConv.create(w.subarray(1), [4, 2, 3, 3], null, p)).toThrow('Expected 72 (from the shape) for weight.length but received 71');
    expect(() => PackedConv.create(w, [4, 2, 3, 3], new Float32Array(3), p)).toThrow('bias.length');
    expect(() => PackedConv.create(w, [4, 2, 3, 3], null, { ...p, strides: [0, 1] })).toThrow('params.strides[0]');
    expect(() => PackedConv.create(w, [4, 2, 3, 3], null, { ...p, pads: [1, 1, -1, 1] })).toThrow('params.pads[2]');
    const packed = PackedConv.create(w, [4, 2, 3, 3], null, p);
    expect(() => conv2d(packed, new Float32Array(2 * 25), [1, 2, 5, 5], new Float32Array(99))).toThrow('out.length');
    expect(() => conv2d(packed, new Float32Array(3 * 25), [1, 3, 5, 5], new Float32Array(100))).toThrow('xDims[1]');
    expect(() => conv2d(packed, new Float32Array(2 * 25), [1, 2, 5, 5], [] as unknown as Float32Array)).toThrow('Expected Float32Array for out but received Array');
    expect(() => convOutputDims([1, 2, 1, 1], [4, 2, 3, 3], { ...p, pads: [0, 0, 0, 0] })).toThrow('xDims[2]');
    const [x, out] = [new Float32Array(2 * 25), new Float32Array(100)];
    expect(() => conv2d(packed, x, [1, 2, 5, 5], out, { data: new Float32Array(99) })).toThrow('residual.data.length');
    expect(() => conv2d(packed, x, [1, 2, 5, 5], out, { data: new Float64Array(100) as unknown as Float32Array })).toThrow('Expected Float32Array for residual.data');
    expect(() => conv2d(packed, x, [1, 2, 5, 5], out, { data: new Float32Array(100), activation: { min: 1, max: 0 } })).toThrow('residual.activation.max');
  });

  it('adds a residual after the conv, then clamps: bit for bit the conv followed by binary add', async () => {
    const rand = rng(77);
    const xd = [3, 5, 9, 11], wd = [7, 5, 3, 3];
    const packed = PackedConv.create(randomArray(7 * 5 * 9, rand), wd, randomArray(7, rand), { strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 1 });
    const x = randomArray(xd.reduce((a, b) => a * b, 1), rand), r = randomArray(3 * 7 * 9 * 11, rand, 3);
    const y = new Float32Array(r.length), want = new Float32Array(r.length), got = new Float32Array(r.length).fill(NaN);
    const activation = { min: -1, max: 2 };
    await conv2d(packed, x, xd, y);
    await binary('add', y, [3, 7, 9, 11], r, [3, 7, 9, 11], want, activation);
    await conv2d(packed, x, xd, got, { data: r, activation });
    expect(Array.from(got)).toEqual(Array.from(want));
    expect(want.some((v) => v === 2) && want.some((v) => v === -1)).toBe(true);
  });
});

function naiveGemm(a: Float32Array, M: number, K: number, b: Float32Array, N: number, transB: boolean, bias: Float32Array | null, alpha: number, beta: number): [Float32Array, Float32Array] {
  const y = new Float32Array(M * N), mag = new Float32Array(M * N);
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++) {
      let acc = 0, abs = 0;
      for (let k = 0; k < K; k++) {
        const prod = a[m * K + k]! * (transB ? b[n * K + k]! : b[k * N + n]!);
        acc += prod;
        abs += Math.abs(prod);
      }
      const bb = bias ? beta * bias[n]! : 0;
      y[m * N + n] = alpha * acc + bb;
      mag[m * N + n] = Math.abs(alpha) * abs + Math.abs(bb);
    }
  return [y, mag];
}

describe('f32 gemm', () => {
  const cases: Array<[number, number, number, boolean]> = [];
  for (const M of [1, 3, 4, 5, 17])
    for (const K of [1, 7, 64, 100])
      for (const N of [1, 10, 23, 24, 25, 49]) cases.push([M, K, N, (M + K + N) % 2 === 0]);
  it.each(cases)('M %i K %i N %i transB %s: scalar and SIMD paths match the naive GEMM', async (M, K, N, transB) => {
    const seed = M * 10007 + K * 101 + N;
    const rand = rng(seed);
    const a = randomArray(M * K, rand), b = randomArray(K * N, rand);
    const bias = N % 2 === 0 ? null : randomArray(N, rand);
    const alpha = K % 2 === 0 ? 1 : 0.5, beta = M % 2 === 0 ? 1 : -2;
    const packed = PackedGemm.create(b, transB ? [N, K] : [K, N], transB, bias, { alpha, beta });
    expect([packed.K, packed.N]).toEqual([K, N]);
    const [want, mag] = naiveGemm(a, M, K, b, N, transB, bias, alpha, beta);
    for (const isa of ['scalar', ...SIMD_ISAS] as const) {
      const out = new Float32Array(M * N).fill(NaN);
      await withIsa(isa, () => gemm(packed, a, M, out));
      expectClose(out, want, mag, `${isa} seed ${seed} M ${M} K ${K} N ${N} transB ${transB}`);
    }
  });

  it('fuses the activation clamp', async () => {
    const rand = rng(5);
    const a = randomArray(6 * 9, rand), b = randomArray(9 * 30, rand);
    const packed = PackedGemm.create(b, [9, 30], false, null, { activation: { min: 0, max: 0.5 } });
    const [want] = naiveGemm(a, 6, 9, b, 30, false, null, 1, 1);
    const out = new Float32Array(6 * 30);
    await gemm(packed, a, 6, out);
    for (let i = 0; i < out.length; i++) expect(out[i]).toBeCloseTo(Math.min(Math.max(want[i]!, 0), 0.5), 5);
  });

  it('rejects bad arguments', () => {
    const b = new Float32Array(12);
    expect(() => PackedGemm.create(b, [3, 4.5], false, null)).toThrow('Expected positive integer for bDims[1] but received 4.5');
    expect(() => PackedGemm.create(b, [3, 4], false, new Float32Array(3))).toThrow('bias.length');
    expect(() => PackedGemm.create(b, [3, 4], false, null, { alpha: NaN })).toThrow('Expected finite number for params.alpha but received NaN');
    const packed = PackedGemm.create(b, [3, 4], false, null);
    expect(() => gemm(packed, new Float32Array(6), 2, new Float32Array(7))).toThrow('Expected 8 (from the shape) for out.length but received 7');
    expect(() => gemm(packed, new Float32Array(6), 0, new Float32Array(0))).toThrow('Expected positive integer for M but received 0');
  });
});
