/**
 * Attributes layerq would otherwise read wrongly or ignore: an unknown `auto_pad`, a
 * `kernel_shape` that contradicts the Conv weights, strides/pads/dilations of the wrong length
 * or sign, a group that does not divide the channels, pooling options the engine does not
 * implement (SAME padding, dilations, the indices output). Each is refused with a one-line
 * UNSUPPORTED_OP or BAD_MODEL error naming the node, never run with other semantics.
 */
import { LayerqError, quote } from '../../errors';
import { AttrValue, Graph, Node } from '../graph';

const AUTO_PAD = ['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'];

/**
 * Largest stride, dilation or pad layerq accepts: far beyond any image classifier, and small
 * enough that no index or buffer size derived from it can overflow in the kernels.
 */
export const MAX_WINDOW_PARAM = 65535;

const showValue = (v: AttrValue | undefined): string =>
  typeof v === 'string' ? quote(v, 40) : Array.isArray(v) ? `[${v.slice(0, 8).join(', ')}${v.length > 8 ? ', ...' : ''}]` : String(v);

function fail(code: 'BAD_MODEL' | 'UNSUPPORTED_OP', node: Node, what: string): never {
  throw new LayerqError(code, `node ${quote(node.name, 80)} (${node.op}): ${what}`);
}

/** An int list attribute of `len` entries each >= `min`, or `dflt` when absent. */
function ints(node: Node, key: string, len: number, min: number, dflt: number[]): number[] {
  const v = node.attrs[key];
  if (v === undefined) return dflt;
  if (!Array.isArray(v) || v.length !== len || v.some((x) => typeof x !== 'number' || !Number.isSafeInteger(x) || x < min || x > MAX_WINDOW_PARAM)) {
    fail('BAD_MODEL', node, `attribute ${key} must be ${len} integers from ${min} to ${MAX_WINDOW_PARAM} but is ${showValue(v)}`);
  }
  return v as number[];
}

function intAttr(node: Node, key: string, dflt: number, allowed?: readonly number[]): number {
  const v = node.attrs[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || (allowed && !allowed.includes(v))) {
    fail('BAD_MODEL', node, `attribute ${key} must be ${allowed ? allowed.join(' or ') : 'an integer'} but is ${showValue(v)}`);
  }
  return v;
}

function autoPad(node: Node, pads: number[]): string {
  const v = node.attrs['auto_pad'] ?? 'NOTSET';
  if (typeof v !== 'string' || !AUTO_PAD.includes(v)) {
    fail('BAD_MODEL', node, `unknown auto_pad ${showValue(v)} (expected ${AUTO_PAD.join(', ')})`);
  }
  if (v !== 'NOTSET' && pads.some((p) => p !== 0)) fail('BAD_MODEL', node, `auto_pad ${v} together with explicit pads`);
  return v;
}

function checkConv(graph: Graph, node: Node): void {
  const w = graph.values.get(node.inputs[1] ?? '')?.shape ?? graph.initializers.get(node.inputs[1] ?? '')?.dims;
  const x = graph.values.get(node.inputs[0] ?? '')?.shape;
  if (!w || w.length !== 4 || w.some((d) => typeof d !== 'number' || d < 1)) {
    fail('UNSUPPORTED_OP', node, `only 2-D convolutions with static weights [Cout, Cin/group, kH, kW] are supported (weights: ${w ? `[${w.join(', ')}]` : 'unknown'})`);
  }
  const [cout, cinPerGroup, kh, kw] = w as number[];
  const kernel = node.attrs['kernel_shape'];
  if (kernel !== undefined && (!Array.isArray(kernel) || kernel.length !== 2 || kernel[0] !== kh || kernel[1] !== kw)) {
    fail('BAD_MODEL', node, `kernel_shape ${showValue(kernel)} contradicts the weights' kernel [${kh}, ${kw}]`);
  }
  ints(node, 'strides', 2, 1, [1, 1]);
  ints(node, 'dilations', 2, 1, [1, 1]);
  autoPad(node, ints(node, 'pads', 4, 0, [0, 0, 0, 0]));
  const group = intAttr(node, 'group', 1);
  if (group < 1 || cout! % group !== 0) fail('BAD_MODEL', node, `group ${group} does not divide the ${cout} output channels`);
  const cin = x?.[1];
  if (x && x.length !== 4) fail('UNSUPPORTED_OP', node, `only 2-D convolutions of [N, C, H, W] inputs are supported (input rank ${x.length})`);
  if (typeof cin === 'number' && cin !== cinPerGroup! * group) {
    fail('BAD_MODEL', node, `the input has ${cin} channels but the weights expect ${cinPerGroup! * group} (${cinPerGroup} a group x group ${group})`);
  }
}

