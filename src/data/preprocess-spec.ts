/**
 * What preprocessing a model gets: a preset, a JSON file and flags layered over a recipe
 * inferred from the model's input, checked against that input. Pure: the caller reads the
 * JSON file (see src/api/preprocess.ts).
 */
import { LayerqError, badArgument } from '../errors';
import { PRESET_NAMES, Preprocess, checkPreprocess, preprocessPreset } from './preprocess';

/** The model input the recipe must produce. */
export interface ModelInputSize {
  height: number;
  width: number;
  channels: number;
  layout: 'NCHW' | 'NHWC';
}

/** Normalizations by name: ImageNet mean/std, [-1, 1], [0, 1], or raw [0, 255]. */
export const NORMALIZATIONS: Record<string, Pick<Preprocess, 'mean' | 'std' | 'scale'>> = {
  imagenet: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], scale: 1 / 255 },
  signed: { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], scale: 1 / 255 },
  unit: { mean: [0, 0, 0], std: [1, 1, 1], scale: 1 / 255 },
  raw: { mean: [0, 0, 0], std: [1, 1, 1], scale: 1 },
};

/**
 * A user's statement of what the model needs; every field optional. `resize: 0` means none
 * (every image is stretched to the input size). Fields of a JSON file have these names too,
 * `crop` taking the place of `inputSize`.
 */
export interface PreprocessSpec {
  preset?: string;
  name?: string;
  /** [height, width] of the model input; default the model's. */
  inputSize?: [number, number];
  /** Shorter side before the centre crop; 0 for no resize-and-crop. */
  resize?: number;
  /** A name from NORMALIZATIONS, applied before mean/std/scale. */
  normalize?: string;
  mean?: [number, number, number];
  std?: [number, number, number];
  scale?: number;
  channelOrder?: 'RGB' | 'BGR';
  layout?: 'NCHW' | 'NHWC';
}

/** The usual ImageNet ratio of crop to resize (224 / 256). */
const CROP_RATIO = 0.875;

/**
 * The recipe inferred from the input size alone: `cifar` for 32x32; for inputs under 64
 * pixels a plain resize to the input size; otherwise the ImageNet recipe at that size (shorter
 * side to round(size / 0.875), centre crop): `imagenet` at 224x224. ImageNet mean and std.
 */
export function inferPreprocess(input: ModelInputSize): Preprocess {
  const { height: h, width: w } = input;
  let p: Preprocess;
  if (h === 32 && w === 32) p = preprocessPreset('cifar');
  else if (h === 224 && w === 224) p = preprocessPreset('imagenet');
  else if (Math.min(h, w) < 64) p = { ...preprocessPreset('cifar'), name: `resize-${h}x${w}`, crop: [h, w] };
  else p = { ...preprocessPreset('imagenet'), name: `imagenet-${h}x${w}`, crop: [h, w], resize: Math.round(Math.max(h, w) / CROP_RATIO) };
  if (input.layout === 'NHWC') p.layout = 'NHWC';
  return p;
}

const isTriple = (v: unknown): v is [number, number, number] =>
  Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'number' && Number.isFinite(x));

