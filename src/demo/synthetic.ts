/**
 * The demo's built-in default, made by the repository itself (no downloads): a 4-class image
 * task (stripes: horizontal, vertical, diagonal, anti-diagonal; random period, phase, colours
 * and noise) and a small CNN for it. The convolutions are fixed edge and pooling filters; the
 * final Gemm is fitted (nearest class centroid) on features layerq's own engine computes.
 */
import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import { writeFileAtomic } from '../report/atomic';
import { Graph, Model, Node, Tensor } from '../ir/graph';
import { ImageSet, listImageFolder, preprocessPreset, mulberry32 } from '../data';
import { Engine } from '../engine/engine';
import { prepareModel } from '../ir/passes';
import { saveModel } from '../onnx/save';

export const SYNTHETIC_CLASSES = ['anti-diagonal', 'diagonal', 'horizontal', 'vertical'];
const SIZE = 32;

/** One image [32, 32, 3] uint8 of class `label` (index into SYNTHETIC_CLASSES). */
export function stripeImage(label: number, rng: () => number): Uint8Array {
  const period = 4 + rng() * 6;
  const phase = rng() * 2 * Math.PI;
  const fg = [rng(), rng(), rng()];
  const bg = fg.map((v) => 1 - v);
  const dir = [
    [Math.SQRT1_2, -Math.SQRT1_2],
    [Math.SQRT1_2, Math.SQRT1_2],
    [0, 1],
    [1, 0],
  ][label]!;
  const out = new Uint8Array(SIZE * SIZE * 3);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const s = 0.5 + 0.5 * Math.sin(((x * dir[0]! + y * dir[1]!) * 2 * Math.PI) / period + phase);
      for (let c = 0; c < 3; c++) {
        const noise = (rng() + rng() + rng() - 1.5) * 0.2;
        const v = bg[c]! + (fg[c]! - bg[c]!) * s + noise;
        out[(y * SIZE + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v * 255)));
      }
    }
  }
  return out;
}

/** Writes `perClass` PNG images a class under `root/<class>/`. */
export async function writeSplit(root: string, perClass: number, seed: number): Promise<void> {
  const rng = mulberry32(seed);
  for (let label = 0; label < SYNTHETIC_CLASSES.length; label++) {
    const dir = path.join(root, SYNTHETIC_CLASSES[label]!);
    fs.mkdirSync(dir, { recursive: true });
    for (let i = 0; i < perClass; i++) {
      const pixels = stripeImage(label, rng);
      const png = await sharp(Buffer.from(pixels), { raw: { width: SIZE, height: SIZE, channels: 3 } }).png().toBuffer();
      writeFileAtomic(path.join(dir, `${String(i).padStart(4, '0')}.png`), png);
    }
  }
}

const f32 = (dims: number[], values: ArrayLike<number>): Tensor => ({ dtype: 'float32', dims, data: Float32Array.from(values) });

/** Edge filters on the channel sum: +/- Sobel x, y, and the two diagonals (8 maps). */
function edgeWeights(): Tensor {
  const kernels = [
    [-1, 0, 1, -2, 0, 2, -1, 0, 1],
    [-1, -2, -1, 0, 0, 0, 1, 2, 1],
    [0, 1, 2, -1, 0, 1, -2, -1, 0],
    [2, 1, 0, 1, 0, -1, 0, -1, -2],
  ];
  const w = new Float32Array(8 * 3 * 9);
  kernels.forEach((k, o) => {
    for (const [sign, oc] of [[1, 2 * o], [-1, 2 * o + 1]] as const) {
      for (let c = 0; c < 3; c++) for (let t = 0; t < 9; t++) w[(oc * 3 + c) * 9 + t] = (sign * k[t]!) / 12;
    }
  });
  return f32([8, 3, 3, 3], w);
}

/** A 3x3 stride-2 box filter per channel, as a full 8->8 conv. */
function poolWeights(): Tensor {
  const w = new Float32Array(8 * 8 * 9);
  for (let c = 0; c < 8; c++) for (let t = 0; t < 9; t++) w[(c * 8 + c) * 9 + t] = 1 / 9;
  return f32([8, 8, 3, 3], w);
}

function graphOf(head: { weight: Tensor; bias: Tensor } | undefined): Graph {
  const conv = (name: string, x: string, w: string, b: string, stride: number): Node => ({
    name, op: 'Conv', inputs: [x, w, b], outputs: [`${name}_out`], attrs: { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [stride, stride] },
  });
  const relu = (name: string, x: string): Node => ({ name, op: 'Relu', inputs: [x], outputs: [`${name}_out`], attrs: {} });
  const nodes: Node[] = [
    conv('edges', 'input', 'edges_w', 'edges_b', 1),
    relu('edges_relu', 'edges_out'),
    conv('smooth', 'edges_relu_out', 'smooth_w', 'smooth_b', 2),
    relu('smooth_relu', 'smooth_out'),
    { name: 'gap', op: 'GlobalAveragePool', inputs: ['smooth_relu_out'], outputs: ['gap_out'], attrs: {} },
    { name: 'flatten', op: 'Flatten', inputs: ['gap_out'], outputs: ['features'], attrs: { axis: 1 } },
  ];
  const initializers = new Map<string, Tensor>([
    ['edges_w', edgeWeights()],
    ['edges_b', f32([8], new Float32Array(8))],
    ['smooth_w', poolWeights()],
    ['smooth_b', f32([8], new Float32Array(8))],
  ]);
  let output = 'features';
  let width = 8;
  if (head) {
    nodes.push({ name: 'classifier', op: 'Gemm', inputs: ['features', 'classifier_w', 'classifier_b'], outputs: ['logits'], attrs: {} });
    initializers.set('classifier_w', head.weight);
    initializers.set('classifier_b', head.bias);
    output = 'logits';
    width = SYNTHETIC_CLASSES.length;
  }
  return {
    name: 'layerq-synthetic-stripes',
    nodes,
    inputs: [{ name: 'input', dtype: 'float32', shape: ['batch', 3, SIZE, SIZE] }],
    outputs: [{ name: output, dtype: 'float32', shape: ['batch', width] }],
    initializers,
    values: new Map(),
  };
}

const modelOf = (graph: Graph): Model => ({ graph, opset: 17, irVersion: 8, producerName: 'layerq' });

/**
 * Builds the classifier: features of the images under `trainRoot` from the fixed filters,
 * then a Gemm scoring f . mu_c - |mu_c|^2 / 2 (nearest centroid). Returns ONNX bytes.
 */
export async function buildSyntheticModel(trainRoot: string): Promise<Uint8Array> {
  const pool = await listImageFolder(trainRoot);
  const images = await ImageSet.load(pool.samples, preprocessPreset('cifar'));
  const features = await Engine.fp32(prepareModel(modelOf(graphOf(undefined)))).runAll(images);
  const k = SYNTHETIC_CLASSES.length;
  const mu = new Float64Array(8 * k);
  const counts = new Array<number>(k).fill(0);
  for (let i = 0; i < images.count; i++) {
    const c = images.labels[i]!;
    counts[c]!++;
    for (let f = 0; f < 8; f++) mu[f * k + c] += features[i * 8 + f]!;
  }
  for (let f = 0; f < 8; f++) for (let c = 0; c < k; c++) mu[f * k + c] /= counts[c]!;
  const bias = Array.from({ length: k }, (_, c) => {
    let s = 0;
    for (let f = 0; f < 8; f++) s += mu[f * k + c]! ** 2;
    return -s / 2;
  });
  return saveModel(modelOf(graphOf({ weight: f32([8, k], mu), bias: f32([k], bias) })));
}
