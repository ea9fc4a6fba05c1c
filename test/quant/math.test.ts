import { LayerqError } from '../../src/errors';
import {
  clipQParams,
  dequantize,
  fakeQuantize,
  qparamsFromRange,
  qparamsFromRanges,
  qparamsWithBits,
  qRange,
  quantize,
  quantizeBias,
  quantizeValue,
  quantizeWeights,
  representableRange,
  roundHalfEven,
  SCALE_EPSILON,
  type QuantScheme,
} from '../../src/quant/math';
import { gaussian, laplacian } from './random';

const uint8: QuantScheme = { bits: 8, signed: false, narrow: false, symmetric: false };
const int8narrow: QuantScheme = { bits: 8, signed: true, narrow: true, symmetric: true };

describe('qRange', () => {
  test.each([
    [8, true, true, -127, 127],
    [4, true, true, -7, 7],
    [7, true, true, -63, 63],
    [8, true, false, -128, 127],
    [4, true, false, -8, 7],
    [8, false, false, 0, 255],
    [4, false, false, 0, 15],
    [8, false, true, 0, 255],
  ])('%i bits signed=%s narrow=%s -> [%i, %i]', (bits, signed, narrow, qmin, qmax) => {
    expect(qRange({ bits, signed, narrow })).toEqual({ qmin, qmax });
  });

  test('rejects a bad bit width with a named error', () => {
    expect(() => qRange({ bits: 1.5, signed: true, narrow: true })).toThrow(
      new LayerqError('BAD_ARGUMENT', 'Expected integer between 2 and 16 for bits but received 1.5'),
    );
  });
});

describe('roundHalfEven', () => {
  test.each([
    [0.5, 0],
    [1.5, 2],
    [2.5, 2],
    [3.5, 4],
    [-0.5, 0],
    [-1.5, -2],
    [-2.5, -2],
    [0.49999997, 0],
    [2.6, 3],
    [-2.6, -3],
    [7, 7],
  ])('%f -> %i', (v, r) => expect(roundHalfEven(v)).toBe(r));
});

describe('qparamsFromRange', () => {
  test('[0, 6] uint8 -> scale 6/255, zero point 0', () => {
    const qp = qparamsFromRange(0, 6, uint8);
    expect(qp.scale[0]).toBe(Math.fround(6 / 255));
    expect(qp.zeroPoint[0]).toBe(0);
    expect([qp.qmin, qp.qmax]).toEqual([0, 255]);
  });

  test('[-1, 3] uint8 -> scale 4/255, zero point round(63.75) = 64', () => {
    const qp = qparamsFromRange(-1, 3, uint8);
    expect(qp.scale[0]).toBe(Math.fround(4 / 255));
    expect(qp.zeroPoint[0]).toBe(64);
  });

  test('symmetric int8 narrow [-2, 1] -> scale 2/127, zero point 0', () => {
    const qp = qparamsFromRange(-2, 1, int8narrow);
    expect(qp.scale[0]).toBe(Math.fround(2 / 127));
    expect(qp.zeroPoint[0]).toBe(0);
  });

  test('symmetric uint8 puts the zero point at 128 (ONNX Runtime)', () => {
    expect(qparamsFromRange(-1, 1, { ...uint8, symmetric: true }).zeroPoint[0]).toBe(128);
  });

  test('a range without 0 is widened to hold 0', () => {
    const pos = qparamsFromRange(2, 5, uint8);
    expect(pos.scale[0]).toBe(Math.fround(5 / 255));
    expect(pos.zeroPoint[0]).toBe(0);
    const neg = qparamsFromRange(-5, -2, uint8);
    expect(neg.scale[0]).toBe(Math.fround(5 / 255));
    expect(neg.zeroPoint[0]).toBe(255);
    expect(quantizeValue(0, neg.scale[0]!, neg.zeroPoint[0]!, 0, 255)).toBe(255);
  });

  test('an all-zero range gets scale SCALE_EPSILON and quantizes 0 exactly', () => {
    const qp = qparamsFromRange(0, 0, uint8);
    expect(qp.scale[0]).toBe(Math.fround(SCALE_EPSILON));
    expect(dequantize(quantize(Float32Array.of(0), qp), qp)[0]).toBe(0);
  });

  test('rejects min > max and non-finite bounds', () => {
    expect(() => qparamsFromRange(1, -1, uint8)).toThrow(LayerqError);
    expect(() => qparamsFromRange(0, Infinity, uint8)).toThrow(LayerqError);
  });

  test('per-channel ranges give one scale and zero point per channel', () => {
    const qp = qparamsFromRanges([0, -1], [6, 3], uint8, 1);
    expect(Array.from(qp.scale)).toEqual([Math.fround(6 / 255), Math.fround(4 / 255)]);
    expect(Array.from(qp.zeroPoint)).toEqual([0, 64]);
    expect(qp.axis).toBe(1);
  });
});

