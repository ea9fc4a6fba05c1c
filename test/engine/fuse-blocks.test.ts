/**
 * Inference-only fusions of the FP32 engine ({ inference: true }). Inverted-residual blocks
 * fused into one step (fuseBlocks, blockConv2d) and residual Adds folded into the conv before
 * them (fuseResiduals, conv2d's residual): the same logits bit for bit with and without fusion,
 * on the shared models and every architecture fixture (every block fused, whatever its size, and
 * at the default threshold); only chains whose intermediates have no other reader are fused; an
 * engine with fused steps refuses to observe; the wrapper refuses convs that do not chain.
 */
import * as fs from 'fs';
import * as path from 'path';
import { loadClassifier } from '../../src/api/model';
import { Engine, lowerGraphF32 } from '../../src/engine/engine';
import { fuseBlocks, fuseResiduals } from '../../src/engine/lower-f32';
import { PackedBlock, PackedConv, blockConv2d, conv2d } from '../../src/engine/native-f32';
import { Program } from '../../src/engine/runtime';
import { Model } from '../../src/ir/graph';
import { modelFile } from '../helpers';
import { model as irModel, node, vi } from '../ir/build';
import { randomArray, rng } from '../native/helpers';

const FIXTURES = path.resolve(__dirname, '..', 'fixtures', 'arch');

function input(model: Model, n: number, seed: number): Float32Array {
  const per = model.graph.inputs[0]!.shape.slice(1).reduce<number>((p, d) => p * Number(d), 1);
  return randomArray(n * per, rng(seed), 2);
}

/** An FP32 engine of `model` with every fusable block fused (minBytes 0), and the blocks it fused. */
function fusedEverywhere(model: Model): Engine {
  const keep = new Set(model.graph.outputs.map((o) => o.name));
  return new Engine(new Program(fuseBlocks(model.graph, lowerGraphF32(model), keep, 0), keep), model.graph);
}

const blocks = (e: Engine): string[] => e.steps.filter((s) => s.op === 'ConvBlock').map((s) => s.name);

async function expectSameLogits(a: Engine, b: Engine, x: Float32Array, n: number, what: string): Promise<void> {
  const la = await a.run(x, n), lb = await b.run(x, n);
  const differ = la.findIndex((v, i) => !Object.is(v, lb[i]));
  if (differ >= 0) throw new Error(`${what}: logit ${differ} differs (${la[differ]} vs ${lb[differ]})`);
}

describe('fused inverted-residual blocks', () => {
  it('MobileNetV2 at 224x224: the four blocks on 112x112 and 56x56 maps fused by default (the first with the stem), the same logits', async () => {
    const model = loadClassifier(modelFile('mobilenetv2-imagenet')).model;
    const plain = Engine.fp32(model), fused = Engine.fp32(model, { inference: true });
    expect(blocks(plain)).toEqual([]);
    expect(blocks(fused)).toEqual(['Conv_474+Conv_477+Conv_480', 'Conv_483+Conv_486+Conv_489', 'Conv_492+Conv_495+Conv_498', 'Conv_501+Conv_504+Conv_507']);
    // 8 steps fewer for the blocks; 9 of its 10 residual Adds folded into their convs (the
    // tenth follows a fused block).
    expect(fused.steps.filter((s) => s.op === 'ConvAdd')).toHaveLength(9);
    expect(fused.steps.length).toBe(plain.steps.length - 8 - 9);
    await expectSameLogits(plain, fused, input(model, 3, 1), 3, 'mobilenetv2-imagenet');
    await expectSameLogits(plain, fused, input(model, 1, 2), 1, 'mobilenetv2-imagenet batch 1');
  }, 120_000);

  it('MobileNetV2-w05 (32x32): nothing fused by default (its maps stay in the caches); every block fused, the same logits', async () => {
    const model = loadClassifier(modelFile('mobilenetv2-w05')).model;
    const plain = Engine.fp32(model);
    expect(blocks(Engine.fp32(model, { inference: true }))).toEqual([]);
    const all = fusedEverywhere(model);
    expect(blocks(all)).toHaveLength(17); // its 17 inverted-residual blocks, the first (no expansion of its own) with the stem
    expect(blocks(all)[0]!.split('+')).toHaveLength(3);
    for (const n of [1, 2, 7]) await expectSameLogits(plain, all, input(model, n, 10 + n), n, `mobilenetv2-w05 batch ${n}`);
  });

  it('every architecture fixture: fused where blocks chain, the same logits; hidden intermediates have no other reader', async () => {
    const names = fs.readdirSync(FIXTURES).filter((f) => f.endsWith('-op13.onnx')).sort();
    expect(names.length).toBeGreaterThanOrEqual(9);
    const fusedIn: Record<string, number> = {};
    for (const name of names) {
      const model = loadClassifier(path.join(FIXTURES, name)).model;
      const plain = Engine.fp32(model), all = fusedEverywhere(model);
      fusedIn[name] = blocks(all).length;
      // Each fused step replaced adjacent conv steps whose outputs (but the last) only the next one read.
      const readers = new Map<string, number>();
      for (const s of plain.steps) for (const i of s.inputs) readers.set(i, (readers.get(i) ?? 0) + 1);
      for (const block of all.steps.filter((s) => s.op === 'ConvBlock')) {
        const members = block.name.split('+').map((m) => plain.steps.find((s) => s.name === m)!);
        expect(members.every((m) => m.op === 'Conv')).toBe(true);
        for (const m of members.slice(0, -1)) expect(readers.get(m.outputs[0]!)).toBe(1);
      }
      await expectSameLogits(plain, all, input(model, 2, 3), 2, name);
    }
    // ShuffleNetV2's branches chain (depthwise -> 1x1, 1x1 -> depthwise -> 1x1, Relu fused into
    // the convs). MobileNetV3's HardSwish and EfficientNet's x * Sigmoid(x) run as steps of their
    // own between the convs, and their squeeze-excite reads the depthwise output twice: no chain;
    // ResNet-50's bottlenecks have no depthwise conv.
    expect(fusedIn['shufflenetv2-op13.onnx']).toBeGreaterThanOrEqual(3);
    for (const none of ['mobilenetv3', 'efficientnet', 'resnet50', 'resnext', 'densenet']) expect(fusedIn[`${none}-op13.onnx`]).toBe(0);
  }, 300_000);

  it('an engine with fused blocks refuses to observe, naming the step', async () => {
    const model = loadClassifier(modelFile('mobilenetv2-imagenet')).model;
    const fused = Engine.fp32(model, { inference: true });
    const source = { count: 1, batch: () => ({ data: input(model, 1, 5), count: 1 }) };
    await expect(fused.observe(source, () => undefined)).rejects.toThrow(/step 'Conv_474\+Conv_477\+Conv_480' \(ConvBlock\) fuses steps/);
  }, 60_000);
});

