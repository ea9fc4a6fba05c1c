/**
 * int8 conv kernels on the ResNet-20 (CIFAR) layer shapes at batch 64: GOP/s (2 * MACs) for the
 * scalar reference, the AVX2 path and, on AVX-512 CPUs, the kAvx512 path (vpdpbusd with VNNI),
 * uint8 requantized output with a fused Relu; against the f32 conv (best detected ISA) on the
 * same shapes, measured in the same run (the baseline the int8 engine has to beat); plus the
 * quantize / fake-quantize throughput on a stage-1 activation tensor.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/kernels-int8.js [--quick]
 */
import { Bench } from 'tinybench';
import { isaInfo, setIsa, setThreads, type IsaName } from '../src/engine/addon';
import { PackedConv, conv2d } from '../src/engine/native-f32';
import { PackedQConv, fakeQuantize, qconv2d, quantize, type QConvParams, type QuantSpec } from '../src/engine/native-int8';
import { ConvShape, RESNET20_CONVS } from './common';

type Layer = ConvShape;

const BATCH = 64;
const THREADS = 2;
const LAYERS: readonly Layer[] = RESNET20_CONVS;

function macs(l: Layer): number {
  const out = l.hw / l.stride;
  return BATCH * l.cout * out * out * l.cin * l.k * l.k;
}

function pseudo(i: number): number {
  return Math.sin(i * 12.9898) * 0.5 + 0.5; // [0, 1)
}

async function seconds(name: string, fn: () => Promise<void>, ms: number): Promise<number> {
  const bench = new Bench({ time: ms, warmup: true });
  bench.add(name, fn);
  await bench.run();
  const r = bench.tasks[0]!.result as unknown as { latency?: { p50?: number; mean?: number }; mean?: number };
  return (r.latency?.p50 ?? r.latency?.mean ?? r.mean ?? NaN) / 1000;
}

async function timeQConv(l: Layer, isa: IsaName, ms: number): Promise<number> {
  const wd = [l.cout, l.cin, l.k, l.k], xd = [BATCH, l.cin, l.hw, l.hw];
  const p: QConvParams = {
    strides: [l.stride, l.stride], pads: [1, 1, 1, 1], dilations: [1, 1], group: 1,
    inputScale: 0.02, inputZero: 128, weightScale: new Float32Array(l.cout).map((_, i) => 0.002 + i * 1e-5),
    output: { kind: 'uint8', scale: 0.05, zero: 0, min: 0, max: 255 },
  };
  const packed = PackedQConv.create(new Int8Array(wd.reduce((a, b) => a * b)).map((_, i) => Math.round(pseudo(i) * 254 - 127)), wd, new Int32Array(l.cout).fill(100), p);
  const x = new Uint8Array(xd.reduce((a, b) => a * b)).map((_, i) => Math.floor(pseudo(i + 7) * 256));
  const out = new Uint8Array(packed.outputDims(xd).reduce((a, b) => a * b));
  setIsa(isa);
  return seconds(`q8 ${l.name} ${isa}`, () => qconv2d(packed, x, xd, out), ms);
}

async function timeF32Conv(l: Layer, ms: number): Promise<number> {
  const wd = [l.cout, l.cin, l.k, l.k], xd = [BATCH, l.cin, l.hw, l.hw];
  const packed = PackedConv.create(new Float32Array(wd.reduce((a, b) => a * b)).map((_, i) => pseudo(i) - 0.5), wd, new Float32Array(l.cout), {
    strides: [l.stride, l.stride], pads: [1, 1, 1, 1], dilations: [1, 1], group: 1, activation: { min: 0, max: Infinity },
  });
  const x = new Float32Array(xd.reduce((a, b) => a * b)).map((_, i) => pseudo(i));
  const out = new Float32Array(BATCH * l.cout * (l.hw / l.stride) ** 2);
  setIsa(isaInfo().detected); // the best f32 path is the baseline
  return seconds(`f32 ${l.name}`, () => conv2d(packed, x, xd, out), ms);
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  setThreads(THREADS);
  const info = isaInfo();
  const avx2 = (['avx2', 'avx512'] as string[]).includes(info.detected); // AVX-512 CPUs run the AVX2 kernels
  console.log(`threads ${THREADS}, detected ISA ${info.detected}, batch ${BATCH}`);
  const vnni = info.detected === 'avx512'; // the kAvx512 q8 path (vpdpbusd where the CPU has VNNI)
  const rows = [
    '| layer (batch 64) | count | int8 scalar GOP/s | int8 AVX2 GOP/s | int8 AVX-512 (VNNI) GOP/s | f32 GFLOP/s | best int8 / f32 |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  let totalQ = 0, totalF = 0;
  try {
    for (const l of LAYERS) {
      const ops = 2 * macs(l);
      const ts = await timeQConv(l, 'scalar', quick ? 100 : 300);
      const tq = avx2 ? await timeQConv(l, 'avx2', quick ? 200 : 1000) : NaN;
      const tv = vnni ? await timeQConv(l, 'avx512', quick ? 200 : 1000) : NaN;
      const tf = avx2 ? await timeF32Conv(l, quick ? 200 : 1000) : NaN;
      const best = vnni ? Math.min(tq, tv) : tq;
      totalQ += best * l.count;
      totalF += tf * l.count;
      const g = (s: number): string => (Number.isNaN(s) ? '-' : (ops / s / 1e9).toFixed(1));
      rows.push(`| ${l.name} | ${l.count} | ${g(ts)} | ${g(tq)} | ${g(tv)} | ${g(tf)} | ${avx2 ? (tf / best).toFixed(2) + 'x' : '-'} |`);
    }
    if (avx2) {
      const dims = [BATCH, 16, 32, 32], n = dims.reduce((a, b) => a * b);
      const x = new Float32Array(n).map((_, i) => pseudo(i) * 4 - 1);
      const spec: QuantSpec = { scale: Float32Array.of(0.02), zero: Int32Array.of(50), qmin: 0, qmax: 255 };
      const q = new Uint8Array(n), f = new Float32Array(n);
      const lines: string[] = [];
      for (const isa of ['scalar', 'avx2'] as const) {
        setIsa(isa);
        const tq = await seconds(`quantize ${isa}`, () => quantize(x, dims, spec, q), quick ? 100 : 500);
        const tf = await seconds(`fake ${isa}`, () => fakeQuantize(x, dims, spec, f), quick ? 100 : 500);
        lines.push(`${isa}: quantize ${(n / tq / 1e9).toFixed(2)} Gelem/s, fakeQuantize ${(n / tf / 1e9).toFixed(2)} Gelem/s`);
      }
      console.log(`quantize family on [${dims}] float32:\n  ${lines.join('\n  ')}`);
    }
  } finally {
    setIsa(info.active);
  }
  console.log(rows.join('\n'));
  if (avx2) {
    console.log(`sum of the 19 convs of ResNet-20: best int8 ${(totalQ * 1e3).toFixed(2)} ms, f32 ${(totalF * 1e3).toFixed(2)} ms per batch of ${BATCH} (int8 ${(totalF / totalQ).toFixed(2)}x f32)`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
