import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { LayerqError } from '../../src/errors';
import { decodeImageInto, decodeImages, writeNormalized } from '../../src/data/decode';
import { ImageSet } from '../../src/data/imageset';
import { Preprocess, checkPreprocess, normalizationTable, preprocessPreset } from '../../src/data/preprocess';

const VAL = path.resolve(__dirname, '../../../shared/datasets/cifar10-jpeg/val');
const KNOWN = path.join(VAL, 'airplane', '0000.jpg');
const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];
const PLANE = 32 * 32;

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'layerq-decode-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function valFiles(cls: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => path.join(VAL, cls, `${String(i).padStart(4, '0')}.jpg`));
}

describe('preprocess presets', () => {
  test('cifar and imagenet', () => {
    expect(preprocessPreset('cifar')).toEqual({ name: 'cifar', crop: [32, 32], mean: MEAN, std: STD, scale: 1 / 255 });
    const inet = preprocessPreset('imagenet');
    expect([inet.resize, inet.crop]).toEqual([256, [224, 224]]);
    inet.mean[0] = 9; // a copy: the preset itself is not changed
    expect(preprocessPreset('imagenet').mean[0]).toBe(0.485);
  });

  test('unknown preset and bad fields are BAD_ARGUMENT naming them', () => {
    expect(() => preprocessPreset('coco')).toThrow("Expected one of cifar, imagenet for preprocess preset but received 'coco'");
    const bad = (p: Partial<Preprocess>): (() => unknown) => () => checkPreprocess({ ...preprocessPreset('imagenet'), ...p });
    expect(bad({ crop: [300, 224] })).toThrow('preprocess.crop 300x224 is larger than resize 256');
    expect(bad({ std: [1, 0, 1] })).toThrow(/preprocess.std/);
    expect(bad({ crop: [0, 2] })).toThrow(/preprocess.crop/);
  });
});

