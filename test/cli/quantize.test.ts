/** `layerq quantize` and `layerq demo` end to end, and the bad settings they must refuse. */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { CIFAR, modelFile } from '../helpers';
import { layerq, makeImageFolder, tempDir } from './cli-helpers';

const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

function expectOneLineError(r: { code: number; stderr: string }, pattern: RegExp): void {
  expect(r.code).not.toBe(0);
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
}

describe('layerq quantize', () => {
  const dir = tempDir();
  const calib = path.join(CIFAR, 'calib-pool');
  const val = path.join(CIFAR, 'val');

  test('writes model.qdq.onnx and a versioned report.json; --json prints the report', () => {
    const out = path.join(dir, 'w8a8');
    const r = layerq(['quantize', modelFile('resnet20'), '--calib-data', calib, '--val-data', val, '--out', out,
      '--calib-per-class', '4', '--val-per-class', '5', '--per-channel', '--json', '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const printed = JSON.parse(r.stdout);
    const report = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8'));
    expect(report).toEqual(printed);
    expect(report.version).toBe(2);
    // The search ran (the default) and found the W8A8 first plan within the condition: no
    // sensitivity analysis, no trials.
    expect(report.search.strategy).toBe('repair');
    expect(report.search.reached).toBe(true);
    expect(report.search.trials).toEqual([]);
    expect(report.sensitivity).toBeUndefined();
    expect(report.accuracy.fp32.top1 - report.accuracy.quantized.top1).toBeLessThanOrEqual(0.5);
    expect(report.macShare.weightBits['8'] + (report.macShare.weightBits['float'] ?? 0)).toBeCloseTo(100, 6);
    expect(report.config).toMatchObject({ weightBits: 8, activationBits: 8, perChannel: true });
    expect(report.data).toMatchObject({ calibrationImages: 40, validationImages: 50, seed: 0 });
    expect(report.plan.layers).toHaveLength(20);
    expect(report.accuracy.quantized.top1).toBeGreaterThan(50);
    expect(Math.abs(report.accuracy.quantized.top1 - report.accuracy.fp32.top1)).toBeLessThan(10);
    expect(fs.statSync(path.join(out, 'model.qdq.onnx')).size).toBeGreaterThan(100000);
    expect(fs.readdirSync(out).sort()).toEqual(['model.qdq.onnx', 'report.html', 'report.json']); // no temporary files, lock or staging left
    // The report names the model it describes.
    expect(report.output).toBe(path.join(out, 'model.qdq.onnx'));
    expect(report.outputSha256).toBe(crypto.createHash('sha256').update(fs.readFileSync(path.join(out, 'model.qdq.onnx'))).digest('hex'));
    expect(report.accuracy.int8EngineAgreement).toBeGreaterThanOrEqual(96);
    // Quantizing the output again is refused: it is not an FP32 model.
    const again = layerq(['quantize', path.join(out, 'model.qdq.onnx'), '--data', val, '--out', path.join(dir, 'again')]);
    expectOneLineError(again, /already quantized/);
  });

  test('--profile: each layer timed, FP32 against the plan on the int8 engine, in report.json and report.html', () => {
    const out = path.join(dir, 'profile');
    const r = layerq(['quantize', modelFile('resnet20'), '--calib-data', calib, '--val-data', val, '--out', out,
      '--calib-per-class', '2', '--val-per-class', '2', '--per-channel', '--no-search', '--profile', '--batch', '8', '--quiet']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8'));
    expect(report.profile.batch).toBe(8);
    expect(report.profile.layers.map((l: { id: string }) => l.id)).toEqual(report.layers.map((l: { id: string }) => l.id));
    for (const l of report.profile.layers) {
      expect(l.fp32Ms).toBeGreaterThan(0);
      expect(l.int8Ms).toBeGreaterThan(0);
    }
    expect(report.timings.profile).toBeGreaterThan(0);
    const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
    expect(html).toContain('id="profile"');
  });

  test('one pool: disjoint sets drawn from it; the same seed gives the same sets', () => {
    const pool = path.join(dir, 'pool');
    makeImageFolder(pool, CLASSES, 6, path.join(val, 'horse'));
    const run = (out: string): unknown => {
      const r = layerq(['quantize', modelFile('resnet20'), '--data', pool, '--out', out, '--calib-per-class', '2', '--val-per-class', '3', '--json', '--quiet']);
      expect(r.code).toBe(0);
      return JSON.parse(r.stdout).data;
    };
    const a = run(path.join(dir, 'a'));
    expect(a).toMatchObject({ calibrationImages: 20, validationImages: 30 });
    expect(run(path.join(dir, 'b'))).toEqual(a);
  });

  test.each([
    [['--w-bits', '3'], /weight bits/],
    [['--a-bits', '16'], /activation bits/],
    [['--method', 'foo'], /minmax, percentile, mse, entropy.*'foo'/],
    [['--scope', 'half'], /float-residual, full-integer/],
    [['--calib-per-class', '0'], /positive integer/],
    [['--val-per-class', '-2'], /positive integer, 0 or 'all'/],
    [['--preset', 'imagenet'], /preprocessing 'imagenet' makes 224x224 images but the model takes 32x32/],
    [['--mean', '1,2'], /3 numbers/],
  ])('bad setting %j is one line and a non-zero exit', (extra, pattern) => {
    const r = layerq(['quantize', modelFile('resnet20'), '--calib-data', calib, '--val-data', val, '--out', path.join(dir, 'bad'), ...extra]);
    expectOneLineError(r, pattern);
  });

  test('one image a class: default set sizes, disjoint balanced sets, said on stderr and in the report', () => {
    const pool = path.join(dir, 'one');
    makeImageFolder(pool, CLASSES, 1, path.join(val, 'ship'));
    const r = layerq(['quantize', modelFile('resnet20'), '--data', pool, '--out', path.join(dir, 'one-out'), '--json', '--quiet']);
    expect(r.code).toBe(0);
    const warnings = r.stderr.trim().split('\n');
    expect(warnings[0]).toMatch(/^warning: 10 of 10 classes have fewer images than asked \(32 calibration \+ 50 validation a class/);
    expect(warnings[1]).toMatch(/^warning: calibration 4 images, 0-1 a class \(6 classes without any\); validation 6 images/);
    const data = JSON.parse(r.stdout).data;
    expect(data).toMatchObject({ calibrationPerClass: 32, validationPerClass: 50, calibrationImages: 4, validationImages: 6 });
    expect(data.fit).toEqual({
      classesWithImages: 10, shortClasses: 10, calibrationPerClassRange: [0, 1], validationPerClassRange: [0, 1],
      classesWithoutCalibration: 6, classesWithoutValidation: 4,
    });
    expect(data.notes).toEqual(warnings.map((w) => w.replace(/^warning: /, '')));
  });

  test('label-free on one image a class: balances over the classes the FP32 model predicts', () => {
    const pool = path.join(dir, 'one-lf');
    makeImageFolder(pool, CLASSES, 1, path.join(val, 'ship'));
    const r = layerq(['quantize', modelFile('resnet20'), '--data', pool, '--out', path.join(dir, 'one-lf-out'), '--label-free', '--json', '--quiet']);
    expect(r.code).toBe(0);
    const data = JSON.parse(r.stdout).data;
    // ten copies of one ship image: the model predicts one class for all of them
    expect(data.predictedClasses).toBe(1);
    expect(r.stderr).toMatch(/warning: label-free: the FP32 model predicts 1 of 10 classes/);
    expect(data.calibrationImages + data.validationImages).toBe(10);
    expect(data.calibrationImages).toBeGreaterThan(0);
    expect(JSON.parse(r.stdout).accuracy.fp32.top1).toBe(100);
  });

  test("--val-per-class 0 (or all): every image calibration does not take", () => {
    const pool = path.join(dir, 'all');
    makeImageFolder(pool, CLASSES, 3, path.join(val, 'cat'));
    const r = layerq(['quantize', modelFile('resnet20'), '--data', pool, '--out', path.join(dir, 'all-out'), '--calib-per-class', '1', '--val-per-class', '0', '--json', '--quiet']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).data).toMatchObject({ validationPerClass: 'all', calibrationImages: 10, validationImages: 20 });
  });

  test('no data given', () => {
    expectOneLineError(layerq(['quantize', modelFile('resnet20'), '--out', path.join(dir, 'x')]), /--data/);
  });
});

describe('layerq demo', () => {
  test('built-in task (as on a fresh clone without ../shared): quantizes and reports test accuracy', () => {
    const out = path.join(tempDir(), 'demo');
    const r = layerq(['demo', '--synthetic', '--out', out, '--json', '--quiet']);
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.source).toBe('synthetic');
    expect(result.runs.map((x: { name: string }) => x.name)).toEqual(['W8A8', 'W4A8-first-plan', 'W4A8']);
    expect(result.runs.map((x: { search: boolean }) => x.search)).toEqual([true, false, true]);
    for (const run of result.runs) {
      expect(run.fp32.top1).toBeGreaterThan(70); // the built-in model really classifies
      expect(run.quantized.top1).toBeGreaterThan(run.fp32.top1 - 10);
      expect(fs.existsSync(path.join(run.outDir, 'model.qdq.onnx'))).toBe(true);
    }
  });
});
