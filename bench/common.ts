/** Shared pieces of the benchmark scripts: paths of the shared data, ORT sessions, timing. */
import * as path from 'path';
import * as ort from 'onnxruntime-node';
import { ImageSet, Preprocess, listImageFolder, preprocessPreset } from '../src/data';

export const SHARED = path.resolve(__dirname, '..', '..', '..', 'shared');
export const MODELS = path.join(SHARED, 'models');
export const CIFAR = path.join(SHARED, 'datasets', 'cifar10-jpeg');

export function modelPath(name: string): string {
  return path.join(MODELS, `${name}.onnx`);
}

/** A split of the shared CIFAR-10 images ('calib-pool' | 'val' | 'test'), decoded once (preset cifar by default). */
export async function loadSplit(split: string, limitPerClass?: number, preprocess: Preprocess = preprocessPreset('cifar')): Promise<ImageSet> {
  const pool = await listImageFolder(path.join(CIFAR, split));
  const seen = new Map<number, number>();
  const samples = pool.samples.filter((s) => {
    const k = seen.get(s.label) ?? 0;
    seen.set(s.label, k + 1);
    return limitPerClass === undefined || k < limitPerClass;
  });
  return ImageSet.load(samples, preprocess);
}

export interface OrtOptions {
  threads?: number;
  /**
   * ORT's worker threads spin after each run by default, taking the cores the next runner in an
   * alternating benchmark needs; throughput benches turn spinning off.
   */
  noSpin?: boolean;
  /** Exact QDQ semantics: ONNX Runtime's fused int8 kernels off. */
  exactQdq?: boolean;
  /** ONNX Runtime's profiler on, its trace written to PREFIX_<time>.json at endProfiling(). */
  profilePrefix?: string;
}

export async function ortSession(model: string | Uint8Array, options: OrtOptions = {}): Promise<ort.InferenceSession> {
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: options.threads ?? 2,
    interOpNumThreads: 1,
    ...(options.profilePrefix ? { enableProfiling: true, profileFilePrefix: options.profilePrefix } : {}),
    extra: {
      session: {
        ...(options.exactQdq ? { disable_quant_qdq: '1' } : {}),
        ...(options.noSpin ? { 'intra_op.allow_spinning': '0', 'inter_op.allow_spinning': '0' } : {}),
      },
    },
  };
  return typeof model === 'string' ? ort.InferenceSession.create(model, sessionOptions) : ort.InferenceSession.create(model, sessionOptions);
}

/** Logits [count, classes] of ORT over an image set, batch by batch. */
export async function ortLogits(session: ort.InferenceSession, images: ImageSet, batchSize = 64): Promise<Float32Array> {
  const chunks: Float32Array[] = [];
  const [, c, h, w] = images.dims;
  for (let start = 0; start < images.count; start += batchSize) {
    const b = images.batch(start, batchSize);
    const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', b.data, [b.count, c, h, w]) };
    const out = await session.run(feeds);
    chunks.push(out[session.outputNames[0]!]!.data as Float32Array);
  }
  const total = chunks.reduce((n, a) => n + a.length, 0);
  const all = new Float32Array(total);
  let at = 0;
  for (const a of chunks) {
    all.set(a, at);
    at += a.length;
  }
  return all;
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Median of a small array of numbers. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** A conv layer shape for the kernel benches; `count` is how often it occurs in the network. */
export interface ConvShape { name: string; cin: number; cout: number; hw: number; stride: number; k: number; count: number; group?: number }

/**
 * ResNet-20's conv shapes: stem, 3 stages of 3 basic blocks (2 convs each); the first conv of
 * stages 2 and 3 has stride 2.
 */
export const RESNET20_CONVS: readonly ConvShape[] = [
  { name: 'stem 3->16 @32', cin: 3, cout: 16, hw: 32, stride: 1, k: 3, count: 1 },
  { name: '16->16 @32', cin: 16, cout: 16, hw: 32, stride: 1, k: 3, count: 6 },
  { name: '16->32 s2 @32', cin: 16, cout: 32, hw: 32, stride: 2, k: 3, count: 1 },
  { name: '32->32 @16', cin: 32, cout: 32, hw: 16, stride: 1, k: 3, count: 5 },
  { name: '32->64 s2 @16', cin: 32, cout: 64, hw: 16, stride: 2, k: 3, count: 1 },
  { name: '64->64 @8', cin: 64, cout: 64, hw: 8, stride: 1, k: 3, count: 5 },
];
