/**
 * Data-path throughput on the shared validation split (2,000 32x32 JPEGs):
 *   npx tsc -p tsconfig.json && node dist/bench/data.js [folder]
 * Rows: decode + preprocess (decodeImages) at concurrency 1..4 and 8, against a baseline
 * measured in the same run (bare sharp(file).raw().toBuffer() at concurrency 4, no
 * normalization); then ImageSet.batch() serving, which should cost next to nothing.
 */
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { ImageSet, decodeImages, listImageFolder, preprocessPreset } from '../src/data';

const folder = process.argv[2] ?? path.resolve(__dirname, '../../../shared/datasets/cifar10-jpeg/val');

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

async function bareSharp(files: string[], concurrency: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) await sharp(files[next++] as string).raw().toBuffer();
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

async function main(): Promise<void> {
  const ds = await listImageFolder(folder);
  const files = ds.samples.map((s) => s.path);
  const pre = preprocessPreset('cifar');
  const n = files.length;
  // Machines are shared and noisy: configurations run interleaved, `rounds` times each, and
  // the best round counts. CPU time per image (all threads) is printed too.
  const rounds = 3;
  const configs: [string, () => Promise<unknown>][] = [
    ['baseline: sharp(file).raw(), conc 4', () => bareSharp(files, 4)],
    ...[1, 2, 3, 4, 8].map((concurrency): [string, () => Promise<unknown>] => [
      `decodeImages, conc ${concurrency}, 1 vips thread`,
      () => decodeImages(files, pre, { concurrency }),
    ]),
    ['decodeImages, conc 4, 2 vips threads', () => decodeImages(files, pre, { concurrency: 4, sharpThreads: 2 })],
  ];
  const best = new Map<string, { rate: number; cpuUs: number }>();
  await decodeImages(files.slice(0, 200), pre); // warm the page cache and sharp
  for (let r = 0; r < rounds; r++) {
    for (const [what, run] of configs) {
      sharp.concurrency(1);
      const c0 = process.cpuUsage();
      const rate = n / (await timed(run));
      const cpu = process.cpuUsage(c0);
      const prev = best.get(what);
      if (prev === undefined || rate > prev.rate) best.set(what, { rate, cpuUs: (cpu.user + cpu.system) / n });
    }
  }
  const rows: [string, number, string][] = configs.map(([what]) => {
    const b = best.get(what)!;
    return [what, b.rate, b.cpuUs.toFixed(0)];
  });
  const base = rows[0]![1];

  const set = await ImageSet.load(ds.samples, pre, { concurrency: 4 });
  const passes = 2000;
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let p = 0; p < passes; p++) {
    for (const b of set.batches(64)) sink += (b.data[0] as number) + (b.labels[0] as number);
  }
  const serve = (passes * set.count) / (Number(process.hrtime.bigint() - t0) / 1e9);
  rows.push([`ImageSet.batch(64) serving (${passes} passes)`, serve, '-']);

  console.log(`data path on ${folder}: ${n} images, ${set.dims.join('x')} input, ${(set.pixels.byteLength / 2 ** 20).toFixed(1)} MiB of pixels`);
  console.log(`best of ${rounds} interleaved rounds; load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores`);
  console.log('| what | images/s | vs baseline | CPU us/image |');
  console.log('| --- | ---: | ---: | ---: |');
  for (const [what, rate, cpu] of rows) {
    console.log(`| ${what} | ${rate.toFixed(0)} | ${(rate / base).toFixed(2)}x | ${cpu} |`);
  }
  if (sink === 42.5) console.log(''); // keep the serving loop observable
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
