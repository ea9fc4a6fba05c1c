/**
 * int8 conv and GEMM kernels (native/src/kernels/q8-*): the scalar reference against a naive JS
 * implementation of DESIGN.md's formula, and the AVX2 path against the scalar reference BIT FOR
 * BIT, on seeded random shapes swept around the tiles (4 output channels x 16 pixels, K pairs,
 * the 512-value K block), plus the saturation extremes (x = 255 with zero point 0, w = -128/127,
 * K = 4096) that random mid-range data never reaches. Seeds and shapes are in the messages.
 */
import { isaInfo, setIsa, type IsaName } from '../../src/engine/addon';
import { PackedQConv, PackedQGemm, addQuantize, qconv2d, qgemm, type CodesOperand, type QConvParams, type QGemmParams, type QuantSpec } from '../../src/engine/native-int8';
import { mulberry32, type Rng } from '../../src/data/random';
import { SIMD_ISAS, randomInt, roundHalfEven } from './helpers';

// Fast paths to hold against the reference: AVX2 (vpmaddwd), and on AVX-512 CPUs also the
// kAvx512 path (vpdpbusd where the CPU has VNNI); AVX-512 CPUs can be forced onto AVX2 too.
const FAST = SIMD_ISAS;
const itAvx2 = FAST.length > 0 ? it : it.skip;
const initialIsa: IsaName = isaInfo().active;
afterEach(() => setIsa(initialIsa));

// ---- naive JS reference of the contract ------------------------------------------------


/** Per-channel float32 factor: requantization multiplier (uint8) or dequantization scale. */
function channelScale(p: QGemmParams, c: number): number {
  const ws = p.weightScale.length === 1 ? p.weightScale[0]! : p.weightScale[c]!;
  const s = Math.fround(Math.fround(p.inputScale) * ws);
  return p.output.kind === 'uint8' ? Math.fround(s / Math.fround(p.output.scale)) : s;
}

/** acc (exact int32) -> output value per the contract. */
function outputOf(acc: number, p: QGemmParams, c: number): number {
  const acc32 = acc | 0;
  const prod = Math.fround(Math.fround(acc32) * channelScale(p, c));
  const o = p.output;
  if (o.kind === 'uint8') return Math.min(Math.max(roundHalfEven(prod) + o.zero, o.min), o.max);
  return Math.min(Math.max(prod, o.min ?? -Infinity), o.max ?? Infinity);
}

function naiveConv(x: Uint8Array, xd: number[], w: Int8Array, wd: number[], bias: Int32Array | null, p: QConvParams, od: number[]): number[] {
  const [N, C, H, W] = xd as [number, number, number, number];
  const [M, Cg, KH, KW] = wd as [number, number, number, number];
  const [, , HO, WO] = od as [number, number, number, number];
  const Mg = M / p.group, y: number[] = [];
  for (let n = 0; n < N; n++)
    for (let m = 0; m < M; m++) {
      const g = Math.floor(m / Mg);
      for (let oy = 0; oy < HO; oy++)
        for (let ox = 0; ox < WO; ox++) {
          let acc = bias ? bias[m]! : 0;
          for (let c = 0; c < Cg; c++)
            for (let ky = 0; ky < KH; ky++)
              for (let kx = 0; kx < KW; kx++) {
                const iy = oy * p.strides[0] - p.pads[0] + ky * p.dilations[0];
                const ix = ox * p.strides[1] - p.pads[1] + kx * p.dilations[1];
                const xv = iy < 0 || iy >= H || ix < 0 || ix >= W ? p.inputZero : x[((n * C + g * Cg + c) * H + iy) * W + ix]!;
                acc += (xv - p.inputZero) * w[((m * Cg + c) * KH + ky) * KW + kx]!;
              }
          y.push(outputOf(acc, p, m));
        }
    }
  return y;
}

function naiveGemm(a: Uint8Array, M: number, K: number, bNK: (n: number, k: number) => number, N: number, bias: Int32Array | null, p: QGemmParams): number[] {
  const y: number[] = [];
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++) {
      let acc = bias ? bias[n]! : 0;
      for (let k = 0; k < K; k++) acc += (a[m * K + k]! - p.inputZero) * bNK(n, k);
      y.push(outputOf(acc, p, n));
    }
  return y;
}

