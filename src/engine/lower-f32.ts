/**
 * Lowers prepared graph nodes to FP32 engine steps on the addon's kernels. Weights are packed
 * once here; a Conv followed by its only consumer Relu/Clip runs as one fused step.
 */
import { AttrValue, Graph, Node, Tensor } from '../ir/graph';
import { LayerqError } from '../errors';
import * as f32 from './native-f32';
import { fakeQuantize } from './native-int8';
import { Step } from './runtime';
import { EXTRA_OPS, lowerExtra } from './lower-extra';
import { concat, copyView, denseView, padView, reshapeDims, SliceSpec, sliceView, transpose } from './tensor-ops';

export function attrNum(node: Node, name: string, fallback: number): number {
  const v = node.attrs[name];
  return typeof v === 'number' ? v : fallback;
}

export function attrInts(node: Node, name: string, fallback: number[]): number[] {
  const v: AttrValue | undefined = node.attrs[name];
  return Array.isArray(v) ? (v as number[]) : fallback;
}

function constant(graph: Graph, name: string, node: Node): Tensor {
  const t = graph.initializers.get(name);
  if (!t) {
    throw new LayerqError('UNSUPPORTED_OP', `node '${node.name}' (${node.op}): input '${name}' must be a constant`);
  }
  return t;
}

function constantInts(graph: Graph, name: string, node: Node): number[] {
  return Array.from(constant(graph, name, node).data as ArrayLike<number>);
}

function f32Data(t: Tensor): Float32Array {
  return t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>);
}

/** Conv attributes in the kernel's terms; auto_pad SAME_* resolved against the input size. */
export function convParams(node: Node, wDims: readonly number[], xDims: readonly (number | string)[]): f32.ConvParams {
  const kernel = [wDims[2]!, wDims[3]!];
  const strides = attrInts(node, 'strides', [1, 1]) as [number, number];
  const dilations = attrInts(node, 'dilations', [1, 1]) as [number, number];
  let pads = attrInts(node, 'pads', [0, 0, 0, 0]) as [number, number, number, number];
  const autoPad = node.attrs['auto_pad'];
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const p = [0, 1].map((i) => {
      const size = Number(xDims[2 + i]);
      const out = Math.ceil(size / strides[i]!);
      const total = Math.max(0, (out - 1) * strides[i]! + (kernel[i]! - 1) * dilations[i]! + 1 - size);
      const small = Math.floor(total / 2);
      return autoPad === 'SAME_UPPER' ? [small, total - small] : [total - small, small];
    });
    pads = [p[0]![0]!, p[1]![0]!, p[0]![1]!, p[1]![1]!];
  }
  return { strides, pads, dilations, group: attrNum(node, 'group', 1) };
}

/**
 * A step whose output has its input's shape: `kernel` reads x and writes a pooled buffer
 * (unary activations, softmax, fake-quantize).
 */
export function sameShapeStep(node: Node, kernel: (x: { data: Float32Array; dims: number[] }, out: Float32Array) => Promise<void>): Step {
  const [input, output] = [node.inputs[0]!, node.outputs[0]!];
  return {
    name: node.name,
    op: node.op,
    inputs: [input],
    outputs: [output],
    async run(ctx) {
      const x = ctx.getF32(input);
      const out = ctx.allocF32(x.dims);
      await kernel(x, out);
      ctx.set(output, { kind: 'f32', data: out, dims: [...x.dims] });
    },
  };
}

function unaryStep(node: Node): Step {
  const op: f32.UnaryOp =
    node.op === 'Relu' ? 'relu' : node.op === 'Clip' ? 'clip' : node.op === 'Sigmoid' ? 'sigmoid' : node.op === 'HardSigmoid' ? 'hardsigmoid' : 'hardswish';
  const params =
    op === 'clip'
      ? { min: attrNum(node, 'min', -Infinity), max: attrNum(node, 'max', Infinity) }
      : op === 'hardsigmoid'
        ? { alpha: attrNum(node, 'alpha', 0.2), beta: attrNum(node, 'beta', 0.5) }
        : {};
  return sameShapeStep(node, (x, out) => f32.unary(op, x.data, out, params));
}

