/**
 * Fitted rounding kernels (native/src/kernels/f32-rounding): the Gram matrix against a naive
 * im2col oracle (every conv geometry, sampled positions, thread-count independence), GPTQ codes
 * against a plain float64 JS implementation of the algorithm written the textbook way (two
 * Cholesky factorizations and an inverse, where the kernel uses one of each), nearest rounding
 * when H = I, a lower reconstruction error than nearest rounding on correlated inputs, and
 * argument errors. Seeds are in the test names.
 */
import { addon, isaInfo, setIsa, setThreads, type IsaName } from '../../src/engine/addon';
import { accumulateConvGram, accumulateGemmGram, fitRounding, type GramConvParams } from '../../src/engine/native-rounding';
import { mulberry32, type Rng } from '../../src/data/random';
import { ALL_ISAS, randomArray, randomInt } from './helpers';

const initial = isaInfo();
afterEach(() => {
  setThreads(initial.threads);
  setIsa(initial.active);
});

function gaussian(rand: Rng): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

function roundHalfEven(v: number): number {
  const f = Math.floor(v), d = v - f;
  return d > 0.5 ? f + 1 : d < 0.5 ? f : f % 2 === 0 ? f : f + 1;
}

const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v, lo), hi);

// ---- Gram oracle ------------------------------------------------------------------------

function naiveConvGram(x: Float32Array, dims: number[], p: GramConvParams, stride: number): { h: Float64Array; rows: number } {
  const [n, c, ih, iw] = dims as [number, number, number, number];
  const [kh, kw] = p.kernel, [sh, sw] = p.strides, [pt, pl, pb, pr] = p.pads, [dh, dw] = p.dilations;
  const ho = Math.floor((ih + pt + pb - ((kh - 1) * dh + 1)) / sh) + 1;
  const wo = Math.floor((iw + pl + pr - ((kw - 1) * dw + 1)) / sw) + 1;
  const cg = c / p.group, K = cg * kh * kw;
  const h = new Float64Array(p.group * K * K);
  let rows = 0;
  const patch = new Float64Array(K);
  for (let pos = 0; pos < n * ho * wo; pos += stride) {
    rows++;
    const b = Math.floor(pos / (ho * wo)), oy = Math.floor((pos % (ho * wo)) / wo), ox = pos % wo;
    for (let g = 0; g < p.group; g++) {
      let e = 0;
      for (let ci = 0; ci < cg; ci++)
        for (let ky = 0; ky < kh; ky++)
          for (let kx = 0; kx < kw; kx++) {
            const y = oy * sh - pt + ky * dh, xx = ox * sw - pl + kx * dw;
            patch[e++] = y >= 0 && y < ih && xx >= 0 && xx < iw ? x[((b * c + g * cg + ci) * ih + y) * iw + xx]! : 0;
          }
      for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) h[g * K * K + i * K + j] += patch[i]! * patch[j]!;
    }
  }
  return { h, rows };
}

function naiveGemmGram(x: Float32Array, rows: number, K: number, stride: number): Float64Array {
  const h = new Float64Array(K * K);
  for (let r = 0; r < rows; r += stride)
    for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) h[i * K + j] += x[r * K + i]! * x[r * K + j]!;
  return h;
}

function expectClose(got: Float64Array, want: Float64Array, what: string): void {
  expect(got.length).toBe(want.length);
  const scale = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
  if (worst > 1e-9 * scale) throw new Error(`${what}: max |diff| ${worst} > 1e-9 * ${scale}`);
}

const conv = (k: number, s: number, pad: number, d: number, group: number): GramConvParams => ({
  kernel: [k, k],
  strides: [s, s],
  pads: [pad, pad, pad, pad],
  dilations: [d, d],
  group,
});

const CONV_CASES: { name: string; dims: number[]; p: GramConvParams }[] = [
  { name: '3x3 s1 p1', dims: [2, 3, 7, 6], p: conv(3, 1, 1, 1, 1) },
  { name: '3x3 s2 p1', dims: [2, 4, 9, 9], p: conv(3, 2, 1, 1, 1) },
  { name: '1x1 s1', dims: [3, 40, 4, 5], p: conv(1, 1, 0, 1, 1) },
  { name: '3x3 dilation 2 p2', dims: [1, 2, 8, 7], p: conv(3, 1, 2, 2, 1) },
  { name: 'asymmetric pads, 2x3 kernel', dims: [2, 3, 6, 8], p: { kernel: [2, 3], strides: [1, 2], pads: [0, 2, 1, 0], dilations: [1, 1], group: 1 } },
  { name: 'groups 2', dims: [2, 6, 6, 6], p: conv(3, 1, 1, 1, 2) },
  { name: 'depthwise 3x3 s2', dims: [2, 8, 9, 9], p: conv(3, 2, 1, 1, 8) },
  { name: 'K 144 (16 channels 3x3)', dims: [1, 16, 6, 6], p: conv(3, 1, 1, 1, 1) },
];

