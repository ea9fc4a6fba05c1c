/** Preprocessing for other people's models: inferred from the input, stated by flags or JSON. */
import { inferPreprocess, resolvePreprocess } from '../../src/data/preprocess-spec';
import { LayerqError } from '../../src/errors';

const input = (height: number, width = height, layout: 'NCHW' | 'NHWC' = 'NCHW') => ({ height, width, channels: 3, layout });

describe('inferPreprocess', () => {
  test('32x32 is cifar, 224x224 imagenet, other sizes the ImageNet recipe at that size', () => {
    expect(inferPreprocess(input(32)).name).toBe('cifar');
    expect(inferPreprocess(input(224))).toMatchObject({ name: 'imagenet', resize: 256, crop: [224, 224] });
    expect(inferPreprocess(input(299))).toMatchObject({ name: 'imagenet-299x299', resize: 342, crop: [299, 299] });
    expect(inferPreprocess(input(240, 320))).toMatchObject({ resize: 366, crop: [240, 320] });
    expect(inferPreprocess(input(48))).toMatchObject({ crop: [48, 48] });
    expect(inferPreprocess(input(48)).resize).toBeUndefined();
    expect(inferPreprocess(input(224, 224, 'NHWC')).layout).toBe('NHWC');
  });
});

describe('resolvePreprocess', () => {
  test('flags over a file over the preset; the name says it was customized', () => {
    const file = { normalize: 'signed', channelOrder: 'BGR' as const, resize: 320 };
    const flags = { scale: 1, mean: [103.9, 116.8, 123.7] as [number, number, number], std: [1, 1, 1] as [number, number, number] };
    const p = resolvePreprocess(input(224), file, flags);
    expect(p).toMatchObject({ name: 'imagenet+custom', resize: 320, crop: [224, 224], channelOrder: 'BGR', scale: 1, mean: [103.9, 116.8, 123.7], std: [1, 1, 1] });
    expect(resolvePreprocess(input(224), { normalize: 'signed' })).toMatchObject({ mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
    expect(resolvePreprocess(input(224), { name: 'mine', resize: 0 }).resize).toBeUndefined();
  });

  test('a new input size keeps the crop ratio unless a resize is given', () => {
    expect(resolvePreprocess(input(299), { preset: 'imagenet', inputSize: [299, 299] })).toMatchObject({ resize: 342, crop: [299, 299] });
    expect(resolvePreprocess(input(299), { preset: 'imagenet', inputSize: [299, 299], resize: 320 }).resize).toBe(320);
  });

  test('refuses what the model cannot take, naming both sides', () => {
    const err = (f: () => unknown): LayerqError => {
      try {
        f();
      } catch (e) {
        return e as LayerqError;
      }
      throw new Error('no error');
    };
    expect(err(() => resolvePreprocess(input(32), { preset: 'imagenet' })).message).toBe(
      "preprocessing 'imagenet' makes 224x224 images but the model takes 32x32: leave out --preset to infer it, or give --input-size",
    );
    expect(err(() => resolvePreprocess(input(224, 224, 'NHWC'), { layout: 'NCHW' })).message).toMatch(/makes NCHW input but the model takes NHWC/);
    expect(err(() => resolvePreprocess({ ...input(224), channels: 1 }, {})).code).toBe('BAD_MODEL_INPUT');
    expect(err(() => resolvePreprocess(input(224), { normalize: 'zscore' })).message).toMatch(/one of imagenet, signed, unit, raw for normalize/);
    expect(err(() => resolvePreprocess(input(224), { colour: 'rgb' } as never)).message).toMatch(/preprocess field but received 'colour'/);
    expect(err(() => resolvePreprocess(input(224), { std: [1, 0, 1] })).message).toMatch(/3 positive numbers for std/);
  });
});