// ---- random problems --------------------------------------------------------------------


function randomQuant(r: Rng, channels: number, u8: boolean): QGemmParams {
  const ws = new Float32Array(randomInt(r, 0, 1) ? channels : 1).map(() => 0.0005 + r() * 0.05);
  const base = { inputScale: 0.001 + r() * 0.1, inputZero: randomInt(r, 0, 255), weightScale: ws };
  if (!u8) return { ...base, output: randomInt(r, 0, 1) ? { kind: 'float32', min: 0, max: 6 } : { kind: 'float32' } };
  const zero = randomInt(r, 0, 255), min = randomInt(r, 0, 1) ? zero : 0;
  return { ...base, output: { kind: 'uint8', scale: 0.02 + r() * 0.5, zero, min, max: randomInt(r, 0, 1) ? 255 : Math.max(min, 15) } };
}

interface ConvProblem {
  label: string;
  x: Uint8Array;
  xd: number[];
  w: Int8Array;
  wd: number[];
  bias: Int32Array | null;
  p: QConvParams;
}

type ConvKind = 'general' | 'pointwise' | 'depthwise' | 'grouped';

function randomConv(seed: number, kind: ConvKind, over: Partial<{ cin: number; cout: number; hw: number; u8: boolean }> = {}): ConvProblem {
  const r = mulberry32(seed);
  const group = kind === 'depthwise' ? randomInt(r, 1, 20) : kind === 'grouped' ? randomInt(r, 2, 4) : 1;
  const cinG = kind === 'depthwise' ? 1 : over.cin ?? randomInt(r, 1, 24);
  const coutG = kind === 'depthwise' ? 1 : over.cout ?? randomInt(r, 1, 21);
  const k1 = kind === 'pointwise';
  const kh = k1 ? 1 : randomInt(r, 1, 4), kw = k1 ? 1 : randomInt(r, 1, 4);
  const strides: [number, number] = k1 ? [1, 1] : [randomInt(r, 1, 3), randomInt(r, 1, 2)];
  const pads: [number, number, number, number] = k1 ? [0, 0, 0, 0] : [randomInt(r, 0, 2), randomInt(r, 0, 2), randomInt(r, 0, 2), randomInt(r, 0, 2)];
  const dilations: [number, number] = k1 ? [1, 1] : [randomInt(r, 1, 2), randomInt(r, 1, 2)];
  const N = randomInt(r, 1, 2);
  const H = Math.max(over.hw ?? randomInt(r, 1, 17), kh * dilations[0]), W = Math.max(over.hw ?? randomInt(r, 1, 19), kw * dilations[1]);
  const u8 = over.u8 ?? randomInt(r, 0, 1) === 1;
  const wd = [coutG * group, cinG, kh, kw], xd = [N, cinG * group, H, W];
  const w = new Int8Array(wd.reduce((a, b) => a * b)).map(() => randomInt(r, -128, 127));
  const x = new Uint8Array(xd.reduce((a, b) => a * b)).map(() => randomInt(r, 0, 255));
  const bias = randomInt(r, 0, 3) ? new Int32Array(wd[0]!).map(() => randomInt(r, -100000, 100000)) : null;
  const p: QConvParams = { strides, pads, dilations, group, ...randomQuant(r, wd[0]!, u8) };
  const label = `seed=${seed} ${kind} x=[${xd}] w=[${wd}] g=${group} s=[${strides}] p=[${pads}] d=[${dilations}] ${p.output.kind} ws=${p.weightScale.length}`;
  return { label, x, xd, w, wd, bias, p };
}

async function runConv(prob: ConvProblem, isa: IsaName): Promise<Uint8Array | Float32Array> {
  setIsa(isa);
  const packed = PackedQConv.create(prob.w, prob.wd, prob.bias, prob.p);
  const n = packed.outputDims(prob.xd).reduce((a, b) => a * b);
  const out = prob.p.output.kind === 'uint8' ? new Uint8Array(n).fill(0x5a) : new Float32Array(n).fill(NaN);
  await qconv2d(packed, prob.x, prob.xd, out);
  return out;
}

