/**
 * quantize / dequantize / fake-quantize kernels: the scalar reference against a JS
 * implementation of ONNX QuantizeLinear / DequantizeLinear in float32 (ties to even, clamping,
 * NaN and infinities), per tensor and per channel along every axis; AVX2 against the scalar
 * reference bit for bit on lengths around the 8-lane vector. Seeds are in the messages.
 */
import { isaInfo, setIsa, type IsaName } from '../../src/engine/addon';
import { binary } from '../../src/engine/native-f32';
import {
  addQuantize,
  dequantize,
  dequantizeSync,
  fakeQuantize,
  fakeQuantizeSync,
  quantize,
  quantizeSync,
  type QuantSpec,
} from '../../src/engine/native-int8';
import { mulberry32, type Rng } from '../../src/data/random';
import { SIMD_ISAS, randomInt, roundHalfEven } from './helpers';

// Fast paths: AVX2, and on AVX-512 CPUs the kAvx512 dispatch as well (it runs the AVX2 rows).
const FAST = SIMD_ISAS;
const itAvx2 = FAST.length > 0 ? it : it.skip;
const initialIsa: IsaName = isaInfo().active;
afterEach(() => setIsa(initialIsa));


/** Channel of flat index i for dims and spec (0 when per tensor). */
function channelOf(dims: number[], spec: QuantSpec, i: number): number {
  if (spec.scale.length === 1 || spec.axis === undefined) return 0;
  const a = spec.axis < 0 ? spec.axis + dims.length : spec.axis;
  const inner = dims.slice(a + 1).reduce((p, d) => p * d, 1);
  return Math.floor(i / inner) % dims[a]!;
}

function jsQuantize(x: Float32Array, dims: number[], spec: QuantSpec): number[] {
  return Array.from(x, (v, i) => {
    const c = channelOf(dims, spec, i), s = spec.scale[c]!, z = spec.zero[c]!;
    const r = Number.isNaN(v) ? -Infinity : roundHalfEven(Math.fround(v / s));
    return Math.min(Math.max(r + z, spec.qmin), spec.qmax);
  });
}

function jsDequantize(q: ArrayLike<number>, dims: number[], spec: QuantSpec): number[] {
  return Array.from({ length: q.length }, (_, i) => {
    const c = channelOf(dims, spec, i);
    return Math.fround((q[i]! - spec.zero[c]!) * spec.scale[c]!);
  });
}


interface Problem {
  label: string;
  x: Float32Array;
  dims: number[];
  spec: QuantSpec;
  signed: boolean;
}

function randomProblem(seed: number): Problem {
  const r = mulberry32(seed);
  const rank = randomInt(r, 1, 4);
  const dims = Array.from({ length: rank }, () => randomInt(r, 1, 9));
  if (randomInt(r, 0, 3) === 0) dims[rank - 1] = randomInt(r, 1, 70);
  const signed = randomInt(r, 0, 1) === 1, bits4 = randomInt(r, 0, 3) === 0;
  const [qmin, qmax] = signed ? (bits4 ? [-8, 7] : [-128, 127]) : bits4 ? [0, 15] : [0, 255];
  const perChannel = randomInt(r, 0, 1) === 1;
  const axis = randomInt(r, -rank, rank - 1);
  const channels = perChannel ? dims[axis < 0 ? axis + rank : axis]! : 1;
  // Power-of-two scales half the time so that (k + 0.5) * scale / scale is an exact tie.
  const pow2 = randomInt(r, 0, 1) === 1;
  const scale = new Float32Array(channels).map(() => (pow2 ? 2 ** randomInt(r, -8, 2) : 0.001 + r() * 0.3));
  const zero = new Int32Array(channels).map(() => randomInt(r, qmin, qmax));
  const n = dims.reduce((p, d) => p * d, 1);
  const x = new Float32Array(n).map(() => (randomInt(r, 0, 2) ? (r() * 2 - 1) * 300 * scale[0]! : (randomInt(r, -200, 200) + 0.5) * scale[0]!));
  if (n > 3) x[randomInt(r, 0, n - 1)] = [NaN, Infinity, -Infinity, 1e30][randomInt(r, 0, 3)]!;
  const spec: QuantSpec = perChannel || randomInt(r, 0, 1) ? { scale, zero, qmin, qmax, axis } : { scale, zero, qmin, qmax };
  return { label: `seed=${seed} dims=[${dims}] axis=${spec.axis} channels=${channels} q=[${qmin},${qmax}]`, x, dims, spec, signed };
}

