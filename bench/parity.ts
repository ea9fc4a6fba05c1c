/**
 * FP32 parity of layerq's engine with ONNX Runtime on the 2,000 `val` images:
 * max |logit difference| and top-1 agreement, per model.
 * Run: npm run build && node dist/bench/parity.js [split]
 */
import { loadClassifier } from '../src/api/model';
import { Engine } from '../src/engine/engine';
import { agreement, accuracy } from '../src/eval/metrics';
import { loadSplit, maxAbsDiff, modelPath, ortLogits, ortSession } from './common';

async function main(): Promise<void> {
  const split = process.argv[2] ?? 'val';
  const images = await loadSplit(split);
  const classes = Array.from({ length: 10 }, (_, i) => String(i));
  console.log(`FP32 parity on ${split} (${images.count} images)`);
  console.log('| model | max abs logit diff | same top-1 | layerq top-1 | ORT top-1 |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const name of ['resnet20', 'resnet32', 'resnet20-bn', 'mobilenetv2-w05']) {
    const engine = Engine.fp32(loadClassifier(modelPath(name)).model);
    const ours = await engine.runAll(images);
    const theirs = await ortLogits(await ortSession(modelPath(name)), images);
    const a = accuracy(ours, images.labels, classes);
    const b = accuracy(theirs, images.labels, classes);
    console.log(`| ${name} | ${maxAbsDiff(ours, theirs).toExponential(2)} | ${agreement(ours, theirs, 10).toFixed(2)}% | ${a.top1.toFixed(2)} | ${b.top1.toFixed(2)} |`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
