/**
 * The graph's wiring, checked before the engine compiles it: each runtime op has an input count
 * it accepts, every input it reads is defined before it (a graph input, a constant, or an earlier
 * node's output), parameters the engine needs as constants are constants, and data inputs the
 * engine reads at run time are not. A node that breaks this is a one-line BAD_MODEL or
 * UNSUPPORTED_OP error naming it, instead of an engine failure ("value 'undefined' is not
 * available") in the middle of a run.
 */
import { LayerqError, quote } from '../../errors';
import { Graph, Node } from '../graph';

/** [fewest, most] inputs of each runtime op (absent optional inputs count when written as ''). */
const ARITY: Readonly<Record<string, readonly [number, number]>> = {
  Conv: [2, 3], Gemm: [2, 3], MatMul: [2, 2], Relu: [1, 1], Clip: [1, 3], Add: [2, 2], Sub: [2, 2],
  Mul: [2, 2], Div: [2, 2], Sigmoid: [1, 1], HardSigmoid: [1, 1], HardSwish: [1, 1], MaxPool: [1, 1],
  AveragePool: [1, 1], GlobalAveragePool: [1, 1], Flatten: [1, 1], Reshape: [2, 2],
  Concat: [1, Infinity], Pad: [1, 4], Slice: [1, 5], Softmax: [1, 1], Transpose: [1, 1],
};

/** Input positions the engine reads as constants (weights, shapes, pads, slice parameters). */
const CONSTANT_INPUTS: Readonly<Record<string, readonly number[]>> = {
  Conv: [1, 2], Gemm: [1, 2], MatMul: [1], Reshape: [1], Pad: [1, 2, 3], Slice: [1, 2, 3, 4],
};

/** Ops that take either operand as a constant (the other one at run time). */
const EITHER_CONSTANT = new Set(['Add', 'Sub', 'Mul', 'Div']);

const fail = (code: 'BAD_MODEL' | 'UNSUPPORTED_OP', n: Node, what: string): never => {
  throw new LayerqError(code, `node ${quote(n.name, 80)} (${quote(n.op, 40)}): ${what}`);
};

/** Throws for the first node whose wiring layerq cannot run (see the file comment). */
export function checkStructure(graph: Graph): void {
  const defined = new Set<string>([...graph.inputs.map((v) => v.name), ...graph.initializers.keys()]);
  for (const n of graph.nodes) {
    const arity = ARITY[n.op];
    if (arity) {
      const [lo, hi] = arity;
      if (n.inputs.length < lo || n.inputs.length > hi) {
        fail('BAD_MODEL', n, `has ${n.inputs.length} inputs; ${n.op} takes ${lo === hi ? lo : `${lo} to ${hi === Infinity ? 'any number' : hi}`}`);
      }
      for (let i = 0; i < lo; i++) if (!n.inputs[i]) fail('BAD_MODEL', n, `required input ${i} is missing`);
      const constants = CONSTANT_INPUTS[n.op] ?? [];
      n.inputs.forEach((name, i) => {
        if (!name) return;
        const isConstant = graph.initializers.has(name);
        if (constants.includes(i) && !isConstant) {
          fail('UNSUPPORTED_OP', n, `input ${i} ${quote(name, 80)} must be a constant`);
        }
        if (!constants.includes(i) && isConstant && !(EITHER_CONSTANT.has(n.op) && n.inputs.some((o, k) => k !== i && o && !graph.initializers.has(o)))) {
          fail('UNSUPPORTED_OP', n, `input ${i} ${quote(name, 80)} is a constant where layerq runs only run-time values`);
        }
      });
    }
    for (const name of n.inputs) {
      if (name && !defined.has(name)) fail('BAD_MODEL', n, `input ${quote(name, 80)} is not produced by any earlier node, nor a graph input or constant`);
    }
    if (n.outputs.length === 0 || !n.outputs[0]) fail('BAD_MODEL', n, 'has no output');
    for (const o of n.outputs) {
      if (!o) continue;
      if (defined.has(o)) fail('BAD_MODEL', n, `output ${quote(o, 80)} is already defined by another node, a graph input or a constant`);
      defined.add(o);
    }
  }
  for (const o of graph.outputs) {
    if (!defined.has(o.name)) throw new LayerqError('BAD_MODEL', `graph output ${quote(o.name, 80)} is not produced by any node`);
  }
}
