/**
 * Checks of a prepared graph's values before anything runs: every tensor must fit the memory
 * budget at batch 1 (a model declaring a huge input or pad shape is refused at load, in one
 * line, instead of failing inside the engine), and weights must be finite numbers.
 */
import { LayerqError, quote } from '../../errors';
import { Graph } from '../graph';
import { checkAllocation, safeProduct } from '../../util/limits';

/** Throws TOO_LARGE naming the first value whose one-image size is over the memory budget. */
export function checkValueSizes(graph: Graph): void {
  for (const v of graph.values.values()) {
    const dims = v.shape.map((d) => (typeof d === 'number' ? d : 1));
    const n = safeProduct(dims);
    if (Number.isNaN(n)) {
      throw new LayerqError('BAD_MODEL', `tensor ${quote(v.name, 80)} has shape [${dims.slice(0, 8).join(', ')}], which is not a size`);
    }
    checkAllocation(`tensor ${quote(v.name, 80)} (one image)`, n, 4, dims);
  }
}

/** Ops whose float constant inputs are weights, biases or scale factors. */
const WEIGHT_READERS = new Set(['Conv', 'Gemm', 'MatMul', 'Add', 'Sub', 'Mul', 'Div']);

/** Above this magnitude a weight is suspect: quantizing its tensor zeroes nearly everything else. */
export const ABSURD_WEIGHT = 1e6;

/**
 * Throws BAD_MODEL naming the first weight tensor (a float constant read by Conv, Gemm, MatMul
 * or arithmetic) holding NaN or an infinity; returns one warning for each holding a value above
 * ABSURD_WEIGHT in magnitude.
 */
export function checkWeights(graph: Graph): string[] {
  const warnings: string[] = [];
  const seen = new Set<string>();
  for (const node of graph.nodes) {
    if (!WEIGHT_READERS.has(node.op)) continue;
    for (const name of node.inputs) {
      const t = name ? graph.initializers.get(name) : undefined;
      if (!t || t.dtype !== 'float32' || seen.has(name)) continue;
      seen.add(name);
      let nonFinite = 0;
      let first = 0;
      let max = 0;
      for (let i = 0; i < t.data.length; i++) {
        const v = t.data[i] as number;
        if (!Number.isFinite(v)) {
          if (nonFinite++ === 0) first = v;
        } else if (Math.abs(v) > max) {
          max = Math.abs(v);
        }
      }
      if (nonFinite > 0) {
        throw new LayerqError(
          'BAD_MODEL',
          `weight tensor ${quote(name, 80)} (read by ${quote(node.name, 80)}, ${node.op}) holds ${nonFinite} non-finite value(s) (${first}) of ${t.data.length}`,
        );
      }
      if (max > ABSURD_WEIGHT) {
        warnings.push(`weight tensor ${quote(name, 80)} (read by ${quote(node.name, 80)}, ${node.op}) holds a value of magnitude ${max.toExponential(2)}: quantizing it will zero nearly all others`);
      }
    }
  }
  return warnings;
}