/** Add/Sub/Mul/Div; `activation` is a fused Relu/Clip whose output `output` the step writes. */
export function binaryStep(graph: Graph, node: Node, activation?: f32.Activation, output = node.outputs[0]!): Step {
  const op = node.op.toLowerCase() as f32.BinaryOp;
  const [a, b] = node.inputs as [string, string];
  const constA = graph.initializers.get(a);
  const constB = graph.initializers.get(b);
  const operand = (name: string, c: Tensor | undefined, ctx: Parameters<Step['run']>[0]): { data: Float32Array; dims: number[] } =>
    c ? { data: f32Data(c), dims: c.dims } : ctx.getF32(name);
  const step: Step = {
    name: node.name,
    op: node.op,
    inputs: [constA ? '' : a, constB ? '' : b].filter((n) => n),
    outputs: [output],
    async run(ctx) {
      const x = operand(a, constA, ctx);
      const y = operand(b, constB, ctx);
      const rank = Math.max(x.dims.length, y.dims.length);
      const pad = (d: number[]): number[] => [...new Array<number>(rank - d.length).fill(1), ...d];
      const dims = pad(x.dims).map((d, i) => Math.max(d, pad(y.dims)[i]!));
      const out = ctx.allocF32(dims);
      await f32.binary(op, x.data, x.dims, y.data, y.dims, out, activation);
      ctx.set(output, { kind: 'f32', data: out, dims });
    },
  };
  if (op === 'add' && !constA && !constB && a !== b) addOfStep.set(step, { operands: [a, b], ...(activation ? { activation } : {}) });
  return step;
}

/** Add steps of two runtime operands (fuseResiduals folds them into the conv before them). */
const addOfStep = new WeakMap<Step, { operands: [string, string]; activation?: f32.Activation }>();

/** The packed weights of each conv step (fuseBlocks chains them). */
const packedOfStep = new WeakMap<Step, f32.PackedConv>();

/**
 * The run of a step with one f32 input and output: `kernel` writes the output, allocated at
 * `outputDims` of the input's dims (conv and fused-block steps).
 */
function convLikeRun(input: string, output: string, outputDims: (xDims: readonly number[]) => number[],
  kernel: (x: Float32Array, xDims: readonly number[], out: Float32Array) => Promise<void>): Step['run'] {
  return async (ctx) => {
    const x = ctx.getF32(input);
    const dims = outputDims(x.dims);
    const out = ctx.allocF32(dims);
    await kernel(x.data, x.dims, out);
    ctx.set(output, { kind: 'f32', data: out, dims });
  };
}

/** FP32 Conv step with weights packed once. */
export function convStep(graph: Graph, node: Node, activation: f32.Activation | undefined, output: string): Step {
  const w = constant(graph, node.inputs[1]!, node);
  const bias = node.inputs[2] ? f32Data(constant(graph, node.inputs[2], node)) : null;
  const xInfo = graph.values.get(node.inputs[0]!);
  const params = { ...convParams(node, w.dims, xInfo?.shape ?? []), ...(activation ? { activation } : {}) };
  const packed = f32.PackedConv.create(f32Data(w), w.dims, bias, params);
  const step: Step = {
    name: node.name,
    op: 'Conv',
    inputs: [node.inputs[0]!],
    outputs: [output],
    run: convLikeRun(node.inputs[0]!, output, (d) => packed.outputDims(d), (x, d, out) => f32.conv2d(packed, x, d, out)),
  };
  packedOfStep.set(step, packed);
  return step;
}

/**
 * Intermediates of an image at least this large make a block worth fusing: they would stream
 * through memory layer by layer (MobileNetV2's blocks at 112x112 and 56x56, 1.6-4.8 MB an image:
 * 1.1-1.35x fused, bench/block-layers.cc); smaller ones stay in the caches, where a block run
 * image by image loses the batch's wider pixel tiles (28x28 and below: 0.9-1.1x).
 */
export const BLOCK_FUSE_BYTES = 1 << 20;

