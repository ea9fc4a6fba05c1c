/**
 * `layerq bench --profile MODEL`: whole-model time per step (layer) of the FP32 engine and of the
 * int8 engine (W8A8 per-channel, float-residual, calibrated on synthetic inputs: only time is
 * measured), at several batch sizes. Each step is timed as the engine runs it, N-API hop and
 * promise included, so per-step overhead shows at batch 1.
 */
import { Graph, Model } from '../ir/graph';
import { Engine, quantizedEngine, type BatchSource } from '../engine/engine';
import { Program, Step, Value } from '../engine/runtime';
import { calibratePlan } from '../pipeline/calibrate';
import type { Layer } from '../quant/layers';
import type { QuantPlan } from '../quant/plan';
import { ImageInput } from '../ir/image-input';

export type StepCategory = 'conv' | 'pointwise' | 'depthwise' | 'gemm' | 'quantize' | 'elementwise' | 'other';

export interface ProfileStep {
  name: string;
  /** The op of the int8 program's step (QConv, QuantizeLinear, ...) or of the FP32 one. */
  op: string;
  category: StepCategory;
  /** ms per batch (fastest of the rounds), per entry of ProfileResult.batches; absent where that engine has no such step. */
  fp32Ms?: number[];
  int8Ms?: number[];
}

export interface ProfileResult {
  model: string;
  /** The int8 engine's plan: 'W8A8' or 'W4A8' per-channel, or 'the quantized plan' (given). */
  int8Plan: string;
  batches: number[];
  rounds: number;
  /** Warm-up before the rounds of each engine and batch, ms. */
  warmupMs: number;
  /** Whole-run ms per batch, fastest of the rounds (the steps plus the runtime's own work). */
  fp32TotalMs: number[];
  int8TotalMs: number[];
  /** Sums of the steps' times by category, per batch. */
  categories: { category: StepCategory; fp32Ms: number[]; int8Ms: number[] }[];
  steps: ProfileStep[];
}

function categoryOf(graph: Graph, step: Step): StepCategory {
  if (step.op === 'QuantizeLinear' || step.op === 'DequantizeLinear' || step.op === 'FakeQuantize') return 'quantize';
  const node = graph.nodes.find((n) => n.name === step.name);
  const op = step.op.replace(/^Q/, '');
  if (op === 'Conv' && node) {
    const w = graph.initializers.get(node.inputs[1] ?? '');
    const group = Number(node.attrs['group'] ?? 1);
    if (w && group > 1 && w.dims[1] === 1 && group === w.dims[0]) return 'depthwise';
    if (w && w.dims[2] === 1 && w.dims[3] === 1) return 'pointwise';
    return 'conv';
  }
  if (op === 'Gemm' || op === 'MatMul') return 'gemm';
  if (['Add', 'Sub', 'Mul', 'Div', 'Relu', 'Clip', 'Sigmoid', 'HardSigmoid', 'HardSwish'].includes(step.op.split('+')[0]!)) return 'elementwise';
  return 'other';
}

/** A deterministic stand-in for images: roughly N(0, 1) values (normalized pixels), [n, C, H, W]. */
export function syntheticImages(input: ImageInput, count: number, seed = 1): BatchSource {
  const per = input.channels * input.height * input.width;
  const data = new Float32Array(count * per);
  let s = seed >>> 0;
  const uniform = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  for (let i = 0; i < data.length; i++) data[i] = (uniform() + uniform() + uniform() - 1.5) * 2;
  return {
    count,
    batch: (start: number, size: number) => ({ data: data.subarray(start * per, (start + size) * per), count: size }),
  };
}

/**
 * ms of each step and of the whole run of `steps` on `x`: the fastest of `rounds` runs after
 * warming up for `warmupMs` (at least one run: at batch 1 the first hundreds of runs are up to
 * 2x slower than the later ones) (on a shared machine the fastest run is the one least disturbed
 * by others).
 */
async function timeSteps(steps: readonly Step[], keep: ReadonlySet<string>, inputName: string, x: Float32Array, dims: number[], rounds: number,
  warmupMs: number): Promise<{ steps: number[]; total: number }> {
  const times = steps.map(() => [] as number[]);
  const totals: number[] = [];
  let timing = false;  // warm-up runs are not recorded
  const timed: Step[] = steps.map((step, i) => ({
    ...step,
    async run(ctx) {
      const t0 = performance.now();
      await step.run(ctx);
      if (timing) times[i]!.push(performance.now() - t0);
    },
  }));
  const program = new Program(timed, keep);
  const runOnce = async (): Promise<number> => {
    const values = new Map<string, Value>([[inputName, { kind: 'f32', data: x, dims }]]);
    const t0 = performance.now();
    await program.run(values);
    const ms = performance.now() - t0;
    for (const v of values.values()) if (v.data !== x) program.recycle(v);
    return ms;
  };
  const warm = performance.now();
  do await runOnce(); while (performance.now() - warm < warmupMs);
  timing = true;
  for (let round = 0; round < rounds; round++) totals.push(await runOnce());
  return { steps: times.map(fastest), total: fastest(totals) };
}

