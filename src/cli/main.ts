/**
 * The `layerq` command: a thin adapter over the library API. Results on stdout (`--json`: one
 * JSON object), progress and errors on stderr; bad input is one line and a non-zero exit code.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { LayerqError } from '../errors';
import { evaluate } from '../api/evaluate';
import { quantize } from '../api/quantize';
import { demo } from '../api/demo';
import { CalibrationMethod } from '../quant/plan';
import { ActivationScope } from '../quant/layers';
import { progressReporter } from './progress';
import type { PreprocessOptions } from '../api/preprocess';
import type { PreprocessSpec } from '../data/preprocess-spec';
import { formatDemo, formatEvaluation, formatQuantize } from './format';

export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;

function positiveInt(name: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer for ${name}`);
    return n;
  };
}

function perClassOrAll(name: string): (v: string) => number | 'all' {
  return (v) => {
    if (v === 'all' || v === '0') return 'all';
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, 0 or 'all' for ${name}`);
    return n;
  };
}

function numberList(name: string, count: number): (v: string) => number[] {
  return (v) => {
    const parts = v.split(/[,x]/).map((p) => Number(p.trim()));
    const list = parts.length === 1 && count === 2 ? [parts[0]!, parts[0]!] : parts;
    if (list.length !== count || list.some((x) => !Number.isFinite(x))) {
      throw new InvalidArgumentError(`expected ${count} numbers separated by commas for ${name}`);
    }
    return list;
  };
}

/** The preprocessing flags shared by `evaluate` and `quantize`. */
function addPreprocessOptions(cmd: Command): Command {
  return cmd
    .option('--preset <name>', 'preprocessing preset: cifar | imagenet (default: inferred from the model input size)')
    .option('--preprocess <file>', 'JSON file of preprocessing fields (inputSize or crop, resize, normalize, mean, std, scale, channelOrder, layout)')
    .option('--input-size <h,w>', 'model input size, e.g. 299 or 256,192 (default: the model\'s)', numberList('--input-size', 2))
    .option('--resize <n>', 'resize the shorter side to n, then centre-crop the input size (0: stretch to the input size)', Number)
    .option('--normalize <name>', 'imagenet (mean/std) | signed ([-1, 1]) | unit ([0, 1]) | raw ([0, 255])')
    .option('--mean <r,g,b>', 'per-channel mean, after --scale (in the model\'s channel order)', numberList('--mean', 3))
    .option('--std <r,g,b>', 'per-channel standard deviation (in the model\'s channel order)', numberList('--std', 3))
    .option('--scale <x>', 'multiplier of 8-bit pixel values (default 1/255)', Number)
    .option('--bgr', 'the model takes BGR channels')
    .option('--nhwc', 'the model takes NHWC input (default: inferred from its input shape)');
}

/** PreprocessOptions from the parsed flags. */
function preprocessFlags(opts: Record<string, unknown>): PreprocessOptions {
  const spec: PreprocessSpec = {
    ...(opts['inputSize'] !== undefined ? { inputSize: opts['inputSize'] as [number, number] } : {}),
    ...(opts['resize'] !== undefined ? { resize: opts['resize'] as number } : {}),
    ...(opts['normalize'] !== undefined ? { normalize: opts['normalize'] as string } : {}),
    ...(opts['mean'] !== undefined ? { mean: opts['mean'] as [number, number, number] } : {}),
    ...(opts['std'] !== undefined ? { std: opts['std'] as [number, number, number] } : {}),
    ...(opts['scale'] !== undefined ? { scale: opts['scale'] as number } : {}),
    ...(opts['bgr'] ? { channelOrder: 'BGR' as const } : {}),
    ...(opts['nhwc'] ? { layout: 'NHWC' as const } : {}),
  };
  return {
    ...(opts['preset'] !== undefined ? { preset: opts['preset'] as string } : {}),
    ...(opts['preprocess'] !== undefined ? { preprocessFile: opts['preprocess'] as string } : {}),
    ...(Object.keys(spec).length ? { preprocessSpec: spec } : {}),
  };
}

const warn = (message: string): void => {
  process.stderr.write(`warning: ${message}\n`);
};

