/**
 * Lowering of a prepared graph under a QuantPlan, in two modes with the semantics of the QDQ
 * model the plan exports to (every consumer of a quantized tensor reads DQ(Q(tensor))):
 * - 'sim': FP32 kernels on dequantized weights and biases, activations fake-quantized in place;
 * - 'int': quantized layers run the int8 kernels (uint8 codes in, int32 accumulation,
 *   requantized uint8 or dequantized float out); ops without an integer kernel run in float on
 *   dequantized values, as ONNX Runtime runs a QDQ model with exact semantics.
 * Signed (symmetric) activations are carried as uint8 codes shifted by 128.
 */
import { Graph, Model, Node } from '../ir/graph';
import { FUSABLE_ELEMENTWISE, activationOf, fusableActivation, sliceChain, soleConsumer } from '../ir/fusion';
import { consumers as consumersOf } from '../ir/graph-utils';
import { attrNum, binaryStep, convParams, convStep, gemmStep, lowerNodeF32, sliceChainStep } from './lower-f32';
import * as q8 from './native-int8';
import { binary, broadcastDims } from './native-f32';
import { Step, Value } from './runtime';
import { Layer } from '../quant/layers';
import { MaterializedLayer, materializeLayer } from '../quant/materialize';
import { quantizeValue } from '../quant/math';
import type { LayerPlan, QuantPlan, TensorQuant } from '../quant/plan';

export type QuantMode = 'sim' | 'int';

/** Name of the uint8 codes of a quantized tensor in the int engine. */
export const codesOf = (tensor: string): string => `${tensor}#q`;

/** The uint8 code space of a tensor's quantization (signed grids shifted by 128). */
export function codeSpec(t: TensorQuant): { scale: number; zero: number; qmin: number; qmax: number } {
  const shift = t.signed ? 128 : 0;
  return { scale: t.scale, zero: t.zeroPoint + shift, qmin: t.qmin + shift, qmax: t.qmax + shift };
}

function quantSpec(t: TensorQuant, codes: boolean): q8.QuantSpec {
  const c = codes ? codeSpec(t) : { scale: t.scale, zero: t.zeroPoint, qmin: t.qmin, qmax: t.qmax };
  return { scale: Float32Array.of(c.scale), zero: Int32Array.of(c.zero), qmin: c.qmin, qmax: c.qmax };
}

/** Float tensor -> codes (for int consumers) and/or its fake-quantized self (for float consumers). */
function quantizeStep(tensor: string, t: TensorQuant, opts: { codes: boolean; fake: boolean; copy: boolean }): Step {
  const codeSpecs = quantSpec(t, true);
  const fakeSpec = quantSpec(t, false);
  return {
    name: `${tensor}/quantize`,
    op: 'QuantizeLinear',
    inputs: [tensor],
    outputs: [...(opts.codes ? [codesOf(tensor)] : []), ...(opts.fake && opts.copy ? [tensor] : [])],
    ...(opts.fake && !opts.copy ? { rewrites: [tensor] } : {}),
    async run(ctx) {
      const x = ctx.getF32(tensor);
      if (opts.codes) {
        const codes = ctx.allocU8(x.dims);
        await q8.quantize(x.data, x.dims, codeSpecs, codes);
        ctx.set(codesOf(tensor), { kind: 'u8', data: codes, dims: [...x.dims] });
      }
      if (opts.fake) {
        const out = opts.copy ? ctx.allocF32(x.dims) : x.data;
        await q8.fakeQuantize(x.data, x.dims, fakeSpec, out);
        if (opts.copy) ctx.set(tensor, { kind: 'f32', data: out, dims: [...x.dims] });
      }
    },
  };
}

function dequantizeStep(tensor: string, t: TensorQuant): Step {
  const spec = quantSpec(t, true);
  return {
    name: `${tensor}/dequantize`,
    op: 'DequantizeLinear',
    inputs: [codesOf(tensor)],
    outputs: [tensor],
    async run(ctx) {
      const c = ctx.get(codesOf(tensor));
      const out = ctx.allocF32(c.dims);
      await q8.dequantize(c.data as Uint8Array, c.dims, spec, out);
      ctx.set(tensor, { kind: 'f32', data: out, dims: [...c.dims] });
    },
  };
}

