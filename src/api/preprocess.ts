/** The preprocessing a command uses: preset, JSON file and flags over the model's input. */
import * as fs from 'fs';
import { Preprocess } from '../data';
import { PreprocessSpec, resolvePreprocess } from '../data/preprocess-spec';
import { LayerqError } from '../errors';
import type { PreparedModel } from './model';

export interface PreprocessOptions {
  /** Preset name (cifar, imagenet); default inferred from the model's input size. */
  preset?: string;
  /** A JSON file with PreprocessSpec fields (`crop` or `inputSize`, `resize`, `mean`, ...). */
  preprocessFile?: string;
  /** Overrides from flags, applied after the file. */
  preprocessSpec?: PreprocessSpec;
}

/** Reads a preprocessing JSON file; BAD_ARGUMENT naming the file when unreadable or not JSON. */
export function readPreprocessFile(file: string): PreprocessSpec {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new LayerqError('BAD_ARGUMENT', `cannot read preprocessing file ${file}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text) as PreprocessSpec;
  } catch (e) {
    throw new LayerqError('BAD_ARGUMENT', `preprocessing file ${file} is not JSON: ${(e as Error).message}`);
  }
}

/** The recipe for `model` under `o` (see resolvePreprocess). */
export function preprocessFor(model: PreparedModel, o: PreprocessOptions): Preprocess {
  const layers: PreprocessSpec[] = [];
  if (o.preset !== undefined) layers.push({ preset: o.preset });
  if (o.preprocessFile !== undefined) layers.push(readPreprocessFile(o.preprocessFile));
  if (o.preprocessSpec !== undefined) layers.push(o.preprocessSpec);
  return resolvePreprocess(model.input, ...layers);
}
