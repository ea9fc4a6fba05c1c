/** Step "load" and "prepare": an ONNX file to a prepared graph the engine can run. */
import { Model } from '../ir/graph';
import { ImageInput, classCount, imageInput } from '../ir/image-input';
import { checkSupported, prepareModel } from '../ir/passes';
import { checkWeights } from '../ir/passes/check-values';
import { loadModel } from '../onnx/load';

export interface PreparedModel {
  path: string;
  model: Model;
  input: ImageInput;
  classes: number;
  /** Suspect but usable content (weights of absurd magnitude), also emitted as process warnings. */
  warnings: string[];
}

/**
 * Loads, prepares (folds constants and BatchNorm, infers shapes) and checks a classifier. Throws
 * BAD_MODEL for NaN or infinite weights; weights of absurd magnitude are a warning
 * (`process.emitWarning`, type 'LayerqWarning', and `warnings`).
 */
export function loadClassifier(path: string): PreparedModel {
  const model = prepareModel(loadModel(path));
  checkSupported(model.graph);
  const warnings = checkWeights(model.graph);
  for (const w of warnings) process.emitWarning(w, 'LayerqWarning');
  return { path, model, input: imageInput(model.graph), classes: classCount(model.graph), warnings };
}