/** Throws with the label and the first differing element unless a and b are identical bytes. */
function expectSameBits(a: Uint8Array | Float32Array, b: Uint8Array | Float32Array, label: string): void {
  const ab = new Uint8Array(a.buffer, a.byteOffset, a.byteLength), bb = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  expect(ab.length).toBe(bb.length);
  for (let i = 0; i < ab.length; i++) {
    if (ab[i] !== bb[i]) {
      const e = Math.floor(i / a.BYTES_PER_ELEMENT);
      throw new Error(`${label}: element ${e} differs: ${a[e]} vs ${b[e]}`);
    }
  }
}

function expectValues(got: Uint8Array | Float32Array, want: number[], label: string): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) throw new Error(`${label}: element ${i}: got ${got[i]}, want ${want[i]}`);
  }
}

// ---- tests ------------------------------------------------------------------------------

describe('q8 conv scalar reference vs naive JS', () => {
  const kinds: ConvKind[] = ['general', 'pointwise', 'depthwise', 'grouped'];
  it.each(kinds)('%s', async (kind) => {
    for (let seed = 1; seed <= 12; seed++) {
      const prob = randomConv(seed * 7 + kinds.indexOf(kind), kind);
      const got = await runConv(prob, 'scalar');
      const od = PackedQConv.create(prob.w, prob.wd, prob.bias, prob.p).outputDims(prob.xd);
      expectValues(got, naiveConv(prob.x, prob.xd, prob.w, prob.wd, prob.bias, prob.p, od), prob.label);
    }
  });
});

async function expectConvFastPaths(prob: ConvProblem, label = prob.label): Promise<void> {
  const ref = await runConv(prob, 'scalar');
  for (const isa of FAST) expectSameBits(await runConv(prob, isa), ref, `${label} [${isa}]`);
}

async function expectGemmFastPaths(g: GemmProblem): Promise<void> {
  const ref = await runGemm(g, 'scalar');
  for (const isa of FAST) expectSameBits(await runGemm(g, isa), ref, `${g.label} [${isa}]`);
}

describe('q8 conv fast paths vs scalar (bit-exact)', () => {
  itAvx2.each(['general', 'pointwise', 'depthwise', 'grouped'] as ConvKind[])('%s, random shapes', async (kind) => {
    for (let seed = 100; seed < 160; seed++) {
      const prob = randomConv(seed, kind);
      await expectConvFastPaths(prob);
    }
  });

  // Output rows of 16+ pixels: panels inside one row, straddling two, at stride 1, 2 and 3.
  itAvx2('wide images (panels within and across output rows)', async () => {
    for (let seed = 300; seed < 330; seed++) {
      // depthwise, grouped with one output channel per group (also the row kernel), general
      const kind: ConvKind = (['depthwise', 'grouped', 'general'] as const)[seed % 3]!;
      const prob = randomConv(seed, kind, kind === 'grouped' ? { hw: 17 + (seed % 24), cout: 1 } : { hw: 17 + (seed % 24) });
      await expectConvFastPaths(prob);
    }
  });

  // K = cin * kh * kw around the pair (2) and the K block (512); pixels and Cout around the tile.
  itAvx2('K below, at and above the K block; partial tiles', async () => {
    let seed = 500;
    for (const cin of [1, 2, 3, 255, 256, 257, 511, 512, 513, 1024, 1025]) {
      for (const kind of ['pointwise', 'general'] as ConvKind[]) {
        const prob = randomConv(seed++, kind, { cin: kind === 'general' ? Math.ceil(cin / 9) : cin, cout: 1 + (seed % 9), hw: 3 + (seed % 6) });
        await expectConvFastPaths(prob, `${prob.label} cin=${cin}`);
      }
    }
  });
});