describe('accumulateConvGram', () => {
  for (const [ci, c] of CONV_CASES.entries()) {
    for (const stride of [1, 3]) {
      it(`${c.name}, positionStride ${stride} (seed ${ci})`, async () => {
        const x = randomArray(c.dims.reduce((a, b) => a * b, 1), mulberry32(ci));
        const want = naiveConvGram(x, c.dims, c.p, stride);
        const h = new Float64Array(want.h.length);
        const rows = await accumulateConvGram(h, x, c.dims, c.p, stride);
        expect(rows).toBe(want.rows);
        expectClose(h, want.h, c.name);
        // Accumulates: a second call adds the same sums again.
        await accumulateConvGram(h, x, c.dims, c.p, stride);
        expectClose(h, want.h.map((v) => 2 * v), `${c.name} twice`);
      });
    }
  }

  it.each(ALL_ISAS)('matches the oracle on the %s path (K 144 and 72: the tiled Gram kernel)', async (isa: IsaName) => {
    setIsa(isa);
    for (const [i, c] of [CONV_CASES[7]!, { name: 'K 72 s2', dims: [2, 8, 11, 11], p: conv(3, 2, 1, 1, 1) }].entries()) {
      const x = randomArray(c.dims.reduce((a, b) => a * b, 1), mulberry32(200 + i));
      const want = naiveConvGram(x, c.dims, c.p, 2);
      const h = new Float64Array(want.h.length);
      await accumulateConvGram(h, x, c.dims, c.p, 2);
      expectClose(h, want.h, `${isa} ${c.name}`);
    }
  });

  it('gives bit-identical results with 1 and 2 threads (grouped and single-group paths)', async () => {
    const cases = [CONV_CASES[7]!, CONV_CASES[6]!, { name: 'K 72', dims: [4, 8, 12, 12], p: conv(3, 1, 1, 1, 1) }];
    for (const [i, c] of cases.entries()) {
      const x = randomArray(c.dims.reduce((a, b) => a * b, 1), mulberry32(100 + i));
      const K = (c.dims[1]! / c.p.group) * c.p.kernel[0] * c.p.kernel[1];
      const results: Float64Array[] = [];
      for (const threads of [1, 2]) {
        setThreads(threads);
        const h = new Float64Array(c.p.group * K * K);
        await accumulateConvGram(h, x, c.dims, c.p, 1);
        results.push(h);
      }
      expect(Array.from(results[1]!)).toEqual(Array.from(results[0]!));
    }
  });
});

describe('accumulateGemmGram', () => {
  for (const [rows, K, stride] of [
    [1, 5, 1],
    [300, 37, 1],
    [300, 64, 3],
    [130, 200, 2],
  ] as const) {
    it(`rows ${rows}, K ${K}, rowStride ${stride}`, async () => {
      const x = randomArray(rows * K, mulberry32(rows + K));
      const h = new Float64Array(K * K);
      expect(await accumulateGemmGram(h, x, rows, K, stride)).toBe(Math.ceil(rows / stride));
      expectClose(h, naiveGemmGram(x, rows, K, stride), 'gemm');
      setThreads(1);
      const h1 = new Float64Array(K * K);
      await accumulateGemmGram(h1, x, rows, K, stride);
      expect(Array.from(h1)).toEqual(Array.from(h));
    });
  }
});

// ---- GPTQ oracle ------------------------------------------------------------------------

/** Lower Cholesky factor of a (n x n), or null when a is not positive definite. */
function cholesky(a: Float64Array, n: number): Float64Array | null {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j]!;
    for (let k = 0; k < j; k++) d -= l[j * n + k]! ** 2;
    if (!(d > 0)) return null;
    l[j * n + j] = Math.sqrt(d);
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j]!;
      for (let k = 0; k < j; k++) s -= l[i * n + k]! * l[j * n + k]!;
      l[i * n + j] = s / l[j * n + j]!;
    }
  }
  return l;
}