/**
 * FP32 programs: each inverted-residual block (an expansion, a depthwise conv and a 1x1
 * projection, or the last two, adjacent steps each the only reader of the one before, none a
 * kept value; the expansion a 1x1 conv or any group 1 conv, such as the stem before MobileNetV2's
 * first block, whose 112x112 output then never leaves L2: bench/block-layers.cc's first row)
 * whose intermediates reach minBytes an image becomes one step (blockConv2d,
 * bit for bit the steps it replaces). The intermediates are never written: a program to observe
 * (calibration) is built without this.
 */
export function fuseBlocks(graph: Graph, steps: readonly Step[], keep: ReadonlySet<string>, minBytes = BLOCK_FUSE_BYTES): Step[] {
  const readers = new Map<string, number>();
  for (const s of steps) for (const i of s.inputs) readers.set(i, (readers.get(i) ?? 0) + 1);
  // An intermediate the block may hide: read by the next step only, not kept; its bytes an image.
  const hidden = (t: string): number | undefined => {
    const shape = graph.values.get(t)?.shape;
    if (readers.get(t) !== 1 || keep.has(t) || !shape || shape.slice(1).some((d) => typeof d !== 'number')) return undefined;
    return 4 * shape.slice(1).reduce<number>((p, d) => p * (d as number), 1);
  };
  const chained = (a: Step, b: Step): number | undefined =>
    a.outputs.length === 1 && b.inputs[0] === a.outputs[0] ? hidden(a.outputs[0]!) : undefined;
  // The block of the n steps from i ([expand,] dw, project), when they chain and fit.
  const blockAt = (i: number, n: number): f32.PackedBlock | undefined => {
    const members = steps.slice(i, i + n);
    const convs = members.map((s) => packedOfStep.get(s));
    if (members.length < n || convs.some((c) => !c)) return undefined;
    const [expand, dw, project] = (n === 3 ? convs : [null, ...convs]) as [f32.PackedConv | null, f32.PackedConv, f32.PackedConv];
    if (f32.blockShapeError(expand, dw, project)) return undefined;
    const bytes = members.slice(0, -1).map((s, j) => chained(s, members[j + 1]!));
    if (!bytes.every((b) => b !== undefined) || Math.max(...(bytes as number[])) < minBytes) return undefined;
    return f32.PackedBlock.create(expand, dw, project);
  };
  const out: Step[] = [];
  for (let i = 0; i < steps.length; i++) {
    const block = blockAt(i, 3) ?? blockAt(i, 2);  // the longest form that chains and fits
    if (!block) {
      out.push(steps[i]!);
      continue;
    }
    out.push(blockStep(steps.slice(i, i + block.convs.length), block));
    i += block.convs.length - 1;
  }
  return out;
}

/** One step for the conv steps of a block (see fuseBlocks). */
function blockStep(members: readonly Step[], block: f32.PackedBlock): Step {
  const input = members[0]!.inputs[0]!, output = members[members.length - 1]!.outputs[0]!;
  return {
    name: members.map((m) => m.name).join('+'),
    op: 'ConvBlock',
    inputs: [input],
    outputs: [output],
    signature: JSON.stringify(['block', ...members.map((m) => m.signature ?? m.name)]),
    run: convLikeRun(input, output, (d) => block.outputDims(d), (x, d, o) => f32.blockConv2d(block, x, d, o)),
  };
}

/**
 * FP32 programs: a conv step whose output only an Add reads (not a kept value) and the Add
 * become one step, where the Add was: the conv adds the Add's other operand (and its fused
 * Relu / Clip) while its outputs are in the caches (conv2d's residual, bit for bit the two
 * steps; a residual of another shape, broadcast, runs them one after the other). The conv's own
 * output is never written: a program to observe is built without this.
 */
export function fuseResiduals(steps: readonly Step[], keep: ReadonlySet<string>): Step[] {
  const readers = new Map<string, Step[]>();
  for (const s of steps) {
    for (const input of s.inputs) {
      if (readers.has(input)) readers.get(input)!.push(s);
      else readers.set(input, [s]);
    }
  }
  const fusedAt = new Map<Step, Step>();  // Add step -> the fused step that replaces it
  const folded = new Set<Step>();         // conv steps moved into a fused step
  for (const conv of steps) {
    const packed = packedOfStep.get(conv);
    const t = conv.outputs[0]!, tReaders = readers.get(t);
    const add = tReaders?.length === 1 ? tReaders[0] : undefined;
    const sum = add && addOfStep.get(add);
    const other = sum?.operands.find((o) => o !== t);
    if (!packed || conv.outputs.length !== 1 || keep.has(t) || !add || !sum || !other || fusedAt.has(add)) continue;
    fusedAt.set(add, residualStep(conv, packed, add, other, sum.activation));
    folded.add(conv);
  }
  return steps.filter((s) => !folded.has(s)).map((s) => fusedAt.get(s) ?? s);
}

