/**
 * The layer shapes `layerq bench` times: every Conv and Gemm/MatMul of a model (as a GEMM:
 * M = N * Ho * Wo output pixels, N = Cout, K = Cin / group * kh * kw; depthwise convs apart), or
 * a standard list of ResNet (CIFAR) and MobileNetV2 (CIFAR and ImageNet) shapes.
 */
import { Graph } from '../ir/graph';
import { attrNum, convParams } from '../engine/lower-f32';
import type { LayerShape } from './native-bench';

export type LayerKind = 'conv' | 'pointwise' | 'depthwise' | 'grouped' | 'gemm';

export interface BenchLayer {
  /** e.g. 'conv 3x3 16->32 s2 @32'. */
  name: string;
  kind: LayerKind;
  /** How many layers of the model (or of the standard networks) have this shape. */
  count: number;
  /** Node names of those layers (model shapes only). */
  nodes: string[];
  shape: LayerShape;
  /** The GEMM view of one call: M output pixels (rows), N output channels, K reduction (per group). */
  gemm: { m: number; n: number; k: number };
}

const outDim = (i: number, k: number, s: number, p0: number, p1: number, d: number): number => Math.floor((i + p0 + p1 - ((k - 1) * d + 1)) / s) + 1;

function kindOf(s: LayerShape): LayerKind {
  if (s.gemm) return 'gemm';
  if (s.group > 1 && s.group === s.cin && s.group === s.cout) return 'depthwise';
  if (s.group > 1) return 'grouped';
  return s.kh === 1 && s.kw === 1 ? 'pointwise' : 'conv';
}

function describe(s: LayerShape): string {
  if (s.gemm) return `gemm ${s.cin}->${s.cout}`;
  const kind = kindOf(s);
  const stride = s.strideH === 1 && s.strideW === 1 ? '' : s.strideH === s.strideW ? ` s${s.strideH}` : ` s${s.strideH}x${s.strideW}`;
  const size = s.h === s.w ? `@${s.h}` : `@${s.h}x${s.w}`;
  const ch = kind === 'depthwise' ? `${s.cin}` : `${s.cin}->${s.cout}${kind === 'grouped' ? ` g${s.group}` : ''}`;
  const tag = kind === 'depthwise' ? 'dw' : kind === 'grouped' ? 'conv' : kind === 'pointwise' ? 'pw' : 'conv';
  return `${tag} ${s.kh}x${s.kw} ${ch}${stride} ${size}`;
}

/** The BenchLayer of `shape` (count 1, no nodes). */
export function benchLayer(shape: LayerShape, count = 1, nodes: string[] = []): BenchLayer {
  const ho = shape.gemm ? 1 : outDim(shape.h, shape.kh, shape.strideH, shape.padTop, shape.padBottom, shape.dilationH);
  const wo = shape.gemm ? 1 : outDim(shape.w, shape.kw, shape.strideW, shape.padLeft, shape.padRight, shape.dilationW);
  return {
    name: describe(shape),
    kind: kindOf(shape),
    count,
    nodes,
    shape,
    gemm: { m: shape.n * ho * wo, n: shape.cout / shape.group, k: (shape.cin / shape.group) * shape.kh * shape.kw },
  };
}

/** A square conv, pad (k - 1) / 2 on every side. */
export function conv(n: number, cin: number, cout: number, hw: number, k: number, stride = 1, group = 1): LayerShape {
  const p = (k - 1) >> 1;
  return {
    gemm: false, n, cin, cout, h: hw, w: hw, kh: k, kw: k, group, strideH: stride, strideW: stride, dilationH: 1, dilationW: 1,
    padTop: p, padLeft: p, padBottom: p, padRight: p,
  };
}

export function gemmShape(rows: number, k: number, n: number): LayerShape {
  return { ...conv(rows, k, n, 1, 1), gemm: true };
}