/**
 * A float-residual Add (+ fused Relu/Clip) whose output `out` the plan quantizes, with that
 * quantize step fused in: one native pass writes the codes (for int consumers) and/or DQ(Q(y))
 * (for float consumers) instead of an Add pass, a quantize pass and a fake-quantize pass.
 * Operands the plan quantizes (`codesIn`: their quantization) are read as codes, dequantized in
 * the pass: the value DQ(Q(x)) their float copy would hold, at a quarter of the bytes, and their
 * producers write no float copy (a residual between two such Adds, ResNet's and MobileNet's).
 * Named like the quantize step it replaces (`${out}/quantize`): a change of `out`'s
 * quantization re-runs from here, the Add included. Broadcasting operands take the unfused path.
 */
function addQuantizeStep(node: Node, activation: { min: number; max: number } | undefined, out: string, t: TensorQuant,
  opts: { codes: boolean; fake: boolean }, codesIn: ReadonlyMap<string, TensorQuant>): Step {
  const [a, b] = node.inputs as [string, string];
  const codeSpecs = quantSpec(t, true);
  const fakeSpec = quantSpec(t, false);
  const operandName = (i: string): string => (codesIn.has(i) ? codesOf(i) : i);
  return {
    name: `${out}/quantize`,
    op: `${node.op}+QuantizeLinear`,
    inputs: [operandName(a), operandName(b)],
    outputs: [...(opts.codes ? [codesOf(out)] : []), ...(opts.fake ? [out] : [])],
    async run(ctx) {
      // Each operand as floats, or as codes with their per-tensor scale and zero point.
      type Operand = { dims: number[]; v: Float32Array | q8.CodesOperand; q?: TensorQuant };
      const operand = (i: string): Operand => {
        const q = codesIn.get(i);
        if (!q) {
          const x = ctx.getF32(i);
          return { dims: x.dims, v: x.data };
        }
        const c = ctx.get(codesOf(i)), spec = codeSpec(q);
        return { dims: c.dims, v: { codes: c.data as Uint8Array, scale: spec.scale, zero: spec.zero }, q };
      };
      const x = operand(a), y = operand(b);
      const same = x.dims.length === y.dims.length && x.dims.every((d, i) => d === y.dims[i]);
      const dims = same ? [...x.dims] : broadcastDims(x.dims, y.dims);
      const n = dims.reduce((p, d) => p * d, 1);
      const codes = opts.codes ? ctx.allocU8(dims) : null;
      const fake = opts.fake || !same ? ctx.allocF32(dims) : null;
      if (same) {
        const view = (v: Float32Array | q8.CodesOperand): Float32Array | q8.CodesOperand =>
          v instanceof Float32Array ? v.subarray(0, n) : { ...v, codes: v.codes.subarray(0, n) };
        await q8.addQuantize(view(x.v), view(y.v), codeSpecs, activation, codes, fake);
      } else if (fake) {
        const floats = async (o: Operand): Promise<Float32Array> => {
          if (o.v instanceof Float32Array) return o.v;
          const f = ctx.allocF32(o.dims);
          await q8.dequantize(o.v.codes, o.dims, quantSpec(o.q!, true), f);
          return f;
        };
        await binary('add', await floats(x), x.dims, await floats(y), y.dims, fake, activation);
        if (codes) await q8.quantize(fake, dims, codeSpecs, codes);
        if (opts.fake) await q8.fakeQuantize(fake, dims, fakeSpec, fake);
      }
      if (codes) ctx.set(codesOf(out), { kind: 'u8', data: codes, dims });
      if (opts.fake && fake) ctx.set(out, { kind: 'f32', data: fake, dims });
    },
  };
}

/** Requantized output bounds: the grid narrowed by a fused Relu/Clip (quantize is monotone). */
function outputSpec(outQuant: TensorQuant | undefined, act: Node | undefined): q8.QConvParams['output'] {
  const a = act ? activationOf(act) : undefined;
  if (!outQuant) return { kind: 'float32', ...(a ? { min: a.min, max: a.max } : {}) };
  const c = codeSpec(outQuant);
  const q = (v: number): number => quantizeValue(v, c.scale, c.zero, c.qmin, c.qmax);
  return {
    kind: 'uint8',
    scale: c.scale,
    zero: c.zero,
    min: a && Number.isFinite(a.min) ? Math.max(c.qmin, q(a.min)) : c.qmin,
    max: a && Number.isFinite(a.max) ? Math.min(c.qmax, q(a.max)) : c.qmax,
  };
}

