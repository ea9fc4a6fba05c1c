/**
 * f32 conv kernels on the ResNet-20 (CIFAR) layer shapes and the MobileNetV2-w05 depthwise 3x3
 * shapes at batch 64: GFLOP/s (2 * MACs) for
 * the scalar, AVX2 and (where the CPU has it) AVX-512 paths, as a fraction of the machine's FMA
 * peak for that vector width, and the summed
 * conv time of the whole network against ONNX Runtime running resnet20.onnx (same batch,
 * 2 intra-op threads).
 *
 *   npx tsc -p tsconfig.json && node dist/bench/kernels-f32.js [--quick] [--dw-only]
 */
import * as fs from 'fs';
import * as path from 'path';
import { Bench } from 'tinybench';
import { isaInfo, setIsa, setThreads } from '../src/engine/addon';
import { ConvParams, PackedConv, conv2d, convOutputDims } from '../src/engine/native-f32';
import { ConvShape, RESNET20_CONVS } from './common';

type Layer = ConvShape;

const BATCH = 64;
const THREADS = 2;
const LAYERS: readonly Layer[] = RESNET20_CONVS;

// MobileNetV2-w05 (CIFAR, 32x32 input) depthwise 3x3 convs, pad 1: channels, input size, stride.
const DW_LAYERS: Layer[] = [
  { name: 'dw 16 @16', cin: 16, cout: 16, hw: 16, stride: 1, k: 3, count: 1, group: 16 },
  { name: 'dw 48 @16', cin: 48, cout: 48, hw: 16, stride: 1, k: 3, count: 1, group: 48 },
  { name: 'dw 96 @16', cin: 96, cout: 96, hw: 16, stride: 1, k: 3, count: 1, group: 96 },
  { name: 'dw 96 s2 @16', cin: 96, cout: 96, hw: 16, stride: 2, k: 3, count: 1, group: 96 },
  { name: 'dw 96 @8', cin: 96, cout: 96, hw: 8, stride: 1, k: 3, count: 2, group: 96 },
  { name: 'dw 96 s2 @8', cin: 96, cout: 96, hw: 8, stride: 2, k: 3, count: 1, group: 96 },
  { name: 'dw 192 @4', cin: 192, cout: 192, hw: 4, stride: 1, k: 3, count: 4, group: 192 },
  { name: 'dw 288 @4', cin: 288, cout: 288, hw: 4, stride: 1, k: 3, count: 2, group: 288 },
  { name: 'dw 288 s2 @4', cin: 288, cout: 288, hw: 4, stride: 2, k: 3, count: 1, group: 288 },
  { name: 'dw 480 @2', cin: 480, cout: 480, hw: 2, stride: 1, k: 3, count: 3, group: 480 },
];

function cpuGHz(): { ghz: number; source: string } {
  try {
    const m = /cpu MHz\s*:\s*([\d.]+)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return { ghz: Number(m[1]) / 1000, source: '/proc/cpuinfo cpu MHz' };
  } catch {
    // fall through
  }
  return { ghz: 3, source: 'assumed' };
}

function random(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.sin(i * 12.9898) * 0.5;
  return a;
}

async function timeConv(layer: Layer, isa: 'scalar' | 'avx2' | 'avx512', quick: boolean): Promise<number> {
  const group = layer.group ?? 1;
  const p: ConvParams = { strides: [layer.stride, layer.stride], pads: [1, 1, 1, 1], dilations: [1, 1], group, activation: { min: 0, max: group > 1 ? 6 : Infinity } };
  const wd = [layer.cout, layer.cin / group, layer.k, layer.k], xd = [BATCH, layer.cin, layer.hw, layer.hw];
  const packed = PackedConv.create(random(wd.reduce((a, b) => a * b)), wd, random(layer.cout), p);
  const x = random(xd.reduce((a, b) => a * b));
  const out = new Float32Array(convOutputDims(xd, wd, p).reduce((a, b) => a * b));
  setIsa(isa);
  const bench = new Bench({ time: quick || isa === 'scalar' ? 200 : 1000, warmup: true });
  bench.add(layer.name, () => conv2d(packed, x, xd, out));
  await bench.run();
  const r = bench.tasks[0]!.result as unknown as { latency?: { p50?: number; mean?: number }; mean?: number };
  return (r.latency?.p50 ?? r.latency?.mean ?? r.mean ?? NaN) / 1000; // seconds
}

