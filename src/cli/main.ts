/**
 * The `layerq` command: a thin adapter over the library API. Results on stdout (`--json`: one
 * JSON object), progress and errors on stderr; bad input is one line and a non-zero exit code.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import * as path from 'path';
import { LayerqError, escapeText, userErrno } from '../errors';
import { MAX_THREADS, isaInfo, nativeAddonPath } from '../engine/addon';
import { packageRoot, packageVersion } from '../package';
import { evaluate } from '../api/evaluate';
import { CHECKPOINT_FILE, SearchSettings, quantize } from '../api/quantize';
import { analyze } from '../api/analyze';
import { DEFAULT_MAX_DROP } from '../search';
import { DEFAULT_BUDGETS } from '../search/trials';
import type { SearchTrial } from '../report/report';
import { demo } from '../api/demo';
import { writeReportHtml } from '../api/report';
import { bench } from '../api/bench';
import type { IsaName } from '../engine/addon';
import { CalibrationMethod } from '../quant/plan';
import type { QuantConfig } from '../quant/first-plan';
import type { DataOptions } from '../api/select-data';
import { ActivationScope } from '../quant/layers';
import { progressReporter } from './progress';
import type { PreprocessOptions } from '../api/preprocess';
import type { PreprocessSpec } from '../data/preprocess-spec';
import { formatAnalysis, formatDemo, formatEvaluation, formatQuantize, formatTrial } from './format';
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

/** A flag whose value is one of `allowed` (integers). */
function oneOfInts(name: string, allowed: readonly number[]): (v: string) => number {
  return (v: string): number => {
    const n = Number(v);
    if (!allowed.includes(n)) throw new InvalidArgumentError(`expected ${allowed.join(' or ')} for ${name}`);
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
    .showHelpAfterError(false)
    .version(packageVersion(), '-V, --version');

  const evaluateCmd = program
    .command('evaluate')
    .description('FP32 top-1/top-5/per-class accuracy and throughput of MODEL on labelled images')
    .argument('<model>', 'FP32 ONNX classifier')
    .requiredOption('--data <dir>', 'ImageFolder tree root/<class>/*.jpg, or a list file of path,label lines', nonEmpty('--data'));
  addPreprocessOptions(evaluateCmd)
    .option('--batch <n>', 'batch size (default: 64 at 32x32, 16 at 224x224)', positiveInt('--batch'))
    .option('--threads <n>', 'threads for the kernels (default: all cores)', threadCount)
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
      if (result.skipped.length) process.stderr.write(safeLine(`warning: skipped ${result.skipped.length} unreadable file(s), first: ${result.skipped[0]!.path} (${result.skipped[0]!.reason})`) + '\n');
      process.stdout.write(opts.json ? `${JSON.stringify(result)}\n` : formatEvaluation(result));
    });

  const quantizeCommand = program
    .command('quantize')
    .description('quantize MODEL to an int8/int4 QDQ ONNX model, calibrated on labelled images')
    .argument('<model>', 'FP32 ONNX classifier')
    .requiredOption('--out <dir>', 'output folder: model.qdq.onnx, report.json and report.html', nonEmpty('--out'));
  dataAndConfigOptions(quantizeCommand);
  searchOptions(quantizeCommand)
    .option('--no-search', 'keep the first plan (one calibration rule for every layer): no sensitivity analysis, no search')
    .option('--no-html', 'do not write report.html beside report.json')
    .option('--profile', 'time each layer, FP32 against the quantized plan on the int8 kernels (report.json and report.html)')
    .option('--resume', `continue an interrupted search from OUT/${CHECKPOINT_FILE}`)
    .option('--no-screen', 'measure every whole-model trial on every validation image (default: screened on a quarter of them first)')
    .option('--json', 'print the report as one JSON object on stdout')
    .option('--quiet', 'no progress on stderr')
    .action(async (model: string, opts) => {
      const progress = progressReporter(Boolean(opts.quiet));
      const result = await quantize({
        html: opts.html !== false,
        profile: Boolean(opts.profile),
        model,
        ...dataAndConfig(opts),
        out: opts.out,
        search: opts.search === false ? false : { ...searchSettings(opts), resume: Boolean(opts.resume) },
        onProgress: progress.report,
        ...(opts.quiet ? {} : { onTrial: (t: SearchTrial) => progress.note(formatTrial(t)), onNote: (line: string) => progress.note(line) }),
      });
      progress.stop();
      const skipped = result.report.data.skipped;
      if (skipped.length) process.stderr.write(safeLine(`warning: skipped ${skipped.length} unreadable file(s), first: ${skipped[0]!.path} (${skipped[0]!.reason})`) + '\n');
      process.stdout.write(opts.json ? `${JSON.stringify(result.report)}\n` : formatQuantize(result));
    });

  const analyzeCommand = program
    .command('analyze')
    .description('sensitivity analysis only: each layer alone quantized, its top-1 drop and smooth loss (weight and activation parts)')
    .argument('<model>', 'FP32 ONNX classifier')
    .option('--out <file>', 'also write the analysis as JSON to this file');
  dataAndConfigOptions(analyzeCommand)
    .option('--max-drop <points>', 'the accuracy condition the threshold defaults from', nonNegative('--max-drop'), DEFAULT_MAX_DROP)
    .option('--threshold <points>', 'sensitivity threshold (default: noise-aware)', nonNegative('--threshold'))
    .option('--json', 'print the analysis as one JSON object on stdout')
    .option('--quiet', 'no progress on stderr');
  analyzeCommand.action(async (model: string, opts) => {
    const progress = progressReporter(Boolean(opts.quiet));
    const result = await analyze({
      model,
      ...dataAndConfig(opts),
      ...(opts.out ? { out: opts.out } : {}),
      maxDrop: opts.maxDrop,
      ...(opts.threshold !== undefined ? { threshold: opts.threshold } : {}),
      onProgress: progress.report,
    });
    progress.stop();
    process.stdout.write(opts.json ? `${JSON.stringify(result)}\n` : formatAnalysis(result));
  });

  program
    .command('report')
    .description('draw REPORT (a report.json of any layerq version) as one self-contained HTML page')
    .argument('<report>', 'report.json written by layerq quantize')
    .option('--out <file>', 'the page to write (default: report.html beside REPORT)')
    .option('--json', 'print one JSON object on stdout')
    .action((report: string, opts) => {
      const result = writeReportHtml(report, opts.out);
      process.stdout.write(opts.json ? `${JSON.stringify(result)}\n` : `wrote ${result.htmlPath} (${(result.bytes / 1024).toFixed(0)} KiB, report version ${result.version})\n`);
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

  program
    .command('bench')
    .description("this CPU's peak per kernel path and layerq's int8 and FP32 kernels against it; per-layer profile of a model")
    .option('--model <model>', 'time the Conv/Gemm shapes of this ONNX model (default: a standard list of ResNet and MobileNet shapes)')
    .option('--profile <model>', 'per-layer time of this ONNX model, FP32 against int8 (W8A8 per-channel, or see --profile-w-bits)')
    .option('--filter <text>', "only the layers whose name contains TEXT (e.g. 'dw 3x3', 'pw 1x1', '@8')")
    .option('--batch <n>', 'batch of the kernel shapes', positiveInt('--batch'), 64)
    .option('--profile-batches <list>', 'batches of the profile, comma separated', '1,64')
    .option('--profile-w-bits <n>', "weight bits of the profile's int8 engine: 8 (W8A8) or 4 (W4A8)", oneOfInts('--profile-w-bits', [4, 8]))
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
        ...(opts.profileWBits ? { profileWeightBits: opts.profileWBits } : {}),
        ...(opts.threads ? { threads: opts.threads } : {}),
        ...(opts.isa ? { isas: list(opts.isa) as IsaName[] } : {}),
        quick: Boolean(opts.quick),
        cpuTime: Boolean(opts.cpuTime),
        onProgress: progress.report,
      });
      progress.stop();
      process.stdout.write(opts.json ? `${JSON.stringify(result)}\n` : formatBench(result));
    });

  program
    .command('build-native')
    .description("build the native addon from the package's sources (cmake and a C++17 compiler), for platforms without a prebuilt one")
    .option('--jobs <n>', 'parallel compile jobs (default: all cores)', positiveInt('--jobs'))
    .action((opts) => {
      const file = buildNativeAddon(opts.jobs);
      const info = isaInfo();
      process.stdout.write(`native addon built: ${file} (kernels: ${info.detected}); layerq uses it from now on\n`);
    });

  return program;
}

