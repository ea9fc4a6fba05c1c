/** Paths of the shared data and models, relative to the repository (../shared). */
import * as path from 'path';

export const REPO = path.resolve(__dirname, '..');
export const SHARED = path.resolve(REPO, '..', 'shared');
export const MODELS = path.join(SHARED, 'models');
export const CIFAR = path.join(SHARED, 'datasets', 'cifar10-jpeg');
export const modelFile = (name: string): string => path.join(MODELS, `${name}.onnx`);
