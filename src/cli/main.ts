/**
 * The `layerq` command: a thin adapter over the library API. Results on stdout (`--json`: one
 * JSON object), progress and errors on stderr; bad input is one line and a non-zero exit code.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { LayerqError, escapeText, userErrno } from '../errors';
import { MAX_THREADS } from '../engine/addon';
import { evaluate } from '../api/evaluate';
import { quantize } from '../api/quantize';
import { demo } from '../api/demo';
import { CalibrationMethod } from '../quant/plan';
import { ActivationScope } from '../quant/layers';
import { progressReporter } from './progress';
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

function threadCount(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > MAX_THREADS) {
    throw new InvalidArgumentError(`expected an integer between 1 and ${MAX_THREADS} for --threads`);
  }
  return n;
}

/** An option value that must not be empty ("" would mean the working directory). */
function nonEmpty(name: string): (v: string) => string {
  return (v) => {
    if (v.trim() === '') throw new InvalidArgumentError(`expected a non-empty path for ${name}`);
    return v;
  };
}

/** A message from layerq or from a file it read, as one safe line for a terminal. */
function safeLine(message: string): string {
  return escapeText(message.replace(/\r?\n/g, ' '), 2000);
}

/** Prints each distinct warning once as "layerq: warning: ..." (not Node's "(node:PID)" form). */
function installWarningPrinter(): void {
  const seen = new Set<string>();
  process.removeAllListeners('warning');
  process.on('warning', (w) => {
    if (seen.has(`${w.name}: ${w.message}`)) return;
    seen.add(`${w.name}: ${w.message}`);
    process.stderr.write(w.name === 'LayerqWarning' ? `layerq: warning: ${safeLine(w.message)}\n` : `(node) ${w.name}: ${safeLine(w.message)}\n`);
  });
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
    .requiredOption('--data <dir>', 'ImageFolder tree root/<class>/*.jpg, or a list file of path,label lines', nonEmpty('--data'))
    .option('--preset <name>', 'preprocessing preset: cifar | imagenet', 'cifar')
    .option('--batch <n>', 'batch size', positiveInt('--batch'), 64)
    .option('--threads <n>', 'threads for the kernels (default: all cores)', threadCount)
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
      if (result.skipped.length) process.stderr.write(safeLine(`warning: skipped ${result.skipped.length} unreadable file(s), first: ${result.skipped[0]!.path} (${result.skipped[0]!.reason})`) + '\n');
      process.stdout.write(opts.json ? `${JSON.stringify(result)}\n` : formatEvaluation(result));
    });

  program
    .command('quantize')
    .description('quantize MODEL to an int8/int4 QDQ ONNX model, calibrated on labelled images')
    .argument('<model>', 'FP32 ONNX classifier')
    .option('--data <dir>', 'one image pool for calibration and validation (disjoint sets are drawn from it)', nonEmpty('--data'))
    .option('--calib-data <dir>', 'calibration pool (with --val-data)', nonEmpty('--calib-data'))
    .option('--val-data <dir>', 'validation pool (with --calib-data)', nonEmpty('--val-data'))
    .requiredOption('--out <dir>', 'output folder: model.qdq.onnx and report.json', nonEmpty('--out'))
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
    .option('--threads <n>', 'threads for the kernels (default: all cores)', threadCount)
    .option('--json', 'print the report as one JSON object on stdout')
    .option('--quiet', 'no progress on stderr')
    .action(async (model: string, opts) => {
      const progress = progressReporter(Boolean(opts.quiet));
      const result = await quantize({
        model,
        ...(opts.data !== undefined ? { data: opts.data } : {}),
        ...(opts.calibData !== undefined ? { calibData: opts.calibData } : {}),
        ...(opts.valData !== undefined ? { valData: opts.valData } : {}),
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
      if (skipped.length) process.stderr.write(safeLine(`warning: skipped ${skipped.length} unreadable file(s), first: ${skipped[0]!.path} (${skipped[0]!.reason})`) + '\n');
      process.stdout.write(opts.json ? `${JSON.stringify(result.report)}\n` : formatQuantize(result));
    });

  program
    .command('demo')
    .description('quantize a default model (ResNet-20 on ../shared CIFAR-10, else a built-in task) and compare FP32 and int8/int4 test accuracy')
    .option('--out <dir>', 'output folder', nonEmpty('--out'), 'layerq-demo')
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
  installWarningPrinter();
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version exit 0; usage errors were already printed by commander.
      return e.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    if (e instanceof LayerqError) {
      process.stderr.write(`layerq: error: ${safeLine(e.message)}\n`);
      return EXIT_ERROR;
    }
    // A file-system error a user causes (EACCES, ENOSPC...) reached here without a friendlier
    // message: still the user's, not layerq's.
    if (userErrno(e) !== undefined) {
      process.stderr.write(`layerq: error: ${safeLine((e as Error).message)}\n`);
      return EXIT_ERROR;
    }
    const err = e as Error;
    process.stderr.write(`layerq: internal error: ${safeLine(String(err?.message ?? err))}${process.env['LAYERQ_DEBUG'] ? `\n${err?.stack}` : ''}\n`);
    return EXIT_ERROR;
  }
}
