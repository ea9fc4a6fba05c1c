/**
 * f32 elementwise, pooling and softmax kernels against JS references, for every ISA this CPU
 * has (AVX2 / AVX-512 skipped, not failed, elsewhere). Seeded inputs; seeds and shapes in the messages.
 */
import { isaInfo, setIsa } from '../../src/engine/addon';
import { ALL_ISAS, randomArray as randomFrom, rng } from './helpers';
import { BinaryOp, PoolParams, UnaryOp, avgPool2d, binary, globalAvgPool, maxPool2d, poolOutputDims, softmax, stridedCopy, unary } from '../../src/engine/native-f32';

// AVX-512 CPUs run the AVX2 kernels for these ops (forced as 'avx2', and under 'avx512').
const ISAS = ALL_ISAS;


const randomArray = (n: number, rand: () => number, scale = 4): Float32Array => randomFrom(n, rand, scale);

async function forEachIsa(fn: (isa: string) => Promise<void>): Promise<void> {
  const before = isaInfo().active;
  try {
    for (const isa of ISAS) {
      setIsa(isa);
      await fn(isa);
    }
  } finally {
    setIsa(before);
  }
}

function expectNear(got: Float32Array, want: Float32Array, tol: number, what: string): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i]! - want[i]!);
    if (!(e <= tol * Math.max(1, Math.abs(want[i]!))) && !(Number.isNaN(got[i]!) && Number.isNaN(want[i]!))) {
      throw new Error(`${what}: element ${i} got ${got[i]} want ${want[i]}`);
    }
  }
}

const product = (d: readonly number[]): number => d.reduce((a, b) => a * b, 1);

describe('f32 binary', () => {
  const fns: Record<BinaryOp, (a: number, b: number) => number> = {
    add: (a, b) => Math.fround(a + b),
    sub: (a, b) => Math.fround(a - b),
    mul: (a, b) => Math.fround(a * b),
    div: (a, b) => Math.fround(a / b),
  };
  const shapes: Array<[number[], number[]]> = [
    [[2, 3, 5, 7], [2, 3, 5, 7]], // same shape
    [[2, 3, 5, 7], [1]], // scalar
    [[1], [3, 37]], // scalar on the left
    [[4, 16, 9, 9], [1, 16, 1, 1]], // per channel
    [[4, 16, 9, 9], [16, 1, 1]],
    [[2, 1, 4], [3, 1]], // general broadcast on both sides
    [[5, 1, 3, 1], [1, 4, 1, 6]],
    [[64, 40000], [64, 40000]], // big: split into chunks over threads
    [[3, 70001], [70001]],
  ];
  it.each(shapes.map((s, i) => [i, s[0], s[1]] as const))('case %i: %j op %j matches numpy broadcasting exactly', async (i, ad, bd) => {
    const rand = rng(i + 1);
    const a = randomArray(product(ad), rand), b = randomArray(product(bd), rand);
    const rank = Math.max(ad.length, bd.length);
    const pa = [...Array(rank - ad.length).fill(1), ...ad], pb = [...Array(rank - bd.length).fill(1), ...bd];
    const od = pa.map((d, k) => Math.max(d, pb[k]!));
    const idx = (dims: number[], coord: number[]): number => dims.reduce((o, d, k) => o * d + (d === 1 ? 0 : coord[k]!), 0);
    await forEachIsa(async (isa) => {
      for (const op of ['add', 'sub', 'mul', 'div'] as const) {
        const out = new Float32Array(product(od)).fill(NaN);
        await binary(op, a, ad, b, bd, out);
        const want = new Float32Array(out.length);
        const coord = new Array<number>(rank).fill(0);
        for (let o = 0; o < out.length; o++) {
          want[o] = fns[op](a[idx(pa, coord)]!, b[idx(pb, coord)]!);
          for (let k = rank - 1; k >= 0 && ++coord[k]! === od[k]!; k--) coord[k] = 0;
        }
        expectNear(out, want, 0, `${isa} ${op} seed ${i + 1} [${ad}] x [${bd}]`);
      }
    });
  });

  it('works in place (out === a)', async () => {
    const rand = rng(9);
    await forEachIsa(async (isa) => {
      const a = randomArray(2 * 8 * 5 * 5, rand), b = randomArray(8, rand), want = a.map((v, i) => Math.fround(v * b[Math.floor(i / 25) % 8]!));
      await binary('mul', a, [2, 8, 5, 5], b, [1, 8, 1, 1], a);
      expectNear(a, want, 0, `${isa} in place`);
    });
  });

  // The fused output clamp (Add + Relu / Clip) must equal the op followed by the unary clip,
  // bit for bit, on every ISA: lengths around the 8-lane tails, broadcast spans, in place.
  it.each([
    [[3, 37], [3, 37]],
    [[4, 16, 9, 9], [1, 16, 1, 1]],
    [[16, 40000], [16, 40000]],
    [[1], [5, 13]],
  ])('fused clamp on %j op %j equals the op then unary clip', async (ad, bd) => {
    const rand = rng(ad.length * 100 + product(ad));
    const a = randomArray(product(ad), rand), b = randomArray(product(bd), rand);
    const n = Math.max(a.length, b.length);
    const outs: Record<string, Float32Array> = {};
    await forEachIsa(async (isa) => {
      for (const op of ['add', 'sub', 'mul'] as const) {
        for (const act of [{ min: 0, max: Infinity }, { min: -0.5, max: 1.5 }]) {
          const want = new Float32Array(n), got = new Float32Array(n).fill(NaN);
          await binary(op, a, ad, b, bd, want);
          await unary('clip', want, want, act);
          await binary(op, a, ad, b, bd, got, act);
          expectNear(got, want, 0, `${isa} ${op} clamp [${act.min}, ${act.max}]`);
          outs[`${isa} ${op} ${act.min}`] = got;
          if (ad.length === bd.length && product(ad) === product(bd)) {
            const inPlace = a.slice();
            await binary(op, inPlace, ad, b, bd, inPlace, act);
            expectNear(inPlace, want, 0, `${isa} ${op} in place`);
          }
        }
      }
    });
    // Scalar and SIMD paths agree exactly with each other too.
    for (const key of Object.keys(outs)) {
      const [, op, min] = key.split(' ');
      expectNear(outs[key]!, outs[`scalar ${op} ${min}`]!, 0, `${key} vs scalar`);
    }
  });

  it('rejects a bad activation', () => {
    const a = new Float32Array(6);
    expect(() => binary('add', a, [6], a, [6], a, { min: 1, max: 0 })).toThrow('activation.max');
    expect(() => binary('add', a, [6], a, [6], a, { min: NaN, max: 0 })).toThrow('activation.min');
  });

  it('rejects bad arguments', () => {
    const a = new Float32Array(6);
    expect(() => binary('pow' as BinaryOp, a, [6], a, [6], a)).toThrow("Expected one of add, sub, mul, div for op but received 'pow'");
    expect(() => binary('add', a, [2, 3], new Float32Array(2), [2], a)).toThrow('bDims');
    expect(() => binary('add', a, [2, 3], a, [2, 3], new Float32Array(5))).toThrow('out.length');
    expect(() => binary('add', a, [2, -3], a, [2, 3], a)).toThrow('aDims[1]');
  });
});

