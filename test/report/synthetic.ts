/**
 * Synthetic report.json objects for the page's tests: every section filled (sensitivity, search,
 * profile), from a seed, with a plan that agrees with the per-layer bits; and a version-1 report
 * as layerq wrote it before the search.
 */
import { mulberry32 } from '../../src/data/random';
import type { QuantPlan } from '../../src/quant/plan';
import type { LayerSensitivity, QuantizeReport, SearchTrial } from '../../src/report/report';
import { layerBits, macShare } from '../../src/report/summary';

export const CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'];

export interface SyntheticShape {
  layers: number;
  /** Search trials per target layer (the last of a layer's trials is a whole-model one). */
  triesPerTarget: number;
  seed?: number;
  /** Replaces layer i's id (to test escaping). */
  ids?: Record<number, string>;
}

/** A W4A4 report whose search raised some layers to 8 bits and one to float. */
export function syntheticReport(shape: SyntheticShape): QuantizeReport {
  const rand = mulberry32(shape.seed ?? 1);
  const n = shape.layers;
  const ids = Array.from({ length: n }, (_, i) => shape.ids?.[i] ?? (i === n - 1 ? '/fc/Gemm' : `/stage${Math.floor(i / 6)}/block${i}/conv/Conv`));
  const refs = ids.map((id, i) => ({ id, kind: i === n - 1 ? 'gemm' : 'conv', macs: Math.round(2e5 + rand() * 4e6), input: `t${i}`, output: `t${i + 1}` }));
  const raised = new Set([0, n - 1]);
  const plan: QuantPlan = {
    version: 1,
    scope: 'float-residual',
    activations: Object.fromEntries(refs.map((l, i) => [l.input, { bits: raised.has(i) ? 8 : 4, signed: false, scale: 0.02, zeroPoint: 0, qmin: 0, qmax: raised.has(i) ? 255 : 15, range: [0, 3], method: 'minmax' }])),
    layers: refs.map((l, i) => ({ id: l.id, float: i === 1, weight: { bits: raised.has(i) ? 8 : 4, perChannel: true, axis: 0, scale: [0.01], qmin: -7, qmax: 7, method: 'minmax' } })),
  };
  const layers = refs.map((l, i) => ({ ...l, ...layerBits(plan, l), candidate: raised.has(i) ? 'weight-bits-8' : i === 1 ? 'float' : i % 3 ? 'act-percentile-99.99' : 'first' }));
  const threshold = 1.5;
  const sens: LayerSensitivity[] = refs.map((l) => {
    const drop = rand() * rand() * 10 - 0.3;
    const alone = { top1: 82 - drop, agreement: 100 - drop * 1.5, loss: 0.01 + rand() * 0.2 };
    return { id: l.id, alone, drop, weightLoss: rand() * 0.1, activationLoss: rand() * 0.2, dropStandardError: 0.4 + rand() * 0.3, target: drop > threshold, seconds: 0.4 };
  }).sort((a, b) => b.drop - a.drop);
  const families = ['activation-clipping', 'weight-clipping', 'weight-rounding', 'bias-correction', 'weight-bits'];
  const trials: SearchTrial[] = [];
  let top1 = 61.3;
  for (const s of sens.filter((x) => x.target)) {
    for (let k = 0; k < shape.triesPerTarget; k++) {
      const model = k === shape.triesPerTarget - 1;
      const accepted = model || rand() < 0.2;
      if (model) top1 += rand() * 3;
      const family = families[Math.floor(rand() * families.length)]!;
      const result = model ? { top1, agreement: top1 + 10, loss: 0.3 } : { top1: 82 - rand() * s.drop, agreement: 95, loss: 0.05 };
      trials.push({ index: trials.length, phase: model ? 'model' : 'layer', layer: s.id, candidate: `${family}-${k}`, family, result, accepted, seconds: 0.2 + rand() });
    }
  }
  const acceptedByFamily: Record<string, number> = {};
  for (const t of trials.filter((x) => x.accepted)) acceptedByFamily[t.family] = (acceptedByFamily[t.family] ?? 0) + 1;
  const before = { top1: 61.3, agreement: 66.2, loss: 0.9 };
  const after = trials.length ? trials[trials.length - 1]!.result : before;
  return {
    ...base(plan),
    version: 2,
    config: { weightBits: 4, activationBits: 4, perChannel: true, method: 'percentile', weightMethod: 'minmax', symmetricActivations: false, scope: 'float-residual', biasCorrection: true },
    accuracy: { split: 'validation', fp32: { top1: 82.35, top5: 98.9 }, quantized: { top1: after.top1, top5: 96.1 }, agreement: after.agreement, int8Engine: { top1: after.top1 - 0.05, top5: 96.0 }, int8EngineAgreement: 99.6 },
    layers,
    macShare: macShare(plan, refs),
    perClass: CLASSES.map((name, i) => ({ name, images: 200, fp32: 70 + i * 2.5, quantized: 70 + i * 2.5 - rand() * 12 })),
    sensitivity: { fp32: { top1: 82.35, agreement: 100, loss: 0 }, firstPlan: before, threshold, accuracyStandardError: 0.85, layers: sens },
    search: {
      strategy: 'repair', condition: { maxDrop: 6, relative: false, metric: 'top1' }, allowedDrop: 6, budgets: { triesPerLayer: shape.triesPerTarget, maxTrials: 400, maxSeconds: 600 },
      before, after, reached: after.top1 >= 82.35 - 6, stoppedBy: after.top1 >= 82.35 - 6 ? 'condition' : 'exhausted', trials, acceptedByFamily,
      raised: layers.filter((l) => l.weightBits !== 4 || l.activationBits !== 4).map((l) => ({ id: l.id, weightBits: l.weightBits, activationBits: l.activationBits })),
      speedup: { trialSeconds: 40.2, wholeModelSeconds: 121.7, ratio: 3.03, sampledRuns: 12, snapshotSeconds: 3.1, suffixRuns: 120, wholeRuns: 8 }, engine: { mode: 'int', agreementWithFile: 99.7 }, seconds: 48.5,
    },
    run: { command: 'layerq quantize resnet20.onnx --w-bits 4 --a-bits 4 --out out', layerqVersion: '0.1.0', node: 'v20.20.2', isa: 'avx512', cpu: 'Test CPU', threads: 2 },
    files: { modelBytes: 1_093_000, outputBytes: 310_000 },
    profile: { layers: refs.map((l) => ({ id: l.id, fp32Ms: l.macs / 2e6, int8Ms: l.macs / 5e6 })) },
  };
}

