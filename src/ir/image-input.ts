/** What the rest of layerq needs to know about a classifier's input and output. */
import { LayerqError } from '../errors';
import { Graph } from './graph';

/** The image input of a classifier: NCHW (or NHWC) float32, batch free, C/H/W static. */
export interface ImageInput {
  name: string;
  channels: number;
  height: number;
  width: number;
  /** NHWC when the last dim is 3 and the second is not (a TensorFlow-style export). */
  layout: 'NCHW' | 'NHWC';
}

const show = (shape: readonly (number | string)[]): string =>
  `[${shape.map((d) => (typeof d === 'string' ? `'${d}'` : d)).join(', ')}]`;

/**
 * The single float32 graph input of rank 4 `[N, C, H, W]` (or `[N, H, W, 3]`) with static C,
 * H, W (N may be symbolic). Throws LayerqError BAD_MODEL_INPUT naming the shape received
 * otherwise.
 */
export function imageInput(graph: Graph): ImageInput {
  if (graph.inputs.length !== 1) {
    const names = graph.inputs.map((v) => `'${v.name}' ${show(v.shape)}`).join(', ');
    throw new LayerqError('BAD_MODEL_INPUT', `expected one image input [N, C, H, W] but the model has ${graph.inputs.length}: ${names}`);
  }
  const v = graph.inputs[0]!;
  const nhwc = v.shape.length === 4 && v.shape[3] === 3 && v.shape[1] !== 3;
  const [, c, h, w] = nhwc ? [v.shape[0], v.shape[3], v.shape[1], v.shape[2]] : v.shape;
  if (v.dtype !== 'float32' || v.shape.length !== 4 || typeof c !== 'number' || typeof h !== 'number' || typeof w !== 'number') {
    throw new LayerqError(
      'BAD_MODEL_INPUT',
      `expected input '${v.name}' to be a float32 image [N, C, H, W] with static C, H, W but received ${v.dtype} ${show(v.shape)}`,
    );
  }
  return { name: v.name, channels: c, height: h, width: w, layout: nhwc ? 'NHWC' : 'NCHW' };
}

/**
 * The number of classes: the last dim of the single graph output (`[N, classes]`, from
 * `graph.values` when the declared output has no shape). Throws BAD_MODEL_INPUT when unknown.
 */
export function classCount(graph: Graph): number {
  const out = graph.outputs[0];
  const shape = out && out.shape.length > 0 ? out.shape : out ? graph.values.get(out.name)?.shape ?? [] : [];
  const last = shape[shape.length - 1];
  if (graph.outputs.length !== 1 || typeof last !== 'number') {
    throw new LayerqError(
      'BAD_MODEL_INPUT',
      `expected one output [N, classes] with a static class count but received ${graph.outputs.map((o) => `'${o.name}' ${show(o.shape)}`).join(', ') || 'none'}`,
    );
  }
  return last;
}
