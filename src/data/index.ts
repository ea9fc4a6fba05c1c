/** The data path: pools, preprocessing, decoding, cached image sets, balanced selection. */
export { IMAGE_EXTENSIONS, isImageFile, listImageFolder, readListFile } from './dataset';
export type { Dataset, ListFileOptions, Sample } from './dataset';
export { PRESET_NAMES, checkPreprocess, imageSize, normalizationTable, preprocessPreset } from './preprocess';
export type { Preprocess } from './preprocess';
export { decodeImageInto, decodeImages, writeNormalized } from './decode';
export type { DecodeOptions, DecodeResult } from './decode';
export { ImageSet } from './imageset';
export type { Batch, ImageSetOptions } from './imageset';
export { checkSeed, deriveSeed, mulberry32, seededShuffle, shuffleInPlace } from './random';
export type { Rng } from './random';
export {
  comparePaths,
  indicesByClass,
  predictedLabels,
  selectBalanced,
  selectBalancedSamples,
  selectBalancedSeparate,
} from './select';
export type { SelectOptions, Selection } from './select';
