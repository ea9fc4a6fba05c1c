/** The preparation pipeline: a loaded model -> the graph the engine and the exporter use. */
import { LayerqError, quote } from '../../errors';
import { Model } from '../graph';
import { removeDeadCode, cloneGraph } from '../graph-utils';
import { checkSupported } from './check-supported';
import { checkValueSizes } from './check-values';
import { clipBoundsToAttrs } from './clip-attrs';
import { eliminateIdentity } from './eliminate-identity';
import { foldBatchNorm } from './fold-batchnorm';
import { foldConstants } from './fold-constants';
import { fuseQdqPairs } from './fuse-qdq';
import { inferShapes } from './infer-shapes';

/**
 * Model -> prepared model, in order: remove Identity/Dropout; fold constants and shape
 * arithmetic (in QDQ models, DequantizeLinear of integer weights and biases becomes float);
 * fuse runtime QuantizeLinear -> DequantizeLinear pairs into the layerq-internal FakeQuantize
 * (fuse-qdq.ts: a prepared graph may hold it, so it is for the engine, never for saveModel);
 * Clip bounds to attributes; shape inference (lenient, for BN ranks); fold BatchNorm into
 * Conv/Gemm (others to Mul + Add); drop dead code; checkSupported; strict shape inference (every
 * value gets a shape, batch symbolic). Pure: the input model is not modified.
 *
 * Throws LayerqError UNSUPPORTED_OP (an op outside the runtime set, or shape arithmetic over the
 * symbolic batch reaching a runtime node), BAD_MODEL (inconsistent or uninferable shapes) or
 * TOO_LARGE (a tensor over the memory budget at batch 1).
 */
export function prepareModel(model: Model): Model {
  let g = eliminateIdentity(model.graph);
  g = foldConstants(g);
  g = fuseQdqPairs(g);
  g = clipBoundsToAttrs(g);
  g = inferShapes(g, false);
  g = foldBatchNorm(g);
  g = cloneGraph(g);
  removeDeadCode(g);
  checkSupported(g);
  g = inferShapes(g, true);
  for (const n of g.nodes) {
    for (const o of n.outputs) {
      if (o && !g.values.has(o)) throw new LayerqError('BAD_MODEL', `no shape for ${quote(o, 80)} (node ${quote(n.name, 80)}, ${n.op})`);
    }
  }
  checkValueSizes(g);
  return { ...model, graph: g };
}