function macs(l: Layer): number {
  const out = Math.floor((l.hw + 2 - l.k) / l.stride) + 1;
  return (BATCH * l.cout * out * out * l.cin * l.k * l.k) / (l.group ?? 1);
}

async function timeOrt(): Promise<number | null> {
  const model = path.resolve(__dirname, '..', '..', '..', 'shared', 'models', 'resnet20.onnx');
  if (!fs.existsSync(model)) return null;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ort = require('onnxruntime-node');
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: THREADS, interOpNumThreads: 1 });
  const input = new ort.Tensor('float32', random(BATCH * 3 * 32 * 32), [BATCH, 3, 32, 32]);
  const bench = new Bench({ time: 2000, warmup: true });
  bench.add('ort resnet20', () => session.run({ input }));
  await bench.run();
  const r = bench.tasks[0]!.result as unknown as { latency?: { p50?: number; mean?: number }; mean?: number };
  return (r.latency?.p50 ?? r.latency?.mean ?? r.mean ?? NaN) / 1000;
}

type IsaName = 'scalar' | 'avx2' | 'avx512';

/** Times every layer on every ISA; prints the table and returns the summed best time (s). */
async function table(layers: readonly Layer[], isas: readonly IsaName[], quick: boolean, peak: number): Promise<number> {
  const peak512 = 2 * peak; // 16 lanes (assumes full-width 512-bit FMA ports, as on Zen 5)
  const rows: string[] = ['| layer (batch 64) | count | scalar GFLOP/s | AVX2 GFLOP/s | AVX2 % of peak | AVX-512 GFLOP/s | AVX-512 % of peak | best ms |', '| --- | --- | --- | --- | --- | --- | --- | --- |'];
  let total = 0;
  for (const layer of layers) {
    const flops = 2 * macs(layer);
    const t: Record<string, number> = {};
    for (const isa of isas) t[isa] = await timeConv(layer, isa, quick);
    const best = Math.min(...Object.values(t));
    total += best * layer.count;
    const g = (s: number | undefined): string => (s === undefined ? '-' : (flops / s / 1e9).toFixed(1));
    const pct = (s: number | undefined, pk: number): string => (s === undefined ? '-' : ((flops / s / 1e9 / pk) * 100).toFixed(0) + '%');
    rows.push(`| ${layer.name} | ${layer.count} | ${g(t.scalar)} | ${g(t.avx2)} | ${pct(t.avx2, peak)} | ${g(t.avx512)} | ${pct(t.avx512, peak512)} | ${(best * 1e3).toFixed(2)} |`);
  }
  console.log(rows.join('\n'));
  return total;
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const dwOnly = process.argv.includes('--dw-only');
  setThreads(THREADS);
  const info = isaInfo();
  const { ghz, source } = cpuGHz();
  const peak = THREADS * 2 * 8 * 2 * ghz; // cores x FMA ports x lanes x flops/FMA x GHz
  console.log(`threads ${THREADS}, detected ISA ${info.detected}, clock ${ghz.toFixed(2)} GHz (${source}), AVX2 FMA peak ${peak.toFixed(1)} GFLOP/s, AVX-512 ${(2 * peak).toFixed(1)}`);
  const isas: readonly IsaName[] = info.detected === 'avx512' ? ['scalar', 'avx2', 'avx512'] : info.detected === 'avx2' ? ['scalar', 'avx2'] : ['scalar'];
  try {
    if (!dwOnly) {
      const total = await table(LAYERS, isas, quick, peak);
      console.log(`sum of the 19 convs of ResNet-20 (best path): ${(total * 1e3).toFixed(2)} ms per batch of ${BATCH}`);
      const ort = await timeOrt();
      if (ort !== null) {
        console.log(`onnxruntime-node resnet20.onnx, whole model: ${(ort * 1e3).toFixed(2)} ms per batch; conv-only throughput ratio layerq/ORT = ${(ort / total).toFixed(2)}x (upper bound for the engine)`);
      }
    }
    console.log('\nMobileNetV2-w05 depthwise 3x3 convs (pad 1, fused Relu6):');
    const dw = await table(DW_LAYERS, isas, quick, peak);
    console.log(`sum of the 17 depthwise convs of MobileNetV2-w05 (best path): ${(dw * 1e3).toFixed(2)} ms per batch of ${BATCH}`);
  } finally {
    setIsa(info.active);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