/** The int8 kernels' quantization of a layer: its input's codes, its weights' scales, its output. */
function layerQuant(m: MaterializedLayer, outQuant: TensorQuant | undefined): q8.QGemmParams {
  const input = codeSpec(m.inputQuant!);
  return { inputScale: input.scale, inputZero: input.zero, weightScale: m.weightScale, output: outputSpec(outQuant, m.layer.activation) };
}

function packConv(graph: Graph, m: MaterializedLayer, outQuant: TensorQuant | undefined): q8.PackedQConv {
  const params = { ...convParams(m.layer.node, m.weightDims, graph.values.get(m.layer.input)?.shape ?? []), ...layerQuant(m, outQuant) };
  return q8.PackedQConv.create(m.weightQ, m.weightDims, m.biasQ, params);
}

/** One quantized Conv/Gemm (+ activation) on the int8 kernels. */
function intLayerStep(graph: Graph, m: MaterializedLayer, outQuant: TensorQuant | undefined): Step {
  const { layer } = m;
  const outName = outQuant ? codesOf(layer.output) : layer.output;
  const alloc = (ctx: Parameters<Step['run']>[0], dims: number[]): Uint8Array | Float32Array =>
    outQuant ? ctx.allocU8(dims) : ctx.allocF32(dims);
  const base = { name: layer.id, op: `Q${layer.node.op}`, inputs: [codesOf(layer.input)], outputs: [outName] };
  if (layer.kind === 'conv') {
    const packed = packConv(graph, m, outQuant);
    return {
      ...base,
      async run(ctx) {
        const x = ctx.get(codesOf(layer.input));
        const dims = packed.outputDims(x.dims);
        const out = alloc(ctx, dims);
        await q8.qconv2d(packed, x.data as Uint8Array, x.dims, out);
        ctx.set(outName, out instanceof Uint8Array ? { kind: 'u8', data: out, dims } : { kind: 'f32', data: out, dims });
      },
    };
  }
  const transB = layer.node.op === 'Gemm' && attrNum(layer.node, 'transB', 0) !== 0;
  const packed = q8.PackedQGemm.create(m.weightQ, m.weightDims, transB, m.biasQ, layerQuant(m, outQuant));
  return {
    ...base,
    async run(ctx) {
      const a = ctx.get(codesOf(layer.input));
      const K = a.dims[a.dims.length - 1]!;
      const M = a.data.length / K;
      const dims = [...a.dims.slice(0, -1), packed.N];
      const out = alloc(ctx, dims);
      await q8.qgemm(packed, a.data as Uint8Array, M, out);
      ctx.set(outName, out instanceof Uint8Array ? { kind: 'u8', data: out, dims } : { kind: 'f32', data: out, dims });
    },
  };
}

/**
 * A quantized Conv whose output only a float-residual Add reads, with that Add's add-quantize
 * step (`join`) folded in: the conv's outputs (requantized codes or dequantized floats), the
 * residual added and the sum quantized while they are in the caches (qconv2d with a residual),
 * bit for bit the two steps in turn. Placed where the Add was, so the residual is always ready.
 * A residual of another shape (broadcast) runs the conv, then `join` on its output.
 */
