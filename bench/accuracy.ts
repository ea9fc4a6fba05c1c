/**
 * The accuracy benchmark (PRODUCT.md "Benchmark protocol"): layerq's first plan (one
 * calibration rule for every layer) per model x configuration x activation rule, on the 8,000
 * `test` images, measured two ways:
 * - layerq's int8 engine (`quantizedEngine(..., 'int')`);
 * - the exported QDQ model in onnxruntime-node with exact QDQ semantics (fused int8 kernels off),
 * with their top-1 agreement. FP32 (layerq's FP32 engine) is the baseline.
 *
 * Calibration as `layerq quantize --calib-data calib-pool --val-data val --calibration-per-class 32
 * --seed 0` selects it (selectData: a seeded class-balanced draw from calib-pool); weights 'minmax'
 * (absmax; --weight-method mse to compare); activations uint8 with a zero point, scope float-residual.
 * The ONNX Runtime quantize_static peer is bench/peers/ort_quantize_static.py, fed the same
 * preprocessed tensors by bench/export-tensors.ts.
 *
 * Run: npm run build:ts && node dist/bench/accuracy.js [--models resnet20,resnet32]
 *   [--configs w8a8-pt,w8a8-pc,w4a8-pc,w4a4-pc] [--methods minmax,percentile,mse,entropy]
 *   [--calib-per-class 32] [--seed 0] [--split test] [--limit N (images a class)] [--no-ort]
 *   [--threads 2] [--json FILE] [--weight-method mse|minmax (below 8 bits)] [--no-bias-correction]
 */
import * as fs from 'fs';
import * as path from 'path';
import { loadClassifier } from '../src/api/model';
import { selectData } from '../src/api/select-data';
import { preprocessPreset } from '../src/data';
import { setThreads } from '../src/engine/addon';
import { Engine, quantizedEngine } from '../src/engine/engine';
import { accuracy, agreement } from '../src/eval/metrics';
import { toQdq } from '../src/onnx/qdq';
import { saveModel } from '../src/onnx/save';
import { QuantConfig, initialPlan } from '../src/quant/first-plan';
import { collectStatistics } from '../src/pipeline/calibrate';
import { findLayers, quantizedTensors } from '../src/quant/layers';
import type { CalibrationMethod } from '../src/quant/plan';
import { CIFAR, loadSplit, modelPath, ortLogits, ortSession } from './common';

interface ConfigSpec {
  name: string;
  label: string;
  weightBits: number;
  activationBits: number;
  perChannel: boolean;
}

const CONFIGS: Record<string, ConfigSpec> = {
  'w8a8-pt': { name: 'w8a8-pt', label: 'W8A8 per-tensor', weightBits: 8, activationBits: 8, perChannel: false },
  'w8a8-pc': { name: 'w8a8-pc', label: 'W8A8 per-channel', weightBits: 8, activationBits: 8, perChannel: true },
  'w4a8-pt': { name: 'w4a8-pt', label: 'W4A8 per-tensor', weightBits: 4, activationBits: 8, perChannel: false },
  'w4a8-pc': { name: 'w4a8-pc', label: 'W4A8 per-channel', weightBits: 4, activationBits: 8, perChannel: true },
  'w4a4-pc': { name: 'w4a4-pc', label: 'W4A4 per-channel', weightBits: 4, activationBits: 4, perChannel: true },
};

interface Args {
  models: string[];
  configs: ConfigSpec[];
  methods: CalibrationMethod[];
  calibPerClass: number;
  seed: number;
  split: string;
  limit?: number;
  ort: boolean;
  threads: number;
  json?: string;
  /** Weight range rule below 8 bits (default minmax; minmax at 8 bits always). */
  weightMethod: 'minmax' | 'mse';
  biasCorrection: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    models: ['resnet20', 'resnet32'],
    configs: ['w8a8-pt', 'w8a8-pc', 'w4a8-pc', 'w4a4-pc'].map((c) => CONFIGS[c]!),
    methods: ['minmax', 'percentile', 'mse', 'entropy'],
    calibPerClass: 32,
    seed: 0,
    split: 'test',
    ort: true,
    threads: 2,
    weightMethod: 'minmax',
    biasCorrection: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    const list = (): string[] => value().split(',').filter(Boolean);
    switch (flag) {
      case '--models': a.models = list(); break;
      case '--configs':
        a.configs = list().map((c) => {
          const spec = CONFIGS[c];
          if (!spec) throw new Error(`unknown config '${c}' (one of ${Object.keys(CONFIGS).join(', ')})`);
          return spec;
        });
        break;
      case '--methods': a.methods = list() as CalibrationMethod[]; break;
      case '--calib-per-class': a.calibPerClass = Number(value()); break;
      case '--seed': a.seed = Number(value()); break;
      case '--split': a.split = value(); break;
      case '--limit': a.limit = Number(value()); break;
      case '--no-ort': a.ort = false; break;
      case '--no-bias-correction': a.biasCorrection = false; break;
      case '--threads': a.threads = Number(value()); break;
      case '--json': a.json = value(); break;
      case '--weight-method': a.weightMethod = value() as 'minmax' | 'mse'; break;
      default: throw new Error(`unknown argument '${flag}'`);
    }
  }
  return a;
}

interface Row {
  model: string;
  config: string;
  method: CalibrationMethod;
  fp32: number;
  int: number;
  ort?: number;
  agreement?: number;
  seconds: number;
}