describe('f32 strided copy', () => {
  /** JS reference of stridedCopy. */
  function refCopy(src: Float32Array, so: number, ss: number[], dst: Float32Array, dof: number, ds: number[], dims: number[]): void {
    const idx = new Array<number>(dims.length).fill(0);
    const n = product(dims);
    for (let k = 0; k < n; k++) {
      dst[dof + idx.reduce((o, v, d) => o + v * ds[d]!, 0)] = src[so + idx.reduce((o, v, d) => o + v * ss[d]!, 0)]!;
      for (let d = dims.length - 1; d >= 0 && ++idx[d]! === dims[d]!; d--) idx[d] = 0;
    }
  }
  const dense = (dims: number[]): number[] => dims.map((_, i) => product(dims.slice(i + 1)));
  // [src length, srcOffset, srcStrides, dst length, dstOffset, dstStrides, dims, fill]
  const cases: Array<[number, number, number[], number, number, number[], number[], number | undefined]> = [
    [64 * 16 * 32 * 32, 0, [16384, 1024, 64, 2], 64 * 16 * 16 * 16, 0, dense([64, 16, 16, 16]), [64, 16, 16, 16], undefined], // ResNet shortcut slice
    [8 * 16 * 8 * 8, 0, dense([8, 16, 8, 8]), 8 * 32 * 8 * 8, 8 * 64, dense([8, 32, 8, 8]), [8, 16, 8, 8], 0], // channel pad
    [2 * 3 * 4 * 5, 0, [60, 1, 15, 5], 120, 0, dense([2, 5, 3, 4]), [2, 5, 3, 4], undefined], // transpose
    [100, 99, [-10, -1], 100, 0, dense([10, 10]), [10, 10], undefined], // reversed
    [50, 7, [0, 1], 40, 0, dense([4, 10]), [4, 10], undefined], // broadcast rows
    [10, 0, [1], 10, 0, [1], [0], 2.5], // empty view, fill only
    [1 << 20, 3, [1], 1 << 20, 1, [1], [(1 << 20) - 3], undefined], // one big contiguous run
  ];
  it.each(cases.map((c, i) => [i, ...c] as const))('case %i matches the reference', async (i, sl, so, ss, dl, dof, ds, dims, fill) => {
    const rand = rng(1000 + i);
    const src = randomArray(sl, rand);
    const want = randomArray(dl, rng(2000 + i));
    const got = want.slice();
    if (fill !== undefined) want.fill(fill);
    refCopy(src, so, ss, want, dof, ds, dims);
    await stridedCopy(src, so, ss, got, dof, ds, dims, fill);
    expectNear(got, want, 0, `case ${i}`);
  });

  it('rejects views outside the arrays', () => {
    const a = new Float32Array(10);
    expect(() => stridedCopy(a, 1, [1], a, 0, [1], [10])).toThrow('src.length');
    expect(() => stridedCopy(a, 0, [1], a, 0, [2], [6])).toThrow('dst.length');
    expect(() => stridedCopy(a, 0, [-1], a, 0, [1], [2])).toThrow('srcStrides');
    expect(() => stridedCopy(a, 0, [1, 1], a, 0, [1], [2])).toThrow('srcStrides.length');
    expect(() => stridedCopy(a, 0.5, [1], a, 0, [1], [2])).toThrow('srcOffset');
    expect(() => stridedCopy(a, 0, [1], new Float64Array(10) as unknown as Float32Array, 0, [1], [2])).toThrow('dst');
  });
});