function buildProgram(): Command {
  const program = new Command('layerq')
    .description('Accuracy-guided per-layer quantization of ONNX image classifiers')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showHelpAfterError(false);

  const evaluateCmd = program
    .command('evaluate')
    .description('FP32 top-1/top-5/per-class accuracy and throughput of MODEL on labelled images')
    .argument('<model>', 'FP32 ONNX classifier')
    .requiredOption('--data <dir>', 'ImageFolder tree root/<class>/*.jpg, or a list file of path,label lines');
  addPreprocessOptions(evaluateCmd)
    .option('--batch <n>', 'batch size (default: 64 at 32x32, 16 at 224x224)', positiveInt('--batch'))
    .option('--threads <n>', 'threads for the kernels (default: all cores)', positiveInt('--threads'))
    .option('--limit <n>', 'only the first N images of each class', positiveInt('--limit'))
    .option('--json', 'print one JSON object on stdout')
    .option('--quiet', 'no progress on stderr')
    .action(async (model: string, opts) => {
      const progress = progressReporter(Boolean(opts.quiet));
      const result = await evaluate({
        model,
        data: opts.data,
        ...preprocessFlags(opts),
        ...(opts.batch ? { batchSize: opts.batch } : {}),
        ...(opts.threads ? { threads: opts.threads } : {}),
        ...(opts.limit ? { limitPerClass: opts.limit } : {}),
        onProgress: progress.report,
      });
      progress.stop();
      if (result.skipped.length) process.stderr.write(`warning: skipped ${result.skipped.length} unreadable file(s), first: ${result.skipped[0]!.path} (${result.skipped[0]!.reason})\n`);
      process.stdout.write(opts.json ? `${JSON.stringify(result)}\n` : formatEvaluation(result));
    });

  const quantizeCmd = program
    .command('quantize')
    .description('quantize MODEL to an int8/int4 QDQ ONNX model, calibrated on labelled images')
    .argument('<model>', 'FP32 ONNX classifier')
    .option('--data <dir>', 'one image pool for calibration and validation (disjoint sets are drawn from it)')
    .option('--calib-data <dir>', 'calibration pool (with --val-data)')
    .option('--val-data <dir>', 'validation pool (with --calib-data)')
    .requiredOption('--out <dir>', 'output folder: model.qdq.onnx and report.json');
  addPreprocessOptions(quantizeCmd)
    .option('--w-bits <bits>', 'weight bits: 8, 7 (x86 AVX2 targets without VNNI) or 4', Number, 8)
    .option('--a-bits <bits>', 'activation bits: 8 or 4', Number, 8)
    .option('--per-channel', 'per-output-channel weight scales')
    .option('--method <name>', 'activation calibration: minmax | percentile | mse | entropy', 'minmax')
    .option('--weight-method <name>', 'weight range: minmax (absmax) | mse (least squared weight error)', 'minmax')
    .option('--symmetric-activations', 'int8 activations with zero point 0 (default: uint8 with a zero point)')
    .option('--no-bias-correction', 'do not add back the output mean shift that weight quantization causes')
    .option('--scope <scope>', 'float-residual (Add/pooling in float) | full-integer (every tensor quantized)', 'float-residual')
    .option('--calib-per-class <n>', 'calibration images a class, at most (default: about 320 in all, 1 to 32 a class)', positiveInt('--calib-per-class'))
    .option('--val-per-class <n>', "validation images a class, at most; 0 or 'all': every image calibration does not take (default: about 500 in all, 1 to 50 a class, from --data; the smallest class's count from --val-data)", perClassOrAll('--val-per-class'))
    .option('--seed <n>', 'seed of the data selection', Number, 0)
    .option('--label-free', "label images by the FP32 model's prediction instead of their folder")
    .option('--batch <n>', 'batch size (default: 64 at 32x32, 16 at 224x224)', positiveInt('--batch'))
    .option('--threads <n>', 'threads for the kernels (default: all cores)', positiveInt('--threads'))
    .option('--json', 'print the report as one JSON object on stdout')
    .option('--quiet', 'no progress on stderr')
    .action(async (model: string, opts) => {
      const progress = progressReporter(Boolean(opts.quiet));
      const result = await quantize({
        model,
        ...(opts.data ? { data: opts.data } : {}),
        ...(opts.calibData ? { calibData: opts.calibData } : {}),
        ...(opts.valData ? { valData: opts.valData } : {}),
        out: opts.out,
        ...preprocessFlags(opts),
        config: {
          weightBits: opts.wBits,
          activationBits: opts.aBits,
          perChannel: Boolean(opts.perChannel),
          method: opts.method as CalibrationMethod,
          weightMethod: opts.weightMethod,
          symmetricActivations: Boolean(opts.symmetricActivations),
          scope: opts.scope as ActivationScope,
          biasCorrection: opts.biasCorrection !== false,
        },
        ...(opts.calibPerClass ? { calibrationPerClass: opts.calibPerClass } : {}),
        ...(opts.valPerClass ? { validationPerClass: opts.valPerClass } : {}),
        seed: opts.seed,
        labelFree: Boolean(opts.labelFree),
        onWarning: warn,
        ...(opts.batch ? { batchSize: opts.batch } : {}),
        ...(opts.threads ? { threads: opts.threads } : {}),
        onProgress: progress.report,
      });
      progress.stop();
      const skipped = result.report.data.skipped;
      if (skipped.length) process.stderr.write(`warning: skipped ${skipped.length} unreadable file(s), first: ${skipped[0]!.path} (${skipped[0]!.reason})\n`);
      process.stdout.write(opts.json ? `${JSON.stringify(result.report)}\n` : formatQuantize(result));
    });

  program
    .command('demo')
    .description('quantize a default model (ResNet-20 on ../shared CIFAR-10, else a built-in task) and compare FP32 and int8/int4 test accuracy')
    .option('--out <dir>', 'output folder', 'layerq-demo')
    .option('--shared <dir>', 'folder with models/ and datasets/ (default: ../shared beside the repository)')
    .option('--synthetic', 'use the built-in task even when the shared data is present')
    .option('--json', 'print one JSON object on stdout')
    .option('--quiet', 'no progress on stderr')
    .action(async (opts) => {
      const progress = progressReporter(Boolean(opts.quiet));
      const result = await demo({
        out: opts.out,
        ...(opts.synthetic ? { shared: '' } : opts.shared ? { shared: opts.shared } : {}),
        onProgress: progress.report,
      });
      progress.stop();
      process.stdout.write(opts.json ? `${JSON.stringify(result)}\n` : formatDemo(result));
    });

  return program;
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version exit 0; usage errors were already printed by commander.
      return e.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    if (e instanceof LayerqError) {
      process.stderr.write(`layerq: error: ${e.message}\n`);
      return EXIT_ERROR;
    }
    const err = e as Error;
    process.stderr.write(`layerq: internal error: ${err.message}${process.env['LAYERQ_DEBUG'] ? `\n${err.stack}` : ''}\n`);
    return EXIT_ERROR;
  }
}
