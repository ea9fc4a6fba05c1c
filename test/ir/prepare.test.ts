/** prepareModel on the shared models: what must be gone, what must be known. */
import * as path from 'path';
import { loadModel } from '../../src/onnx/load';
import { prepareModel } from '../../src/ir/passes/prepare';
import { RUNTIME_OPS } from '../../src/ir/passes/check-supported';
import { classCount, imageInput } from '../../src/ir/image-input';
import { MODELS_DIR } from '../onnx/ort-helpers';

const load = (file: string) => loadModel(path.join(MODELS_DIR, file));

describe('prepareModel(resnet20-bn.onnx)', () => {
  const original = load('resnet20-bn.onnx');
  const before = original.graph.nodes.length;
  const prepared = prepareModel(original);
  const g = prepared.graph;
  const ops = g.nodes.map((n) => n.op);

  it('leaves no BatchNormalization or shape arithmetic', () => {
    for (const op of ['BatchNormalization', 'Shape', 'Gather', 'Unsqueeze', 'ConstantOfShape', 'Cast', 'Concat', 'Mul', 'Sub', 'Constant']) {
      expect(ops).not.toContain(op);
    }
    expect(ops.every((op) => RUNTIME_OPS.has(op))).toBe(true);
  });

  it('keeps the network: 19 Conv (each with a folded bias), 19 Relu, 9 Add, 2 Pad, 1 Gemm', () => {
    const count = (op: string) => ops.filter((o) => o === op).length;
    expect([count('Conv'), count('Relu'), count('Add'), count('Pad'), count('Gemm')]).toEqual([19, 19, 9, 2, 1]);
    for (const conv of g.nodes.filter((n) => n.op === 'Conv')) {
      expect(g.initializers.get(conv.inputs[2] ?? '')?.dims).toEqual([g.initializers.get(conv.inputs[1]!)!.dims[0]]);
    }
  });

  it('gives the Pads constant pads: 8 then 16 zero channels on each side', () => {
    const pads = g.nodes.filter((n) => n.op === 'Pad').map((n) => Array.from(g.initializers.get(n.inputs[1]!)!.data));
    expect(pads).toEqual([[0, 8, 0, 0, 0, 8, 0, 0], [0, 16, 0, 0, 0, 16, 0, 0]]);
  });

  it('gives every runtime value a shape with the batch symbolic', () => {
    for (const n of g.nodes) {
      for (const o of n.outputs) {
        const v = g.values.get(o);
        expect(v).toBeDefined();
        expect(v!.shape[0]).toBe('batch');
        expect(v!.shape.slice(1).every((d) => typeof d === 'number')).toBe(true);
      }
    }
    const padOut = g.values.get(g.nodes.find((n) => n.op === 'Pad')!.outputs[0]!)!;
    expect(padOut.shape).toEqual(['batch', 32, 16, 16]);
    expect(g.values.get('logits')!.shape).toEqual(['batch', 10]);
  });

  it('does not modify the loaded model', () => {
    expect(original.graph.nodes.length).toBe(before);
    expect(original.graph.nodes.some((n) => n.op === 'BatchNormalization')).toBe(true);
  });

  it('finds the image input and the class count', () => {
    expect(imageInput(g)).toEqual({ name: 'input', channels: 3, height: 32, width: 32, layout: 'NCHW' });
    expect(classCount(g)).toBe(10);
  });
});

describe('prepareModel(mobilenetv2-w05.onnx)', () => {
  const g = prepareModel(load('mobilenetv2-w05.onnx')).graph;

  it('turns ReLU6 Clip bounds into attributes min 0, max 6', () => {
    const clips = g.nodes.filter((n) => n.op === 'Clip');
    expect(clips).toHaveLength(35);
    for (const c of clips) {
      expect(c.inputs).toHaveLength(1);
      expect([c.attrs.min, c.attrs.max]).toEqual([0, 6]);
    }
  });

  it('infers the 16x16 maps after the stride-2 first conv', () => {
    const first = g.nodes.find((n) => n.op === 'Conv')!;
    expect(g.values.get(first.outputs[0]!)!.shape.slice(2)).toEqual([16, 16]);
  });
});