function expectValues(got: ArrayLike<number>, want: number[], label: string): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!Object.is(got[i], want[i])) throw new Error(`${label}: element ${i}: got ${got[i]}, want ${want[i]}`);
  }
}

function expectSameBits(a: ArrayLike<number> & { buffer: ArrayBufferLike; byteOffset: number; byteLength: number }, b: typeof a, label: string): void {
  const ab = new Uint8Array(a.buffer, a.byteOffset, a.byteLength), bb = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < ab.length; i++) if (ab[i] !== bb[i]) throw new Error(`${label}: byte ${i} differs`);
}

async function runAll(p: Problem, isa: IsaName): Promise<{ q: Uint8Array | Int8Array; d: Float32Array; f: Float32Array }> {
  setIsa(isa);
  const n = p.x.length;
  const q = p.signed ? new Int8Array(n) : new Uint8Array(n);
  await quantize(p.x, p.dims, p.spec, q);
  const d = new Float32Array(n);
  await dequantize(q, p.dims, p.spec, d);
  const f = new Float32Array(n);
  await fakeQuantize(p.x, p.dims, p.spec, f);
  return { q, d, f };
}

describe('quantize family, scalar reference vs JS', () => {
  it('rounds ties to even', () => {
    setIsa('scalar');
    const spec: QuantSpec = { scale: Float32Array.of(1), zero: Int32Array.of(0), qmin: -128, qmax: 127 };
    const q = new Int8Array(8);
    quantizeSync(Float32Array.of(0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 126.5, -127.5), [8], spec, q);
    expect(Array.from(q)).toEqual([0, 2, 2, 0, -2, -2, 126, -128]);
  });

  it('saturates, maps NaN to qmin and infinities to the bounds', () => {
    setIsa('scalar');
    const spec: QuantSpec = { scale: Float32Array.of(0.1), zero: Int32Array.of(10), qmin: 0, qmax: 15 };
    const q = new Uint8Array(5);
    quantizeSync(Float32Array.of(NaN, Infinity, -Infinity, 1e38, 0.44), [5], spec, q);
    expect(Array.from(q)).toEqual([0, 15, 0, 15, 14]);
  });

  it('matches JS on random tensors (quantize, dequantize, fake-quantize)', async () => {
    for (let seed = 1; seed <= 150; seed++) {
      const p = randomProblem(seed);
      const { q, d, f } = await runAll(p, 'scalar');
      const want = jsQuantize(p.x, p.dims, p.spec);
      expectValues(q, want, `quantize ${p.label}`);
      expectValues(d, jsDequantize(want, p.dims, p.spec), `dequantize ${p.label}`);
      expectValues(f, jsDequantize(want, p.dims, p.spec), `fakeQuantize ${p.label}`);
    }
  });
});

describe('quantize family, AVX2 vs scalar (bit-exact)', () => {
  itAvx2('random tensors, per tensor and per channel', async () => {
    for (let seed = 1000; seed < 1300; seed++) {
      const p = randomProblem(seed);
      const s = await runAll(p, 'scalar');
      for (const isa of FAST) {
        const v = await runAll(p, isa);
        expectSameBits(v.q, s.q, `quantize ${p.label} [${isa}]`);
        expectSameBits(v.d, s.d, `dequantize ${p.label} [${isa}]`);
        expectSameBits(v.f, s.f, `fakeQuantize ${p.label} [${isa}]`);
      }
    }
  });

  itAvx2('large tensors split across threads', async () => {
    const p = randomProblem(7);
    const r = mulberry32(99);
    p.dims = [3, 64, 57, 33];
    p.x = new Float32Array(3 * 64 * 57 * 33).map(() => (r() * 2 - 1) * 40);
    p.spec = { scale: new Float32Array(64).map(() => 0.01 + r() * 0.2), zero: new Int32Array(64).fill(3), qmin: 0, qmax: 255, axis: 1 };
    p.signed = false;
    const s = await runAll(p, 'scalar'), v = await runAll(p, FAST[FAST.length - 1]!);
    expectSameBits(v.q, s.q, 'quantize large');
    expectSameBits(v.f, s.f, 'fakeQuantize large');
    expectValues(s.q, jsQuantize(p.x, p.dims, p.spec), 'quantize large vs JS');
  });
});