function extremeConv(value: number, wv: number, cin: number, u8: boolean): ConvProblem {
  const wd = [5, cin, 1, 1], xd = [1, cin, 3, 7];
  const out: QConvParams['output'] = u8 ? { kind: 'uint8', scale: 4096 * 255 * 128 * 0.01, zero: 128, min: 0, max: 255 } : { kind: 'float32' };
  const p: QConvParams = { strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1, inputScale: 0.01, inputZero: 0, weightScale: Float32Array.of(1), output: out };
  const w = new Int8Array(5 * cin).fill(wv);
  for (let i = 0; i < cin; i += 3) w[i] = 127;  // channel 0 mixes signs
  return { label: `extreme x=${value} w=${wv} K=${cin} ${out.kind}`, x: new Uint8Array(xd.reduce((a, b) => a * b)).fill(value), xd, w, wd, bias: null, p };
}

describe('q8 conv at the saturation extremes', () => {
  it('scalar reference: x = 255, w = -128, K = 4096 gives the exact accumulator', async () => {
    const prob = extremeConv(255, -128, 4096, false);
    const got = await runConv(prob, 'scalar');
    // channel 1..4: 4096 * 255 * -128 exactly, times the float32 scale 0.01.
    expect(got[21]).toBe(Math.fround(Math.fround(255 * -128 * 4096) * Math.fround(0.01)));
    const od = [1, 5, 3, 7];
    expectValues(got, naiveConv(prob.x, prob.xd, prob.w, prob.wd, null, prob.p, od), prob.label);
  });

  itAvx2.each([
    [255, -128, 4096, false],
    [255, 127, 4096, false],
    [255, -128, 4096, true],
    [255, -128, 511, false],
    [255, 127, 513, true],
    [0, -128, 4096, false],
  ] as [number, number, number, boolean][])('fast paths = scalar: x=%d w=%d K=%d uint8=%s', async (x, w, k, u8) => {
    const prob = extremeConv(x, w, k, u8);
    await expectConvFastPaths(prob);
  });

  itAvx2('fast paths = scalar: 3x3 conv, all 255 with padding zero point 255', async () => {
    const prob = extremeConv(255, -128, 455, false);
    prob.wd = [5, 455, 3, 3];
    prob.w = new Int8Array(5 * 455 * 9).map((_, i) => (i % 5 === 0 ? 127 : -128));
    prob.p = { ...prob.p, pads: [1, 1, 1, 1], inputZero: 255 };
    await expectConvFastPaths(prob, `${prob.label} 3x3 padded`);
    const od = [1, 5, 3, 7];
    expectValues(await runConv(prob, 'scalar'), naiveConv(prob.x, prob.xd, prob.w, prob.wd, null, prob.p, od), prob.label);
  });
});

// ---- GEMM -------------------------------------------------------------------------------

interface GemmProblem {
  label: string;
  a: Uint8Array;
  M: number;
  K: number;
  N: number;
  b: Int8Array;
  transB: boolean;
  bias: Int32Array | null;
  p: QGemmParams;
}

function randomGemm(seed: number, M: number, K: number, N: number, extreme = false): GemmProblem {
  const r = mulberry32(seed);
  const transB = randomInt(r, 0, 1) === 1;
  const p = randomQuant(r, N, randomInt(r, 0, 1) === 1);
  const b = new Int8Array(K * N).map(() => (extreme ? (randomInt(r, 0, 1) ? 127 : -128) : randomInt(r, -128, 127)));
  const a = new Uint8Array(M * K).map(() => (extreme ? 255 : randomInt(r, 0, 255)));
  const bias = randomInt(r, 0, 3) ? new Int32Array(N).map(() => randomInt(r, -100000, 100000)) : null;
  if (extreme) p.inputZero = 0;
  return { label: `seed=${seed} M=${M} K=${K} N=${N} transB=${transB} ${p.output.kind} ws=${p.weightScale.length}${extreme ? ' extreme' : ''}`, a, M, K, N, b, transB, bias, p };
}

async function runGemm(g: GemmProblem, isa: IsaName): Promise<Uint8Array | Float32Array> {
  setIsa(isa);
  const packed = PackedQGemm.create(g.b, g.transB ? [g.N, g.K] : [g.K, g.N], g.transB, g.bias, g.p);
  const out = g.p.output.kind === 'uint8' ? new Uint8Array(g.M * g.N) : new Float32Array(g.M * g.N);
  await qgemm(packed, g.a, g.M, out);
  return out;
}

