/**
 * The addon's own argument checks (native/src/bindings/args.h), called directly past the
 * TypeScript wrappers: a typed array of the wrong element type, one shorter than its shape, or
 * another family's packed-weight handle is refused with a JS error before any memory is
 * touched (never a crash, never a read past the array). One block per binding family.
 */
import { addon } from '../../src/engine/addon';

const conv = { strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group: 1 };
const quant = { inputScale: 0.1, inputZero: 0, weightScale: Float32Array.of(0.1), output: { kind: 'float32' } };

describe('f32 bindings', () => {
  const packConv = (w: unknown, bias: unknown = null) => addon.f32PackConv(w, [2, 1, 2, 2], bias, 1, [1, 1], [0, 0, 0, 0], [1, 1], -Infinity, Infinity);
  const packGemm = (b: unknown) => addon.f32PackGemm(b, 3, 2, false, null, 1, 1, -Infinity, Infinity);

  it('refuses the wrong typed array type', () => {
    // An Int8Array of 8 elements is 8 bytes: read as 8 floats it would be 32.
    expect(() => packConv(new Int8Array(8))).toThrow('wrong typed array type for weight: expected Float32Array');
    expect(() => packConv(new Float64Array(8))).toThrow(/^(wrong typed array type|Expected)/);
    expect(() => packConv(new Float32Array(8), new Int32Array(2))).toThrow('wrong typed array type for bias');
    expect(() => packGemm([1, 2, 3, 4, 5, 6])).toThrow('wrong typed array type for b');
    const g = packGemm(new Float32Array(6));
    expect(() => addon.f32Gemm(g, new Uint8Array(3), 1, new Float32Array(2))).toThrow('wrong typed array type for a');
    expect(() => addon.f32Unary(0, new Float32Array(4), new Int32Array(4), 4, 0, 1, 0.2, 0.5)).toThrow('wrong typed array type for out');
    expect(() => addon.f32Softmax(new Float64Array(4), 2, 2, new Float32Array(4))).toThrow('wrong typed array type for x');
    expect(() => addon.f32StridedCopy(new Float32Array(4), 0, [1], new Uint8Array(16), 0, [1], [4])).toThrow('wrong typed array type for dst');
  });

  it('refuses arrays shorter than the shape', () => {
    expect(() => packConv(new Float32Array(7))).toThrow('weight: expected at least 8 elements but received 7');
    expect(() => packConv(new Float32Array(8), new Float32Array(1))).toThrow('bias: expected at least 2');
    const c = packConv(new Float32Array(8));
    expect(() => addon.f32Conv2d(c, new Float32Array(8), [1, 1, 3, 3], new Float32Array(8))).toThrow('x: expected at least 9');
    expect(() => addon.f32Conv2d(c, new Float32Array(9), [1, 1, 3, 3], new Float32Array(7))).toThrow('out: expected at least 8');
    expect(() => addon.f32Binary(0, new Float32Array(3), [4], new Float32Array(4), [4], new Float32Array(4))).toThrow('a: expected at least 4');
    expect(() => addon.f32GlobalAvgPool(new Float32Array(8), 3, 3, new Float32Array(3))).toThrow('x: expected at least 9');
    expect(() => addon.f32Pool2d(true, new Float32Array(8), [1, 1, 3, 3], [2, 2, 1, 1, 0, 0, 0, 0, 0, 0], new Float32Array(4))).toThrow('x: expected at least 9');
    expect(() => addon.f32Softmax(new Float32Array(4), 2e15, 2e15, new Float32Array(4))).toThrow('shape too large');
  });

  it('refuses a handle of another kind', () => {
    const g = packGemm(new Float32Array(6));
    const q = addon.q8PackGemm(new Int8Array(6), [3, 2], false, null, quant);
    expect(() => addon.f32Conv2d(g, new Float32Array(9), [1, 1, 3, 3], new Float32Array(8))).toThrow('Expected packed f32 conv weights for packed');
    expect(() => addon.f32Gemm(q, new Float32Array(3), 1, new Float32Array(2))).toThrow('Expected packed f32 GEMM weights for packed');
    expect(() => addon.f32Gemm({}, new Float32Array(3), 1, new Float32Array(2))).toThrow(/^(wrong typed array type|Expected)/);
  });
});

