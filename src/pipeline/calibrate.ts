/**
 * Step "calibrate": run the FP32 model over the calibration set, let observers reduce every
 * quantized tensor to statistics, then turn them into the first QuantPlan. The statistics are
 * kept: the search builds its candidates from them.
 */
import { BatchSource, Engine } from '../engine/engine';
import type { Value } from '../engine/runtime';
import { Model } from '../ir/graph';
import { CalibrationStatistics, QuantConfig, checkQuantConfig, initialPlan } from '../quant/first-plan';
import { Layer, findLayers, quantizedTensors } from '../quant/layers';
import { ChannelMeanObserver, HistogramObserver } from '../quant/observers';
import type { QuantPlan } from '../quant/plan';

export interface CalibrateOptions {
  batchSize?: number;
  onProgress?: (done: number, total: number) => void;
  /** Also observe these tensors (histograms and channel means), e.g. for the search's candidates. */
  extraTensors?: readonly string[];
  /** Called with every value the FP32 run writes (after the observers): more statistics. */
  observe?: (name: string, value: Value) => void | Promise<void>;
}

/** Histograms and per-channel means of `tensors` over `images`, from FP32 runs of `engine`. */
export async function collectStatistics(
  engine: Engine,
  images: BatchSource,
  tensors: readonly string[],
  options: CalibrateOptions = {},
): Promise<CalibrationStatistics> {
  const observers = new Map(tensors.map((t) => [t, new HistogramObserver()]));
  const means = new Map(tensors.map((t) => [t, new ChannelMeanObserver()]));
  await engine.observe(
    images,
    async (name, value) => {
      if (value.kind === 'f32') {
        const data = value.data.subarray(0, value.dims.reduce((a, b) => a * b, 1));
        observers.get(name)?.update(data);
        means.get(name)?.update(data, value.dims);
      }
      await options.observe?.(name, value);
    },
    { ...(options.batchSize ? { batchSize: options.batchSize } : {}), ...(options.onProgress ? { onProgress: options.onProgress } : {}) },
  );
  return {
    histograms: new Map([...observers].map(([t, o]) => [t, o.stats()])),
    channelMeans: new Map([...means].map(([t, o]) => [t, o.means()])),
  };
}

export interface Calibration {
  layers: Layer[];
  config: QuantConfig;
  /** Every layer quantized by the config's one rule (and bias-corrected, by default). */
  plan: QuantPlan;
  /** Statistics of every layer input and every tensor the scope quantizes. */
  stats: CalibrationStatistics;
}

/** find layers -> statistics -> first plan, in one step. */
export async function calibratePlan(model: Model, images: BatchSource, config: QuantConfig, options: CalibrateOptions = {}): Promise<Calibration> {
  checkQuantConfig(config);
  const layers = findLayers(model.graph);
  // Every layer's input and every tensor of the scope.
  const tensors = new Set([
    ...quantizedTensors(model.graph, layers, config.scope),
    ...(options.extraTensors ?? []),
  ]);
  const stats = await collectStatistics(Engine.fp32(model), images, [...tensors], options);
  return { layers, config, plan: initialPlan(model, layers, stats, config), stats };
}