describe('quantize / dequantize', () => {
  test('round trip error <= scale / 2 inside the range, saturation outside', () => {
    const qp = qparamsFromRange(-1, 3, uint8);
    const s = qp.scale[0]!;
    const lo = (0 - 64) * s;
    const hi = (255 - 64) * s;
    const inside = Float32Array.from({ length: 1001 }, (_, i) => lo + ((hi - lo) * i) / 1000);
    const back = dequantize(quantize(inside, qp), qp);
    for (let i = 0; i < inside.length; i++) expect(Math.abs(back[i]! - inside[i]!)).toBeLessThanOrEqual(s / 2 + 1e-7);
    const q = quantize(Float32Array.of(-100, 100, 0), qp);
    expect(Array.from(q)).toEqual([0, 255, 64]);
    expect(Array.from(fakeQuantize(Float32Array.of(-100, 100, 0), qp))).toEqual([Math.fround(lo), Math.fround(hi), 0]);
  });

  test('ties round to even on the grid (ONNX QuantizeLinear)', () => {
    const qp = { scale: Float32Array.of(0.5), zeroPoint: Int32Array.of(0), qmin: -127, qmax: 127 };
    // x / 0.5 = 0.5, 1.5, 2.5, -0.5, -1.5
    expect(Array.from(quantize(Float32Array.of(0.25, 0.75, 1.25, -0.25, -0.75), qp))).toEqual([0, 2, 2, 0, -2]);
  });

  test('per-channel along axis 0 of [2, 3]', () => {
    const qp = qparamsFromRanges([-1, -10], [1, 10], int8narrow, 0);
    const x = Float32Array.of(1, 0.25, -1, 10, 2.5, -10);
    expect(Array.from(quantize(x, qp, [2, 3]))).toEqual([127, 32, -127, 127, 32, -127]);
    const back = dequantize(quantize(x, qp, [2, 3]), qp, [2, 3]);
    expect(Math.abs(back[4]! - 2.5)).toBeLessThanOrEqual(qp.scale[1]! / 2);
  });

  test('per-channel along axis 1 of NCHW [2, 2, 1, 2]', () => {
    const qp = qparamsFromRanges([0, 0], [1, 100], uint8, 1);
    const x = Float32Array.of(1, 1, 100, 100, 1, 1, 100, 100);
    expect(Array.from(quantize(x, qp, [2, 2, 1, 2]))).toEqual([255, 255, 255, 255, 255, 255, 255, 255]);
    const y = Float32Array.of(0.25, 0.25, 25, 25, 0.25, 0.25, 25, 25);
    expect(Array.from(quantize(y, qp, [2, 2, 1, 2]))).toEqual([64, 64, 64, 64, 64, 64, 64, 64]);
  });

  test('per-channel needs matching dims', () => {
    const qp = qparamsFromRanges([0, 0], [1, 1], uint8, 1);
    expect(() => quantize(new Float32Array(6), qp)).toThrow(LayerqError);
    expect(() => quantize(new Float32Array(6), qp, [2, 3])).toThrow("Expected 2 channels for dims[1] but received 3");
  });
});