describe('decodeImages', () => {
  test('a known image: shape, range, and exact normalized pixels in NCHW RGB order', async () => {
    const { data: raw, info } = await sharp(KNOWN).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([32, 32, 3]);
    const { data, ok, skipped } = await decodeImages([KNOWN], preprocessPreset('cifar'));
    expect(data).toHaveLength(3 * PLANE);
    expect(ok).toEqual([true]);
    expect(skipped).toEqual([]);
    const r = raw[0]!;
    expect(data[0]).toBeCloseTo((r / 255 - 0.485) / 0.229, 6);
    for (const [y, x] of [[0, 0], [5, 17], [31, 31], [20, 3]] as const) {
      for (let c = 0; c < 3; c++) {
        const v = raw[(y * 32 + x) * 3 + c]!;
        expect(data[c * PLANE + y * 32 + x]).toBeCloseTo((v / 255 - MEAN[c]!) / STD[c]!, 6);
      }
    }
    const min = data.reduce((a, b) => Math.min(a, b));
    const max = data.reduce((a, b) => Math.max(a, b));
    expect(min).toBeGreaterThanOrEqual(-0.485 / 0.229 - 1e-6);
    expect(max).toBeLessThanOrEqual((1 - 0.406) / 0.225 + 1e-6);
    expect(max - min).toBeGreaterThan(1); // a real picture, not a constant
  });

  test('grayscale expands to 3 equal channels; other sizes are resized to 32x32; alpha dropped', async () => {
    const gray = path.join(tmp, 'gray.png');
    await sharp(Buffer.alloc(40 * 20, 100), { raw: { width: 40, height: 20, channels: 1 } })
      .toColourspace('b-w')
      .png()
      .toFile(gray);
    expect((await sharp(gray).metadata()).channels).toBe(1);
    const rgba = path.join(tmp, 'rgba.png');
    await sharp({ create: { width: 32, height: 32, channels: 4, background: { r: 255, g: 0, b: 51, alpha: 0.2 } } }).png().toFile(rgba);
    const { data, ok } = await decodeImages([gray, rgba], preprocessPreset('cifar'));
    expect(ok).toEqual([true, true]);
    for (let c = 0; c < 3; c++) {
      expect(data[c * PLANE + 7 * 32 + 9]).toBeCloseTo((100 / 255 - MEAN[c]!) / STD[c]!, 5);
    }
    const at = 3 * PLANE;
    expect([data[at], data[at + PLANE], data[at + 2 * PLANE]].map((v) => +v!.toFixed(5))).toEqual(
      [255, 0, 51].map((v, c) => +((v / 255 - MEAN[c]!) / STD[c]!).toFixed(5)),
    );
  });

  test('imagenet: shorter side 256, then the centre 224x224 window', async () => {
    // 512x256: red left half, blue right half. Resize is a no-op; the crop takes columns
    // 144..367, so output columns 0..111 are red and 112..223 blue.
    const file = path.join(tmp, 'halves.png');
    const half = await sharp({ create: { width: 256, height: 256, channels: 3, background: '#0000ff' } }).png().toBuffer();
    await sharp({ create: { width: 512, height: 256, channels: 3, background: '#ff0000' } })
      .composite([{ input: half, left: 256, top: 0 }])
      .png()
      .toFile(file);
    const { data } = await decodeImages([file], preprocessPreset('imagenet'));
    const plane = 224 * 224;
    expect(data).toHaveLength(3 * plane);
    const red = (255 / 255 - MEAN[0]!) / STD[0]!;
    const blue = (255 / 255 - MEAN[2]!) / STD[2]!;
    expect(data[100 * 224 + 111]).toBeCloseTo(red, 5);
    expect(data[100 * 224 + 112]).toBeLessThan(0);
    expect(data[2 * plane + 100 * 224 + 112]).toBeCloseTo(blue, 5);
    expect(data[2 * plane + 100 * 224 + 111]).toBeLessThan(0);
  });

  test('corrupt, non-image and missing files are skipped and counted, never thrown', async () => {
    const corrupt = path.join(tmp, 'corrupt.jpg');
    fs.writeFileSync(corrupt, Buffer.concat([fs.readFileSync(KNOWN).subarray(0, 20), Buffer.alloc(200, 7)]));
    const text = path.join(tmp, 'notes.jpg');
    fs.writeFileSync(text, 'this is not an image\n');
    const good = valFiles('cat', 2);
    const files = [good[0]!, corrupt, text, path.join(tmp, 'missing.jpg'), good[1]!];
    const out = new Float32Array(5 * 3 * PLANE).fill(42);
    const { data, ok, skipped } = await decodeImages(files, preprocessPreset('cifar'), { out, concurrency: 3 });
    expect(data).toBe(out);
    expect(ok).toEqual([true, false, false, false, true]);
    expect(skipped.map((s) => s.path)).toEqual([corrupt, text, files[3]]);
    for (const s of skipped) expect(s.reason).toMatch(/\S/);
    expect(out.subarray(3 * PLANE, 4 * 3 * PLANE).every((v) => v === 0)).toBe(true);
    const single = new Float32Array(3 * PLANE);
    await decodeImageInto(good[1]!, preprocessPreset('cifar'), single);
    expect(out.subarray(4 * 3 * PLANE)).toEqual(single);
    await expect(decodeImageInto(text, preprocessPreset('cifar'), single)).rejects.toThrow(LayerqError);
  });

  test('writes at an offset; results do not depend on concurrency; progress reaches the total', async () => {
    const files = valFiles('dog', 12);
    const size = 3 * PLANE;
    const out = new Float32Array(5 + files.length * size);
    const seen: number[] = [];
    await decodeImages(files, preprocessPreset('cifar'), { out, offset: 5, concurrency: 1, onProgress: (d) => seen.push(d) });
    expect(seen).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(Array.from(out.subarray(0, 5))).toEqual([0, 0, 0, 0, 0]);
    const par = await decodeImages(files, preprocessPreset('cifar'), { concurrency: 4 });
    expect(out.subarray(5)).toEqual(par.data);
    await expect(decodeImages(files, preprocessPreset('cifar'), { out: new Float32Array(10) })).rejects.toThrow(/out.length/);
  });
});

describe('writeNormalized', () => {
  test('1 (gray), 2 (gray+alpha), 3 and 4 (RGBA) channel pixels, centre window', () => {
    const lut = normalizationTable({ name: 't', crop: [1, 1], mean: [0, 0, 0], std: [1, 1, 1], scale: 1 });
    const run = (pixels: number[], channels: number, width: number): number[] => {
      const out = new Float32Array(3);
      writeNormalized(Uint8Array.from(pixels), width, 1, channels, [1, 1], lut, out, 0);
      return Array.from(out);
    };
    expect(run([7], 1, 1)).toEqual([7, 7, 7]);
    expect(run([7, 200], 2, 1)).toEqual([7, 7, 7]);
    expect(run([1, 2, 3, 4, 5, 6, 7, 8, 9], 3, 3)).toEqual([4, 5, 6]); // middle of 3 pixels
    expect(run([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], 3, 4)).toEqual([4, 5, 6]); // offset rounded down
    expect(run([1, 2, 3, 99], 4, 1)).toEqual([1, 2, 3]);
  });
});

