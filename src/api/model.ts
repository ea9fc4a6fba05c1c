/** Step "load" and "prepare": an ONNX file to a prepared graph the engine can run. */
import { Model } from '../ir/graph';
import { ImageInput, classCount, imageInput } from '../ir/image-input';
import { checkSupported, prepareModel } from '../ir/passes';
import { loadModel } from '../onnx/load';

export interface PreparedModel {
  path: string;
  model: Model;
  input: ImageInput;
  classes: number;
}

/** Loads, prepares (folds constants and BatchNorm, infers shapes) and checks a classifier. */
export function loadClassifier(path: string): PreparedModel {
  const model = prepareModel(loadModel(path));
  checkSupported(model.graph);
  return { path, model, input: imageInput(model.graph), classes: classCount(model.graph) };
}