describe('refitting for the search', () => {
  test('clipQParams halves the range; qparamsWithBits keeps it on a coarser grid', () => {
    const qp = qparamsFromRange(-2, 2, int8narrow);
    expect(clipQParams(qp, 0.5, int8narrow).scale[0]).toBe(Math.fround(1 / 127));
    const w4 = qparamsWithBits(qp, { ...int8narrow, bits: 4 });
    expect([w4.qmin, w4.qmax]).toEqual([-7, 7]);
    expect(w4.scale[0]).toBe(Math.fround(2 / 7));
    const pc = clipQParams(qparamsFromRanges([-1, -4], [1, 4], int8narrow, 0), 0.5, int8narrow);
    expect(pc.axis).toBe(0);
    expect(Array.from(representableRange(pc).max)).toEqual([Math.fround(0.5), 2]);
  });
});

function sse(a: Float32Array, b: Float32Array): number {
  let e = 0;
  for (let i = 0; i < a.length; i++) e += (a[i]! - b[i]!) ** 2;
  return e;
}

describe('quantizeWeights', () => {
  test('per-channel beats per-tensor when channel ranges differ', () => {
    const dims = [4, 8, 3, 3];
    const w = gaussian(4 * 72, 1);
    for (let i = 0; i < 72; i++) w[i] = w[i]! * 100; // channel 0 is 100x wider
    const pc = quantizeWeights(w, dims, { bits: 8, perChannel: true });
    const pt = quantizeWeights(w, dims, { bits: 8, perChannel: false });
    expect(pc.qp.scale.length).toBe(4);
    expect(pt.qp.scale.length).toBe(1);
    expect(Array.from(pc.qp.zeroPoint)).toEqual([0, 0, 0, 0]);
    expect(Math.max(...pc.q)).toBeLessThanOrEqual(127);
    expect(Math.min(...pc.q)).toBeGreaterThanOrEqual(-127);
    const ePc = sse(dequantize(pc.q, pc.qp, dims), w);
    const ePt = sse(dequantize(pt.q, pt.qp, dims), w);
    expect(ePc).toBeLessThan(ePt * 0.9);
    // the wide channel's absmax maps to +-127
    expect(Math.max(...pc.q.subarray(0, 72).map(Math.abs))).toBe(127);
  });

  test('per-channel along axis 1 (Gemm weight, transB=0)', () => {
    const w = Float32Array.of(1, 100, -1, -100);
    const { q, qp } = quantizeWeights(w, [2, 2], { bits: 8, perChannel: true, axis: 1 });
    expect(Array.from(q)).toEqual([127, 127, -127, -127]);
    expect(Array.from(qp.scale)).toEqual([Math.fround(1 / 127), Math.fround(100 / 127)]);
  });

  test('MSE clipping beats minmax on heavy-tailed 4-bit weights', () => {
    const dims = [8, 1024];
    const w = laplacian(8 * 1024, 2);
    w[5] = 15; // an outlier in channel 0
    for (const perChannel of [true, false]) {
      const mm = quantizeWeights(w, dims, { bits: 4, perChannel, method: 'minmax' });
      const ms = quantizeWeights(w, dims, { bits: 4, perChannel, method: 'mse' });
      expect(Math.max(...ms.q)).toBeLessThanOrEqual(7);
      const eMm = sse(dequantize(mm.q, mm.qp, dims), w);
      const eMs = sse(dequantize(ms.q, ms.qp, dims), w);
      expect(eMs).toBeLessThan(eMm * 0.7); // measured 0.52 per-channel, 0.18 per-tensor
    }
  });

  test('rejects more than 8 bits', () => {
    expect(() => quantizeWeights(new Float32Array(1), [1], { bits: 9, perChannel: false })).toThrow(LayerqError);
  });
});

describe('quantizeBias', () => {
  test('scale inputScale * weightScale[c], round half even, int32 clamp', () => {
    const b = quantizeBias(Float32Array.of(0.25, 0.75, 1e30, -1e30), 0.5, Float32Array.of(1, 1, 1e-3, 1e-3));
    expect(Array.from(b)).toEqual([0, 2, 2147483647, -2147483648]);
    expect(Array.from(quantizeBias(Float32Array.of(3, -3), 0.25, Float32Array.of(2)))).toEqual([6, -6]);
  });
});
