import { biasCorrection } from '../../src/quant/bias-correction';
import { ChannelMeanObserver } from '../../src/quant/observers';

describe('biasCorrection', () => {
  test('conv: sum over taps of (W - Wq) times the input channel mean, grouped', () => {
    // 4 output channels, 2 groups, 1 input channel a group, 1x2 kernel.
    const dims = [4, 1, 1, 2];
    const w = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const wq = Float32Array.from([1, 1.5, 3, 4.5, 5, 5, 7, 8]);
    const means = [10, 100];
    const out = biasCorrection({ kind: 'conv', weightAxis: 0, channels: 4 }, dims, w, wq, means, 2);
    // channels 0, 1 read input 0 (mean 10); channels 2, 3 read input 1 (mean 100).
    expect(Array.from(out)).toEqual([0.5 * 10, -0.5 * 10, 1 * 100, 0]);
  });

  test('gemm: both weight layouts give the same correction', () => {
    const K = 3;
    const N = 2;
    const kn = Float32Array.from([1, 2, 3, 4, 5, 6]); // [K, N]
    const knq = Float32Array.from([1, 2.5, 3, 4, 4, 6]);
    const nk = Float32Array.from([1, 3, 5, 2, 4, 6]); // [N, K], the transpose
    const nkq = Float32Array.from([1, 3, 4, 2.5, 4, 6]);
    const means = [1, 2, 3];
    const a = biasCorrection({ kind: 'gemm', weightAxis: 1, channels: N }, [K, N], kn, knq, means);
    const b = biasCorrection({ kind: 'gemm', weightAxis: 0, channels: N }, [N, K], nk, nkq, means);
    expect(Array.from(a)).toEqual([1 * 3, -0.5 * 1]);
    expect(Array.from(b)).toEqual(Array.from(a));
  });
});

describe('ChannelMeanObserver', () => {
  test('means over images and positions, per channel, across batches', () => {
    const o = new ChannelMeanObserver();
    o.update(Float32Array.from([1, 3, 10, 30]), [1, 2, 1, 2]);
    o.update(Float32Array.from([5, 7, 50, 70]), [1, 2, 2, 1]);
    expect(o.means()).toEqual([4, 40]);
    expect(() => o.update(new Float32Array(3), [1, 3])).toThrow(/2 channels/);
  });
});