describe('residual Adds folded into their convs', () => {
  const folded = (e: Engine): string[] => e.steps.filter((s) => s.op === 'ConvAdd').map((s) => s.name);
  const withResiduals = (model: Model): Engine => {
    const keep = new Set(model.graph.outputs.map((o) => o.name));
    return new Engine(new Program(fuseResiduals(lowerGraphF32(model), keep), keep), model.graph);
  };

  it('ResNet-20: all 9 residual Adds (with their Relu), the downsampling ones too, the same logits', async () => {
    const model = loadClassifier(modelFile('resnet20')).model;
    const plain = Engine.fp32(model), fused = Engine.fp32(model, { inference: true });
    expect(folded(fused)).toHaveLength(9);
    expect(fused.steps.length).toBe(plain.steps.length - 9);
    expect(fused.steps.some((s) => s.op === 'Add')).toBe(false);
    for (const n of [1, 2, 5]) await expectSameLogits(plain, fused, input(model, n, 20 + n), n, `resnet20 batch ${n}`);
    const source = { count: 1, batch: () => ({ data: input(model, 1, 5), count: 1 }) };
    await expect(fused.observe(source, () => undefined)).rejects.toThrow(/\(ConvAdd\) fuses steps/);
  }, 60_000);

  it('MobileNetV2-w05 and every architecture fixture: the same logits', async () => {
    const w05 = loadClassifier(modelFile('mobilenetv2-w05')).model;
    expect(folded(Engine.fp32(w05, { inference: true }))).toHaveLength(10);
    await expectSameLogits(Engine.fp32(w05), Engine.fp32(w05, { inference: true }), input(w05, 3, 30), 3, 'mobilenetv2-w05');
    const names = fs.readdirSync(FIXTURES).filter((f) => f.endsWith('-op13.onnx')).sort();
    const foldedIn: Record<string, number> = {};
    for (const name of names) {
      const model = loadClassifier(path.join(FIXTURES, name)).model;
      const fused = withResiduals(model);
      foldedIn[name] = folded(fused).length;
      await expectSameLogits(Engine.fp32(model), fused, input(model, 2, 4), 2, name);
    }
    expect(foldedIn['resnet50-op13.onnx']).toBeGreaterThanOrEqual(2);
  }, 300_000);

  it('a residual that broadcasts runs the conv and the add one after the other: the same values', async () => {
    // y = Relu(Conv(x) + Conv1x1(GlobalAveragePool(x))): the residual is [N, 4, 1, 1].
    const w = (dims: number[], seed: number) => ({ dtype: 'float32' as const, dims, data: randomArray(dims.reduce((p, d) => p * d, 1), rng(seed)) });
    const m = irModel(
      [
        node('Conv', ['x', 'w1', 'b1'], ['c'], { pads: [1, 1, 1, 1] }),
        node('GlobalAveragePool', ['x'], ['g']),
        node('Conv', ['g', 'w2'], ['r']),
        node('Add', ['r', 'c'], ['s']),
        node('Relu', ['s'], ['y']),
      ],
      [vi('x', ['N', 3, 6, 7])],
      [vi('y', ['N', 4, 6, 7])],
      { w1: w([4, 3, 3, 3], 1), b1: w([4], 2), w2: w([4, 3, 1, 1], 3) },
    );
    const fused = withResiduals(m);
    expect(folded(fused)).toEqual(['Conv_c+Add_s']);
    const x = randomArray(2 * 3 * 6 * 7, rng(9), 2);
    const [a, b] = [await Engine.fp32(m).run(x, 2), await fused.run(x, 2)];
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(a.some((v) => v > 0) && a.some((v) => v === 0)).toBe(true);  // the Relu was applied
  });
});

