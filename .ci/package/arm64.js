// Run by an arm64 Node under qemu-aarch64 in a project where the npm package was installed for
// linux-arm64 (.ci/package-check.sh): the package picks its prebuilt aarch64 addon by platform,
// the NEON kernels run, and the FP32 and int8 engines reproduce the x86-64 run's accuracy on the
// built-in task.   node arm64.js TASK_DIR EXPECTED_JSON
'use strict';
const assert = require('assert');
const path = require('path');
const layerq = require('layerq');

async function main() {
  const [task, expectedJson] = process.argv.slice(2);
  const expected = JSON.parse(expectedJson);
  assert.strictEqual(process.arch, 'arm64');
  const file = layerq.nativeAddonPath();
  assert.ok(file.endsWith(path.join('prebuilds', 'linux-arm64', 'layerq_native.node')), `loaded ${file}`);
  const info = layerq.isaInfo();
  assert.strictEqual(info.detected, 'neon');
  const model = path.join(task, 'stripes.onnx');
  const fp32 = await layerq.evaluate({ model, data: path.join(task, 'test'), preset: 'cifar', limitPerClass: expected.limitPerClass });
  const q = await layerq.quantize({
    model, calibData: path.join(task, 'calib-pool'), valData: path.join(task, 'val'), out: 'arm64-out', preset: 'cifar',
    config: { weightBits: 8, activationBits: 8, perChannel: true, method: 'minmax', weightMethod: 'minmax', symmetricActivations: false, scope: 'float-residual' },
    calibrationPerClass: 16, seed: 0, labelFree: false,
  });
  const got = { fp32Top1: fp32.top1, int8EngineTop1: q.report.accuracy.int8Engine.top1, quantizedTop1: q.report.accuracy.quantized.top1 };
  console.log(`arm64 (Node ${process.version} under qemu-aarch64): addon ${path.relative(process.cwd(), file)}, kernels ${info.detected}; ${JSON.stringify(got)}`);
  for (const k of Object.keys(got)) {
    // NEON and AVX2 sum floats in different orders: allow one image of a class to flip.
    assert.ok(Math.abs(got[k] - expected[k]) <= 0.5, `${k}: arm64 ${got[k]} vs x86-64 ${expected[k]}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
