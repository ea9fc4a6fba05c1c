'use strict';
/**
 * Fuzz worker: runs cases [from, to) of the seeded fuzz plan through the built library
 * (load, prepare, checks, one FP32 evaluation of one random image) and prints one JSON line
 * per case: {"i", "start"} before it, {"i", "outcome", "code"?, "message"?, "what"} after.
 * A crash or a hang shows as a started case without an end (the parent tells which).
 * Usage: node worker.js SEED FROM TO MODEL.onnx...
 */
const fs = require('fs');
const path = require('path');
const { mutate } = require('./mutate');

const dist = path.resolve(__dirname, '..', '..', 'dist', 'src');
const { loadModel } = require(`${dist}/onnx/load`);
const { prepareModel, checkSupported } = require(`${dist}/ir/passes`);
const { checkWeights } = require(`${dist}/ir/passes/check-values`);
const { imageInput, classCount } = require(`${dist}/ir/image-input`);
const { Engine } = require(`${dist}/engine/engine`);
const { LayerqError } = require(`${dist}/errors`);
const { mulberry32 } = require(`${dist}/data/random`);

const [seed, from, to, ...models] = process.argv.slice(2);
const bases = models.map((m) => fs.readFileSync(m));
process.removeAllListeners('warning'); // absurd-weight warnings are outcomes, not noise
const say = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

async function runCase(i) {
  const rng = mulberry32((Number(seed) * 1000003 + i) >>> 0);
  const m = Math.floor(rng() * bases.length);
  const { bytes, what } = mutate(bases[m], rng);
  const label = `${path.basename(models[m])}: ${what}`.slice(0, 300);
  say({ i, start: label });
  try {
    const model = prepareModel(loadModel(bytes));
    checkSupported(model.graph);
    checkWeights(model.graph);
    const input = imageInput(model.graph);
    classCount(model.graph);
    const x = new Float32Array(input.channels * input.height * input.width).map(() => rng() * 4 - 2);
    await Engine.fp32(model).run(x, 1);
    say({ i, outcome: 'result', what: label });
  } catch (e) {
    if (e instanceof LayerqError && e.code !== 'INTERNAL') say({ i, outcome: 'refused', code: e.code, message: e.message.slice(0, 200), what: label });
    else say({ i, outcome: 'internal', message: String((e && e.message) || e).slice(0, 300), what: label });
  }
}

(async () => {
  for (let i = Number(from); i < Number(to); i++) await runCase(i);
})();