describe('PackedBlock', () => {
  const conv = (cout: number, cin: number, k: number, params: Partial<Parameters<typeof PackedConv.create>[3]> = {}, seed = 1): PackedConv => {
    const group = params.group ?? 1;
    const w = randomArray((cout * cin * k * k) / group, rng(seed));
    return PackedConv.create(w, [cout, cin / group, k, k], randomArray(cout, rng(seed + 1)), {
      strides: [1, 1], pads: [0, 0, 0, 0], dilations: [1, 1], group, ...params,
    });
  };
  const expand = conv(24, 8, 1, { activation: { min: 0, max: 6 } });
  const dw = conv(24, 24, 3, { group: 24, strides: [2, 2], pads: [1, 1, 1, 1], activation: { min: 0, max: 6 } }, 3);
  const project = conv(5, 24, 1, {}, 5);

  // The expansion a 1x1 conv, or a stem (3x3 stride 2, SAME_UPPER pads) on a larger input: both
  // give a 19x21 map to the depthwise conv.
  const stem = conv(24, 3, 3, { strides: [2, 2], pads: [0, 0, 1, 1], activation: { min: 0, max: 6 } }, 9);
  it.each([
    ['a 1x1 expansion', expand, [2, 8, 19, 21]],
    ['a stem as the expansion', stem, [2, 3, 38, 42]],
  ] as const)('runs the three convs as one, bit for bit: %s', async (_what, first, xd) => {
    const x = randomArray(xd.reduce((p, d) => p * d, 1), rng(7));
    const block = PackedBlock.create(first, dw, project);
    expect(block.outputDims(xd)).toEqual([2, 5, 10, 11]);
    const t1 = new Float32Array(2 * 24 * 19 * 21), t2 = new Float32Array(2 * 24 * 10 * 11);
    const want = new Float32Array(2 * 5 * 10 * 11), got = new Float32Array(want.length).fill(NaN);
    await conv2d(first, x, xd, t1);
    await conv2d(dw, t1, [2, 24, 19, 21], t2);
    await conv2d(project, t2, [2, 24, 10, 11], want);
    await blockConv2d(block, x, xd, got);
    expect(Array.from(got)).toEqual(Array.from(want));
  });

  it('refuses convs that do not chain, naming the conv', () => {
    expect(() => PackedBlock.create(dw, dw, project)).toThrow(/expand must be a group 1 conv/);
    expect(() => PackedBlock.create(expand, project, project)).toThrow(/dw must be a depthwise conv/);
    expect(() => PackedBlock.create(expand, dw, dw)).toThrow(/project must be a 1x1/);
    expect(() => PackedBlock.create(conv(16, 8, 1), dw, project)).toThrow(/expand's output channels must be dw's channels/);
    expect(() => PackedBlock.create(expand, dw, conv(5, 16, 1))).toThrow(/project's input channels must be dw's channels/);
    const dilated = conv(24, 24, 3, { group: 24, pads: [1, 1, 1, 1], dilations: [2, 2] });
    expect(() => PackedBlock.create(expand, dilated, project)).toThrow(/dw must have dilation 1/);
    expect(() => PackedBlock.create(conv(24, 8, 3, { dilations: [2, 2] }), dw, project)).toThrow(/expand must have dilation 1/);
    expect(() => PackedBlock.create(expand, {} as PackedConv, project)).toThrow(/Expected PackedConv for dw/);
  });

  it('checks the input against the block', async () => {
    const block = PackedBlock.create(null, dw, project);
    const x = new Float32Array(1 * 24 * 8 * 8), out = new Float32Array(1 * 5 * 4 * 4);
    await expect(async () => blockConv2d(block, x, [1, 23, 8, 8], out)).rejects.toThrow(/xDims/);
    await expect(async () => blockConv2d(block, x, [1, 24, 8, 8], new Float32Array(3))).rejects.toThrow(/out/);
  });
});
