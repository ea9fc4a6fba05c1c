/**
 * The `layerq` command: a thin adapter over the library API. Results on stdout (`--json`: one
 * JSON object), progress and errors on stderr; bad input is one line and a non-zero exit code.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { LayerqError } from '../errors';
import { evaluate } from '../api/evaluate';
import { quantize } from '../api/quantize';
import { demo } from '../api/demo';
import { bench } from '../api/bench';
import type { IsaName } from '../engine/addon';
import { CalibrationMethod } from '../quant/plan';
import { ActivationScope } from '../quant/layers';
import { progressReporter } from './progress';
import { formatDemo, formatEvaluation, formatQuantize } from './format';
import { formatBench } from '../bench/format';

export const EXIT_ERROR = 1;
export const EXIT_USAGE = 2;

function positiveInt(name: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer for ${name}`);
    return n;
  };
}

function buildProgram(): Command {
  const program = new Command('layerq')
    .description('Accuracy-guided per-layer quantization of ONNX image classifiers')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .showHelpAfterError(false);

  program
    .command('evaluate')
    .description('FP32 top-1/top-5/per-class accuracy and throughput of MODEL on labelled images')
    .argument('<model>', 'FP32 ONNX classifier')
    .requiredOption('--data <dir>', 'ImageFolder tree root/<class>/*.jpg, or a list file of path,label lines')
    .option('--preset <name>', 'preprocessing preset: cifar | imagenet', 'cifar')
    .option('--batch <n>', 'batch size', positiveInt('--batch'), 64)
    .option('--threads <n>', 'threads for the kernels (default: all cores)', positiveInt('--threads'))
    .option('--limit <n>', 'only the first N images of each class', positiveInt('--limit'))
    .option('--json', 'print one JSON object on stdout')
    .option('--quiet', 'no progress on stderr')
    .action(async (model: string, opts) => {
      const progress = progressReporter(Boolean(opts.quiet));
      const result = await evaluate({
        model,
        data: opts.data,
        preset: opts.preset,
        batchSize: opts.batch,
        ...(opts.threads ? { threads: opts.threads } : {}),
        ...(opts.limit ? { limitPerClass: opts.limit } : {}),
        onProgress: progress.report,
      });
      progress.stop();
      if (result.skipped.length) process.stderr.write(`warning: skipped ${result.skipped.length} unreadable file(s), first: ${result.skipped[0]!.path} (${result.skipped[0]!.reason})\n`);
      process.stdout.write(opts.json ? `${JSON.stringify(result)}\n` : formatEvaluation(result));
    });

  program
    .command('quantize')
    .description('quantize MODEL to an int8/int4 QDQ ONNX model, calibrated on labelled images')
    .argument('<model>', 'FP32 ONNX classifier')
    .option('--data <dir>', 'one image pool for calibration and validation (disjoint sets are drawn from it)')
    .option('--calib-data <dir>', 'calibration pool (with --val-data)')
    .option('--val-data <dir>', 'validation pool (with --calib-data)')
    .requiredOption('--out <dir>', 'output folder: model.qdq.onnx and report.json')
    .option('--preset <name>', 'preprocessing preset: cifar | imagenet', 'cifar')
    .option('--w-bits <bits>', 'weight bits: 8, 7 (x86 AVX2 targets without VNNI) or 4', Number, 8)
    .option('--a-bits <bits>', 'activation bits: 8 or 4', Number, 8)
    .option('--per-channel', 'per-output-channel weight scales')
    .option('--method <name>', 'activation calibration: minmax | percentile | mse | entropy', 'minmax')
    .option('--weight-method <name>', 'weight range: minmax (absmax) | mse (least squared weight error)', 'minmax')
    .option('--symmetric-activations', 'int8 activations with zero point 0 (default: uint8 with a zero point)')
    .option('--no-bias-correction', 'do not add back the output mean shift that weight quantization causes')
    .option('--scope <scope>', 'float-residual (Add/pooling in float) | full-integer (every tensor quantized)', 'float-residual')
    .option('--calib-per-class <n>', 'calibration images a class', positiveInt('--calib-per-class'), 32)
    .option('--val-per-class <n>', 'validation images a class (default: 50 from --data, all from --val-data)', positiveInt('--val-per-class'))
    .option('--seed <n>', 'seed of the data selection', Number, 0)
    .option('--label-free', "label images by the FP32 model's prediction instead of their folder")
    .option('--batch <n>', 'batch size', positiveInt('--batch'), 64)
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
        preset: opts.preset,
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
        calibrationPerClass: opts.calibPerClass,
        ...(opts.valPerClass ? { validationPerClass: opts.valPerClass } : {}),
        seed: opts.seed,
        labelFree: Boolean(opts.labelFree),
        batchSize: opts.batch,
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

  program
    .command('bench')
    .description("this CPU's peak per kernel path and layerq's int8 and FP32 kernels against it; per-layer profile of a model")
    .option('--model <model>', 'time the Conv/Gemm shapes of this ONNX model (default: a standard list of ResNet and MobileNet shapes)')
    .option('--profile <model>', 'per-layer time of this ONNX model, FP32 against int8 (W8A8 per-channel)')
    .option('--filter <text>', "only the layers whose name contains TEXT (e.g. 'dw 3x3', 'pw 1x1', '@8')")
    .option('--batch <n>', 'batch of the kernel shapes', positiveInt('--batch'), 64)
    .option('--profile-batches <list>', 'batches of the profile, comma separated', '1,64')
    .option('--threads <n>', 'N of the 1- and N-thread columns (default: all cores)', positiveInt('--threads'))
    .option('--isa <list>', 'kernel paths, comma separated: scalar, avx2, avx512, neon (default: every SIMD path of this CPU)')
    .option('--quick', 'shorter timing (noisier)')
    .option('--cpu-time', "rates per CPU time instead of wall time (a shared machine: other processes' turns not counted)")
    .option('--json', 'print one JSON object on stdout')
    .option('--quiet', 'no progress on stderr')
    .action(async (opts) => {
      const progress = progressReporter(Boolean(opts.quiet));
      const list = (s: string): string[] => s.split(',').map((x) => x.trim()).filter(Boolean);
      const result = await bench({
        ...(opts.model ? { model: opts.model } : {}),
        ...(opts.profile ? { profile: opts.profile } : {}),
        ...(opts.filter ? { filter: opts.filter } : {}),
        batch: opts.batch,
        profileBatches: list(opts.profileBatches).map(Number),
        ...(opts.threads ? { threads: opts.threads } : {}),
        ...(opts.isa ? { isas: list(opts.isa) as IsaName[] } : {}),
        quick: Boolean(opts.quick),
        cpuTime: Boolean(opts.cpuTime),
        onProgress: progress.report,
      });
      progress.stop();
      process.stdout.write(opts.json ? `${JSON.stringify(result)}\n` : formatBench(result));
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
