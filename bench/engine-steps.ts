/**
 * Time per step of the FP32 engine as it runs for inference (its fusions on: inverted-residual
 * blocks as one step, convs with the residual Add after them), to set against ONNX Runtime's
 * per-node time (`node dist/bench/ort-profile.js`, whose nodes are named by their outputs:
 * `474_nchwc` for `Conv_474`). `layerq bench --profile` times the layers unfused instead.
 * Per step the fastest of the runs (each run timed whole too: the fastest); batch 16, 2 threads.
 * Run: npm run build && node dist/bench/engine-steps.js [model=mobilenetv2-imagenet] [batch=16] [seconds=8]
 */
import { loadClassifier } from '../src/api/model';
import { syntheticImages } from '../src/bench/profile';
import { setThreads } from '../src/engine/addon';
import { Engine } from '../src/engine/engine';
import { Program, Step } from '../src/engine/runtime';
import { modelPath } from './common';

const THREADS = 2;

async function main(): Promise<void> {
  const name = process.argv[2] ?? 'mobilenetv2-imagenet';
  const batch = Number(process.argv[3] ?? 16);
  const seconds = Number(process.argv[4] ?? 8);
  const file = name.endsWith('.onnx') ? name : modelPath(name);
  setThreads(THREADS);
  const { model, input } = loadClassifier(file);
  const steps = Engine.fp32(model, { inference: true }).program.steps;
  const best = steps.map(() => Infinity);
  // The same steps, each timed.
  const timed: Step[] = steps.map((step, i) => ({
    ...step,
    async run(ctx) {
      const t0 = performance.now();
      await step.run(ctx);
      best[i] = Math.min(best[i]!, performance.now() - t0);
    },
  }));
  const engine = new Engine(new Program(timed, new Set(model.graph.outputs.map((o) => o.name))), model.graph);
  const x = syntheticImages(input, batch).batch(0, batch).data;
  for (let i = 0; i < 3; i++) await engine.run(x, batch);
  let whole = Infinity, runs = 0;
  for (const until = performance.now() + seconds * 1000; performance.now() < until; runs++) {
    const t0 = performance.now();
    await engine.run(x, batch);
    whole = Math.min(whole, performance.now() - t0);
  }
  console.log(`layerq FP32 inference steps: ${name}, batch ${batch}, ${THREADS} threads, ms (fastest of ${runs} runs after 3)`);
  console.log(`whole run ${whole.toFixed(2)} ms; sum of the steps' fastest ${best.reduce((a, b) => a + b, 0).toFixed(2)} ms`);
  console.log('| step | op | ms |\n| --- | --- | --- |');
  steps.forEach((s, i) => console.log(`| ${s.name} | ${s.op} | ${best[i]!.toFixed(3)} |`));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
