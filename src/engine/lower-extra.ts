/**
 * FP32 steps for ops computed in TypeScript (./js-kernels.ts): Split, ReduceMean,
 * LayerNormalization, Erf, Gelu, Sqrt, Tanh, Pow. What ConvNeXt-, ShuffleNet- and
 * Transformer-style classifiers add to the CNN op set; each step allocates from the pool.
 */
import { Graph, Node, Tensor } from '../ir/graph';
import { LayerqError } from '../errors';
import { sameShapeStep } from './lower-f32';
import { Step, StepContext } from './runtime';
import { copyView, denseView, sliceView } from './tensor-ops';
import { broadcastDims } from './native-f32';
import { UnaryJsOp, layerNorm, powBroadcast, reduceMean, unaryJs } from './js-kernels';

const numAttr = (node: Node, name: string, fallback: number): number => {
  const v = node.attrs[name];
  return typeof v === 'number' ? v : fallback;
};

function f32Of(t: Tensor): Float32Array {
  return t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>);
}

function constInts(graph: Graph, name: string | undefined): number[] | undefined {
  const t = name ? graph.initializers.get(name) : undefined;
  return t ? Array.from(t.data as ArrayLike<number>, Number) : undefined;
}

/** An input that may be a constant or a runtime value. */
function operand(graph: Graph, name: string, ctx: StepContext): { data: Float32Array; dims: number[] } {
  const c = graph.initializers.get(name);
  return c ? { data: f32Of(c), dims: c.dims } : ctx.getF32(name);
}

const runtimeInputs = (graph: Graph, names: readonly string[]): string[] => names.filter((n) => n && !graph.initializers.has(n));

const normAxis = (axis: number, rank: number): number => (axis < 0 ? axis + rank : axis);

function unaryJsStep(node: Node, op: UnaryJsOp): Step {
  return sameShapeStep(node, async (x, out) => unaryJs(op, x.data, out));
}

function powStep(graph: Graph, node: Node): Step {
  const [a, b] = node.inputs as [string, string];
  return {
    name: node.name,
    op: node.op,
    inputs: runtimeInputs(graph, [a, b]),
    outputs: [node.outputs[0]!],
    run(ctx) {
      const x = operand(graph, a, ctx);
      const y = operand(graph, b, ctx);
      const dims = broadcastDims(x.dims, y.dims);
      const out = ctx.allocF32(dims);
      powBroadcast(x, y, dims, out);
      ctx.set(node.outputs[0]!, { kind: 'f32', data: out, dims });
    },
  };
}

/** The sizes Split cuts `size` into: the `split` input (opset 13+) or attribute, else equal parts (the last smaller). */
function splitSizes(graph: Graph, node: Node, size: number): number[] {
  const given = constInts(graph, node.inputs[1]) ?? (Array.isArray(node.attrs['split']) ? (node.attrs['split'] as number[]) : undefined);
  if (given) return given;
  const parts = node.outputs.length;
  const each = Math.ceil(size / parts);
  return Array.from({ length: parts }, (_, i) => Math.max(0, Math.min(each, size - i * each)));
}

function splitStep(graph: Graph, node: Node): Step {
  const input = node.inputs[0]!;
  return {
    name: node.name,
    op: node.op,
    inputs: [input],
    outputs: node.outputs.filter((o) => o),
    async run(ctx) {
      const x = ctx.getF32(input);
      const axis = normAxis(numAttr(node, 'axis', 0), x.dims.length);
      const sizes = splitSizes(graph, node, x.dims[axis]!);
      let start = 0;
      for (let i = 0; i < node.outputs.length; i++) {
        const out = node.outputs[i]!;
        const size = sizes[i]!;
        if (out) {
          const view = sliceView(denseView(x.dims), { starts: [start], ends: [start + size], axes: [axis], steps: [1] });
          ctx.set(out, { kind: 'f32', ...(await copyView(x.data, view, ctx.allocF32)) });
        }
        start += size;
      }
    },
  };
}