function convAddStep(graph: Graph, m: MaterializedLayer, outQuant: TensorQuant | undefined, join: Step, sum: string, t: TensorQuant,
  opts: { fake: boolean }, activation: { min: number; max: number } | undefined, residual: string, residualQuant: TensorQuant | undefined): Step {
  const { layer } = m;
  const packed = packConv(graph, m, outQuant);
  const convName = outQuant ? codesOf(layer.output) : layer.output, scratch = `${layer.output}#scratch`;
  const residualName = residualQuant ? codesOf(residual) : residual;
  const residualCodes = residualQuant ? codeSpec(residualQuant) : undefined;
  const spec = quantSpec(t, true);
  return {
    name: `${layer.id}+${join.name}`,
    op: 'QConv+Add+QuantizeLinear',
    inputs: [codesOf(layer.input), residualName],
    // Every buffer the step takes is an output, so that the runtime recycles it: the sum's codes
    // even where only its float copy is read, and the buffer of the conv's floats (scratch) where
    // it does not become the sum's floats.
    outputs: [codesOf(sum), ...(opts.fake ? [sum] : []), ...(outQuant ? [] : [scratch])],
    async run(ctx) {
      const x = ctx.get(codesOf(layer.input));
      const dims = packed.outputDims(x.dims);
      const r = ctx.get(residualName);
      // The conv's output: codes that become the sum's in place, or floats (scratch, or DQ of the sum's in place).
      const conv: Value = outQuant ? { kind: 'u8', data: ctx.allocU8(dims), dims } : { kind: 'f32', data: ctx.allocF32(dims), dims };
      if (r.dims.length !== dims.length || r.dims.some((d, i) => d !== dims[i])) {
        await q8.qconv2d(packed, x.data as Uint8Array, x.dims, conv.data);
        const get = (name: string): Value => (name === convName ? conv : ctx.get(name));
        await join.run({ ...ctx, get, getF32: (name) => (name === convName && conv.kind === 'f32' ? conv : ctx.getF32(name)) });
        if (conv.kind === 'f32') ctx.set(scratch, conv);
        return;
      }
      const n = conv.data.length;
      const data = residualCodes
        ? { codes: (r.data as Uint8Array).subarray(0, n), scale: residualCodes.scale, zero: residualCodes.zero }
        : (r.data as Float32Array).subarray(0, n);
      const codes = conv.kind === 'u8' ? conv.data : ctx.allocU8(dims);
      const fake = !opts.fake ? undefined : conv.kind === 'f32' ? conv.data : ctx.allocF32(dims);
      await q8.qconv2d(packed, x.data as Uint8Array, x.dims, conv.data, { data, spec, codes, ...(activation ? { activation } : {}), ...(fake ? { fake } : {}) });
      ctx.set(codesOf(sum), { kind: 'u8', data: codes, dims });
      if (fake) ctx.set(sum, { kind: 'f32', data: fake, dims });
      if (conv.kind === 'f32' && conv.data !== fake) ctx.set(scratch, conv);
    },
  };
}

/** The graph with one layer's weight and bias replaced by their dequantized values (sim mode). */
function dequantizedGraph(graph: Graph, m: MaterializedLayer): Graph {
  const initializers = new Map(graph.initializers);
  initializers.set(m.layer.weight, { dtype: 'float32', dims: m.weightDims, data: m.weightDQ });
  if (m.layer.bias && m.biasDQ) initializers.set(m.layer.bias, { dtype: 'float32', dims: [m.biasDQ.length], data: m.biasDQ });
  return { ...graph, initializers };
}

/**
 * Steps already built for earlier plans of the same model, by signature. A step is a pure
 * function of its signature (packed weights included), so lowering a plan that differs in one
 * layer re-materializes and re-packs that layer only.
 */
export type StepCache = Map<string, Step>;

export interface LowerOptions {
  /**
   * int: a quantized Conv whose codes only a float-residual Add reads runs with that Add's step
   * folded in (convAddStep; default true). Off: the two steps apart, the same values.
   */
  fuseResiduals?: boolean;
}

/**
 * Steps for `model` under `plan` in `mode`; layer steps are named by layer id. Every step carries
 * a signature: the plan entries it was built from (a layer's LayerPlan, the TensorQuant of the
 * tensors it quantizes, reads or requantizes into) and the consumer modes that decide its
 * outputs, so two programs of one model compute the same until their first differing signature
 * (see firstDifference).
 */