function bOf(g: GemmProblem): (n: number, k: number) => number {
  return g.transB ? (n, k) => g.b[n * g.K + k]! : (n, k) => g.b[k * g.N + n]!;
}

describe('q8 GEMM', () => {
  it('scalar reference vs naive JS', async () => {
    let seed = 1;
    for (const [M, K, N] of [[1, 1, 1], [3, 7, 5], [17, 64, 10], [2, 513, 3], [5, 30, 17]] as [number, number, number][]) {
      for (const extreme of [false, true]) {
        const g = randomGemm(seed++, M, K, N, extreme);
        expectValues(await runGemm(g, 'scalar'), naiveGemm(g.a, M, K, bOf(g), N, g.bias, g.p), g.label);
      }
    }
  });

  itAvx2('fast paths = scalar around the tiles and the K block, up to K = 4096', async () => {
    let seed = 1000;
    for (const K of [1, 2, 3, 15, 16, 17, 511, 512, 513, 1024, 4096]) {
      for (const M of [1, 15, 16, 17, 33]) {
        for (const N of [1, 3, 4, 5, 10]) {
          const g = randomGemm(seed++, M, K, N);
          await expectGemmFastPaths(g);
        }
      }
      const e = randomGemm(seed++, 19, K, 7, true);
      await expectGemmFastPaths(e);
    }
  });
});

describe('q8 conv with a residual (the float-residual Add folded in)', () => {
  const spec = (r: Rng): QuantSpec => ({ scale: Float32Array.of(0.02 + r() * 0.1), zero: Int32Array.of(randomInt(r, 0, 255)), qmin: 0, qmax: 255 });
  it.each([...FAST, 'scalar' as IsaName])('%s: bit for bit qconv2d, then addQuantize on its output (codes or floats in and out, clamped or not)', async (isa) => {
    for (let seed = 900; seed < 960; seed++) {
      const kinds: ConvKind[] = ['general', 'pointwise', 'depthwise', 'grouped'];
      const prob = randomConv(seed, kinds[seed % 4]!, seed % 3 === 0 ? { hw: 20 + (seed % 17) } : {});
      const r = mulberry32(seed * 7);
      setIsa(isa);
      const packed = PackedQConv.create(prob.w, prob.wd, prob.bias, prob.p);
      const n = packed.outputDims(prob.xd).reduce((a, b) => a * b);
      const residual: Float32Array | CodesOperand = randomInt(r, 0, 1)
        ? { codes: new Uint8Array(n).map(() => randomInt(r, 0, 255)), scale: 0.01 + r() * 0.1, zero: randomInt(r, 0, 255) }
        : new Float32Array(n).map(() => (r() - 0.5) * 16);
      const sum = spec(r);
      const activation = randomInt(r, 0, 1) ? { min: 0, max: randomInt(r, 0, 1) ? 6 : Infinity } : undefined;
      // Apart: the conv, then the Add on its output (codes read as DQ(codes)).
      const o = prob.p.output;
      const conv = o.kind === 'uint8' ? new Uint8Array(n) : new Float32Array(n);
      await qconv2d(packed, prob.x, prob.xd, conv);
      const convOperand = conv instanceof Uint8Array ? { codes: conv, scale: (o as { scale: number }).scale, zero: (o as { zero: number }).zero } : conv;
      const want = new Uint8Array(n), wantFake = new Float32Array(n);
      await addQuantize(convOperand, residual, sum, activation, want, wantFake);
      // Folded: codes (in place of uint8 outputs half the time) and floats.
      const out = o.kind === 'uint8' ? new Uint8Array(n) : new Float32Array(n);
      const codes = out instanceof Uint8Array && seed % 2 ? out : new Uint8Array(n).fill(0x5a);
      const fake = new Float32Array(n).fill(NaN);
      await qconv2d(packed, prob.x, prob.xd, out, { data: residual, spec: sum, codes, fake, ...(activation ? { activation } : {}) });
      expectSameBits(codes, want, `${prob.label} [${isa}] codes`);
      expectSameBits(fake, wantFake, `${prob.label} [${isa}] fake`);
    }
  });

  it('refuses a residual it cannot add, naming it', () => {
    const p: QConvParams = { strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1, inputScale: 0.1, inputZero: 0, weightScale: Float32Array.of(0.1), output: { kind: 'float32' } };
    const packed = PackedQConv.create(new Int8Array(4), [1, 1, 2, 2], null, p);
    const x = new Uint8Array(9), out = new Float32Array(4);
    const sum: QuantSpec = { scale: Float32Array.of(0.1), zero: Int32Array.of(3), qmin: 0, qmax: 255 };
    expect(() => qconv2d(packed, x, [1, 1, 3, 3], out, { data: new Float32Array(5), spec: sum, codes: new Uint8Array(4) })).toThrow('residual.data');
    expect(() => qconv2d(packed, x, [1, 1, 3, 3], out, { data: { codes: new Uint8Array(4), scale: 0, zero: 0 }, spec: sum, codes: new Uint8Array(4) })).toThrow('residual.data.scale');
    expect(() => qconv2d(packed, x, [1, 1, 3, 3], out, { data: new Float32Array(4), spec: sum })).toThrow('residual.codes');
    expect(() => qconv2d(packed, x, [1, 1, 3, 3], out, { data: new Float32Array(4), spec: sum, codes: new Uint8Array(3) })).toThrow('residual.codes.length');
    expect(() => qconv2d(packed, x, [1, 1, 3, 3], out, { data: new Float32Array(4), spec: { ...sum, scale: Float32Array.of(1, 2) }, codes: new Uint8Array(4) })).toThrow('residual.spec.scale.length');
    expect(() => qconv2d(packed, x, [1, 1, 3, 3], out, { data: new Float32Array(4), spec: sum, fake: new Float32Array(3) })).toThrow('residual.fake');
    expect(() => qconv2d(packed, x, [1, 1, 3, 3], out, { data: new Float32Array(4), spec: sum, codes: new Uint8Array(4), activation: { min: 2, max: 1 } })).toThrow('activation');
  });
});