describe('quantize family API', () => {
  it('sync and async agree; fake-quantize works in place', async () => {
    const p = randomProblem(42);
    const a = new Float32Array(p.x.length), b = new Float32Array(p.x.length);
    await fakeQuantize(p.x, p.dims, p.spec, a);
    fakeQuantizeSync(p.x, p.dims, p.spec, b);
    expectSameBits(a, b, 'sync vs async');
    const inPlace = Float32Array.from(p.x);
    fakeQuantizeSync(inPlace, p.dims, p.spec, inPlace);
    expectSameBits(inPlace, a, 'in place');
    const q = new Uint8Array(4), d = new Float32Array(4);
    const spec: QuantSpec = { scale: Float32Array.of(0.5), zero: Int32Array.of(3), qmin: 0, qmax: 255 };
    quantizeSync(Float32Array.of(-1.5, 0, 1, 200), [4], spec, q);
    expect(Array.from(q)).toEqual([0, 3, 5, 255]);
    dequantizeSync(q, [4], spec, d);
    expect(Array.from(d)).toEqual([-1.5, 0, 1, 126]);
  });

  it('validates arguments', () => {
    const spec: QuantSpec = { scale: Float32Array.of(0.5, 0.25), zero: Int32Array.of(0, 0), qmin: 0, qmax: 255, axis: 0 };
    expect(() => quantizeSync(new Float32Array(6), [3, 2], spec, new Uint8Array(6))).toThrow('Expected 1 or 3 (dims[0]) for spec.scale.length but received 2');
    expect(() => quantizeSync(new Float32Array(6), [2, 3], { ...spec, qmin: -1 }, new Uint8Array(6))).toThrow('spec.qmin');
    expect(() => quantizeSync(new Float32Array(6), [2, 3], { ...spec, qmin: -128, qmax: 127 }, new Int8Array(5))).toThrow('out.length');
    expect(() => quantizeSync(new Float32Array(6), [2, 3], { ...spec, scale: Float32Array.of(0.5, 0) }, new Uint8Array(6))).toThrow('spec.scale[1]');
    expect(() => quantizeSync(new Float32Array(6), [2, 3], { ...spec, axis: undefined } as QuantSpec, new Uint8Array(6))).toThrow('spec.axis');
    expect(() => dequantizeSync(new Float32Array(6) as unknown as Uint8Array, [2, 3], spec, new Float32Array(6))).toThrow('Expected Uint8Array or Int8Array for q but received Float32Array');
  });
});