export function lowerQuantized(model: Model, layers: readonly Layer[], plan: QuantPlan, mode: QuantMode, cache?: StepCache,
  options: LowerOptions = {}): Step[] {
  const { graph } = model;
  const layerOfNode = new Map(
    layers.filter((l) => plan.layers.some((lp) => lp.id === l.id && !lp.float)).map((l) => [l.node, l]),
  );
  const consumers = consumersOf(graph);
  const graphOutputs = new Set(graph.outputs.map((o) => o.name));
  const quantOf = (t: string): TensorQuant | undefined => plan.activations[t];
  // A layer runs on the int8 kernels when its input is quantized; weight-only quantized layers
  // (input in float, as in sensitivity's weight part) run in float on dequantized weights.
  const isIntLayer = (l: Layer | undefined): boolean => mode === 'int' && l !== undefined && quantOf(l.input) !== undefined;
  const intConsumer = (tensor: string, n: Node): boolean => {
    const l = layerOfNode.get(n);
    return isIntLayer(l) && l!.input === tensor;
  };
  // int: an Add of two runtime tensors whose (activated) output the plan quantizes runs as one
  // add-quantize step (its Relu/Clip fused unless the plan quantizes the Add's own output).
  // (Asked once per consumer of each tensor and once by the loop below: decided once a node.)
  type AddQuantize = { act: Node | undefined; out: string; t: TensorQuant } | undefined;
  const addQuantizeOfNode = new Map<Node, AddQuantize>();
  const decideAddQuantize = (node: Node): AddQuantize => {
    if (mode !== 'int' || node.op !== 'Add' || !node.inputs.every((i) => !graph.initializers.has(i))) return undefined;
    const act = fusableActivation(graph, node, consumers);
    const fuseAct = act !== undefined && !quantOf(node.outputs[0]!);
    const out = fuseAct ? act.outputs[0]! : node.outputs[0]!;
    const t = quantOf(out);
    return t ? { act: fuseAct ? act : undefined, out, t } : undefined;
  };
  const addQuantizeOf = (node: Node): AddQuantize => {
    if (!addQuantizeOfNode.has(node)) addQuantizeOfNode.set(node, decideAddQuantize(node));
    return addQuantizeOfNode.get(node);
  };
  // Consumers that read a quantized tensor's codes: int layers, and add-quantize steps.
  const readsCodes = (tensor: string, n: Node): boolean =>
    intConsumer(tensor, n) || (quantOf(tensor) !== undefined && addQuantizeOf(n) !== undefined);
  const needsCodes = (t: string): boolean => (consumers.get(t) ?? []).some((n) => readsCodes(t, n));
  const needsFloat = (t: string): boolean => graphOutputs.has(t) || (consumers.get(t) ?? []).some((n) => !readsCodes(t, n));
  const layerPlanOf = (l: Layer): LayerPlan => plan.layers.find((lp) => lp.id === l.id)!;

  const steps: Step[] = [];
  /** The cached step of this signature, or a new one. */
  const add = (signature: string, build: () => Step): void => {
    let step = cache?.get(signature);
    if (!step) {
      step = build();
      step.signature = signature;
      cache?.set(signature, step);
    }
    steps.push(step);
  };
  const sig = (...parts: unknown[]): string => JSON.stringify(parts);
  const afterProducer = (tensor: string, copy: boolean): void => {
    const t = quantOf(tensor);
    if (!t) return;
    const opts = { codes: needsCodes(tensor), fake: needsFloat(tensor), copy };
    add(sig('quantize', tensor, t, opts), () => quantizeStep(tensor, t, opts));
  };
  for (const input of graph.inputs) afterProducer(input.name, true);

  // int: the add-quantize Add that alone reads a quantized Conv's output (and reads it once),
  // where the conv can run with it (convAddStep).
  const residualJoin = (node: Node, producer: Node): Node | undefined => {
    if (options.fuseResiduals === false || node.op !== 'Conv') return undefined;
    const out = producer.outputs[0]!;
    const add = soleConsumer(graph, producer, consumers);
    // One conv per Add (the first in node order; the other operand then runs at its own place).
    if (!add || deferred.has(add) || !addQuantizeOf(add) || add.inputs.filter((i) => i === out).length !== 1) return undefined;
    return add;
  };
  // Conv layers waiting for their Add (residualJoin), with the signature of their own step.
  const deferred = new Map<Node, { layer: Layer; outQuant: TensorQuant | undefined; signature: unknown[] }>();

  const fused = new Set<Node>();
  for (const node of graph.nodes) {
    if (fused.has(node)) continue;
    const layer = layerOfNode.get(node);
    if (node.op === 'Conv' || node.op === 'Gemm' || node.op === 'MatMul') {
      const act = fusableActivation(graph, node, consumers);
      if (act) fused.add(act);
      const out = act ? act.outputs[0]! : node.outputs[0]!;
      if (layer && isIntLayer(layer)) {
        const outQuant = quantOf(out);
        const signature = ['int-layer', layer.id, layerPlanOf(layer), quantOf(layer.input), outQuant];
        const join = residualJoin(node, act ?? node);
        if (join) {
          deferred.set(join, { layer, outQuant, signature });
          continue;
        }
        add(sig(...signature), () => intLayerStep(graph, materializeLayer(graph, layer, plan), outQuant));
        if (outQuant && needsFloat(out)) add(sig('dequantize', out, outQuant), () => dequantizeStep(out, outQuant));
        continue;
      }
      const a = act ? activationOf(act) : undefined;
      const built = layer ? [layerPlanOf(layer), quantOf(layer.input) ?? null] : [];
      add(sig('float-layer', node.name, out, ...built), () => {
        const g = layer ? dequantizedGraph(graph, materializeLayer(graph, layer, plan)) : graph;
        const step = node.op === 'Conv' ? convStep(g, node, a, out) : gemmStep(g, node, a, out);
        if (layer) step.name = layer.id;
        return step;
      });
      afterProducer(out, false);
      continue;
    }
    const addQ = addQuantizeOf(node);
    if (addQ) {
      const { act, out, t } = addQ;
      if (act) fused.add(act);
      const opts = { codes: needsCodes(out), fake: needsFloat(out) };
      const codesIn = new Map(node.inputs.filter((i) => readsCodes(i, node)).map((i) => [i, quantOf(i)!]));
      const signature = ['add-quantize', node.name, act ? act.name : null, out, t, opts, [...codesIn]];
      const build = (): Step => addQuantizeStep(node, act ? activationOf(act) : undefined, out, t, opts, codesIn);
      const conv = deferred.get(node);
      if (conv) {
        const residual = node.inputs.find((i) => i !== conv.layer.output)!;
        add(sig('conv-add', conv.signature, signature), () =>
          convAddStep(graph, materializeLayer(graph, conv.layer, plan), conv.outQuant, build(), out, t, opts,
            act ? activationOf(act) : undefined, residual, codesIn.get(residual)),
        );
        continue;
      }
      add(sig(...signature), build);
      continue;
    }
    // Fusions of float ops, only where the tensor fused away is not quantized by the plan
    // (its consumers must read DQ(Q(tensor))).
    if (FUSABLE_ELEMENTWISE.has(node.op)) {
      const act = fusableActivation(graph, node, consumers);
      if (act && !quantOf(node.outputs[0]!)) {
        fused.add(act);
        add(sig('fused', node.name, act.name), () => binaryStep(graph, node, activationOf(act), act.outputs[0]!));
        afterProducer(act.outputs[0]!, false);
        continue;
      }
    }
    if (node.op === 'Slice') {
      const chain = sliceChain(graph, node, consumers);
      while (chain.length > 1 && chain.slice(0, -1).some((n) => quantOf(n.outputs[0]!))) chain.pop();
      if (chain.length > 1) {
        for (const n of chain.slice(1)) fused.add(n);
        add(sig('chain', chain.map((n) => n.name)), () => sliceChainStep(graph, chain));
        afterProducer(chain[chain.length - 1]!.outputs[0]!, false);
        continue;
      }
    }
    add(sig('node', node.name), () => lowerNodeF32(graph, node, model.opset));
    const step = steps[steps.length - 1]!;
    for (const out of step.outputs) afterProducer(out, Boolean(step.aliases));
  }
  return steps;
}

/**
 * The first index at which two programs of the same model differ (by step signature): steps
 * before it compute the same values in both, so values live at that index in a run of `a` can
 * feed a run of `b` from that index. `min(a.length, b.length)` when one is a prefix of the other.
 */
export function firstDifference(a: readonly Step[], b: readonly Step[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i] && stepSignature(a[i]!) !== stepSignature(b[i]!)) return i;
  return n;
}

/** A step's signature; steps built outside a lowering (tests) fall back to their names and wiring. */
export function stepSignature(s: Step): string {
  return s.signature ?? JSON.stringify(['unsigned', s.name, s.op, s.inputs, s.outputs]);
}
