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
export { listImageFolder, readListFile, ImageSet, preprocessPreset, PRESET_NAMES, selectBalanced, type Dataset, type Preprocess, type SelectionFit, type FitSummary } from './data';
export { inferPreprocess, resolvePreprocess, NORMALIZATIONS, type PreprocessSpec } from './data/preprocess-spec';
export { defaultSetSizes, type DataOptions, type DataSummary } from './api/select-data';
export type { PreprocessOptions } from './api/preprocess';

// engine
export { Engine, defaultBatchSize } from './engine/engine';
export { quantizedEngine } from './engine/engine';
export type { QuantMode } from './engine/quantized';
export { isaInfo, setIsa, setThreads, nativeAddonPath } from './engine/addon';

// quantization
export { findLayers, quantizedTensors, type Layer, type ActivationScope } from './quant/layers';
export { initialPlan, checkQuantConfig, type QuantConfig } from './quant/first-plan';
export { calibratePlan, collectStatistics, type Calibration } from './pipeline/calibrate';
export { type QuantPlan, type LayerPlan, type TensorQuant, type WeightQuant, parsePlan, diffPlans, clonePlan } from './quant/plan';
export { toQdq } from './onnx/qdq';

// commands
export { evaluate, type EvaluateOptions, type EvaluateResult } from './api/evaluate';
export { quantize, type QuantizeOptions, type QuantizeResult } from './api/quantize';
export { demo, type DemoResult } from './api/demo';
export { writeReportHtml, type ReportHtmlResult } from './api/report';
export { renderReportHtml } from './report/html';
export { parseReport, type ReadableReport } from './report/upgrade';
export { bench, type BenchOptions, type BenchResult } from './api/bench';
export { accuracy, agreement, type Accuracy } from './eval/metrics';
export type { QuantizeReport } from './report/report';