function checkPool(graph: Graph, node: Node): void {
  const x = graph.values.get(node.inputs[0] ?? '')?.shape;
  if (x && x.length !== 4) fail('UNSUPPORTED_OP', node, `only 2-D pooling of [N, C, H, W] inputs is supported (input rank ${x.length})`);
  if (node.attrs['kernel_shape'] === undefined) fail('BAD_MODEL', node, 'attribute kernel_shape is required');
  ints(node, 'kernel_shape', 2, 1, []);
  ints(node, 'strides', 2, 1, [1, 1]);
  const pads = ints(node, 'pads', 4, 0, [0, 0, 0, 0]);
  const pad = autoPad(node, pads);
  if (pad === 'SAME_UPPER' || pad === 'SAME_LOWER') fail('UNSUPPORTED_OP', node, `auto_pad ${pad} on pooling is not supported`);
  const dil = ints(node, 'dilations', 2, 1, [1, 1]);
  if (dil.some((d) => d !== 1)) fail('UNSUPPORTED_OP', node, `pooling with dilations ${showValue(dil)} is not supported`);
  intAttr(node, 'ceil_mode', 0, [0, 1]);
  if (node.op === 'AveragePool') intAttr(node, 'count_include_pad', 0, [0, 1]);
  if (node.op === 'MaxPool' && node.outputs[1]) fail('UNSUPPORTED_OP', node, 'the Indices output of MaxPool is not supported');
}

function finite(node: Node, key: string): void {
  const v = node.attrs[key];
  if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v))) fail('BAD_MODEL', node, `attribute ${key} must be a finite number but is ${showValue(v)}`);
}

/** An axis attribute within [-rank, rank) (`extra`: Flatten also allows rank). */
function axis(graph: Graph, node: Node, key: string, extra = 0): void {
  const v = node.attrs[key];
  const rank = graph.values.get(node.inputs[0] ?? '')?.shape.length;
  if (v === undefined || rank === undefined) return;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < -rank || v >= rank + extra) {
    fail('BAD_MODEL', node, `attribute ${key} ${showValue(v)} is out of range for an input of rank ${rank}`);
  }
}

/** Throws for the first node whose attributes layerq cannot honour (see the file comment). */
export function checkAttributes(graph: Graph): void {
  for (const node of graph.nodes) {
    switch (node.op) {
      case 'Conv':
        checkConv(graph, node);
        break;
      case 'MaxPool':
      case 'AveragePool':
        checkPool(graph, node);
        break;
      case 'Gemm':
        finite(node, 'alpha');
        finite(node, 'beta');
        intAttr(node, 'transA', 0, [0, 1]);
        intAttr(node, 'transB', 0, [0, 1]);
        break;
      case 'HardSigmoid':
        finite(node, 'alpha');
        finite(node, 'beta');
        break;
      case 'Clip':
        for (const key of ['min', 'max']) {
          const v = node.attrs[key];
          if (v !== undefined && (typeof v !== 'number' || Number.isNaN(v))) fail('BAD_MODEL', node, `bound ${key} must be a number but is ${showValue(v)}`);
        }
        break;
      case 'Softmax':
      case 'Concat':
        axis(graph, node, 'axis');
        break;
      case 'Flatten':
        axis(graph, node, 'axis', 1);
        break;
      case 'Transpose': {
        const perm = node.attrs['perm'];
        const rank = graph.values.get(node.inputs[0] ?? '')?.shape.length;
        if (perm !== undefined && rank !== undefined) {
          const ok = Array.isArray(perm) && perm.length === rank && [...perm].sort((a, b) => Number(a) - Number(b)).every((p, i) => p === i);
          if (!ok) fail('BAD_MODEL', node, `perm ${showValue(perm)} is not a permutation of the ${rank} axes`);
        }
        break;
      }
      default:
        break;
    }
  }
}