describe('f32 unary', () => {
  const ref: Record<UnaryOp, (x: number) => number> = {
    relu: (x) => Math.max(x, 0),
    clip: (x) => Math.min(Math.max(x, -0.5), 1.5),
    sigmoid: (x) => 1 / (1 + Math.exp(-x)),
    hardsigmoid: (x) => Math.min(Math.max(0.3 * x + 0.4, 0), 1),
    hardswish: (x) => x * Math.min(Math.max(x / 6 + 0.5, 0), 1),
  };
  const params = { min: -0.5, max: 1.5, alpha: 0.3, beta: 0.4 };
  it.each(Object.keys(ref) as UnaryOp[])('%s matches the reference (lengths around 8-lane tails, in place)', async (op) => {
    await forEachIsa(async (isa) => {
      for (const n of [1, 7, 8, 9, 31, 100003]) {
        const seed = n * 7 + op.length;
        const x = randomArray(n, rng(seed), 12);
        if (n > 10) x.set([0, -0, 100, -100, 88, -88, 3, -3]);
        const want = x.map(ref[op]);
        const out = new Float32Array(n);
        await unary(op, x, out, params);
        expectNear(out, want, 2e-6, `${isa} ${op} seed ${seed} n ${n}`);
        await unary(op, x, x, params);
        expectNear(x, want, 2e-6, `${isa} ${op} in place seed ${seed} n ${n}`);
      }
    });
  });

  it('rejects bad arguments', () => {
    const x = new Float32Array(4);
    expect(() => unary('tanh' as UnaryOp, x, x)).toThrow('op');
    expect(() => unary('clip', x, x, { min: 2, max: 1 })).toThrow('params.max');
    expect(() => unary('relu', x, new Float32Array(3))).toThrow('out.length');
    expect(() => unary('hardsigmoid', x, x, { alpha: NaN })).toThrow('params.alpha');
  });
});

function naivePool(isMax: boolean, x: Float32Array, xd: number[], p: PoolParams): Float32Array {
  const [N, C, H, W] = xd as [number, number, number, number];
  const [, , HO, WO] = poolOutputDims(xd, p);
  const out = new Float32Array(N * C * HO * WO);
  for (let nc = 0; nc < N * C; nc++)
    for (let oy = 0; oy < HO; oy++)
      for (let ox = 0; ox < WO; ox++) {
        const y0 = oy * p.strides[0] - p.pads[0], x0 = ox * p.strides[1] - p.pads[1];
        let acc = isMax ? -Infinity : 0, count = 0;
        for (let y = y0; y < y0 + p.kernel[0]; y++)
          for (let xx = x0; xx < x0 + p.kernel[1]; xx++) {
            const inPad = y < H + p.pads[2] && xx < W + p.pads[3];
            if (y < 0 || y >= H || xx < 0 || xx >= W) {
              if (p.countIncludePad && inPad) count++;
              continue;
            }
            const v = x[(nc * H + y) * W + xx]!;
            acc = isMax ? Math.max(acc, v) : acc + v;
            count++;
          }
        out[(nc * HO + oy) * WO + ox] = isMax ? acc : acc / count;
      }
  return out;
}

