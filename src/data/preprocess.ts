/**
 * Preprocessing, explicit and recorded: a plain JSON object that report.json stores, so an
 * evaluation can be replayed exactly. Output: float32, `out[c][y][x] = (pixel[src(c)] * scale
 * - mean[c]) / std[c]`, pixel an 8-bit value, `src(c)` = c for RGB models and 2 - c for BGR
 * ones, laid out NCHW (default) or NHWC.
 */
import { LayerqError, badArgument } from '../errors';

export interface Preprocess {
  /** Preset name, or a user's label for a custom recipe. */
  name: string;
  /** Resize so the shorter side has this many pixels (aspect kept), then centre-crop. */
  resize?: number;
  /** [height, width] in pixels: the centre crop after `resize`, or, without `resize`, the
   * exact size every image is resized to (aspect not kept; a no-op for images already that size). */
  crop: [number, number];
  /** Per-channel mean, in the model's channel order, subtracted after `scale`. */
  mean: [number, number, number];
  /** Per-channel standard deviation, in the model's channel order, divided by last. */
  std: [number, number, number];
  /** Multiplier from 8-bit pixel values, usually 1/255. */
  scale: number;
  /** The model's channel order; default RGB. */
  channelOrder?: 'RGB' | 'BGR';
  /** The model's input layout; default NCHW. */
  layout?: 'NCHW' | 'NHWC';
}

/** The pixel channel (0 R, 1 G, 2 B) that model input channel `c` reads. */
export function sourceChannel(p: Preprocess, c: number): number {
  return p.channelOrder === 'BGR' ? 2 - c : c;
}

const IMAGENET_MEAN: [number, number, number] = [0.485, 0.456, 0.406];
const IMAGENET_STD: [number, number, number] = [0.229, 0.224, 0.225];

const PRESETS: Record<string, Preprocess> = {
  /** CIFAR-10 models: 32x32 as stored (other sizes are resized to 32x32), ImageNet statistics. */
  cifar: { name: 'cifar', crop: [32, 32], mean: IMAGENET_MEAN, std: IMAGENET_STD, scale: 1 / 255 },
  /** ImageNet models: shorter side 256, centre crop 224x224. */
  imagenet: { name: 'imagenet', resize: 256, crop: [224, 224], mean: IMAGENET_MEAN, std: IMAGENET_STD, scale: 1 / 255 },
};

/** Names accepted by `preprocessPreset`. */
export const PRESET_NAMES: readonly string[] = Object.keys(PRESETS);

/** A fresh copy of the named preset; BAD_ARGUMENT listing the presets for an unknown name. */
export function preprocessPreset(name: string): Preprocess {
  const p = PRESETS[name];
  if (p === undefined) throw badArgument('preprocess preset', `one of ${PRESET_NAMES.join(', ')}`, name);
  return { ...p, crop: [...p.crop], mean: [...p.mean], std: [...p.std] };
}

const isPositiveInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;
const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * Checks every field (a Preprocess may come from a JSON file or the CLI) and returns it.
 * Throws BAD_ARGUMENT naming the field.
 */
export function checkPreprocess(p: Preprocess): Preprocess {
  if (typeof p !== 'object' || p === null) throw badArgument('preprocess', 'object', p);
  if (typeof p.name !== 'string') throw badArgument('preprocess.name', 'string', p.name);
  if (!Array.isArray(p.crop) || p.crop.length !== 2 || !p.crop.every(isPositiveInt)) {
    throw badArgument('preprocess.crop', '[height, width] of positive integers', JSON.stringify(p.crop));
  }
  if (p.resize !== undefined) {
    if (!isPositiveInt(p.resize)) throw badArgument('preprocess.resize', 'positive integer', p.resize);
    if (p.crop[0] > p.resize || p.crop[1] > p.resize) {
      throw new LayerqError('BAD_ARGUMENT', `preprocess.crop ${p.crop.join('x')} is larger than resize ${p.resize}`);
    }
  }
  for (const key of ['mean', 'std'] as const) {
    const v = p[key];
    if (!Array.isArray(v) || v.length !== 3 || !v.every(isFiniteNumber)) {
      throw badArgument(`preprocess.${key}`, '3 finite numbers', JSON.stringify(v));
    }
  }
  if (!p.std.every((s) => s > 0)) throw badArgument('preprocess.std', '3 positive numbers', JSON.stringify(p.std));
  if (!isFiniteNumber(p.scale) || p.scale <= 0) throw badArgument('preprocess.scale', 'positive number', p.scale);
  if (p.channelOrder !== undefined && p.channelOrder !== 'RGB' && p.channelOrder !== 'BGR') {
    throw badArgument('preprocess.channelOrder', 'RGB or BGR', p.channelOrder);
  }
  if (p.layout !== undefined && p.layout !== 'NCHW' && p.layout !== 'NHWC') throw badArgument('preprocess.layout', 'NCHW or NHWC', p.layout);
  return p;
}

/** Floats per image: 3 * height * width. */
export function imageSize(p: Preprocess): number {
  return 3 * p.crop[0] * p.crop[1];
}

/** The model input dims of `count` images: [count, 3, H, W], or [count, H, W, 3] for NHWC. */
export function inputDims(p: Preprocess, count: number): [number, number, number, number] {
  const [h, w] = p.crop;
  return p.layout === 'NHWC' ? [count, h, w, 3] : [count, 3, h, w];
}

/**
 * Lookup table [3][256]: model channel c, 8-bit value v -> float32 (v * scale - mean[c]) / std[c].
 * Exact in float64 before the single rounding to float32, and one load per output value.
 */
export function normalizationTable(p: Preprocess): Float32Array {
  const lut = new Float32Array(3 * 256);
  for (let c = 0; c < 3; c++) {
    for (let v = 0; v < 256; v++) lut[c * 256 + v] = (v * p.scale - (p.mean[c] as number)) / (p.std[c] as number);
  }
  return lut;
}
