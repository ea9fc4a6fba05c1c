/** The TypeScript kernels of the extra ops (src/engine/js-kernels.ts) against plain definitions. */
import { erf, layerNorm, powBroadcast, reduceMean, unaryJs } from '../../src/engine/js-kernels';
import { seededRandom } from '../onnx/ort-helpers';

describe('js kernels', () => {
  test('erf: known values, odd, within 2e-7 of a series reference', () => {
    // Maclaurin series in double for |x| <= 2 (converges fast), 1 - erfc asymptotics above.
    const series = (x: number): number => {
      let term = x, sum = x;
      for (let n = 1; n < 80; n++) {
        term *= (-x * x) / n;
        sum += term / (2 * n + 1);
      }
      return (2 / Math.sqrt(Math.PI)) * sum;
    };
    for (let x = -2; x <= 2; x += 0.01) expect(Math.abs(erf(x) - series(x))).toBeLessThan(2e-7);
    expect(erf(0)).toBeCloseTo(0, 7);
    expect(erf(0.5)).toBeCloseTo(0.5204998778, 7);
    expect(erf(-1.5)).toBeCloseTo(-0.9661051465, 7);
    expect(erf(6)).toBeCloseTo(1, 7);
  });

  test('gelu exact and tanh forms, sqrt, tanh', () => {
    const x = Float32Array.from([-3, -1, -0.1, 0, 0.1, 1, 3]);
    const out = new Float32Array(x.length);
    unaryJs('gelu', x, out);
    x.forEach((v, i) => expect(out[i]).toBeCloseTo(0.5 * v * (1 + erf(v / Math.SQRT2)), 6));
    expect(out[5]).toBeCloseTo(0.8413447, 6);
    unaryJs('gelu-tanh', x, out);
    expect(out[5]).toBeCloseTo(0.8411920, 6);
    unaryJs('sqrt', Float32Array.from([4, 2]), out);
    expect([out[0], out[1]]).toEqual([2, Math.fround(Math.SQRT2)]);
    unaryJs('tanh', Float32Array.from([0.5]), out);
    expect(out[0]).toBeCloseTo(Math.tanh(0.5), 7);
  });

  test('reduceMean over consecutive axes: trailing, middle, all', () => {
    const dims = [2, 3, 4, 5];
    const x = seededRandom(120, 1, -1, 1);
    const at = (n: number, c: number, h: number, w: number): number => x[((n * 3 + c) * 4 + h) * 5 + w]!;
    const spatial = new Float32Array(6);
    reduceMean(x, dims, 2, 4, spatial);
    let s = 0;
    for (let h = 0; h < 4; h++) for (let w = 0; w < 5; w++) s += at(1, 2, h, w);
    expect(spatial[5]).toBeCloseTo(s / 20, 6);
    const channels = new Float32Array(40);
    reduceMean(x, dims, 1, 2, channels);
    expect(channels[1 * 20 + 3 * 5 + 4]).toBeCloseTo((at(1, 0, 3, 4) + at(1, 1, 3, 4) + at(1, 2, 3, 4)) / 3, 6);
    const all = new Float32Array(1);
    reduceMean(x, dims, 0, 4, all);
    expect(all[0]).toBeCloseTo(x.reduce((p, v) => p + v, 0) / 120, 6);
  });

  test('layerNorm: zero mean, unit variance rows, then scale and bias', () => {
    const x = seededRandom(3 * 8, 2, -4, 4);
    const scale = Float32Array.from({ length: 8 }, (_, i) => 1 + i / 8);
    const bias = Float32Array.from({ length: 8 }, (_, i) => i / 10);
    const out = new Float32Array(24);
    layerNorm(x, 3, 8, 1e-5, scale, bias, out);
    for (let r = 0; r < 3; r++) {
      const row = x.subarray(r * 8, r * 8 + 8);
      const mean = row.reduce((p, v) => p + v, 0) / 8;
      const variance = row.reduce((p, v) => p + (v - mean) ** 2, 0) / 8;
      for (let c = 0; c < 8; c++) expect(out[r * 8 + c]).toBeCloseTo(((row[c]! - mean) / Math.sqrt(variance + 1e-5)) * scale[c]! + bias[c]!, 5);
    }
  });

  test('pow broadcasts the exponent; 2 squares in float32', () => {
    const out = new Float32Array(6);
    powBroadcast({ data: Float32Array.from([1, 2, 3, -1, -2, 0.5]), dims: [2, 3] }, { data: Float32Array.from([2]), dims: [] }, [2, 3], out);
    expect(Array.from(out)).toEqual([1, 4, 9, 1, 4, 0.25]);
    powBroadcast({ data: Float32Array.from([2, 4]), dims: [2, 1] }, { data: Float32Array.from([1, 0.5, 3]), dims: [3] }, [2, 3], out);
    expect(Array.from(out)).toEqual([2, Math.fround(Math.SQRT2), 8, 4, 2, 64]);
  });
});