/** Checks a spec (from flags or JSON): errors name the field. */
export function checkPreprocessSpec(s: PreprocessSpec): PreprocessSpec {
  if (typeof s !== 'object' || s === null || Array.isArray(s)) throw badArgument('preprocess', 'object', s);
  const known = new Set(['preset', 'name', 'inputSize', 'crop', 'resize', 'normalize', 'mean', 'std', 'scale', 'channelOrder', 'layout']);
  for (const k of Object.keys(s)) if (!known.has(k)) throw badArgument('preprocess field', [...known].join(', '), k);
  if (s.preset !== undefined && !PRESET_NAMES.includes(s.preset)) throw badArgument('preprocess preset', `one of ${PRESET_NAMES.join(', ')}`, s.preset);
  if (s.name !== undefined && typeof s.name !== 'string') throw badArgument('preprocess.name', 'string', s.name);
  if (s.inputSize !== undefined && !(Array.isArray(s.inputSize) && s.inputSize.length === 2 && s.inputSize.every((v) => Number.isInteger(v) && v > 0))) {
    throw badArgument('input size', '[height, width] of positive integers', JSON.stringify(s.inputSize));
  }
  if (s.resize !== undefined && !(Number.isInteger(s.resize) && s.resize >= 0)) throw badArgument('resize', 'non-negative integer (0: none)', s.resize);
  if (s.normalize !== undefined && !(s.normalize in NORMALIZATIONS)) {
    throw badArgument('normalize', `one of ${Object.keys(NORMALIZATIONS).join(', ')}`, s.normalize);
  }
  if (s.mean !== undefined && !isTriple(s.mean)) throw badArgument('mean', '3 finite numbers', JSON.stringify(s.mean));
  if (s.std !== undefined && !(isTriple(s.std) && s.std.every((v) => v > 0))) throw badArgument('std', '3 positive numbers', JSON.stringify(s.std));
  if (s.scale !== undefined && !(typeof s.scale === 'number' && Number.isFinite(s.scale) && s.scale > 0)) throw badArgument('scale', 'positive number', s.scale);
  if (s.channelOrder !== undefined && s.channelOrder !== 'RGB' && s.channelOrder !== 'BGR') throw badArgument('channel order', 'RGB or BGR', s.channelOrder);
  if (s.layout !== undefined && s.layout !== 'NCHW' && s.layout !== 'NHWC') throw badArgument('layout', 'NCHW or NHWC', s.layout);
  return s;
}

/**
 * The preprocessing for a model: `layers` (e.g. [from a JSON file, from flags]) applied in
 * order over the preset the first of them names, else over `inferPreprocess(input)`. Changing
 * the input size without a resize keeps the recipe's crop ratio. The result must produce the
 * model's input: BAD_ARGUMENT naming both sizes (or layouts) when it does not.
 */
export function resolvePreprocess(input: ModelInputSize, ...layers: PreprocessSpec[]): Preprocess {
  layers.forEach(checkPreprocessSpec);
  const preset = layers.find((l) => l.preset !== undefined)?.preset;
  const base = preset !== undefined ? preprocessPreset(preset) : inferPreprocess(input);
  const p: Preprocess = { ...base, crop: [...base.crop], mean: [...base.mean], std: [...base.std] };
  let changed = false;
  for (const l of layers) {
    const crop = l.inputSize ?? (l as { crop?: [number, number] }).crop;
    if (crop !== undefined) {
      if (p.resize !== undefined && l.resize === undefined) p.resize = Math.round((p.resize * Math.max(...crop)) / Math.max(...p.crop));
      p.crop = [crop[0], crop[1]];
      changed = true;
    }
    if (l.resize !== undefined) {
      if (l.resize === 0) delete p.resize;
      else p.resize = l.resize;
      changed = true;
    }
    if (l.normalize !== undefined) Object.assign(p, structuredClone(NORMALIZATIONS[l.normalize]!));
    if (l.mean !== undefined) p.mean = [...l.mean];
    if (l.std !== undefined) p.std = [...l.std];
    if (l.scale !== undefined) p.scale = l.scale;
    if (l.channelOrder !== undefined) p.channelOrder = l.channelOrder;
    if (l.layout !== undefined) p.layout = l.layout;
    changed ||= l.normalize !== undefined || l.mean !== undefined || l.std !== undefined || l.scale !== undefined || l.channelOrder !== undefined || l.layout !== undefined;
    if (l.name !== undefined) p.name = l.name;
  }
  if (changed && !layers.some((l) => l.name !== undefined)) p.name = `${base.name}+custom`;
  if (p.layout === undefined && input.layout === 'NHWC') p.layout = 'NHWC';
  checkPreprocess(p);
  if (input.channels !== 3) {
    throw new LayerqError('BAD_MODEL_INPUT', `the model takes ${input.channels} input channels; layerq feeds 3 (RGB or BGR)`);
  }
  if (p.crop[0] !== input.height || p.crop[1] !== input.width) {
    throw new LayerqError(
      'BAD_ARGUMENT',
      `preprocessing '${p.name}' makes ${p.crop[0]}x${p.crop[1]} images but the model takes ${input.height}x${input.width}: ` +
        'leave out --preset to infer it, or give --input-size',
    );
  }
  if ((p.layout ?? 'NCHW') !== input.layout) {
    throw new LayerqError('BAD_ARGUMENT', `preprocessing '${p.name}' makes ${p.layout ?? 'NCHW'} input but the model takes ${input.layout}`);
  }
  return p;
}