describe('ImageSet', () => {
  test('holds 8-bit pixels, drops skipped files, and serves normalized batches', async () => {
    const bad = path.join(tmp, 'bad.jpg');
    fs.writeFileSync(bad, 'junk');
    const files = [...valFiles('ship', 3), bad, ...valFiles('truck', 3)];
    const samples = files.map((p, i) => ({ path: p, label: i < 3 ? 8 : 9 }));
    const set = await ImageSet.load(samples, preprocessPreset('cifar'), { concurrency: 2 });
    expect(set.count).toBe(6);
    expect(set.dims).toEqual([6, 3, 32, 32]);
    expect(set.pixels).toBeInstanceOf(Uint8Array);
    expect(set.pixels.length).toBe(6 * 3 * PLANE); // a quarter of the float tensor
    expect(Array.from(set.labels)).toEqual([8, 8, 8, 9, 9, 9]);
    expect(set.paths).toEqual([...files.slice(0, 3), ...files.slice(4)]);
    expect(set.skipped.map((s) => s.path)).toEqual([bad]);
    const direct = await decodeImages(files.slice(4), preprocessPreset('cifar'));
    expect(set.batch(3, 3).data).toEqual(direct.data);

    const b = set.batch(4, 4);
    expect(b.count).toBe(2);
    expect(Array.from(b.labels)).toEqual([9, 9]);
    expect(b.data.length).toBe(2 * 3 * PLANE);
    expect(b.data).toEqual(direct.data.subarray(3 * PLANE));
    const into = new Float32Array(4 * 3 * PLANE);
    expect(set.batch(4, 4, into).data.buffer).toBe(into.buffer);
    expect(() => set.batch(0, 4, new Float32Array(10))).toThrow(/Expected Float32Array of at least/);
    expect(set.batch(6, 2).count).toBe(0);
    expect([...set.batches(4)].map((x) => x.count)).toEqual([4, 2]);
    expect(() => set.batch(0, 0)).toThrow(/Expected positive integer for size but received 0/);

    const sub = set.subset([5, 0]);
    expect(Array.from(sub.labels)).toEqual([9, 8]);
    expect(sub.paths).toEqual([set.paths[5], set.paths[0]]);
    expect(sub.batch(0, 1).data).toEqual(set.batch(5, 1).data);
    const relabelled = set.withLabels(Int32Array.from([1, 1, 1, 2, 2, 2]));
    expect(relabelled.pixels).toBe(set.pixels);
    expect(Array.from(relabelled.labels)).toEqual([1, 1, 1, 2, 2, 2]);
    expect(Array.from(set.labels)).toEqual([8, 8, 8, 9, 9, 9]);
  });

  test('BGR and NHWC: channels swapped and laid out as the model takes them', async () => {
    const files = valFiles('cat', 2);
    const rgb = await ImageSet.load(files.map((p) => ({ path: p, label: 3 })), preprocessPreset('cifar'));
    const custom = { ...preprocessPreset('cifar'), channelOrder: 'BGR' as const, layout: 'NHWC' as const };
    const bgr = await ImageSet.load(files.map((p) => ({ path: p, label: 3 })), custom);
    expect(bgr.dims).toEqual([2, 32, 32, 3]);
    const a = rgb.batch(0, 2).data;
    const lut = normalizationTable(custom);
    const b = bgr.batch(0, 2).data;
    for (const [i, y, x] of [[0, 0, 0], [1, 7, 30], [1, 31, 31]] as const) {
      for (let c = 0; c < 3; c++) {
        const pixel = rgb.pixels[((i * 32 + y) * 32 + x) * 3 + (2 - c)]!;
        expect(b[((i * 32 + y) * 32 + x) * 3 + c]).toBe(lut[c * 256 + pixel]);
      }
      // the RGB set reads channel 0 from the red pixel
      expect(a[i * 3 * PLANE + y * 32 + x]).toBeCloseTo((rgb.pixels[((i * 32 + y) * 32 + x) * 3]! / 255 - MEAN[0]!) / STD[0]!, 6);
    }
  });

  test('nothing decodable is BAD_DATA', async () => {
    const bad = path.join(tmp, 'bad2.jpg');
    fs.writeFileSync(bad, 'junk');
    await expect(ImageSet.load([{ path: bad, label: 0 }], preprocessPreset('cifar'))).rejects.toThrow(
      /none of the 1 images could be decoded \(first: .*bad2\.jpg/,
    );
  });
});