/** Axes as the attribute (prepared graphs: see clip-attrs.ts), or a constant input (opset 18+). */
function reduceMeanStep(graph: Graph, node: Node): Step {
  const input = node.inputs[0]!;
  const given = (node.attrs['axes'] as number[] | undefined) ?? constInts(graph, node.inputs[1]);
  const keep = numAttr(node, 'keepdims', 1) === 1;
  return {
    name: node.name,
    op: node.op,
    inputs: [input],
    outputs: [node.outputs[0]!],
    run(ctx) {
      const x = ctx.getF32(input);
      const rank = x.dims.length;
      if (given?.length === 0 && numAttr(node, 'noop_with_empty_axes', 0) === 1) {
        const out = ctx.allocF32(x.dims);
        out.set(x.data.subarray(0, out.length));
        ctx.set(node.outputs[0]!, { kind: 'f32', data: out, dims: [...x.dims] });
        return;
      }
      const axes = (given && given.length ? given : x.dims.map((_, i) => i)).map((a) => normAxis(a, rank)).sort((p, q) => p - q);
      const from = axes[0]!;
      const to = axes[axes.length - 1]! + 1;
      if (to - from !== axes.length) {
        throw new LayerqError('UNSUPPORTED_OP', `node '${node.name}': ReduceMean over non-adjacent axes [${axes.join(', ')}] is not supported`);
      }
      const dims = x.dims.map((d, i) => (i >= from && i < to ? 1 : d));
      const out = ctx.allocF32(dims);
      reduceMean(x.data, x.dims, from, to, out);
      ctx.set(node.outputs[0]!, { kind: 'f32', data: out, dims: keep ? dims : dims.filter((_, i) => i < from || i >= to) });
    },
  };
}

function layerNormStep(graph: Graph, node: Node): Step {
  const [input, scaleName, biasName] = node.inputs as [string, string, string | undefined];
  if (node.outputs.slice(1).some((o) => o)) {
    throw new LayerqError('UNSUPPORTED_OP', `node '${node.name}': LayerNormalization's Mean and InvStdDev outputs are not supported`);
  }
  const epsilon = numAttr(node, 'epsilon', 1e-5);
  return {
    name: node.name,
    op: node.op,
    inputs: runtimeInputs(graph, [input, scaleName, biasName ?? '']),
    outputs: [node.outputs[0]!],
    run(ctx) {
      const x = ctx.getF32(input);
      const axis = normAxis(numAttr(node, 'axis', -1), x.dims.length);
      const cols = x.dims.slice(axis).reduce((p, v) => p * v, 1);
      const out = ctx.allocF32(x.dims);
      const scale = operand(graph, scaleName, ctx).data;
      const bias = biasName ? operand(graph, biasName, ctx).data : null;
      layerNorm(x.data, x.data.length / cols, cols, epsilon, scale, bias, out);
      ctx.set(node.outputs[0]!, { kind: 'f32', data: out, dims: [...x.dims] });
    },
  };
}

/** Ops this module lowers. */
export const EXTRA_OPS: ReadonlySet<string> = new Set(['Split', 'ReduceMean', 'LayerNormalization', 'Erf', 'Gelu', 'Sqrt', 'Tanh', 'Pow']);

/** The step for one of EXTRA_OPS. */
export function lowerExtra(graph: Graph, node: Node): Step {
  switch (node.op) {
    case 'Split':
      return splitStep(graph, node);
    case 'ReduceMean':
      return reduceMeanStep(graph, node);
    case 'LayerNormalization':
      return layerNormStep(graph, node);
    case 'Pow':
      return powStep(graph, node);
    case 'Gelu':
      return unaryJsStep(node, node.attrs['approximate'] === 'tanh' ? 'gelu-tanh' : 'gelu');
    case 'Erf':
    case 'Sqrt':
    case 'Tanh':
      return unaryJsStep(node, node.op.toLowerCase() as UnaryJsOp);
    default:
      throw new LayerqError('UNSUPPORTED_OP', `unsupported ONNX op '${node.op}' (node '${node.name}')`);
  }
}