const f2 = (v: number): string => v.toFixed(2);
const drop = (fp32: number, v: number): string => {
  const d = v - fp32;
  return `${d >= 0 ? '+' : ''}${d.toFixed(2)}`;
};
const log = (s: string): void => {
  process.stderr.write(`${s}\n`);
};

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  setThreads(args.threads);
  const t0 = performance.now();
  const test = await loadSplit(args.split, args.limit);
  const classes = Array.from({ length: 10 }, (_, i) => String(i));
  log(`decoded ${args.split}: ${test.count} images in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const rows: Row[] = [];
  const fp32ByModel = new Map<string, number>();
  const preprocess = preprocessPreset('cifar');

  for (const name of args.models) {
    const tm = performance.now();
    const model = loadClassifier(modelPath(name));
    const layers = findLayers(model.model.graph);
    const fp32 = Engine.fp32(model.model);
    const data = await selectData(model, preprocess, {
      calibData: path.join(CIFAR, 'calib-pool'),
      valData: path.join(CIFAR, 'val'),
      calibrationPerClass: args.calibPerClass,
      validationPerClass: 1,
      seed: args.seed,
      labelFree: false,
    });
    const fp32Top1 = accuracy(await fp32.runAll(test), test.labels, classes).top1;
    fp32ByModel.set(name, fp32Top1);
    // Statistics do not depend on bits or rule: one FP32 pass over the calibration set.
    const scope = 'float-residual' as const;
    const stats = await collectStatistics(fp32, data.calibration, quantizedTensors(model.model.graph, layers, scope));
    log(`${name}: FP32 ${f2(fp32Top1)}, ${data.calibration.count} calibration images, ${((performance.now() - tm) / 1000).toFixed(1)} s`);

    for (const spec of args.configs) {
      for (const method of args.methods) {
        const tc = performance.now();
        const config: QuantConfig = {
          weightBits: spec.weightBits,
          activationBits: spec.activationBits,
          perChannel: spec.perChannel,
          method,
          weightMethod: spec.weightBits < 8 ? args.weightMethod : 'minmax',
          symmetricActivations: false,
          scope,
          biasCorrection: args.biasCorrection,
        };
        const plan = initialPlan(model.model, layers, stats, config);
        const intLogits = await quantizedEngine(model.model, layers, plan, 'int').runAll(test);
        const row: Row = { model: name, config: spec.label, method, fp32: fp32Top1, int: accuracy(intLogits, test.labels, classes).top1, seconds: 0 };
        if (args.ort) {
          const bytes = saveModel(toQdq(model.model, layers, plan));
          const ortOut = await ortLogits(await ortSession(bytes, { exactQdq: true, threads: args.threads }), test);
          row.ort = accuracy(ortOut, test.labels, classes).top1;
          row.agreement = agreement(intLogits, ortOut, 10);
        }
        row.seconds = (performance.now() - tc) / 1000;
        rows.push(row);
        log(
          `${name} ${spec.name} ${method}: int ${f2(row.int)}` +
            (row.ort !== undefined ? `, ORT exact ${f2(row.ort)}, agreement ${f2(row.agreement!)}%` : '') +
            ` (${row.seconds.toFixed(1)} s)`,
        );
      }
    }
  }

  // Tables.
  console.log(`## layerq, first plan (one rule for every layer), ${args.split} split (${test.count} images)`);
  console.log('');
  console.log(`Calibration: ${args.calibPerClass} images a class from calib-pool, seed ${args.seed}; weights minmax at 8 bits, ${args.weightMethod} at 4; activations uint8 asymmetric, float-residual.`);
  console.log('Top-1 % of the int8 engine (drop from FP32 in brackets).');
  console.log('');
  for (const name of args.models) {
    const fp = fp32ByModel.get(name)!;
    console.log(`### ${name} (FP32 ${f2(fp)})`);
    console.log('');
    console.log(`| configuration | ${args.methods.join(' | ')} |`);
    console.log(`| --- |${args.methods.map(() => ' --- |').join('')}`);
    for (const spec of args.configs) {
      const cells = args.methods.map((m) => {
        const r = rows.find((x) => x.model === name && x.config === spec.label && x.method === m)!;
        return `${f2(r.int)} (${drop(fp, r.int)})`;
      });
      console.log(`| ${spec.label} | ${cells.join(' | ')} |`);
    }
    console.log('');
  }
  if (args.ort) {
    console.log('### int8 engine vs exported QDQ model in onnxruntime-node (exact QDQ: `session.disable_quant_qdq`=1)');
    console.log('');
    console.log('| model | configuration | rule | FP32 | layerq int8 | drop | QDQ in ORT (exact) | drop | top-1 agreement | accuracy gap |');
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const r of rows) {
      console.log(
        `| ${r.model} | ${r.config} | ${r.method} | ${f2(r.fp32)} | ${f2(r.int)} | ${drop(r.fp32, r.int)} | ${f2(r.ort!)} | ${drop(r.fp32, r.ort!)} | ${f2(r.agreement!)}% | ${f2(Math.abs(r.int - r.ort!))} |`,
      );
    }
    const worstAgree = Math.min(...rows.map((r) => r.agreement!));
    const worstGap = Math.max(...rows.map((r) => Math.abs(r.int - r.ort!)));
    console.log('');
    console.log(`Lowest agreement ${f2(worstAgree)}%, largest accuracy gap ${f2(worstGap)} points.`);
  }
  console.log('');
  console.log(`Total ${((performance.now() - t0) / 1000).toFixed(0)} s, ${args.threads} threads.`);
  if (args.json) fs.writeFileSync(args.json, `${JSON.stringify({ split: args.split, images: test.count, rows }, null, 2)}\n`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
