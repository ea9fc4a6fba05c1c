/** The QDQ writer: structure, 4-bit types and opset, and the ONNX checker (Python, tests only). */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadClassifier } from '../../src/api/model';
import { loadModel } from '../../src/onnx/load';
import { toQdq } from '../../src/onnx/qdq';
import { saveModel } from '../../src/onnx/save';
import { findLayers, quantizedTensors } from '../../src/quant/layers';
import { PLAN_VERSION, QuantPlan } from '../../src/quant/plan';
import { weightQuant } from '../../src/quant/first-plan';
import { modelFile } from '../helpers';
import { pythonOnnx, testWithTool } from '../tools';

const prepared = loadClassifier(modelFile('resnet20'));
const model = prepared.model;
const layers = findLayers(model.graph);

/** A plan with fixed activation ranges (no data needed): every tensor [0, 4] or [-3, 3]. */
function planOf(wBits: number, aBits: number, perChannel: boolean, floatLayer?: string): QuantPlan {
  const activations: QuantPlan['activations'] = {};
  for (const t of quantizedTensors(model.graph, layers, 'float-residual')) {
    const qmax = 2 ** aBits - 1;
    activations[t] = t === 'input'
      ? { bits: aBits, signed: false, scale: 6 / qmax, zeroPoint: Math.round(qmax / 2), qmin: 0, qmax, range: [-3, 3], method: 'minmax' }
      : { bits: aBits, signed: false, scale: 4 / qmax, zeroPoint: 0, qmin: 0, qmax, range: [0, 4], method: 'minmax' };
  }
  return {
    version: PLAN_VERSION,
    scope: 'float-residual',
    activations,
    layers: layers.map((l) => (l.id === floatLayer ? { id: l.id, float: true } : { id: l.id, float: false, weight: weightQuant(model, l, wBits, perChannel, 'minmax') })),
  };
}


function checker(bytes: Uint8Array): { status: number | null; stderr: string } {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'layerq-qdq-')), 'model.onnx');
  fs.writeFileSync(file, bytes);
  return spawnSync('python3', ['-c', 'import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)', file], { encoding: 'utf8' });
}

describe('QDQ export', () => {
  test('W8A8 per-channel: one Q/DQ pair per quantized tensor, DQ per weight and bias, opset >= 13', () => {
    const plan = planOf(8, 8, true);
    const qdq = toQdq(model, layers, plan);
    const ops = qdq.graph.nodes.map((n) => n.op);
    const tensors = Object.keys(plan.activations).length;
    expect(ops.filter((o) => o === 'QuantizeLinear')).toHaveLength(tensors);
    expect(ops.filter((o) => o === 'DequantizeLinear')).toHaveLength(tensors + 2 * layers.length);
    expect(qdq.opset).toBeGreaterThanOrEqual(13);
    const w = qdq.graph.initializers.get(`${layers[0]!.weight}_quantized`)!;
    expect(w.dtype).toBe('int8');
    const dq = qdq.graph.nodes.find((n) => n.name === `${layers[0]!.weight}_DequantizeLinear`)!;
    expect(dq.attrs['axis']).toBe(0);
    // Every consumer of a quantized tensor reads its dequantized copy: only its QuantizeLinear
    // reads the tensor itself, or, where the Relu producing it is redundant under the
    // quantization (range [0, 4], zero point 0) and left out, the Relu's input.
    for (const t of Object.keys(plan.activations)) {
      const readers = qdq.graph.nodes.filter((n) => n.inputs.includes(t));
      expect(readers.every((n) => n.name === `${t}_QuantizeLinear`)).toBe(true);
      expect(qdq.graph.nodes.filter((n) => n.inputs.includes(`${t}_dequantized`)).length).toBeGreaterThan(0);
    }
    const relus = (m: typeof model): number => m.graph.nodes.filter((n) => n.op === 'Relu').length;
    expect(relus(qdq)).toBeLessThan(relus(model));
  });

  test('4-bit weights and activations: INT4/UINT4 tensors, opset 21, survives a save/load round trip', () => {
    const bytes = saveModel(toQdq(model, layers, planOf(4, 4, true)));
    const back = loadModel(bytes);
    expect(back.opset).toBe(21);
    const w = back.graph.initializers.get(`${layers[3]!.weight}_quantized`)!;
    expect(w.dtype).toBe('int4');
    expect(Math.max(...Array.from(w.data as Int8Array, Math.abs))).toBeLessThanOrEqual(7);
    const zp = back.graph.initializers.get(`${layers[3]!.input}_zero_point`)!;
    expect(zp.dtype).toBe('uint4');
  });

  test('a layer the plan keeps float keeps its float weight', () => {
    const id = layers[5]!.id;
    const qdq = toQdq(model, layers, planOf(8, 8, false, id));
    expect(qdq.graph.initializers.get(layers[5]!.weight)!.dtype).toBe('float32');
    expect(qdq.graph.initializers.has(`${layers[5]!.weight}_quantized`)).toBe(false);
  });

  testWithTool(pythonOnnx, "Python's onnx (onnx.checker)").each([
    [8, 8, true],
    [8, 8, false],
    [4, 8, true],
    [4, 4, false],
  ])('W%iA%i per-channel=%s passes onnx.checker (full check)', (w, a, pc) => {
    const r = checker(saveModel(toQdq(model, layers, planOf(w, a, pc))));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
