/**
 * ONNX Runtime's default (fused) int8 kernels against exact QDQ semantics on layerq's exported
 * models: top-1 agreement and accuracy on `val`, for 8-bit and 7-bit weights. On x86 AVX2
 * without VNNI the fused kernels saturate in vpmaddubsw (u8 x s8 pairs summed in int16);
 * 7-bit weights ([-63, 63]) keep every pair sum within int16, so both sessions agree.
 * With --emulate-cpu MODEL (e.g. Haswell; needs Debian's qemu-user) ONNX Runtime runs under
 * `qemu-x86_64 -cpu MODEL`, so its kernels are those of a CPU without AVX-512 and VNNI even on a
 * host that has them (slow: minutes).
 * Run: npm run build && node dist/bench/ort-fused.js [model] [--emulate-cpu Haswell]
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadClassifier } from '../src/api/model';
import { isaInfo } from '../src/engine/addon';
import { Engine, quantizedEngine } from '../src/engine/engine';
import { accuracy, agreement } from '../src/eval/metrics';
import { toQdq } from '../src/onnx/qdq';
import { saveModel } from '../src/onnx/save';
import { initialPlan } from '../src/quant/first-plan';
import { collectStatistics } from '../src/pipeline/calibrate';
import { findLayers, quantizedTensors } from '../src/quant/layers';
import { loadSplit, modelPath, ortLogits, ortSession } from './common';

/** ORT logits in a child process on an emulated CPU. */
function emulatedLogits(cpuModel: string, bytes: Uint8Array, images: { data: Float32Array; count: number }, mode: 'exact' | 'default'): Float32Array {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerq-ort-'));
  const [model, input, output] = ['model.onnx', 'images.bin', 'logits.bin'].map((f) => path.join(dir, f)) as [string, string, string];
  fs.writeFileSync(model, bytes);
  fs.writeFileSync(input, Buffer.from(images.data.buffer, images.data.byteOffset, images.data.byteLength));
  const child = path.join(__dirname, 'ort-child.js');
  const r = spawnSync('qemu-x86_64', ['-cpu', cpuModel, process.execPath, child, model, input, String(images.count), output, mode], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ONNX Runtime under qemu failed: ${r.stderr.split('\n').filter((l) => !l.includes('TCG')).join('\n')}`);
  const out = fs.readFileSync(output);
  fs.rmSync(dir, { recursive: true, force: true });
  return new Float32Array(out.buffer, out.byteOffset, out.length / 4).slice();
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const emulateAt = args.indexOf('--emulate-cpu');
  const emulate = emulateAt >= 0 ? args.splice(emulateAt, 2)[1] : undefined;
  const name = args[0] ?? 'mobilenetv2-w05';
  const model = loadClassifier(modelPath(name)).model;
  const layers = findLayers(model.graph);
  const calib = await loadSplit('calib-pool', 32);
  const val = await loadSplit('val');
  const classes = Array.from({ length: 10 }, (_, i) => String(i));
  const fp32 = Engine.fp32(model);
  const stats = await collectStatistics(fp32, calib, quantizedTensors(model.graph, layers, 'float-residual'));
  const fp32Top1 = accuracy(await fp32.runAll(val), val.labels, classes).top1;
  const cpu = (await import('fs')).readFileSync('/proc/cpuinfo', 'utf8');
  const vnni = /avx512_vnni|avx_vnni/.test(cpu);
  const where = emulate ? `ONNX Runtime on an emulated ${emulate} CPU (qemu-x86_64: AVX2, no AVX-512, no VNNI)` : `ONNX Runtime on this CPU, which ${vnni ? 'has' : 'lacks'} VNNI`;
  console.log(`${name}, per-channel weights, minmax activations, ${val.count} val images; layerq kernels ${isaInfo().active}; ${where}`);
  console.log(`FP32 top-1 ${fp32Top1.toFixed(2)}`);
  console.log('| weights | layerq int8 engine | ORT exact QDQ | ORT default (fused) | default vs exact agreement | layerq vs exact agreement |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const bits of [8, 7]) {
    const plan = initialPlan(model, layers, stats, {
      weightBits: bits, activationBits: 8, perChannel: true, method: 'minmax', weightMethod: 'minmax', symmetricActivations: false, scope: 'float-residual',
    });
    const ours = await quantizedEngine(model, layers, plan, 'int').runAll(val);
    const bytes = saveModel(toQdq(model, layers, plan));
    const exact = emulate ? emulatedLogits(emulate, bytes, val.batch(0, val.count), 'exact') : await ortLogits(await ortSession(bytes, { exactQdq: true }), val);
    const fused = emulate ? emulatedLogits(emulate, bytes, val.batch(0, val.count), 'default') : await ortLogits(await ortSession(bytes), val);
    const top1 = (l: Float32Array): string => accuracy(l, val.labels, classes).top1.toFixed(2);
    console.log(`| ${bits}-bit | ${top1(ours)} | ${top1(exact)} | ${top1(fused)} | ${agreement(fused, exact, 10).toFixed(2)}% | ${agreement(ours, exact, 10).toFixed(2)}% |`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
