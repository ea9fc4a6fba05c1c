/**
 * The `layerq` command: a thin adapter over the library API. Results on stdout (`--json`: one
 * JSON object), progress and errors on stderr; bad input is one line and a non-zero exit code.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { LayerqError } from '../errors';
import { evaluate } from '../api/evaluate';
import { progressReporter } from './progress';
import { formatEvaluation } from './format';

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
