/** `layerq evaluate`: FP32 accuracy and throughput of a model on a labelled image pool. */
import { ImageSet, Preprocess, pixelSize } from '../data';
import { LayerqError } from '../errors';
import { Engine, defaultBatchSize } from '../engine/engine';
import { setThreads } from '../engine/addon';
import { Accuracy, accuracy } from '../eval/metrics';
import { checkClasses, openPool } from './data';
import { loadClassifier } from './model';
import { PreprocessOptions, preprocessFor } from './preprocess';

export type ProgressFn = (stage: string, done: number, total: number) => void;

export interface EvaluateOptions extends PreprocessOptions {
  model: string;
  data: string;
  /** Images a batch; default from the input size (64 at 32x32, 16 at 224x224). */
  batchSize?: number;
  threads?: number;
  /** Evaluate only the first N images of each class (quick checks). */
  limitPerClass?: number;
  onProgress?: ProgressFn;
}

export interface EvaluateResult extends Accuracy {
  model: string;
  data: string;
  preprocess: Preprocess;
  skipped: { path: string; reason: string }[];
  timings: {
    decodeSeconds: number;
    decodeImagesPerSecond: number;
    engineSeconds: number;
    engineImagesPerSecond: number;
  };
}

export async function evaluate(options: EvaluateOptions): Promise<EvaluateResult> {
  if (options.threads !== undefined) setThreads(options.threads);
  const model = loadClassifier(options.model);
  const preprocess = preprocessFor(model, options);
  const pool = await openPool(options.data);
  checkClasses(pool, model);
  const samples = options.limitPerClass === undefined ? pool.samples : firstPerClass(pool.samples, options.limitPerClass);

  // Decoded in chunks of at most CHUNK_BYTES of pixels, each run and dropped: memory stays
  // bounded however large the pool (a 50,000-image ImageNet val folder included).
  const chunk = Math.max(1, Math.floor(CHUNK_BYTES / pixelSize(preprocess)));
  const engine = Engine.fp32(model.model, { inference: true });
  const batchSize = options.batchSize ?? defaultBatchSize(model.model.graph.inputs[0]!.shape);
  const logitParts: Float32Array[] = [];
  const labelParts: Int32Array[] = [];
  const skipped: { path: string; reason: string }[] = [];
  let decodeMs = 0;
  let engineMs = 0;
  let count = 0;
  for (let start = 0; start < samples.length; start += chunk) {
    const part = samples.slice(start, start + chunk);
    const t0 = performance.now();
    let images: ImageSet;
    try {
      images = await ImageSet.load(part, preprocess, {
        onProgress: (done: number) => options.onProgress?.('decode', start + done, samples.length),
      });
    } catch (e) {
      // A chunk with no readable image: its files are all skipped, unless nothing at all is readable.
      if (!(e instanceof LayerqError && e.code === 'BAD_DATA' && samples.length > part.length)) throw e;
      skipped.push(...part.map((x) => ({ path: x.path, reason: 'could not be decoded' })));
      continue;
    }
    const t1 = performance.now();
    logitParts.push(
      await engine.runAll(images, {
        batchSize,
        onProgress: (done) => options.onProgress?.('evaluate', count + done, samples.length),
      }),
    );
    engineMs += performance.now() - t1;
    decodeMs += t1 - t0;
    labelParts.push(images.labels);
    skipped.push(...images.skipped);
    count += images.count;
  }
  if (count === 0) throw new LayerqError('BAD_DATA', `none of the ${samples.length} images could be decoded`);
  const join = <T extends Float32Array | Int32Array>(parts: T[], make: (n: number) => T): T => {
    const out = make(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  };
  const logits = join(logitParts, (n) => new Float32Array(n));
  const labels = join(labelParts, (n) => new Int32Array(n));
  return {
    model: options.model,
    data: options.data,
    preprocess,
    ...accuracy(logits, labels, pool.classes),
    skipped,
    timings: {
      decodeSeconds: decodeMs / 1000,
      decodeImagesPerSecond: (1000 * samples.length) / decodeMs,
      engineSeconds: engineMs / 1000,
      engineImagesPerSecond: (1000 * count) / engineMs,
    },
  };
}

/** Pixels decoded at once by `evaluate`. */
const CHUNK_BYTES = 256 * 2 ** 20;

function firstPerClass<T extends { label: number }>(samples: readonly T[], n: number): T[] {
  const seen = new Map<number, number>();
  return samples.filter((s) => {
    const k = seen.get(s.label) ?? 0;
    seen.set(s.label, k + 1);
    return k < n;
  });
}
