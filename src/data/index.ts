/** The data path: pools, preprocessing, decoding, cached image sets, balanced selection. */
export { IMAGE_EXTENSIONS, isImageFile, listImageFolder, readListFile } from './dataset';
export type { Dataset, ListFileOptions, Sample } from './dataset';
export { PRESET_NAMES, checkPreprocess, imageSize, inputDims, normalizationTable, preprocessPreset, sourceChannel } from './preprocess';
export type { Preprocess } from './preprocess';
export { decodeImageInto, decodeImages, decodePixels, defaultConcurrency, normalizePixels, pixelSize, writeCropped, writeNormalized } from './decode';
export type { DecodeOptions, DecodeResult, FloatDecodeOptions, PixelDecodeOptions } from './decode';
export { ImageSet } from './imageset';
export type { Batch, ImageSetOptions } from './imageset';
export { checkSeed, deriveSeed, mulberry32, seededShuffle, shuffleInPlace } from './random';
export type { Rng } from './random';
export {
  ALL,
  comparePaths,
  describeFit,
  indicesByClass,
  predictedLabels,
  selectBalanced,
  selectBalancedSamples,
  selectBalancedSeparate,
  splitCounts,
  summarizeFit,
} from './select';
export type { FitSummary, SelectOptions, Selection, SelectionFit } from './select';