/** A conv step and the Add after it as one step (see fuseResiduals). */
function residualStep(conv: Step, packed: f32.PackedConv, add: Step, other: string, activation: f32.Activation | undefined): Step {
  const input = conv.inputs[0]!, output = add.outputs[0]!;
  return {
    name: `${conv.name}+${add.name}`,
    op: 'ConvAdd',
    inputs: [input, other],
    outputs: [output],
    signature: JSON.stringify(['residual', conv.signature ?? conv.name, add.signature ?? add.name]),
    async run(ctx) {
      const x = ctx.getF32(input), r = ctx.getF32(other);
      const dims = packed.outputDims(x.dims);
      const out = ctx.allocF32(dims);
      if (r.dims.length === dims.length && r.dims.every((d, i) => d === dims[i])) {
        await f32.conv2d(packed, x.data, x.dims, out, { data: r.data, ...(activation ? { activation } : {}) });
      } else {
        const y = ctx.allocF32(dims);
        await f32.conv2d(packed, x.data, x.dims, y);
        await f32.binary('add', y, dims, r.data, r.dims, out, activation);
      }
      ctx.set(output, { kind: 'f32', data: out, dims });
    },
  };
}

/** Gemm (A runtime, B constant) and MatMul with a constant right operand. */
export function gemmStep(graph: Graph, node: Node, activation: f32.Activation | undefined, output: string): Step {
  if (node.op === 'Gemm' && attrNum(node, 'transA', 0) !== 0) {
    throw new LayerqError('UNSUPPORTED_OP', `node '${node.name}': Gemm with transA=1 is not supported`);
  }
  const b = constant(graph, node.inputs[1]!, node);
  const transB = node.op === 'Gemm' && attrNum(node, 'transB', 0) !== 0;
  const c = node.op === 'Gemm' && node.inputs[2] ? constant(graph, node.inputs[2], node) : null;
  const N = transB ? b.dims[0]! : b.dims[1]!;
  if (c && c.data.length !== N) {
    throw new LayerqError('UNSUPPORTED_OP', `node '${node.name}': Gemm bias must have ${N} elements`);
  }
  const packed = f32.PackedGemm.create(f32Data(b), b.dims, transB, c ? f32Data(c) : null, {
    alpha: node.op === 'Gemm' ? attrNum(node, 'alpha', 1) : 1,
    beta: node.op === 'Gemm' ? attrNum(node, 'beta', 1) : 1,
    ...(activation ? { activation } : {}),
  });
  return {
    name: node.name,
    op: node.op,
    inputs: [node.inputs[0]!],
    outputs: [output],
    async run(ctx) {
      const a = ctx.getF32(node.inputs[0]!);
      const K = a.dims[a.dims.length - 1]!;
      const M = a.data.length / K;
      const dims = [...a.dims.slice(0, -1), N];
      const out = ctx.allocF32(dims);
      await f32.gemm(packed, a.data, M, out);
      ctx.set(output, { kind: 'f32', data: out, dims });
    },
  };
}

