/** The runtime op set check run after preparation. */
import { LayerqError, quote } from '../../errors';
import { Graph } from '../graph';
import { checkAttributes } from './check-attributes';
import { checkStructure } from './check-structure';
import { FAKE_QUANTIZE, qdqProblem } from './fuse-qdq';

/**
 * Ops the engine executes; everything else must be folded away by preparation. QuantizeLinear /
 * DequantizeLinear run only as the layerq-internal FakeQuantize that fuseQdqPairs makes of them.
 */
export const RUNTIME_OPS: ReadonlySet<string> = new Set([
  'Conv', 'Gemm', 'MatMul', 'Relu', 'Clip', 'Add', 'Mul', 'Sub', 'Div', 'Sigmoid', 'HardSigmoid',
  'HardSwish', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'Flatten', 'Reshape', 'Concat',
  'Pad', 'Slice', 'Softmax', 'Transpose', FAKE_QUANTIZE,
  // computed in TypeScript (src/engine/lower-extra.ts)
  'Split', 'ReduceMean', 'LayerNormalization', 'Erf', 'Gelu', 'Sqrt', 'Tanh', 'Pow',
]);

/** Ops whose inputs after the first are parameters the engine needs as constants. */
const CONST_PARAMS = new Set(['Reshape', 'Pad', 'Slice', 'Split', 'ReduceMean']);

/**
 * Throws LayerqError UNSUPPORTED_OP "unsupported ONNX op 'X' (node 'name')" for the first node
 * outside RUNTIME_OPS, a Clip that still has bound inputs (non-constant min/max), or a
 * Reshape/Pad/Slice/Split/ReduceMean whose shape, pads, slice, split or axes parameters are not
 * initializers. A QuantizeLinear
 * or DequantizeLinear left unfused gets the reason appended ("...: its output 'y' is read by ...").
 * Then the wiring (./check-structure.ts: input counts, inputs defined before use, constants
 * where the engine needs them) and the attributes the engine reads (./check-attributes.ts):
 * what it cannot honour is refused.
 */
export function checkSupported(graph: Graph): void {
  for (const n of graph.nodes) {
    if (n.op === 'QuantizeLinear' || n.op === 'DequantizeLinear') {
      throw new LayerqError('UNSUPPORTED_OP', `unsupported ONNX op ${quote(n.op, 60)} (node ${quote(n.name, 80)}): ${qdqProblem(graph, n)}`);
    }
    if (!RUNTIME_OPS.has(n.op)) {
      throw new LayerqError('UNSUPPORTED_OP', `unsupported ONNX op ${quote(n.op, 60)} (node ${quote(n.name, 80)})`);
    }
    if (n.op === 'Clip' && n.inputs.slice(1).some((i) => i)) {
      throw new LayerqError('UNSUPPORTED_OP', `unsupported ONNX op 'Clip' (node ${quote(n.name, 80)}): min/max must be constants`);
    }
    if (CONST_PARAMS.has(n.op)) {
      const dynamic = n.inputs.slice(1).find((i) => i && !graph.initializers.has(i));
      if (dynamic) {
        throw new LayerqError(
          'UNSUPPORTED_OP',
          `unsupported ONNX op ${quote(n.op, 60)} (node ${quote(n.name, 80)}): input ${quote(dynamic, 80)} must be a constant`,
        );
      }
    }
  }
  checkStructure(graph);
  checkAttributes(graph);
}
