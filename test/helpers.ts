/** Paths of the shared data and models, relative to the repository (../shared). */
import * as path from 'path';
import { ImageSet, listImageFolder, preprocessPreset } from '../src/data';
import { LayerqError } from '../src/errors';

export const REPO = path.resolve(__dirname, '..');
export const SHARED = path.resolve(REPO, '..', 'shared');
export const MODELS = path.join(SHARED, 'models');
export const CIFAR = path.join(SHARED, 'datasets', 'cifar10-jpeg');
export const modelFile = (name: string): string => path.join(MODELS, `${name}.onnx`);

/** The first `perClass` images of each class of a shared CIFAR-10 split, decoded (preset cifar). */
export async function cifarSubset(split: string, perClass: number): Promise<ImageSet> {
  const pool = await listImageFolder(path.join(CIFAR, split));
  const samples = pool.classes.flatMap((_, c) => pool.samples.filter((s) => s.label === c).slice(0, perClass));
  return ImageSet.load(samples, preprocessPreset('cifar'));
}

/** Expects `f` to throw a one-line LayerqError with `code` whose message matches `pattern`. */
export function expectLayerqError(f: () => unknown, code: string, pattern: RegExp): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(LayerqError);
  expect((err as LayerqError).code).toBe(code);
  expect((err as LayerqError).message).not.toMatch(/\n/);
  expect((err as LayerqError).message).toMatch(pattern);
}
