/**
 * Engine kernel calls run on the calling thread (their promise comes back settled, the output
 * already written when the call returns): the hop to a worker thread and back per step left the
 * cores idle (and at batch 1 cost as much as the kernel). Small calls run on that thread alone,
 * large ones with the pool's workers, with the same results. (LAYERQ_SYNC=0, read once by the
 * addon, puts them back off the event loop.)
 */
import { PackedConv, conv2d } from '../../src/engine/native-f32';
import { PackedQConv, qconv2d, quantize, type QConvParams } from '../../src/engine/native-int8';
import { randomArray, rng } from './helpers';

const qparams = (cout: number): QConvParams => ({
  strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 1, inputScale: 0.02, inputZero: 7,
  weightScale: new Float32Array(cout).fill(0.01), output: { kind: 'uint8', scale: 0.05, zero: 3, min: 0, max: 255 },
});

describe('synchronous small calls', () => {
  test('a small int8 conv has written its output when the call returns; a large one gives the same values', async () => {
    const r = rng(5);
    const wd = [8, 4, 3, 3];
    const packed = PackedQConv.create(Int8Array.from({ length: 8 * 4 * 9 }, () => Math.floor(r() * 255) - 127), wd, null, qparams(8));
    const small = Uint8Array.from({ length: 1 * 4 * 6 * 6 }, () => Math.floor(r() * 256));
    const out = new Uint8Array(8 * 36).fill(1);
    const p = qconv2d(packed, small, [1, 4, 6, 6], out);
    const written = out.slice();
    await p;
    expect(Array.from(written)).toEqual(Array.from(out));
    expect(out.some((v) => v !== 1)).toBe(true);
    // The same image 200 times (about 4.7M multiply-accumulates: split over the pool) gives the
    // same outputs, also written by the time the call returns.
    const big = new Uint8Array(200 * small.length);
    for (let i = 0; i < 200; i++) big.set(small, i * small.length);
    const bigOut = new Uint8Array(200 * out.length);
    const pending = qconv2d(packed, big, [200, 4, 6, 6], bigOut);
    if (process.env.LAYERQ_SYNC !== '0') expect(Array.from(bigOut.subarray(199 * out.length))).toEqual(Array.from(out));
    await pending;
    for (let i = 0; i < 200; i += 37) expect(Array.from(bigOut.subarray(i * out.length, (i + 1) * out.length))).toEqual(Array.from(out));
  });

  test('a small f32 conv and a small quantize settle synchronously too', async () => {
    const r = rng(6);
    const packed = PackedConv.create(randomArray(4 * 3 * 9, r), [4, 3, 3, 3], null, { strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 1 });
    const x = randomArray(3 * 25, r);
    const out = new Float32Array(4 * 25);
    const p = conv2d(packed, x, [1, 3, 5, 5], out);
    expect(out.some((v) => v !== 0)).toBe(true);
    await p;
    const codes = new Uint8Array(x.length);
    const q = quantize(x, [x.length], { scale: Float32Array.of(0.01), zero: Int32Array.of(128), qmin: 0, qmax: 255 }, codes);
    expect(codes.some((v) => v !== 0)).toBe(true);
    await q;
  });

  test('bad arguments still throw before any work', () => {
    const packed = PackedQConv.create(new Int8Array(8 * 4 * 9), [8, 4, 3, 3], null, qparams(8));
    // Shapes are validated in TypeScript (a throw); a kernel failure inside the call is a rejection.
    expect(() => qconv2d(packed, new Uint8Array(10), [1, 4, 6, 6], new Uint8Array(8 * 36))).toThrow(/x.length/);
  });
});
