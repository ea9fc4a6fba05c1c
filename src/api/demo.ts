/**
 * `layerq demo`: quantize a default model end to end and compare FP32 and quantized accuracy on
 * held-out test images. With the shared CIFAR-10 data beside the repository (../shared) it
 * quantizes ResNet-20; on a fresh clone without it, a built-in task the repository makes itself.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ImageSet, listImageFolder, preprocessPreset } from '../data';
import { Engine, quantizedEngine } from '../engine/engine';
import { accuracy, agreement } from '../eval/metrics';
import { buildSyntheticModel, writeSplit } from '../demo/synthetic';
import { findLayers } from '../quant/layers';
import { QuantConfig } from '../quant/first-plan';
import { badArgument } from '../errors';
import { writeFileAtomic } from '../report/atomic';
import type { TopK } from '../report/report';
import type { ProgressFn } from './evaluate';
import { loadClassifier } from './model';
import { quantize } from './quantize';
import { lowBitShare } from '../report/summary';
import { isInstalledPackage, packageRoot } from '../package';

/**
 * The shared data folder: $LAYERQ_SHARED, else ../shared beside a checkout. An installed package
 * (node_modules/layerq) has none: its demo is the built-in task unless --shared names one.
 */
export function defaultSharedDir(): string {
  return process.env['LAYERQ_SHARED'] ?? (isInstalledPackage() ? '' : path.resolve(packageRoot(), '..', 'shared'));
}

export interface DemoRun {
  name: string;
  config: QuantConfig;
  /** Whether the layer search ran (else: the first plan). */
  search: boolean;
  /** Percent of conv/Gemm MACs at the configuration's weight width; search trials. */
  lowBitShare: number;
  trials: number;
  fp32: TopK;
  quantized: TopK;
  agreement: number;
  outDir: string;
}

export interface DemoResult {
  source: 'shared' | 'synthetic';
  model: string;
  testImages: number;
  runs: DemoRun[];
  seconds: number;
}

interface DemoSource {
  source: DemoResult['source'];
  model: string;
  calib: string;
  val: string;
  test: string;
}

const W8A8: QuantConfig = { weightBits: 8, activationBits: 8, perChannel: true, method: 'minmax', weightMethod: 'minmax', symmetricActivations: false, scope: 'float-residual' };
const W4A8: QuantConfig = { ...W8A8, weightBits: 4 };
/** W4A8 twice: the first plan alone, then the layer search, to show what the search buys. */
const CONFIGS: { name: string; config: QuantConfig; search: boolean }[] = [
  { name: 'W8A8', config: W8A8, search: true },
  { name: 'W4A8-first-plan', config: W4A8, search: false },
  { name: 'W4A8', config: W4A8, search: true },
];

async function sharedSource(shared: string): Promise<DemoSource | undefined> {
  if (!shared) return undefined;
  const model = path.join(shared, 'models', 'resnet20.onnx');
  const data = path.join(shared, 'datasets', 'cifar10-jpeg');
  if (!fs.existsSync(model) || !fs.existsSync(path.join(data, 'test'))) return undefined;
  return { source: 'shared', model, calib: path.join(data, 'calib-pool'), val: path.join(data, 'val'), test: path.join(data, 'test') };
}

async function syntheticSource(out: string, onProgress?: ProgressFn): Promise<DemoSource> {
  const root = path.join(out, 'synthetic');
  const splits: [string, number, number][] = [['train', 100, 1], ['calib-pool', 64, 2], ['val', 50, 3], ['test', 200, 4]];
  for (const [i, [split, perClass, seed]] of splits.entries()) {
    onProgress?.('make images', i, splits.length);
    if (!fs.existsSync(path.join(root, split))) await writeSplit(path.join(root, split), perClass, seed);
  }
  onProgress?.('make images', splits.length, splits.length);
  const model = path.join(root, 'stripes.onnx');
  writeFileAtomic(model, await buildSyntheticModel(path.join(root, 'train')));
  return { source: 'synthetic', model, calib: path.join(root, 'calib-pool'), val: path.join(root, 'val'), test: path.join(root, 'test') };
}

export async function demo(options: { out: string; shared?: string; onProgress?: ProgressFn }): Promise<DemoResult> {
  if (typeof options.out !== 'string' || options.out.trim() === '') throw badArgument('out', 'an output folder path', options.out);
  const t0 = performance.now();
  const src = (await sharedSource(options.shared ?? defaultSharedDir())) ?? (await syntheticSource(options.out, options.onProgress));
  const pool = await listImageFolder(src.test);
  const test = await ImageSet.load(pool.samples, preprocessPreset('cifar'), {
    onProgress: (d: number, t: number) => options.onProgress?.('decode test', d, t),
  });
  const prepared = loadClassifier(src.model);
  const layers = findLayers(prepared.model.graph);
  const fp32Logits = await Engine.fp32(prepared.model, { inference: true }).runAll(test, { onProgress: (d, t) => options.onProgress?.('test fp32', d, t) });
  const fp32 = accuracy(fp32Logits, test.labels, pool.classes);
  const runs: DemoRun[] = [];
  for (const { name, config, search } of CONFIGS) {
    const outDir = path.join(options.out, name.toLowerCase());
    const q = await quantize({
      model: src.model, calibData: src.calib, valData: src.val, out: outDir, preset: 'cifar', config,
      calibrationPerClass: 32, seed: 0, labelFree: false, search: search ? { strategy: 'repair' } : false,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    const logits = await quantizedEngine(prepared.model, layers, q.plan, 'int').runAll(test, {
      onProgress: (d, t) => options.onProgress?.(`test ${name}`, d, t),
    });
    const a = accuracy(logits, test.labels, pool.classes);
    runs.push({
      name, config, outDir, search,
      lowBitShare: lowBitShare(q.plan, layers, config.weightBits),
      trials: q.report.search?.trials.length ?? 0,
      fp32: { top1: fp32.top1, top5: fp32.top5 },
      quantized: { top1: a.top1, top5: a.top5 },
      agreement: agreement(logits, fp32Logits, pool.classes.length),
    });
  }
  return { source: src.source, model: src.model, testImages: test.count, runs, seconds: (performance.now() - t0) / 1000 };
}