describe('argument validation', () => {
  const p: QConvParams = { strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1, inputScale: 0.1, inputZero: 0, weightScale: Float32Array.of(0.1), output: { kind: 'float32' } };
  it('names the parameter, expected and received', () => {
    expect(() => PackedQConv.create(new Int8Array(4), [1, 1, 2, 2], null, { ...p, group: 1.5 })).toThrow('Expected positive integer for params.group but received 1.5');
    expect(() => PackedQConv.create(new Int8Array(3), [1, 1, 2, 2], null, p)).toThrow('Expected 4 (from the shape) for weight.length but received 3');
    expect(() => PackedQConv.create(new Int8Array(4), [1, 1, 2, 2], null, { ...p, inputZero: 256 })).toThrow('Expected integer in [0, 255] for params.inputZero but received 256');
    expect(() => PackedQConv.create(new Int8Array(4), [1, 1, 2, 2], null, { ...p, weightScale: Float32Array.of(1, 2) })).toThrow('params.weightScale.length');
    expect(() => PackedQConv.create(new Int8Array(4), [1, 1, 2, 2], null, { ...p, output: { kind: 'uint8', scale: 0, zero: 0, min: 0, max: 255 } })).toThrow('params.output.scale');
    expect(() => PackedQConv.create(new Int8Array(4), [1, 1, 2, 2], null, { ...p, output: { kind: 'uint8', scale: 1, zero: 0, min: 9, max: 3 } })).toThrow('params.output.max');
    const packed = PackedQConv.create(new Int8Array(4), [1, 1, 2, 2], null, p);
    expect(() => qconv2d(packed, new Uint8Array(9), [1, 2, 3, 3], new Float32Array(4))).toThrow('xDims[1]');
    expect(() => qconv2d(packed, new Uint8Array(9), [1, 1, 3, 3], new Uint8Array(4))).toThrow('Expected Float32Array for out but received Uint8Array');
    expect(() => qconv2d(packed, new Uint8Array(9), [1, 1, 3, 3], new Float32Array(5))).toThrow('Expected 4 (from the shape) for out.length but received 5');
    expect(() => PackedQGemm.create(new Int8Array(6), [2, 3], false, new Int32Array(2), p)).toThrow('Expected 3 (from the shape) for bias.length but received 2');
  });
});