function poolStep(node: Node): Step {
  const [input, output] = [node.inputs[0]!, node.outputs[0]!];
  const base = { name: node.name, op: node.op, inputs: [input], outputs: [output] };
  if (node.op === 'GlobalAveragePool') {
    return {
      ...base,
      async run(ctx) {
        const x = ctx.getF32(input);
        const dims = [x.dims[0]!, x.dims[1]!, 1, 1];
        const out = ctx.allocF32(dims);
        await f32.globalAvgPool(x.data, x.dims, out);
        ctx.set(output, { kind: 'f32', data: out, dims });
      },
    };
  }
  const p: f32.PoolParams = {
    kernel: attrInts(node, 'kernel_shape', [1, 1]) as [number, number],
    strides: attrInts(node, 'strides', [1, 1]) as [number, number],
    pads: attrInts(node, 'pads', [0, 0, 0, 0]) as [number, number, number, number],
    ceilMode: attrNum(node, 'ceil_mode', 0) === 1,
    countIncludePad: attrNum(node, 'count_include_pad', 0) === 1,
  };
  const kernel = node.op === 'MaxPool' ? f32.maxPool2d : f32.avgPool2d;
  return {
    ...base,
    async run(ctx) {
      const x = ctx.getF32(input);
      const dims = f32.poolOutputDims(x.dims, p);
      const out = ctx.allocF32(dims);
      await kernel(x.data, x.dims, p, out);
      ctx.set(output, { kind: 'f32', data: out, dims });
    },
  };
}

function sliceSpec(graph: Graph, node: Node): SliceSpec {
  const ints = (i: number): number[] | undefined => (node.inputs[i] ? constantInts(graph, node.inputs[i]!, node) : undefined);
  const starts = ints(1)!;
  return { starts, ends: ints(2)!, axes: ints(3) ?? starts.map((_, i) => i), steps: ints(4) ?? starts.map(() => 1) };
}

function padSpec(graph: Graph, node: Node): { pads: number[]; value: number } {
  const pads = constantInts(graph, node.inputs[1]!, node);
  const value = node.inputs[2] ? Number(constant(graph, node.inputs[2], node).data[0] ?? 0) : 0;
  const mode = node.attrs['mode'] ?? 'constant';
  if (mode !== 'constant') throw new LayerqError('UNSUPPORTED_OP', `node '${node.name}': Pad mode '${String(mode)}' is not supported`);
  if (node.inputs[3]) throw new LayerqError('UNSUPPORTED_OP', `node '${node.name}': Pad with axes is not supported`);
  return { pads, value };
}

/**
 * One step for a chain Slice -> Slice ... [-> Pad] (each intermediate read only by the next
 * node): the slices compose into one strided view of the first input, copied once (into the
 * padded output when the chain ends in a Pad). Writes the last node's output.
 */
export function sliceChainStep(graph: Graph, chain: readonly Node[]): Step {
  const first = chain[0]!, last = chain[chain.length - 1]!;
  const slices = chain.filter((n) => n.op === 'Slice').map((n) => sliceSpec(graph, n));
  const pad = last.op === 'Pad' ? padSpec(graph, last) : undefined;
  const input = first.inputs[0]!, output = last.outputs[0]!;
  return {
    name: chain.map((n) => n.name).join('+'),
    op: chain.map((n) => n.op).join('+'),
    inputs: [input],
    outputs: [output],
    async run(ctx) {
      const x = ctx.getF32(input);
      const view = slices.reduce(sliceView, denseView(x.dims));
      const y = pad ? await padView(x.data, view, pad.pads, pad.value, ctx.allocF32) : await copyView(x.data, view, ctx.allocF32);
      ctx.set(output, { kind: 'f32', ...y });
    },
  };
}