/** What every version shares. */
function base(plan: QuantPlan): Omit<QuantizeReport, 'version' | 'accuracy' | 'layers' | 'macShare' | 'perClass' | 'run' | 'config'> {
  return {
    tool: 'layerq',
    model: '../shared/models/resnet20.onnx',
    output: 'out/model.qdq.onnx',
    preprocess: { name: 'cifar', crop: [32, 32], mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], scale: 1 / 255 },
    data: { calibrationPool: 'calib-pool', validationPool: 'val', calibrationPerClass: 8, validationPerClass: 20, calibrationImages: 80, validationImages: 200, seed: 0, labelFree: false, skipped: [] },
    plan,
    timings: { load: 0.1, selectData: 1.2, calibrate: 1.5, search: 48.5, export: 0.1, evaluate: 3.2 },
  };
}

/** A version-1 report (before per-layer bits, MAC shares, per-class and run info): a W8A8 plan with layer 1 in float. */
export function reportV1(layers = 6): Record<string, unknown> {
  const full = syntheticReport({ layers, triesPerTarget: 1 });
  const plan: QuantPlan = { ...full.plan, activations: {}, layers: full.plan.layers.map((l) => ({ ...l, ...(l.weight ? { weight: { ...l.weight, bits: 8 } } : {}) })) };
  for (const l of full.layers) plan.activations[l.input] = { ...full.plan.activations[l.input]!, bits: 8, qmax: 255 };
  return {
    ...base(plan),
    version: 1,
    config: { ...full.config, weightBits: 8, activationBits: 8 },
    accuracy: full.accuracy,
    layers: full.layers.map(({ id, kind, macs, input, output }) => ({ id, kind, macs, input, output })),
  };
}
