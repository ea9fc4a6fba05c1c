/**
 * `layerq bench`: peak probes, native kernel timing (reference check first) on every path this
 * CPU has, the layer shapes of a model, the per-step profile, and the CLI's JSON and errors.
 */
import { isaInfo, type IsaName } from '../../src/engine/addon';
import { loadClassifier } from '../../src/api/model';
import { defaultIsas, kernelProbe } from '../../src/api/bench';
import { layerMacs, measurePeak, peakProbes, timeLayer } from '../../src/bench/native-bench';
import { conv, gemmShape, modelLayers, standardLayers } from '../../src/bench/shapes';
import type { BenchResult } from '../../src/api/bench';
import { layerq } from '../cli/cli-helpers';
import { modelFile } from '../helpers';

const paths: IsaName[] = ['scalar', ...defaultIsas().filter((i) => i !== 'scalar')];

describe('peak probes', () => {
  test('every probe of this CPU runs, and every kernel path has its probe', async () => {
    const probes = peakProbes();
    if (isaInfo().detected !== 'scalar') expect(probes.length).toBeGreaterThan(0);
    for (const p of probes) {
      const rate = await measurePeak(p.name, 1, 0.002, 1);
      expect(rate.wall).toBeGreaterThan(0);
      expect(rate.cpu).toBeGreaterThan(0);
    }
    for (const isa of defaultIsas().filter((i) => i !== 'scalar')) {
      expect(kernelProbe('f32', isa, probes)).not.toBeNull();
      expect(kernelProbe('int8', isa, probes)).not.toBeNull();
      expect(kernelProbe('w4a8', isa, probes)).not.toBeNull();
    }
    // On AVX2 the 4-bit weights have their own kernels, and their own probe.
    if (probes.some((p) => p.name === 'int8-vpmaddubsw-i16-avx2')) {
      expect(kernelProbe('w4a8', 'avx2', probes)).toBe('int8-vpmaddubsw-i16-avx2');
      expect(kernelProbe('int8', 'avx2', probes)).toBe('int8-vpmaddwd-avx2');
    }
  });

  test('unknown probe names are refused', () => {
    expect(() => measurePeak('no-such-probe', 1)).toThrow(/Expected one of .* for probe/);
  });
});

describe('native kernel timing', () => {
  const shapes = {
    'conv 3x3 s2': conv(3, 5, 12, 9, 3, 2),
    depthwise: conv(2, 24, 24, 7, 3, 1, 24),
    'pointwise': conv(2, 17, 9, 6, 1),
    gemm: gemmShape(5, 70, 11),
  };
  for (const [name, shape] of Object.entries(shapes)) {
    test(`${name}: every path passes its reference check and is timed`, async () => {
      for (const isa of paths) {
        for (const dtype of ['f32', 'int8', 'w4a8'] as const) {
          const t = await timeLayer(shape, dtype, isa, 2, 0.001);
          expect({ isa, dtype, passed: t.passed, mismatches: t.mismatches }).toEqual({ isa, dtype, passed: true, mismatches: 0 });
          expect(t.maxAbsDiff).toBeLessThanOrEqual(t.tolerance);
          expect(t.bestSeconds).toBeGreaterThan(0);
          expect(t.medianSeconds).toBeGreaterThanOrEqual(t.bestSeconds);
        }
      }
    });
  }

  test('bad shapes are refused with the parameter named', () => {
    expect(() => timeLayer({ ...conv(1, 4, 4, 8, 3), group: 3 }, 'int8', 'scalar', 1)).toThrow(/shape.group/);
    expect(() => timeLayer({ ...conv(1, 4, 4, 8, 3), padTop: -1 }, 'int8', 'scalar', 1)).toThrow(/shape.padTop/);
    expect(() => timeLayer(conv(1, 4, 4, 8, 3), 'int4' as 'int8', 'scalar', 1)).toThrow(/dtype/);
  });
});

