/**
 * Fitted rounding (GPTQ) costs on real layer shapes, 2 threads, against a baseline measured in
 * the same run: the f32 forward conv of the same layer at the same batch.
 * - accumulateConvGram: ResNet-20 16->16 3x3 (batch 64 of 16x32x32, positionStride 4 and 1),
 *   MobileNetV2-w05 depthwise 96 @16 (batch 64, positionStride 4);
 * - fitRounding: Cout 64, K 576 (a 64->64 3x3 conv), 4 bits, per-channel scales.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/rounding.js
 */
import { isaInfo, setThreads } from '../src/engine/addon';
import { ConvParams, PackedConv, conv2d, convOutputDims } from '../src/engine/native-f32';
import { accumulateConvGram, accumulateGemmGram, fitRounding, type GramConvParams } from '../src/engine/native-rounding';

const THREADS = 2;
const RUNS = 7;

function wave(n: number, phase = 0): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + phase) * 0.5);
}

interface Timing {
  wall: number;
  cpu: number;
}

const median = (xs: number[]): number => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Median wall and CPU (all threads of the process) time in ms of `runs` calls after one
 * warm-up call. On a shared machine the CPU time is the steadier figure.
 */
async function timeMs(fn: () => Promise<unknown>, runs = RUNS): Promise<Timing> {
  await fn();
  const wall: number[] = [], cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage(), t0 = process.hrtime.bigint();
    await fn();
    wall.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e3);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

function row(what: string, t: Timing, base: Timing): void {
  console.log(`| ${what} | ${t.wall.toFixed(1)} | ${t.cpu.toFixed(1)} | ${(t.cpu / base.cpu).toFixed(2)} |`);
}

async function convBaseline(xd: number[], cout: number, group: number): Promise<Timing> {
  const p: ConvParams = { strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group };
  const wd = [cout, xd[1]! / group, 3, 3];
  const packed = PackedConv.create(wave(wd.reduce((a, b) => a * b)), wd, null, p);
  const x = wave(xd.reduce((a, b) => a * b));
  const out = new Float32Array(convOutputDims(xd, wd, p).reduce((a, b) => a * b));
  return timeMs(() => conv2d(packed, x, xd, out));
}

async function gramCase(name: string, xd: number[], group: number, stride: number, baseline: Timing): Promise<void> {
  const conv: GramConvParams = { kernel: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group };
  const K = (xd[1]! / group) * 9, x = wave(xd.reduce((a, b) => a * b)), h = new Float64Array(group * K * K);
  let rows = 0;
  const t = await timeMs(async () => (rows = await accumulateConvGram(h, x, xd, conv, stride)));
  row(`accumulateConvGram ${name}, positionStride ${stride} (${rows} patches, K ${K})`, t, baseline);
}

async function main(): Promise<void> {
  setThreads(THREADS);
  const info = isaInfo();
  console.log(`threads ${info.threads}, conv path ${info.active}; medians of ${RUNS} runs\n`);
  console.log('| call | wall ms | CPU ms | CPU / f32 conv of the layer |');
  console.log('| --- | --- | --- | --- |');
  const resnet = [64, 16, 32, 32], dw = [64, 96, 16, 16];
  const base = await convBaseline(resnet, 16, 1);
  row('f32 conv2d ResNet-20 16->16 3x3, batch 64 @32x32 (baseline)', base, base);
  await gramCase('ResNet-20 16->16 3x3', resnet, 1, 4, base);
  await gramCase('ResNet-20 16->16 3x3', resnet, 1, 1, base);
  const dwBase = await convBaseline(dw, 96, 96);
  row('f32 conv2d depthwise 96 3x3, batch 64 @16x16 (baseline)', dwBase, dwBase);
  await gramCase('depthwise 96 3x3 @16x16', dw, 96, 4, dwBase);

  const cout = 64, K = 576, M = 4096;
  const h = new Float64Array(K * K);
  await accumulateGemmGram(h, wave(M * K, 1), M, K, 1);
  const w = wave(cout * K, 2);
  const scale = Float32Array.from({ length: cout }, () => 0.5 / 7);
  const conv64 = await convBaseline([64, 64, 8, 8], 64, 1);
  row('f32 conv2d ResNet-20 64->64 3x3, batch 64 @8x8 (baseline)', conv64, conv64);
  row('fitRounding Cout 64, K 576, 4 bits, per-channel scales', await timeMs(() => fitRounding(w, cout, K, scale, -7, 7, h, 1)), conv64);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
