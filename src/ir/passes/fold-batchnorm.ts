/** BatchNormalization folding into the preceding Conv/Gemm; the rest become Mul + Add. */
import { Graph, Node, Tensor } from '../graph';
import { cloneGraph, freshName, removeDeadCode, useCounts } from '../graph-utils';

/** Per-channel affine form of an inference BatchNorm: y = x * scale[c] + shift[c]. */
interface Affine {
  scale: Float64Array;
  shift: Float64Array;
}

/**
 * Graph -> graph without BatchNormalization (inference mode).
 *
 * A BN whose input is the only use of a Conv's (or Gemm's) output, with constant weights, is folded
 * into it per output channel c: s = gamma / sqrt(var + eps); w'[c] = w[c] * s; b'[c] = (b[c] - mean)
 * * s + beta (Conv weight `[Cout, Cin/g, kh, kw]`: axis 0; Gemm: the N axis of B, with C' = beta_g
 * * C * s + shift and beta_g reset to 1). Every other BN becomes Mul(x, s) then Add(., shift) with
 * constants shaped `[C, 1, ..., 1]` (broadcast over NCHW), which the runtime supports. A BN with
 * non-constant parameters is left for checkSupported to reject.
 */
export function foldBatchNorm(graph: Graph): Graph {
  const g = cloneGraph(graph);
  const uses = useCounts(g);
  const producer = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) producer.set(o, n);

  const nodes: Node[] = [];
  for (const bn of g.nodes) {
    const affine = bn.op === 'BatchNormalization' ? bnAffine(g, bn) : undefined;
    if (!affine) {
      nodes.push(bn);
      continue;
    }
    const x = bn.inputs[0] ?? '';
    const out = bn.outputs[0] ?? '';
    const prev = producer.get(x);
    if (prev && uses.get(x) === 1 && foldInto(g, prev, affine, uses)) {
      prev.outputs[0] = out;
      continue;
    }
    const rank = g.values.get(x)?.shape.length ?? 4;
    const dims = [affine.scale.length, ...new Array<number>(Math.max(rank - 2, 0)).fill(1)];
    const scaleName = freshName(g, `${bn.name}_scale`);
    g.initializers.set(scaleName, { dtype: 'float32', dims, data: Float32Array.from(affine.scale) });
    const shiftName = freshName(g, `${bn.name}_shift`);
    g.initializers.set(shiftName, { dtype: 'float32', dims, data: Float32Array.from(affine.shift) });
    const scaled = freshName(g, `${out}_scaled`);
    g.values.delete(scaled);
    nodes.push(
      { name: `${bn.name}_mul`, op: 'Mul', inputs: [x, scaleName], outputs: [scaled], attrs: {} },
      { name: `${bn.name}_add`, op: 'Add', inputs: [scaled, shiftName], outputs: [out], attrs: {} },
    );
    g.values.set(scaled, { name: scaled, dtype: 'float32', shape: g.values.get(x)?.shape ?? [] });
  }
  g.nodes = nodes;
  removeDeadCode(g);
  return g;
}

/** s = gamma / sqrt(var + eps), shift = beta - mean * s, or undefined if not foldable. */
function bnAffine(g: Graph, bn: Node): Affine | undefined {
  if (bn.outputs.slice(1).some((o) => o) || bn.attrs.training_mode === 1) return undefined;
  const [gamma, beta, mean, variance] = bn.inputs.slice(1, 5).map((i) => g.initializers.get(i));
  if (!gamma || !beta || !mean || !variance) return undefined;
  const eps = typeof bn.attrs.epsilon === 'number' ? bn.attrs.epsilon : 1e-5;
  const c = gamma.data.length;
  const scale = new Float64Array(c);
  const shift = new Float64Array(c);
  for (let i = 0; i < c; i++) {
    scale[i] = (gamma.data[i] as number) / Math.sqrt((variance.data[i] as number) + eps);
    shift[i] = (beta.data[i] as number) - (mean.data[i] as number) * (scale[i] as number);
  }
  return { scale, shift };
}

/** Writes the folded weights of `prev` (Conv or Gemm); false when it cannot fold. */
function foldInto(g: Graph, prev: Node, a: Affine, uses: Map<string, number>): boolean {
  const c = a.scale.length;
  const wName = prev.inputs[1] ?? '';
  const w = g.initializers.get(wName);
  if (!w || w.dtype !== 'float32') return false;
  const bName = prev.inputs[2] ?? '';
  const b = bName ? g.initializers.get(bName) : undefined;
  if (bName && !b) return false;

  let channelOf: (i: number) => number;
  let biasIn: (ch: number) => number;
  if (prev.op === 'Conv') {
    if (w.dims[0] !== c) return false;
    const per = w.data.length / c;
    channelOf = (i) => Math.floor(i / per);
    biasIn = (ch) => (b ? (b.data[ch] as number) : 0);
  } else if (prev.op === 'Gemm') {
    const transB = prev.attrs.transB === 1;
    const [rows, cols] = [w.dims[0] as number, w.dims[1] as number];
    if (w.dims.length !== 2 || (transB ? rows : cols) !== c) return false;
    channelOf = transB ? (i) => Math.floor(i / cols) : (i) => i % cols;
    const betaG = typeof prev.attrs.beta === 'number' ? prev.attrs.beta : 1;
    if (b && !(b.data.length === 1 || b.data.length === c)) return false; // C varies with M
    biasIn = (ch) => (b ? betaG * (b.data[b.data.length === 1 ? 0 : ch] as number) : 0);
    prev.attrs.beta = 1;
  } else {
    return false;
  }

  const wData = new Float32Array(w.data.length);
  for (let i = 0; i < wData.length; i++) wData[i] = (w.data[i] as number) * (a.scale[channelOf(i)] as number);
  const bias = new Float32Array(c);
  for (let ch = 0; ch < c; ch++) bias[ch] = biasIn(ch) * (a.scale[ch] as number) + (a.shift[ch] as number);

  const newW: Tensor = { dtype: 'float32', dims: [...w.dims], data: wData };
  const wOut = (uses.get(wName) ?? 0) > 1 ? freshName(g, `${wName}_bnfold`) : wName;
  g.initializers.set(wOut, newW);
  const bOut = !bName || (uses.get(bName) ?? 0) > 1 ? freshName(g, `${prev.name}_bias`) : bName;
  g.initializers.set(bOut, { dtype: 'float32', dims: [c], data: bias });
  prev.inputs = [prev.inputs[0] ?? '', wOut, bOut];
  for (const name of [wOut, bOut]) g.values.set(name, { name, dtype: 'float32', shape: g.initializers.get(name)?.dims ?? [] });
  return true;
}
