/**
 * layerq's public library API: the pipeline steps as typed functions. The CLI (`src/cli`) is a
 * thin adapter over these.
 */
export { LayerqError, type ErrorCode } from './errors';
export type { Model, Graph, Node, Tensor, DType } from './ir/graph';

// load, prepare
export { loadClassifier, type PreparedModel } from './api/model';
export { loadModel } from './onnx/load';
export { saveModel } from './onnx/save';
export { prepareModel } from './ir/passes';

// data
export { listImageFolder, readListFile, ImageSet, preprocessPreset, PRESET_NAMES, selectBalanced, type Dataset, type Preprocess } from './data';

// engine
export { Engine } from './engine/engine';
export { quantizedEngine } from './engine/engine';
export type { QuantMode } from './engine/quantized';
export { isaInfo, setIsa, setThreads } from './engine/addon';

// quantization
export { findLayers, quantizedTensors, type Layer, type ActivationScope } from './quant/layers';
export { collectStatistics, initialPlan, checkQuantConfig, type QuantConfig } from './quant/calibration';
export { type QuantPlan, type LayerPlan, type TensorQuant, type WeightQuant, parsePlan, diffPlans, clonePlan } from './quant/plan';
export { toQdq } from './onnx/qdq';

// commands
export { evaluate, type EvaluateOptions, type EvaluateResult } from './api/evaluate';
export { quantize, type QuantizeOptions, type QuantizeResult } from './api/quantize';
export { demo, type DemoResult } from './api/demo';
export { bench, type BenchOptions, type BenchResult } from './api/bench';
export { accuracy, agreement, type Accuracy } from './eval/metrics';
export type { QuantizeReport } from './report/report';