/** GPTQ's U: Hinv = (L L^T)^-1 (torch.cholesky_inverse), U = chol(Hinv)^T. */
function gptqFactor(h: Float64Array, K: number, damp: number): Float64Array | null {
  const H = h.slice();
  let mean = 0;
  for (let i = 0; i < K; i++) {
    if (H[i * K + i] === 0) H[i * K + i] = 1;
    mean += H[i * K + i]! / K;
  }
  for (let attempt = 0; attempt <= 4; attempt++, damp = damp > 0 ? damp * 10 : 1e-3) {
    const A = H.slice();
    for (let i = 0; i < K; i++) A[i * K + i] += damp * mean;
    const L = cholesky(A, K);
    if (L === null) continue;
    const Linv = new Float64Array(K * K); // column by column forward substitution
    for (let j = 0; j < K; j++) {
      for (let i = j; i < K; i++) {
        let s = i === j ? 1 : 0;
        for (let k = j; k < i; k++) s -= L[i * K + k]! * Linv[k * K + j]!;
        Linv[i * K + j] = s / L[i * K + i]!;
      }
    }
    const Hinv = new Float64Array(K * K);
    for (let i = 0; i < K; i++)
      for (let j = 0; j < K; j++) {
        let s = 0;
        for (let k = Math.max(i, j); k < K; k++) s += Linv[k * K + i]! * Linv[k * K + j]!;
        Hinv[i * K + j] = s;
      }
    const Lh = cholesky(Hinv, K);
    if (Lh === null) return null;
    const U = new Float64Array(K * K);
    for (let i = 0; i < K; i++) for (let j = i; j < K; j++) U[i * K + j] = Lh[j * K + i]!;
    return U;
  }
  return null;
}

function jsFitRounding(w: Float32Array, cout: number, K: number, scale: Float32Array, qmin: number, qmax: number, h: Float64Array, group: number, damp = 0.01): Int8Array {
  const codes = new Int8Array(cout * K);
  for (let g = 0; g < group; g++) {
    const U = gptqFactor(h.subarray(g * K * K, (g + 1) * K * K), K, damp);
    for (let c = (g * cout) / group; c < ((g + 1) * cout) / group; c++) {
      const s = scale.length === 1 ? scale[0]! : scale[c]!;
      const row = Array.from(w.subarray(c * K, (c + 1) * K));
      for (let k = 0; k < K; k++) {
        const q = clamp(roundHalfEven(row[k]! / s), qmin, qmax);
        codes[c * K + k] = q;
        if (U === null) continue;
        const err = (row[k]! - q * s) / U[k * K + k]!;
        for (let j = k + 1; j < K; j++) row[j]! -= err * U[k * K + j]!;
      }
    }
  }
  return codes;
}

function nearestCodes(w: Float32Array, cout: number, K: number, scale: Float32Array, qmin: number, qmax: number): Int8Array {
  return Int8Array.from(w, (v, i) => clamp(roundHalfEven(v / scale[scale.length === 1 ? 0 : Math.floor(i / K)]!), qmin, qmax));
}

/** Symmetric scales max|w| / qmax, per tensor (length 1) or per output channel. */
function scalesFor(w: Float32Array, cout: number, K: number, qmax: number, perChannel: boolean): Float32Array {
  const maxAbs = (a: Float32Array): number => a.reduce((m, v) => Math.max(m, Math.abs(v)), 1e-6);
  if (!perChannel) return Float32Array.of(maxAbs(w) / qmax);
  return Float32Array.from({ length: cout }, (_, c) => maxAbs(w.subarray(c * K, (c + 1) * K)) / qmax);
}

/**
 * Correlated inputs X = Z A + 0.1 N (rows are samples): K features driven by ceil(K / 4)
 * latent factors Z, plus independent noise N; column `dead` (if any) all zero.
 */
function correlatedInputs(rand: Rng, M: number, K: number, dead = -1): Float32Array {
  const r = Math.ceil(K / 4);
  const A = Float64Array.from({ length: r * K }, () => gaussian(rand) / Math.sqrt(r));
  const X = new Float32Array(M * K), z = new Float64Array(r);
  for (let m = 0; m < M; m++) {
    for (let i = 0; i < r; i++) z[i] = gaussian(rand);
    for (let j = 0; j < K; j++) {
      let s = 0.1 * gaussian(rand);
      for (let i = 0; i < r; i++) s += z[i]! * A[i * K + j]!;
      X[m * K + j] = j === dead ? 0 : s;
    }
  }
  return X;
}

