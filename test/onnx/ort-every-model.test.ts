/**
 * Every exported configuration loads and runs in ONNX Runtime (issue 8): each shared model at
 * W8A8, W4A8 and W4A4 per-channel, calibrated on seeded random images, written by layerq, then
 * run by ONNX Runtime with its default optimizations and with exact QDQ semantics. The exact
 * run must agree with layerq's own engine on the written file.
 */
import * as fs from 'fs';
import { loadClassifier } from '../../src/api/model';
import { Engine } from '../../src/engine/engine';
import { loadModel } from '../../src/onnx/load';
import { activationBeforeQuantize, toQdq } from '../../src/onnx/qdq';
import { prepareModel } from '../../src/ir/passes';
import { saveModel } from '../../src/onnx/save';
import { QuantConfig } from '../../src/quant/first-plan';
import { calibratePlan } from '../../src/pipeline/calibrate';
import { findLayers } from '../../src/quant/layers';
import { TensorQuant } from '../../src/quant/plan';
import { node } from '../ir/build';
import { MODELS } from '../helpers';
import { maxAbsDiff, runOrt, seededRandom } from './ort-helpers';

const SHARED_MODELS = fs.readdirSync(MODELS).filter((f) => f.endsWith('.onnx')).map((f) => f.replace(/\.onnx$/, '')).sort();
const CONFIGS: [string, Partial<QuantConfig>][] = [
  ['W8A8', { weightBits: 8, activationBits: 8 }],
  ['W4A8', { weightBits: 4, activationBits: 8 }],
  ['W4A4', { weightBits: 4, activationBits: 4 }],
];
const base: QuantConfig = {
  weightBits: 8, activationBits: 8, perChannel: true, method: 'minmax', weightMethod: 'minmax', symmetricActivations: false, scope: 'float-residual',
};

test('the shared models are all here', () => {
  expect(SHARED_MODELS).toEqual(expect.arrayContaining(['mobilenetv2-w05', 'resnet20', 'resnet32']));
});

describe.each(SHARED_MODELS)('%s', (name) => {
  const prepared = loadClassifier(`${MODELS}/${name}.onnx`);
  const { model, input } = prepared;
  const layers = findLayers(model.graph);
  const per = input.channels * input.height * input.width;
  const dims = [2, input.channels, input.height, input.width];
  const images = (n: number, seed: number) => {
    const data = seededRandom(n * per, seed, -2, 2);
    return { count: n, batch: (start: number, size: number) => ({ data: data.subarray(start * per, (start + size) * per), count: size }) };
  };
  const x = seededRandom(2 * per, 99, -2, 2);

  test.each(CONFIGS)('%s per-channel: ONNX Runtime default and exact QDQ load and run it; exact = layerq', async (_c, bits) => {
    const config = { ...base, ...bits };
    const { plan } = await calibratePlan(model, images(4, 7), config);
    const bytes = saveModel(toQdq(model, layers, plan));
    const byDefault = Object.values(runOrt(bytes, { [input.name]: { data: x, dims } }))[0]!;
    const exact = Object.values(runOrt(bytes, { [input.name]: { data: x, dims } }, { exactQdq: true }))[0]!;
    expect(byDefault.dims).toEqual([2, prepared.classes]);
    const ours = await Engine.fp32(prepareModel(loadModel(bytes))).run(x, 2);
    // Same semantics, different float summation order: in a deep 4-bit network an ulp can flip
    // a rounding and the step cascades, so the logits are compared on average, not per entry.
    const mean = (v: ArrayLike<number>): number => Array.from(v).reduce((p, q) => p + Math.abs(q), 0) / v.length;
    const diff = Array.from(ours, (v, i) => v - exact.data[i]!);
    expect(mean(diff)).toBeLessThan(0.1 * mean(ours));
    expect(maxAbsDiff(ours, exact.data)).toBeLessThan(Math.max(...Array.from(ours, Math.abs)));
  });
});

describe('a Relu/Clip before QuantizeLinear is left out only where the quantization makes it redundant', () => {
  const q = (bits: number, signed: boolean, scale: number, zeroPoint: number): TensorQuant => {
    const qmin = signed ? -(2 ** (bits - 1)) : 0;
    return { bits, signed, scale, zeroPoint, qmin, qmax: signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1, range: [0, 6], method: 'minmax' };
  };
  const relu6 = node('Clip', ['a'], ['b'], { min: 0, max: 6 });
  test.each([
    ['Relu6, uint4 [0, 5.5]: both bounds saturate', relu6, q(4, false, 5.5 / 15, 0), 'drop'],
    ['Relu6, uint8 [0, 6]', relu6, q(8, false, 6 / 255, 0), 'drop'],
    ['Relu6, int4 symmetric: 0 is not qmin', relu6, q(4, true, 6 / 7, 0), 'relu'],
    ['Relu6, uint8 [0, 12]: 6 is not qmax', relu6, q(8, false, 12 / 255, 0), 'keep'],
    ['Relu, uint8 with zero point 0', node('Relu', ['a'], ['b']), q(8, false, 0.1, 0), 'drop'],
    ['Relu, uint8 with zero point 10', node('Relu', ['a'], ['b']), q(8, false, 0.1, 10), 'keep'],
    ['Add is never touched', node('Add', ['a', 'c'], ['b']), q(8, false, 0.1, 0), 'keep'],
  ])('%s -> %s', (_name, n, t, want) => {
    expect(activationBeforeQuantize(n, t)).toBe(want);
  });
});