describe('layer shapes', () => {
  test("ResNet-20's convs and Gemm as GEMMs (M = N*Ho*Wo, N = Cout, K = Cin*kh*kw)", () => {
    const layers = modelLayers(loadClassifier(modelFile('resnet20')).model.graph, 64);
    const count = layers.reduce((a, l) => a + l.count, 0);
    expect(count).toBe(20);  // 19 convs + the classifier
    const stem = layers.find((l) => l.nodes.includes('/conv1/Conv'))!;
    expect(stem.gemm).toEqual({ m: 64 * 32 * 32, n: 16, k: 27 });
    expect(layers.find((l) => l.name === 'conv 3x3 64->64 @8')!.count).toBe(5);
    expect(layers.find((l) => l.kind === 'gemm')!.gemm).toEqual({ m: 64, n: 10, k: 64 });
    expect(layerMacs(stem.shape)).toBe(64 * 32 * 32 * 16 * 27);
  });

  test('the standard list has ResNet, pointwise, depthwise and Gemm shapes', () => {
    const kinds = new Set(standardLayers(8).map((l) => l.kind));
    expect([...kinds].sort()).toEqual(['conv', 'depthwise', 'gemm', 'pointwise']);
  });
});

describe('layerq bench (CLI)', () => {
  test('--json: system, peaks, checked kernels on 1 and N threads, and a per-step profile', () => {
    const r = layerq(['bench', '--quick', '--json', '--threads', '2', '--filter', 'pw 1x1 96->16', '--batch', '4',
      '--model', modelFile('mobilenetv2-w05'), '--profile', modelFile('resnet20'), '--profile-batches', '1,2']);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as BenchResult;
    expect(j.system.cpu.model.length).toBeGreaterThan(0);
    expect(j.system.versions.node).toBe(process.versions.node);
    expect(j.threads).toEqual([1, 2]);
    expect(j.peaks.length).toBe(2 * peakProbes().length);
    const rows = j.kernels!.rows;
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.name).toContain('pw 1x1 96->16');
      for (const res of row.results) {
        expect(res.passed).toBe(true);
        expect(res.gops).toBeGreaterThan(0);
      }
      // Every SIMD path of this CPU (AVX-512 CPUs time the AVX2 path too), each on 1 and 2 threads.
      const paths = [...new Set(row.results.map((x) => x.isa))];
      expect(paths.length).toBeGreaterThan(0);
      for (const isa of paths) {
        for (const dtype of ['int8', 'w4a8']) {
          const timed = row.results.filter((x) => x.dtype === dtype && x.isa === isa);
          expect(timed.map((x) => x.threads).sort()).toEqual([1, 2]);
          expect(timed.every((x) => x.speedupOverF32! > 0)).toBe(true);
        }
      }
    }
    const p = j.profile!;
    expect(p.batches).toEqual([1, 2]);
    expect(p.fp32TotalMs.length).toBe(2);
    const conv1 = p.steps.find((s) => s.name === '/conv1/Conv')!;
    expect(conv1.category).toBe('conv');
    expect(conv1.fp32Ms!.length).toBe(2);
    expect(conv1.int8Ms!.length).toBe(2);
    expect(p.steps.some((s) => s.category === 'quantize' && s.int8Ms && !s.fp32Ms)).toBe(true);
    expect(p.int8Plan).toBe('W8A8 per-channel');
    expect(p.warmupMs).toBe(250);  // --quick: a quarter of the default's warm-up
  });

  test('--profile-w-bits 4 profiles the W4A8 engine (the profile alone: no kernel table); other widths are refused', () => {
    const r = layerq(['bench', '--quick', '--json', '--profile', modelFile('resnet20'), '--profile-batches', '2', '--profile-w-bits', '4']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as BenchResult;
    expect(j.kernels).toBeUndefined();
    expect(j.profile!.int8Plan).toBe('W4A8 per-channel');
    expect(j.profile!.steps.find((s) => s.name === '/conv1/Conv')!.int8Ms!.length).toBe(1);
    const bad = layerq(['bench', '--quick', '--profile', modelFile('resnet20'), '--profile-w-bits', '5']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/expected 4 or 8 for --profile-w-bits/);
  });

  test('a path this CPU lacks, or a filter matching nothing, is one line and exit code 1', () => {
    const other = isaInfo().detected === 'neon' ? 'avx2' : 'neon';
    const r = layerq(['bench', '--quick', '--isa', other]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`for isa but received '${other}'`));
    const f = layerq(['bench', '--quick', '--filter', 'no such layer']);
    expect(f.code).toBe(1);
    expect(f.stderr).toMatch(/for filter/);
  });
});