function fastest(xs: number[]): number {
  return xs.length === 0 ? NaN : Math.min(...xs);
}

export interface ProfileOptions {
  batches: number[];
  rounds: number;
  /** Warm-up of each engine and batch before the timed rounds, ms (default 1000). */
  warmupMs?: number;
  /** Synthetic calibration images for the int8 plan. */
  calibrationImages?: number;
  /** The int8 engine's plan (default: W{weightBits}A8 per-channel calibrated on synthetic images). */
  plan?: { layers: readonly Layer[]; plan: QuantPlan };
  /** Weight bits of the default plan: 8 (W8A8) or 4 (W4A8: on AVX2 the vpmaddubsw kernels). Default 8. */
  weightBits?: 4 | 8;
  onProgress?: (stage: string, done: number, total: number) => void;
}

/** Per-step FP32 and int8 times of a prepared model (see ProfileResult). */
export async function profileModel(name: string, model: Model, input: ImageInput, options: ProfileOptions): Promise<ProfileResult> {
  const graph = model.graph;
  const warmupMs = options.warmupMs ?? 1000, weightBits = options.weightBits ?? 8;
  const fp32 = Engine.fp32(model);
  const { layers, plan } = options.plan ?? await calibratePlan(model, syntheticImages(input, options.calibrationImages ?? 32, 7), {
    weightBits, activationBits: 8, perChannel: true, method: 'minmax', weightMethod: 'minmax',
    symmetricActivations: false, scope: 'float-residual', biasCorrection: false,
  });
  // Layer by layer on both sides: FP32 without its inference fusions, int8 with its residual
  // Adds apart from the convs before them (each layer a step of its own, named by its id).
  const int8 = quantizedEngine(model, layers, plan, 'int', undefined, { fuseResiduals: false });
  const keep = new Set(graph.outputs.map((o) => o.name));
  const rows = new Map<string, ProfileStep>();
  const row = (step: Step): ProfileStep => {
    let r = rows.get(step.name);
    if (!r) {
      r = { name: step.name, op: step.op, category: categoryOf(graph, step) };
      rows.set(step.name, r);
    }
    return r;
  };
  // int8 order first (it has every FP32 step name plus quantize/dequantize), then FP32-only steps.
  int8.program.steps.forEach((s) => row(s));
  fp32.program.steps.forEach((s) => row(s));
  const fp32Total: number[] = [];
  const int8Total: number[] = [];
  let done = 0;
  for (const batch of options.batches) {
    const x = syntheticImages(input, batch, 3).batch(0, batch).data;
    const dims = [batch, input.channels, input.height, input.width];
    for (const [engine, key, totals] of [[fp32, 'fp32Ms', fp32Total], [int8, 'int8Ms', int8Total]] as const) {
      const t = await timeSteps(engine.program.steps, keep, engine.inputName, x, dims, options.rounds, warmupMs);
      engine.program.steps.forEach((s, i) => {
        const r = row(s);
        (r[key] ??= []).push(t.steps[i]!);
      });
      totals.push(t.total);
      options.onProgress?.('profile', ++done, 2 * options.batches.length);
    }
  }
  const steps = [...rows.values()];
  const order: StepCategory[] = ['conv', 'pointwise', 'depthwise', 'gemm', 'quantize', 'elementwise', 'other'];
  const categories = order
    .map((category) => {
      const of = steps.filter((s) => s.category === category);
      const sum = (key: 'fp32Ms' | 'int8Ms'): number[] => options.batches.map((_, b) => of.reduce((a, s) => a + (s[key]?.[b] ?? 0), 0));
      return { category, fp32Ms: sum('fp32Ms'), int8Ms: sum('int8Ms'), n: of.length };
    })
    .filter((c) => c.n > 0)
    .map(({ category, fp32Ms, int8Ms }) => ({ category, fp32Ms, int8Ms }));
  const int8Plan = options.plan ? 'the quantized plan' : `W${weightBits}A8 per-channel`;
  return { model: name, int8Plan, batches: options.batches, rounds: options.rounds, warmupMs, fp32TotalMs: fp32Total, int8TotalMs: int8Total, categories, steps };
}

/**
 * Per-layer ms a batch of a profile run at one batch size (index `b` of its batches): each
 * layer's own step in the FP32 program and in the int8 one (quantize and dequantize steps
 * around it not included), in network order. For report.json's `profile`.
 */
export function layerTimes(result: ProfileResult, layers: readonly Layer[], b = 0): { id: string; fp32Ms: number; int8Ms: number }[] {
  const byName = new Map(result.steps.map((s) => [s.name, s]));
  return layers.flatMap((l) => {
    const s = byName.get(l.id);
    const fp32Ms = s?.fp32Ms?.[b];
    const int8Ms = s?.int8Ms?.[b];
    return fp32Ms !== undefined && int8Ms !== undefined ? [{ id: l.id, fp32Ms, int8Ms }] : [];
  });
}
