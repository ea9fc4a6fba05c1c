/**
 * `layerq quantize` at ImageNet size: peak memory and wall time of W8A8 on a folder of
 * 224x224-class photos (default: 1,000 images, one a class, from `imagenet-folder.js`), with
 * the FP32 evaluation of the same images (`layerq evaluate`, in the same run) as the unit.
 * Each command is a fresh process under `/usr/bin/time -v` (peak resident memory).
 * Run: npm run build && node dist/bench/imagenet-folder.js /tmp/inet1k &&
 *      node dist/bench/imagenet-quantize.js /tmp/inet1k [--threads 2] [--label-free] [extra quantize flags]
 * Prints validation accuracy (agreement with FP32 in label-free mode: on the stand-in pool, whose
 * labels mean nothing to the model, agreement is the figure to read) and the search's summary.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { modelPath } from './common';

interface Run {
  seconds: number;
  peakMiB: number;
  stdout: string;
}

function timed(args: string[], cpus: string | undefined): Run {
  const cli = path.resolve(__dirname, '..', '..', 'bin', 'layerq.js');
  const cmd = [...(cpus ? ['taskset', '-c', cpus] : []), '/usr/bin/time', '-v', process.execPath, cli, ...args];
  const t = performance.now();
  const r = spawnSync(cmd[0]!, cmd.slice(1), { encoding: 'utf8', maxBuffer: 1 << 28 });
  const seconds = (performance.now() - t) / 1000;
  if (r.status !== 0) throw new Error(`${cmd.join(' ')} failed:\n${r.stderr}`);
  const kb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr)?.[1] ?? NaN);
  return { seconds, peakMiB: kb / 1024, stdout: r.stdout };
}

function main(): void {
  const args = process.argv.slice(2);
  const data = args.shift();
  if (!data) throw new Error('usage: imagenet-quantize.js DATA_DIR [--threads N] [--cpus LIST] [quantize flags]');
  const take = (flag: string): string | undefined => {
    const i = args.indexOf(flag);
    return i >= 0 ? args.splice(i, 2)[1] : undefined;
  };
  const threads = take('--threads') ?? '2';
  const cpus = take('--cpus');
  const model = take('--model') ?? modelPath('mobilenetv2-imagenet');
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'layerq-inet-'));
  const evaluate = timed(['evaluate', model, '--data', data, '--threads', threads, '--json', '--quiet'], cpus);
  const ev = JSON.parse(evaluate.stdout);
  const quant = timed(['quantize', model, '--data', data, '--out', out, '--threads', threads, '--json', '--quiet', ...args], cpus);
  const report = JSON.parse(quant.stdout);
  const unit = ev.timings.engineSeconds as number;
  const steps = Object.entries(report.timings as Record<string, number>);
  console.log(`${path.basename(model)} on ${data}: ${ev.count} images, preprocess ${report.preprocess.name}, ${threads} kernel threads${cpus ? `, cpus ${cpus}` : ''}; ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(1)}`);
  console.log(`unit = FP32 evaluation of the ${ev.count} images by the engine: ${unit.toFixed(1)} s (decode ${ev.timings.decodeSeconds.toFixed(1)} s)`);
  console.log('| command | wall s | x FP32 eval | peak MiB |');
  console.log('| --- | --- | --- | --- |');
  console.log(`| evaluate (FP32) | ${evaluate.seconds.toFixed(1)} | ${(evaluate.seconds / unit).toFixed(2)} | ${evaluate.peakMiB.toFixed(0)} |`);
  console.log(`| quantize ${args.join(' ') || 'W8A8 defaults'} | ${quant.seconds.toFixed(1)} | ${(quant.seconds / unit).toFixed(2)} | ${quant.peakMiB.toFixed(0)} |`);
  console.log(`quantize steps (s, x FP32 eval): ${steps.map(([k, v]) => `${k} ${v.toFixed(1)} (${(v / unit).toFixed(2)})`).join(', ')}`);
  console.log(`sets: ${report.data.calibrationImages} calibration, ${report.data.validationImages} validation images`);
  const acc = report.accuracy;
  const bits = (share: Record<string, number>): string => Object.entries(share).map(([b, p]) => `${b}-bit ${p.toFixed(1)}%`).join(', ');
  console.log(`validation (${acc.split}): FP32 top-1 ${acc.fp32.top1.toFixed(2)}, quantized ${acc.quantized.top1.toFixed(2)}, agreement with FP32 ${acc.agreement.toFixed(2)}%; MACs by weight bits: ${bits(report.macShare.weightBits)}; by input bits: ${bits(report.macShare.activationBits)}`);
  const s = report.search;
  if (s) {
    const m = (x: { top1: number; agreement: number; loss: number }): string => `top-1 ${x.top1.toFixed(2)}, agreement ${x.agreement.toFixed(2)}%, KL ${x.loss.toFixed(4)}`;
    console.log(`search: first plan ${m(s.before)} -> ${m(s.after)}; ${s.trials.length} trials, reached ${s.reached} (${s.stoppedBy}); raised: ${s.raised.map((r: { id: string }) => r.id).join(' ') || 'none'}; accepted ${JSON.stringify(s.acceptedByFamily)}`);
  }
  fs.rmSync(out, { recursive: true, force: true });
}

main();