describe('int8 bindings', () => {
  const packConv = (w: unknown, q: unknown = quant) => addon.q8PackConv(w, [1, 1, 2, 2], null, conv, q);

  it('refuses the wrong typed array type', () => {
    expect(() => packConv(new Uint8Array(4))).toThrow('wrong typed array type for weight: expected Int8Array');
    expect(() => packConv(new Int8Array(4), { ...quant, weightScale: Float64Array.of(0.1) })).toThrow('wrong typed array type for weightScale');
    expect(() => addon.q8PackConv(new Int8Array(4), [1, 1, 2, 2], new Float32Array(1), conv, quant)).toThrow('wrong typed array type for bias');
    const c = packConv(new Int8Array(4));
    expect(() => addon.q8Conv2d(c, new Int8Array(4), [1, 1, 2, 2], new Float32Array(1))).toThrow('wrong typed array type for x');
    // The packed output kind is float32: a Uint8Array out of the same length is 4 times too short.
    expect(() => addon.q8Conv2d(c, new Uint8Array(4), [1, 1, 2, 2], new Uint8Array(4))).toThrow('wrong typed array type for out');
    expect(() => addon.q8Quantize(new Float64Array(4), [1, 1, 4], Float32Array.of(1), Int32Array.of(0), 0, 255, new Uint8Array(4), false)).toThrow('wrong typed array type for x');
    expect(() => addon.q8Quantize(new Float32Array(4), [1, 1, 4], Float32Array.of(1), Float32Array.of(0), 0, 255, new Uint8Array(4), false)).toThrow('wrong typed array type for zero');
    expect(() => addon.q8Dequantize(new Uint8Array(4), [1, 1, 4], Float32Array.of(1), Int32Array.of(0), 0, 255, new Uint8Array(16), false)).toThrow('wrong typed array type for out');
    expect(() => addon.q8AddQuantize(new Float32Array(4), new Int32Array(4), 4, null, 1, 0, 0, 255, new Uint8Array(4), null)).toThrow('wrong typed array type for b');
    // A Uint8Array operand is codes, with its scale and zero point after the outputs.
    expect(() => addon.q8AddQuantize(new Uint8Array(4), new Float32Array(4), 4, null, 1, 0, 0, 255, new Uint8Array(4), null, 0, 0, null, null)).toThrow('bad scale of a');
    expect(() => addon.q8AddQuantize(new Float32Array(4), new Uint8Array(4), 4, null, 1, 0, 0, 255, new Uint8Array(4), null, null, null, 1, 300)).toThrow('codes zero');
  });

  it('refuses arrays shorter than the shape', () => {
    expect(() => packConv(new Int8Array(3))).toThrow('weight: expected at least 4 elements but received 3');
    const c = packConv(new Int8Array(4));
    expect(() => addon.q8Conv2d(c, new Uint8Array(8), [1, 1, 3, 3], new Float32Array(4))).toThrow('x: expected at least 9');
    const g = addon.q8PackGemm(new Int8Array(6), [3, 2], false, null, quant);
    expect(() => addon.q8Gemm(g, new Uint8Array(5), 2, new Float32Array(4))).toThrow('a: expected at least 6');
    expect(() => addon.q8Gemm(g, new Uint8Array(6), 2, new Float32Array(3))).toThrow('out: expected at least 4');
    expect(() => addon.q8FakeQuantize(new Float32Array(12), [3, 2, 2], Float32Array.of(1, 1), Int32Array.of(0, 0), 0, 255, new Float32Array(11), true)).toThrow('out: expected at least 12');
    expect(() => addon.q8Quantize(new Float32Array(12), [3, 2, 2], Float32Array.of(1), Int32Array.of(0, 0), 0, 255, new Uint8Array(12), true)).toThrow('scale: expected at least 2');
    expect(() => addon.q8AddQuantize(new Float32Array(4), new Float32Array(4), 4, new Float32Array(1), 1, 0, 0, 255, new Uint8Array(4), null)).toThrow('clamp: expected at least 2');
    expect(() => addon.q8Quantize(new Float32Array(4), [2e7, 2e7, 2e7], Float32Array.of(1), Int32Array.of(0), 0, 255, new Uint8Array(4), false)).toThrow('shape too large');
    // A conv's residual: every array at least the output's length; codes or fake given.
    const sum = { scale: 0.1, zero: 0, qmin: 0, qmax: 255 };
    const x = new Uint8Array(9), out = new Float32Array(4);
    expect(() => addon.q8Conv2d(c, x, [1, 1, 3, 3], out, { data: new Float32Array(3), sum, codes: new Uint8Array(4) })).toThrow('residual.data: expected at least 4');
    expect(() => addon.q8Conv2d(c, x, [1, 1, 3, 3], out, { data: new Uint8Array(4), scale: 1, zero: 0, sum, codes: new Uint8Array(3) })).toThrow('residual.codes: expected at least 4');
    expect(() => addon.q8Conv2d(c, x, [1, 1, 3, 3], out, { data: new Float32Array(4), sum, fake: new Float32Array(3) })).toThrow('residual.fake: expected at least 4');
    expect(() => addon.q8Conv2d(c, x, [1, 1, 3, 3], out, { data: new Float32Array(4), sum, clamp: new Float32Array(1), codes: new Uint8Array(4) })).toThrow('residual.clamp: expected at least 2');
    expect(() => addon.q8Conv2d(c, x, [1, 1, 3, 3], out, { data: new Float32Array(4), sum })).toThrow('codes or fake');
    expect(() => addon.q8Conv2d(c, x, [1, 1, 3, 3], out, { data: new Uint8Array(4), scale: 0, zero: 0, sum, codes: new Uint8Array(4) })).toThrow('residual.scale');
    expect(() => addon.q8Conv2d(c, x, [1, 1, 3, 3], out, { data: new Float32Array(4), sum: { ...sum, zero: 300 }, codes: new Uint8Array(4) })).toThrow('residual.sum.zero');
    expect(() => addon.q8Conv2d(c, x, [1, 1, 3, 3], out, { data: new Float32Array(4), sum: { ...sum, scale: 0 }, codes: new Uint8Array(4) })).toThrow('residual.sum.scale');
  });

  it('refuses bad quantization parameters and a handle of another kind', () => {
    expect(() => packConv(new Int8Array(4), { ...quant, inputZero: 300 })).toThrow('Expected integer in [0, 255] for inputZero');
    expect(() => packConv(new Int8Array(4), { ...quant, output: 'uint8' })).toThrow('Expected an object for output');
    expect(() => addon.q8Quantize(new Float32Array(4), [1, 1, 4], Float32Array.of(1), Int32Array.of(0), 9, 3, new Uint8Array(4), false)).toThrow('for qmax');
    const f = addon.f32PackGemm(new Float32Array(6), 3, 2, false, null, 1, 1, -Infinity, Infinity);
    expect(() => addon.q8Gemm(f, new Uint8Array(3), 1, new Float32Array(2))).toThrow('Expected packed int8 GEMM weights for packed');
    expect(() => addon.q8Conv2d(addon.q8PackGemm(new Int8Array(6), [3, 2], false, null, quant), new Uint8Array(9), [1, 1, 3, 3], new Float32Array(4)))
      .toThrow('Expected packed int8 conv weights for packed');
  });
});