describe('fitRounding', () => {
  it('matches a float64 JS GPTQ on random problems (per-tensor and per-channel, 4 and 8 bits)', async () => {
    for (let seed = 0; seed < 12; seed++) {
      const rand = mulberry32(1000 + seed);
      const K = randomInt(rand, 9, 300), cout = randomInt(rand, 1, 40);
      const group = cout % 2 === 0 && seed % 3 === 0 ? 2 : 1;
      const qmax = seed % 2 === 0 ? 7 : 127, perChannel = seed % 4 < 2;
      const M = randomInt(rand, Math.ceil(K / 2), 2 * K); // M < K: singular H, damping matters
      const h = new Float64Array(group * K * K);
      for (let g = 0; g < group; g++) {
        const X = correlatedInputs(rand, M, K, seed % 5 === 0 ? seed % K : -1);
        await accumulateGemmGram(h.subarray(g * K * K, (g + 1) * K * K), X, M, K, 1);
      }
      const w = Float32Array.from({ length: cout * K }, () => 0.1 * gaussian(rand));
      const scale = scalesFor(w, cout, K, qmax, perChannel);
      const { codes, fallbackGroups } = await fitRounding(w, cout, K, scale, -qmax, qmax, h, group);
      expect(fallbackGroups).toBe(0);
      const want = jsFitRounding(w, cout, K, scale, -qmax, qmax, h, group);
      const diff = codes.findIndex((q, i) => q !== want[i]);
      if (diff >= 0) throw new Error(`seed ${1000 + seed} (K ${K}, cout ${cout}, group ${group}): code ${diff} is ${codes[diff]}, JS ${want[diff]}`);
      const nearest = nearestCodes(w, cout, K, scale, -qmax, qmax);
      expect(codes.some((q, i) => q !== nearest[i])).toBe(true);
    }
  });

  it('equals nearest rounding (with clamping) when H = I', async () => {
    const rand = mulberry32(7);
    for (const [cout, K, group, qmax] of [
      [5, 27, 1, 7],
      [8, 9, 4, 127],
    ] as const) {
      const w = randomArray(cout * K, rand);
      const scale = Float32Array.from({ length: cout }, () => 0.05 + 0.1 * rand()); // many codes clamp at 4 bits
      const h = new Float64Array(group * K * K);
      for (let g = 0; g < group; g++) for (let i = 0; i < K; i++) h[g * K * K + i * K + i] = 1;
      const { codes } = await fitRounding(w, cout, K, scale, -qmax, qmax, h, group);
      const want = nearestCodes(w, cout, K, scale, -qmax, qmax);
      expect(Array.from(codes)).toEqual(Array.from(want));
      if (qmax === 7) expect(codes.some((q) => Math.abs(q) === 7)).toBe(true);
    }
  });

  it('lowers ||W X - s Q X||^2 well below nearest rounding at 4 bits on correlated inputs', async () => {
    const rand = mulberry32(42);
    const M = 512, K = 64, cout = 16, qmax = 7;
    const X = correlatedInputs(rand, M, K);
    const h = new Float64Array(K * K);
    await accumulateGemmGram(h, X, M, K, 1);
    const w = Float32Array.from({ length: cout * K }, () => gaussian(rand));
    const scale = scalesFor(w, cout, K, qmax, true);
    const error = (codes: Int8Array): number => {
      let e = 0;
      for (let r = 0; r < M; r++)
        for (let c = 0; c < cout; c++) {
          let d = 0;
          for (let k = 0; k < K; k++) d += (w[c * K + k]! - codes[c * K + k]! * scale[c]!) * X[r * K + k]!;
          e += d * d;
        }
      return e;
    };
    const fitted = error((await fitRounding(w, cout, K, scale, -qmax, qmax, h, 1)).codes);
    const nearest = error(nearestCodes(w, cout, K, scale, -qmax, qmax));
    expect(fitted).toBeLessThan(0.5 * nearest); // 0.22 with these seeds
  });

  it('falls back to nearest rounding for a group whose H is not positive definite', async () => {
    const K = 4, cout = 4, w = randomArray(cout * K, mulberry32(3)), scale = Float32Array.of(0.1);
    const h = new Float64Array(2 * K * K);
    for (let i = 0; i < K; i++) h[i * K + i] = 1, h[K * K + i * K + i] = -1;
    h[1] = h[K] = 0.5; // group 0 stays fittable
    const { codes, fallbackGroups } = await fitRounding(w, cout, K, scale, -7, 7, h, 2);
    expect(fallbackGroups).toBe(1);
    expect(Array.from(codes.subarray(8))).toEqual(Array.from(nearestCodes(w, cout, K, scale, -7, 7).subarray(8)));
  });
});