/** Steps that only move memory (views or strided copies). */
function layoutStep(graph: Graph, node: Node): Step {
  const input = node.inputs[0]!;
  const output = node.outputs[0]!;
  const base = { name: node.name, op: node.op, inputs: [input], outputs: [output] };
  const view = (dimsOf: (d: number[]) => number[]): Step => ({
    ...base,
    aliases: true,
    run(ctx) {
      const x = ctx.getF32(input);
      ctx.set(output, { kind: 'f32', data: x.data, dims: dimsOf(x.dims) });
    },
  });
  switch (node.op) {
    case 'Flatten': {
      const axis = attrNum(node, 'axis', 1);
      return view((d) => {
        const a = axis < 0 ? axis + d.length : axis;
        return [d.slice(0, a).reduce((p, v) => p * v, 1), d.slice(a).reduce((p, v) => p * v, 1)];
      });
    }
    case 'Reshape': {
      const target = constantInts(graph, node.inputs[1]!, node);
      return view((d) => reshapeDims(d, target));
    }
    case 'Pad': {
      const { pads, value } = padSpec(graph, node);
      return {
        ...base,
        async run(ctx) {
          const x = ctx.getF32(input);
          ctx.set(output, { kind: 'f32', ...(await padView(x.data, denseView(x.dims), pads, value, ctx.allocF32)) });
        },
      };
    }
    case 'Slice': {
      const spec = sliceSpec(graph, node);
      return {
        ...base,
        async run(ctx) {
          const x = ctx.getF32(input);
          ctx.set(output, { kind: 'f32', ...(await copyView(x.data, sliceView(denseView(x.dims), spec), ctx.allocF32)) });
        },
      };
    }
    case 'Transpose': {
      const perm = node.attrs['perm'] as number[] | undefined;
      return {
        ...base,
        async run(ctx) {
          const x = ctx.getF32(input);
          ctx.set(output, { kind: 'f32', ...await transpose(x.data, x.dims, perm ?? x.dims.map((_, i) => x.dims.length - 1 - i), ctx.allocF32) });
        },
      };
    }
    default:
      throw new LayerqError('UNSUPPORTED_OP', `unsupported ONNX op '${node.op}' (node '${node.name}')`);
  }
}

function concatStep(node: Node): Step {
  const axis = attrNum(node, 'axis', 0);
  return {
    name: node.name,
    op: node.op,
    inputs: [...node.inputs],
    outputs: [node.outputs[0]!],
    run(ctx) {
      ctx.set(node.outputs[0]!, { kind: 'f32', ...concat(node.inputs.map((n) => ctx.getF32(n)), axis, ctx.allocF32) });
    },
  };
}

function softmaxStep(node: Node, opset: number): Step {
  const axis = attrNum(node, 'axis', opset >= 13 ? -1 : 1);
  return sameShapeStep(node, (x, out) => {
    const a = axis < 0 ? axis + x.dims.length : axis;
    // Opset < 13 flattens from `axis`; opset >= 13 needs `axis` to be the last one here.
    if (opset >= 13 && a !== x.dims.length - 1) {
      throw new LayerqError('UNSUPPORTED_OP', `node '${node.name}': Softmax over a non-last axis is not supported`);
    }
    const cols = x.dims.slice(a).reduce((p, v) => p * v, 1);
    return f32.softmax(x.data, x.data.length / cols, cols, out);
  });
}

/**
 * The layerq-internal FakeQuantize (a QDQ model's QuantizeLinear -> DequantizeLinear pair, see
 * src/ir/passes/fuse-qdq.ts): float32 in, float32 on the grid out, into a fresh buffer (the
 * input may have other readers).
 */
function fakeQuantizeStep(node: Node): Step {
  const spec = {
    scale: Float32Array.of(attrNum(node, 'scale', NaN)),
    zero: Int32Array.of(attrNum(node, 'zeroPoint', 0)),
    qmin: attrNum(node, 'qmin', 0),
    qmax: attrNum(node, 'qmax', 255),
  };
  return sameShapeStep(node, (x, out) => fakeQuantize(x.data, x.dims, spec, out));
}

/** One FP32 step for a node that is not a fused Conv/Gemm layer. */
export function lowerNodeF32(graph: Graph, node: Node, opset: number): Step {
  switch (node.op) {
    case 'Conv':
      return convStep(graph, node, undefined, node.outputs[0]!);
    case 'Gemm':
    case 'MatMul':
      return gemmStep(graph, node, undefined, node.outputs[0]!);
    case 'Relu':
    case 'Clip':
    case 'Sigmoid':
    case 'HardSigmoid':
    case 'HardSwish':
      return unaryStep(node);
    case 'Add':
    case 'Sub':
    case 'Mul':
    case 'Div':
      return binaryStep(graph, node);
    case 'MaxPool':
    case 'AveragePool':
    case 'GlobalAveragePool':
      return poolStep(node);
    case 'Concat':
      return concatStep(node);
    case 'Softmax':
      return softmaxStep(node, opset);
    case 'FakeQuantize':
      return fakeQuantizeStep(node);
    default:
      return EXTRA_OPS.has(node.op) ? lowerExtra(graph, node) : layoutStep(graph, node);
  }
}