describe('stats bindings', () => {
  it('refuses the wrong typed array type and short arrays', () => {
    expect(() => addon.f32Extremes(new Float64Array(4))).toThrow('wrong typed array type for x');
    expect(() => addon.f32Extremes([1, 2])).toThrow(/^(wrong typed array type|Expected)/);
    expect(() => addon.f32HistogramAdd(new Float32Array(4), 0, 1, new Float32Array(8))).toThrow('wrong typed array type for counts');
    expect(() => addon.f32HistogramAdd(new Float32Array(4), 0, 1, new Float64Array(0))).toThrow('counts: expected at least 1');
    expect(() => addon.f32HistogramUpdate(new Int8Array(4), 0, 1, 1, new Float64Array(8))).toThrow('wrong typed array type for x');
    expect(() => addon.f32ChannelSums(new Float32Array(5), 2, 3, 1, new Float64Array(3))).toThrow('x: expected at least 6');
    expect(() => addon.f32ChannelSums(new Float32Array(6), 2, 3, 1, new Float64Array(2))).toThrow('sums: expected at least 3');
    expect(() => addon.f32ChannelSums(new Float32Array(6), 2, 3, 1, new Float32Array(3))).toThrow('wrong typed array type for sums');
    expect(() => addon.f32ChannelSums(new Float32Array(6), 1.5, 3, 1, new Float64Array(3))).toThrow('Expected non-negative integer for n');
  });
});

describe('rounding bindings', () => {
  it('refuses the wrong typed array type and short arrays', () => {
    expect(() => addon.accumulateGemmGram(new Float32Array(16), new Float32Array(8), 2, 4, 1)).toThrow('wrong typed array type for h: expected Float64Array');
    expect(() => addon.accumulateGemmGram(new Float64Array(16), new Float32Array(7), 2, 4, 1)).toThrow('x: expected at least 8');
    expect(() => addon.fitRounding(new Float32Array(8), 2, 4, Float64Array.of(0.1), -7, 7, new Float64Array(16), 1, 0.01, new Int8Array(8)))
      .toThrow('wrong typed array type for scale');
  });
});

describe('bench and common bindings', () => {
  it('refuse values of the wrong kind', () => {
    expect(() => addon.benchPeak(42, 1, 0.01, 1)).toThrow('Expected a string for probe name');
    expect(() => addon.benchLayer(null, 'int8', 'scalar', 1, 0.01)).toThrow('Expected an object for shape');
    expect(() => addon.benchLayer({ gemm: true, n: 1.5 }, 'int8', 'scalar', 1, 0.01)).toThrow('Expected non-negative integer for n');
    expect(() => addon.benchLayer({ gemm: true, n: 1 }, 'int8', 'scalar', 1, 0.01)).toThrow('for cin');
    expect(() => addon.setIsa(3)).toThrow('Expected a string for isa');
    expect(() => addon.setThreads('4')).toThrow('Expected number for threads');
  });
});
