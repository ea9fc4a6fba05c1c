/**
 * Wall time of the whole `layerq quantize` command (a fresh process: load, select data, decode,
 * calibrate, export, evaluate, report), ResNet-20 W8A8 per-channel, 32 calibration images a
 * class, the 2,000 `val` images for validation. Median of N runs.
 * Run: npm run build && node dist/bench/quantize-time.js [runs]
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CIFAR, median, modelPath } from './common';

function main(): void {
  const runs = Number(process.argv[2] ?? 3);
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'layerq-bench-'));
  const cli = path.resolve(__dirname, '..', '..', 'bin', 'layerq.js');
  const args = [cli, 'quantize', modelPath('resnet20'), '--calib-data', path.join(CIFAR, 'calib-pool'), '--val-data', path.join(CIFAR, 'val'),
    '--out', out, '--per-channel', '--calib-per-class', '32', '--json', '--quiet'];
  const seconds: number[] = [];
  let steps: Record<string, number> = {};
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    seconds.push((performance.now() - t) / 1000);
    steps = JSON.parse(r.stdout).timings;
  }
  console.log(`layerq quantize resnet20 W8A8 per-channel, 32 calibration images a class, 2,000 validation images`);
  console.log(`wall time, median of ${runs}: ${median(seconds).toFixed(1)} s (runs: ${seconds.map((s) => s.toFixed(1)).join(', ')})`);
  console.log(`steps of the last run (s): ${Object.entries(steps).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
  fs.rmSync(out, { recursive: true, force: true });
}

main();