describe('f32 pooling', () => {
  const cases: Array<[number[], PoolParams]> = [
    [[2, 3, 32, 32], { kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0] }],
    [[2, 3, 33, 35], { kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }],
    [[1, 4, 20, 27], { kernel: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], countIncludePad: true }],
    [[1, 2, 17, 19], { kernel: [3, 2], strides: [2, 3], pads: [0, 1, 2, 0], ceilMode: true }],
    [[2, 2, 14, 30], { kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceilMode: true, countIncludePad: true }],
    [[1, 3, 7, 7], { kernel: [7, 7], strides: [1, 1], pads: [0, 0, 0, 0] }],
  ];
  it.each(cases.map((c, i) => [i, c[0], c[1]] as const))('case %i: %j %j max and average pools match the reference', async (i, xd, p) => {
    const x = randomArray(product(xd), rng(50 + i));
    const od = poolOutputDims(xd, p);
    await forEachIsa(async (isa) => {
      for (const isMax of [true, false]) {
        const out = new Float32Array(product(od)).fill(NaN);
        await (isMax ? maxPool2d : avgPool2d)(x, xd, p, out);
        expectNear(out, naivePool(isMax, x, xd, p), isMax ? 0 : 1e-5, `${isa} ${isMax ? 'max' : 'avg'} seed ${50 + i} [${xd}] ${JSON.stringify(p)}`);
      }
    });
  });

  it('ceil mode drops a last window that starts in the right padding', () => {
    expect(poolOutputDims([1, 1, 5, 5], { kernel: [2, 2], strides: [2, 2], pads: [0, 0, 1, 1], ceilMode: true })).toEqual([1, 1, 3, 3]);
    expect(poolOutputDims([1, 1, 6, 6], { kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], ceilMode: true })).toEqual([1, 1, 3, 3]);
    expect(poolOutputDims([1, 1, 5, 5], { kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0] })).toEqual([1, 1, 2, 2]);
  });

  it('global average pool matches the mean', async () => {
    const xd = [3, 5, 7, 9];
    const x = randomArray(product(xd), rng(3));
    const want = new Float32Array(15).map((_, i) => x.subarray(i * 63, i * 63 + 63).reduce((a, b) => a + b, 0) / 63);
    await forEachIsa(async (isa) => {
      const out = new Float32Array(15);
      await globalAvgPool(x, xd, out);
      expectNear(out, want, 1e-6, `${isa} global avg pool`);
    });
  });

  it('rejects bad arguments', () => {
    const x = new Float32Array(16);
    expect(() => maxPool2d(x, [1, 1, 4, 4], { kernel: [0, 2], strides: [1, 1], pads: [0, 0, 0, 0] }, x)).toThrow('Expected positive integer for params.kernel[0] but received 0');
    expect(() => maxPool2d(x, [1, 1, 4, 4], { kernel: [2, 2], strides: [1, 1], pads: [2, 0, 0, 0] }, x)).toThrow('params.pads');
    expect(() => avgPool2d(x, [1, 1, 4, 4], { kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0] }, x)).toThrow('out.length');
    expect(() => globalAvgPool(x, [1, 1, 4], x)).toThrow('xDims.length');
  });
});

describe('f32 softmax', () => {
  it.each([[1, 1], [3, 10], [7, 1000], [64, 9], [2, 17]])('rows %i cols %i matches the reference and sums to 1', async (rows, cols) => {
    const x = randomArray(rows * cols, rng(rows * 31 + cols), 20);
    const want = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      const row = x.subarray(r * cols, (r + 1) * cols);
      const m = Math.max(...row);
      const e = Array.from(row, (v) => Math.exp(v - m));
      const s = e.reduce((a, b) => a + b, 0);
      e.forEach((v, j) => (want[r * cols + j] = v / s));
    }
    await forEachIsa(async (isa) => {
      const out = new Float32Array(rows * cols);
      await softmax(x, rows, cols, out);
      expectNear(out, want, 1e-6, `${isa} softmax ${rows}x${cols}`);
      const copy = x.slice();
      await softmax(copy, rows, cols, copy);
      expectNear(copy, want, 1e-6, `${isa} softmax in place ${rows}x${cols}`);
    });
  });

  it('rejects bad arguments', () => {
    expect(() => softmax(new Float32Array(6), 2, 2.5, new Float32Array(6))).toThrow('Expected positive integer for cols but received 2.5');
  });
});