/** Image pools, preprocessing, configuration, set sizes and engine options (quantize, analyze). */
function dataAndConfigOptions(cmd: Command): Command {
  cmd
    .option('--data <dir>', 'one image pool for calibration and validation (disjoint sets are drawn from it)', nonEmpty('--data'))
    .option('--calib-data <dir>', 'calibration pool (with --val-data)', nonEmpty('--calib-data'))
    .option('--val-data <dir>', 'validation pool (with --calib-data)', nonEmpty('--val-data'));
  return addPreprocessOptions(cmd)
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
    .option('--threads <n>', 'threads for the kernels (default: all cores)', threadCount);
}

/** The library options dataAndConfigOptions' flags give. */
function dataAndConfig(opts: Record<string, unknown>): DataOptions & PreprocessOptions & { config: QuantConfig; batchSize?: number; threads?: number } {
  return {
    ...(opts['data'] !== undefined ? { data: opts['data'] as string } : {}),
    ...(opts['calibData'] !== undefined ? { calibData: opts['calibData'] as string } : {}),
    ...(opts['valData'] !== undefined ? { valData: opts['valData'] as string } : {}),
    ...preprocessFlags(opts),
    config: quantConfig(opts),
    ...(opts['calibPerClass'] ? { calibrationPerClass: opts['calibPerClass'] as number } : {}),
    ...(opts['valPerClass'] ? { validationPerClass: opts['valPerClass'] as number | 'all' } : {}),
    seed: opts['seed'] as number,
    labelFree: Boolean(opts['labelFree']),
    onWarning: warn,
    ...(opts['batch'] ? { batchSize: opts['batch'] as number } : {}),
    ...(opts['threads'] ? { threads: opts['threads'] as number } : {}),
  };
}