describe('addQuantize (the float-residual Add fused with its quantize step)', () => {
  // The unfused engine steps: f32 binary add (+ clamp), quantize to codes, fake-quantize.
  async function unfused(a: Float32Array, b: Float32Array, spec: QuantSpec, act: { min: number; max: number } | undefined) {
    const y = new Float32Array(a.length);
    await binary('add', a, [a.length], b, [b.length], y, act);
    const codes = new Uint8Array(a.length);
    await quantize(y, [y.length], spec, codes);
    await fakeQuantize(y, [y.length], spec, y);
    return { codes, fake: y };
  }

  const cases = Array.from({ length: 24 }, (_, k) => 700 + k);
  it.each(cases)('seed %i: codes and DQ(Q(a + b)) bit for bit as the unfused steps, on every path', async (seed) => {
    const r = mulberry32(seed);
    const n = [1, 7, 8, 9, 255, 256, 257, 1000, 40000][seed % 9]!;
    const scale = Math.fround(0.01 + r() * 0.1);
    const spec: QuantSpec = { scale: Float32Array.of(scale), zero: Int32Array.of(randomInt(r, 0, 255)), qmin: 0, qmax: 255 };
    if (seed % 4 === 1) spec.qmax = 15, spec.zero[0] = randomInt(r, 0, 15);  // 4-bit
    const a = new Float32Array(n).map(() => (r() - 0.5) * 20);
    const b = new Float32Array(n).map((_, i) => (i % 5 === 0 ? (randomInt(r, -300, 300) + 0.5) * scale - a[i]! : (r() - 0.5) * 20));  // ties
    if (n > 10) a[3] = Infinity, b[4] = -1e30;
    const act = seed % 3 === 0 ? { min: 0, max: Infinity } : seed % 3 === 1 ? { min: 0, max: 6 } : undefined;
    for (const isa of ['scalar', ...FAST] as IsaName[]) {
      setIsa(isa);
      const want = await unfused(a, b, spec, act);
      const codes = new Uint8Array(n), fake = new Float32Array(n);
      await addQuantize(a, b, spec, act, codes, fake);
      expect({ isa, codes: Array.from(codes) }).toEqual({ isa, codes: Array.from(want.codes) });
      expect({ isa, fake: Array.from(fake) }).toEqual({ isa, fake: Array.from(want.fake) });
      const onlyCodes = new Uint8Array(n);
      await addQuantize(a, b, spec, act, onlyCodes, null);
      expect(Array.from(onlyCodes)).toEqual(Array.from(want.codes));
      const inPlace = a.slice();
      await addQuantize(inPlace, b, spec, act, null, inPlace);
      expect(Array.from(inPlace)).toEqual(Array.from(want.fake));
    }
  });

  it.each([800, 801, 802, 803, 804, 805])('seed %i: operands as codes give what their dequantized floats give, on every path', async (seed) => {
    const r = mulberry32(seed);
    const n = [5, 256, 1000, 40000][seed % 4]!;
    const spec: QuantSpec = { scale: Float32Array.of(Math.fround(0.02 + r() * 0.1)), zero: Int32Array.of(randomInt(r, 0, 255)), qmin: 0, qmax: 255 };
    const codesOf = (): { codes: Uint8Array; scale: number; zero: number } => ({
      codes: new Uint8Array(n).map(() => randomInt(r, 0, 255)), scale: 0.01 + r() * 0.2, zero: randomInt(r, 0, 255),
    });
    const ca = codesOf(), cb = codesOf();
    const dq = async (c: typeof ca): Promise<Float32Array> => {
      const f = new Float32Array(n);
      await dequantize(c.codes, [n], { scale: Float32Array.of(c.scale), zero: Int32Array.of(c.zero), qmin: 0, qmax: 255 }, f);
      return f;
    };
    const fa = await dq(ca), fb = await dq(cb);
    const act = seed % 2 ? { min: 0, max: 6 } : undefined;
    for (const isa of ['scalar', ...FAST] as IsaName[]) {
      setIsa(isa);
      for (const [name, a, b, wantA, wantB] of [['a codes', ca, fb, fa, fb], ['b codes', fa, cb, fa, fb], ['both', ca, cb, fa, fb]] as const) {
        const want = new Uint8Array(n), wantFake = new Float32Array(n), got = new Uint8Array(n), gotFake = new Float32Array(n);
        await addQuantize(wantA, wantB, spec, act, want, wantFake);
        await addQuantize(a, b, spec, act, got, gotFake);
        expect({ isa, name, codes: Array.from(got) }).toEqual({ isa, name, codes: Array.from(want) });
        expect({ isa, name, fake: Array.from(gotFake) }).toEqual({ isa, name, fake: Array.from(wantFake) });
      }
    }
  });

  it('refuses codes operands of the wrong length, scale or zero point, naming them', () => {
    const a = new Float32Array(8), spec: QuantSpec = { scale: Float32Array.of(0.1), zero: Int32Array.of(3), qmin: 0, qmax: 255 };
    const codes = { codes: new Uint8Array(8), scale: 0.5, zero: 3 };
    expect(() => addQuantize(a, { ...codes, codes: new Uint8Array(7) }, spec, undefined, new Uint8Array(8), null)).toThrow(/b.codes.length/);
    expect(() => addQuantize({ ...codes, scale: 0 }, a, spec, undefined, new Uint8Array(8), null)).toThrow(/a.scale/);
    expect(() => addQuantize(a, { ...codes, zero: 256 }, spec, undefined, new Uint8Array(8), null)).toThrow(/b.zero/);
    expect(() => addQuantize(codes, { ...codes, codes: new Int8Array(8) as unknown as Uint8Array }, spec, undefined, new Uint8Array(8), null)).toThrow(/b.codes/);
  });

  it('refuses mismatched lengths, per-channel specs and no output, naming the parameter', () => {
    const a = new Float32Array(8), spec: QuantSpec = { scale: Float32Array.of(0.1), zero: Int32Array.of(3), qmin: 0, qmax: 255 };
    expect(() => addQuantize(a, new Float32Array(7), spec, undefined, new Uint8Array(8), null)).toThrow(/b.length/);
    expect(() => addQuantize(a, a, { ...spec, scale: Float32Array.of(0.1, 0.2), zero: Int32Array.of(1, 2), axis: 0 }, undefined, new Uint8Array(8), null)).toThrow(/spec.scale.length/);
    expect(() => addQuantize(a, a, spec, undefined, null, null)).toThrow(/codes/);
    expect(() => addQuantize(a, a, spec, undefined, new Uint8Array(7), null)).toThrow(/codes.length/);
  });
});
