// A user's TypeScript program, compiled against the installed npm package: layerq's library API
// evaluates and quantizes the built-in task that `npx layerq demo` wrote into ./layerq-demo.
import * as fs from 'fs';
import { evaluate, isaInfo, LayerqError, nativeAddonPath, quantize, type QuantConfig, type QuantizeResult } from 'layerq';

const task = process.argv[2] ?? 'layerq-demo/synthetic';

async function main(): Promise<void> {
  const model = `${task}/stripes.onnx`;
  const fp32 = await evaluate({ model, data: `${task}/test`, preset: 'cifar' });
  const config: QuantConfig = {
    weightBits: 8, activationBits: 8, perChannel: true, method: 'minmax', weightMethod: 'minmax',
    symmetricActivations: false, scope: 'float-residual',
  };
  const result: QuantizeResult = await quantize({
    model, calibData: `${task}/calib-pool`, valData: `${task}/val`, out: 'consumer-out', preset: 'cifar',
    config, calibrationPerClass: 16, seed: 0, labelFree: false,
  });
  if (!fs.existsSync(result.modelPath)) throw new Error(`quantize wrote no ${result.modelPath}`);
  let code = '';
  try {
    await evaluate({ model: 'no-such-model.onnx', data: `${task}/test`, preset: 'cifar' });
  } catch (e) {
    if (e instanceof LayerqError) code = e.code;
    else throw e;
  }
  console.log(JSON.stringify({
    addon: nativeAddonPath(),
    isa: isaInfo().detected,
    fp32Top1: fp32.top1,
    validation: result.report.accuracy,
    qdqModel: result.modelPath,
    missingModelError: code,
  }));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