/** The quantization configuration from quantize's and analyze's flags (checked by checkQuantConfig). */
function quantConfig(opts: Record<string, unknown>): QuantConfig {
  return {
    weightBits: opts['wBits'] as number,
    activationBits: opts['aBits'] as number,
    perChannel: Boolean(opts['perChannel']),
    method: opts['method'] as CalibrationMethod,
    weightMethod: opts['weightMethod'] as QuantConfig['weightMethod'],
    symmetricActivations: Boolean(opts['symmetricActivations']),
    scope: opts['scope'] as ActivationScope,
    biasCorrection: opts['biasCorrection'] !== false,
  };
}

/** Options of the accuracy condition, the sensitivity threshold and the search's budgets (quantize, analyze). */
function searchOptions(cmd: Command): Command {
  return cmd
    .option('--strategy <name>', 'repair (repair sensitive layers, raise precision last) | fallback (revert layers to float, as NNCF/INC)', 'repair')
    .option('--max-drop <points>', `validation top-1 (label-free: agreement) the model may lose against FP32, in points, held exactly (default: ${DEFAULT_MAX_DROP}, or 2 standard errors of the paired difference when the validation set cannot resolve ${DEFAULT_MAX_DROP})`, nonNegative('--max-drop'))
    .option('--relative', '--max-drop is a percentage of the FP32 accuracy instead of points')
    .option('--threshold <points>', 'sensitivity threshold: a layer losing more alone is a target (default: noise-aware)', nonNegative('--threshold'))
    .option('--tries-per-layer <n>', 'candidates tried per layer and phase', positiveInt('--tries-per-layer'), DEFAULT_BUDGETS.triesPerLayer)
    .option('--max-trials <n>', 'trials in all', positiveInt('--max-trials'), DEFAULT_BUDGETS.maxTrials)
    .option('--max-seconds <n>', 'wall time of the search; the best plan so far is delivered', positiveInt('--max-seconds'), DEFAULT_BUDGETS.maxSeconds);
}

function searchSettings(opts: Record<string, unknown>): SearchSettings {
  const strategy = opts['strategy'];
  if (strategy !== 'repair' && strategy !== 'fallback') throw new LayerqError('BAD_ARGUMENT', `Expected one of repair, fallback for --strategy but received ${String(strategy)}`);
  return {
    strategy,
    ...(opts['maxDrop'] !== undefined ? { maxDrop: opts['maxDrop'] as number } : {}),
    relative: Boolean(opts['relative']),
    ...(opts['threshold'] !== undefined ? { threshold: opts['threshold'] as number } : {}),
    budgets: { triesPerLayer: opts['triesPerLayer'] as number, maxTrials: opts['maxTrials'] as number, maxSeconds: opts['maxSeconds'] as number },
    ...(opts['screen'] === false ? { screen: false } : {}),
  };
}

function nonNegative(name: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`expected a number >= 0 for ${name}`);
    return n;
  };
}

/** Runs scripts/build-native.js (shipped in the package) into build/Release; returns the addon path. */
function buildNativeAddon(jobs: number | undefined): string {
  const script = path.join(packageRoot(), 'scripts', 'build-native.js');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { buildNative, BuildError } = require(script) as { buildNative: (o: object) => string; BuildError: new () => Error };
  let file: string;
  try {
    file = buildNative(jobs ? { jobs } : {});
  } catch (e) {
    if (e instanceof BuildError) throw new LayerqError('NATIVE_BUILD', e.message);
    throw e;
  }
  const loaded = nativeAddonPath();
  if (path.resolve(loaded) !== path.resolve(file)) throw new LayerqError('NATIVE_BUILD', `built ${file}, but ${loaded} was loaded instead`);
  return file;
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
