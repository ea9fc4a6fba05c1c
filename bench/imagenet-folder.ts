/**
 * A stand-in ImageNet pool for memory, time and data-selection checks at 224x224: no ImageNet
 * images are shared, so this writes the shared CIFAR-10 images upscaled to photo size (JPEG,
 * 400x300 by default) into an ImageFolder tree with the 1,000 ImageNet class folders of
 * `imagenet-classes.csv` (`000_n01440764` ...), `--per-class` images each (default 1). Labels
 * carry no meaning for the model: accuracy figures on it are not ImageNet accuracy, but the
 * decode, memory and selection work is the real one.
 * Run: npm run build && node dist/bench/imagenet-folder.js OUT_DIR [--per-class 1] [--size 400x300]
 */
import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import { listImageFolder } from '../src/data';
import { CIFAR, MODELS } from './common';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1]! : fallback;
}

async function main(): Promise<void> {
  const out = process.argv[2];
  if (!out || out.startsWith('--')) throw new Error('usage: imagenet-folder.js OUT_DIR [--per-class 1] [--size 400x300]');
  const perClass = Number(arg('--per-class', '1'));
  const [width, height] = arg('--size', '400x300').split('x').map(Number) as [number, number];
  const classes = fs
    .readFileSync(path.join(MODELS, 'imagenet-classes.csv'), 'utf8')
    .split('\n')
    .slice(1)
    .filter((l) => l.trim())
    .map((l) => {
      const [index, wnid] = l.split(',');
      return `${String(index).padStart(3, '0')}_${wnid}`;
    });
  const source = (await listImageFolder(path.join(CIFAR, 'test'))).samples;
  let next = 0;
  const jobs: (() => Promise<void>)[] = [];
  for (const cls of classes) {
    const dir = path.join(out, cls);
    fs.mkdirSync(dir, { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const from = source[next++ % source.length]!.path;
      const file = path.join(dir, `${String(i).padStart(4, '0')}.jpg`);
      jobs.push(() => sharp(from).resize(width, height, { fit: 'fill' }).jpeg({ quality: 90 }).toFile(file).then(() => undefined));
    }
  }
  let at = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (at < jobs.length) await jobs[at++]!();
  }));
  console.log(`${out}: ${classes.length} classes, ${jobs.length} images of ${width}x${height}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