/**
 * Standard shapes at batch `batch`: ResNet-20/32 (CIFAR 32x32: the stem, the 16-, 32- and
 * 64-channel 3x3 convs and their stride-2 transitions), MobileNetV2-w05 on CIFAR (1x1 expand and
 * project convs, depthwise 3x3 from 16x16 down to 2x2) and MobileNetV2 on ImageNet 224x224 (a
 * few of its 1x1 and depthwise layers), and a classifier Gemm.
 */
export function standardLayers(batch: number): BenchLayer[] {
  const b = batch;
  const list: [LayerShape, number][] = [
    // ResNet-20 (count: layers of ResNet-20)
    [conv(b, 3, 16, 32, 3), 1],
    [conv(b, 16, 16, 32, 3), 6],
    [conv(b, 16, 32, 32, 3, 2), 1],
    [conv(b, 32, 32, 16, 3), 5],
    [conv(b, 32, 64, 16, 3, 2), 1],
    [conv(b, 64, 64, 8, 3), 5],
    // MobileNetV2-w05, CIFAR
    [conv(b, 16, 96, 16, 1), 1],
    [conv(b, 96, 16, 16, 1), 1],
    [conv(b, 96, 96, 16, 3, 1, 96), 1],
    [conv(b, 96, 96, 16, 3, 2, 96), 1],
    [conv(b, 96, 96, 8, 3, 1, 96), 2],
    [conv(b, 192, 192, 4, 3, 1, 192), 4],
    [conv(b, 480, 480, 2, 3, 1, 480), 3],
    // MobileNetV2, ImageNet 224x224 (batch / 8 images: the same work order of magnitude)
    [conv(Math.max(1, b >> 3), 32, 192, 56, 1), 1],
    [conv(Math.max(1, b >> 3), 144, 144, 56, 3, 1, 144), 1],
    // a classifier
    [gemmShape(b, 1280, 1000), 1],
  ];
  return list.map(([s, count]) => benchLayer(s, count));
}

/**
 * Every Conv (weight a constant [Cout, Cin/g, kh, kw], input shape known) and Gemm/MatMul with a
 * constant 2-D weight of a prepared graph at batch `batch`, identical shapes merged (count).
 */
export function modelLayers(graph: Graph, batch: number): BenchLayer[] {
  const byKey = new Map<string, BenchLayer>();
  const add = (s: LayerShape, node: string): void => {
    const key = JSON.stringify(s);
    const seen = byKey.get(key);
    if (seen) {
      seen.count += 1;
      seen.nodes.push(node);
    } else {
      byKey.set(key, benchLayer(s, 1, [node]));
    }
  };
  for (const node of graph.nodes) {
    const w = graph.initializers.get(node.inputs[1] ?? '');
    if (!w) continue;
    if (node.op === 'Conv' && w.dims.length === 4) {
      const x = graph.values.get(node.inputs[0]!)?.shape ?? [];
      const [, c, h, wd] = x.map(Number);
      if (x.length !== 4 || !Number.isInteger(c) || !Number.isInteger(h) || !Number.isInteger(wd)) continue;
      const p = convParams(node, w.dims, x);
      add({
        gemm: false, n: batch, cin: c!, cout: w.dims[0]!, h: h!, w: wd!, kh: w.dims[2]!, kw: w.dims[3]!, group: p.group,
        strideH: p.strides[0], strideW: p.strides[1], dilationH: p.dilations[0], dilationW: p.dilations[1],
        padTop: p.pads[0], padLeft: p.pads[1], padBottom: p.pads[2], padRight: p.pads[3],
      }, node.name);
    } else if ((node.op === 'Gemm' || node.op === 'MatMul') && w.dims.length === 2) {
      const transB = node.op === 'Gemm' && attrNum(node, 'transB', 0) !== 0;
      const [k, n] = transB ? [w.dims[1]!, w.dims[0]!] : [w.dims[0]!, w.dims[1]!];
      add(gemmShape(batch, k, n), node.name);
    }
  }
  return [...byKey.values()];
}