describe('argument errors', () => {
  const w = new Float32Array(8), h = new Float64Array(16), s = Float32Array.of(0.1);
  it('names the bad parameter', () => {
    expect(() => fitRounding(w, 2, 4, s, -7, 7, h, 3)).toThrow('Expected a divisor of cout (2) for group but received 3');
    expect(() => fitRounding(w, 2, 4, new Float32Array(3), -7, 7, h, 1)).toThrow('Expected 1 or 2 (cout) for scale.length but received 3');
    expect(() => fitRounding(w, 2, 4, Float32Array.of(0), -7, 7, h, 1)).toThrow('for scale[0]');
    expect(() => fitRounding(w, 2, 4, s, 7, -7, h, 1)).toThrow('Expected integer in [7, 127] for qmax but received -7');
    expect(() => fitRounding(w, 2, 4, s, -7, 7, new Float64Array(15), 1)).toThrow('Expected 16 (from the shape) for h.length but received 15');
    expect(() => fitRounding(w, 2, 4, s, -7, 7, h, 1, -1)).toThrow('for damp');
    expect(() => fitRounding(Float32Array.of(0, 0, 0, NaN, 0, 0, 0, 0), 2, 4, s, -7, 7, h, 1)).toThrow('Expected finite number for w[3] but received NaN');
    expect(() => fitRounding(w, 2.5, 4, s, -7, 7, h, 1)).toThrow('Expected positive integer for cout but received 2.5');
    const x = new Float32Array(2 * 3 * 5 * 5), p = conv(3, 1, 1, 1, 1);
    expect(() => accumulateConvGram(new Float64Array(27 * 27), x, [2, 3, 5, 5], { ...p, group: 2 }, 1)).toThrow('for conv.group');
    expect(() => accumulateConvGram(new Float64Array(27 * 27), x, [2, 3, 5, 5], p, 0)).toThrow('Expected positive integer for positionStride but received 0');
    expect(() => accumulateConvGram(new Float64Array(26 * 27), x, [2, 3, 5, 5], p, 1)).toThrow('h.length');
    expect(() => accumulateConvGram(new Float64Array(27 * 27), x, [2, 3, 5], p, 1)).toThrow('dims.length');
    expect(() => accumulateConvGram(new Float64Array(27 * 27), x, [2, 3, 5, 5], conv(7, 1, 0, 1, 1), 1)).toThrow('kernel extent');
    expect(() => accumulateGemmGram(h, new Float32Array(7), 2, 4, 1)).toThrow('Expected 8 (from the shape) for x.length but received 7');
    expect(() => accumulateGemmGram(new Float32Array(16) as unknown as Float64Array, w, 2, 4, 1)).toThrow('Expected Float64Array for h');
  });

  it('are re-checked by the addon itself (no memory touched, no C++ exception escapes)', async () => {
    const codes = new Int8Array(8);
    expect(() => addon.fitRounding(w, 2, 4, s, -7, 7, new Float64Array(15), 1, 0.01, codes)).toThrow('h: expected at least 16 elements but received 15');
    expect(() => addon.fitRounding(w, 2, 4, s, -7, 7, h, 1, 0.01, new Uint8Array(8))).toThrow('wrong typed array type for codes');
    expect(() => addon.fitRounding(w, 2, 4, s, -7, 7, h, 3, 0.01, codes)).toThrow('group must divide cout');
    expect(() => addon.accumulateGemmGram(h, w, 2, 4e12, 1)).toThrow('shape too large');
    const p = conv(3, 1, 1, 1, 1);
    expect(() => addon.accumulateConvGram(new Float64Array(729), new Float32Array(10), [2, 3, 5, 5], p, 1)).toThrow('x: expected at least 150');
    // Kernel-side checks reject the promise.
    await expect(addon.accumulateConvGram(new Float64Array(729), new Float32Array(150), [2, 3, 5, 5], p, 0)).rejects.toThrow('position stride');
    const wide = { ...conv(1, 1, 0, 1, 1), kernel: [1, 7] }; // K 21, wider than the 5-pixel rows
    await expect(addon.accumulateConvGram(new Float64Array(441), new Float32Array(150), [2, 3, 5, 5], wide, 1)).rejects.toThrow('kernel larger');
  });
});
