/**
 * Layout ops on the native strided copy against plain JS references (index by index), including
 * reversed slices, cropping pads, and a Slice -> Slice -> Pad chain folded into one view.
 */
import { padConstant, padView, slice, sliceView, denseView, transpose, SliceSpec, copyView } from '../../src/engine/tensor-ops';

const product = (d: readonly number[]): number => d.reduce((a, b) => a * b, 1);
const iota = (n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => i * 0.5 - 7);

/** Element at multi-index `idx` of a dense tensor. */
const at = (x: Float32Array, dims: readonly number[], idx: number[]): number => x[idx.reduce((o, v, d) => o * dims[d]! + v, 0)]!;

function forEachIndex(dims: readonly number[], fn: (idx: number[], flat: number) => void): void {
  const idx = new Array<number>(dims.length).fill(0);
  for (let k = 0; k < product(dims); k++) {
    fn(idx, k);
    for (let d = dims.length - 1; d >= 0 && ++idx[d]! === dims[d]!; d--) idx[d] = 0;
  }
}

function refSlice(x: Float32Array, dims: number[], spec: SliceSpec): { data: Float32Array; dims: number[] } {
  // Explicit index lists per axis (ONNX clamping rules).
  const lists = dims.map((size) => Array.from({ length: size }, (_, i) => i));
  spec.axes.forEach((ax, i) => {
    const a = ax < 0 ? ax + dims.length : ax, size = dims[a]!, st = spec.steps[i]!;
    const norm = (v: number): number => (v < 0 ? v + size : v);
    const list: number[] = [];
    if (st > 0) for (let j = Math.max(0, norm(spec.starts[i]!)); j < Math.min(size, norm(spec.ends[i]!)); j += st) list.push(j);
    else for (let j = Math.min(size - 1, norm(spec.starts[i]!)); j > Math.max(-1, norm(spec.ends[i]!)); j += st) list.push(j);
    lists[a] = list;
  });
  const outDims = lists.map((l) => l.length);
  const out = new Float32Array(product(outDims));
  forEachIndex(outDims, (idx, k) => void (out[k] = at(x, dims, idx.map((v, d) => lists[d]![v]!))));
  return { data: out, dims: outDims };
}

function refPad(x: Float32Array, dims: number[], pads: number[], value: number): { data: Float32Array; dims: number[] } {
  const r = dims.length;
  const outDims = dims.map((d, i) => d + pads[i]! + pads[i + r]!);
  const out = new Float32Array(product(outDims));
  forEachIndex(outDims, (idx, k) => {
    const src = idx.map((v, d) => v - pads[d]!);
    out[k] = src.every((v, d) => v >= 0 && v < dims[d]!) ? at(x, dims, src) : value;
  });
  return { data: out, dims: outDims };
}

describe('tensor ops on the native strided copy', () => {
  const dims = [3, 4, 6, 5];
  const x = iota(product(dims));
  const specs: SliceSpec[] = [
    { starts: [0, 0], ends: [1000, 1000], axes: [2, 3], steps: [2, 2] }, // ResNet shortcut
    { starts: [-1], ends: [-1000], axes: [3], steps: [-1] }, // reversed
    { starts: [1, 4], ends: [3, 0], axes: [1, -2], steps: [1, -2] },
    { starts: [2], ends: [2], axes: [0], steps: [1] }, // empty
  ];
  it.each(specs.map((s, i) => [i, s] as const))('slice %i', async (_, spec) => {
    expect(await slice(x, dims, spec)).toEqual(refSlice(x, dims, spec));
  });

  it.each([
    [[0, 2, 0, 0, 0, 2, 0, 0], 0],
    [[1, 0, -2, 1, 0, 3, -1, -2], -1.5],
    [[0, 0, -6, 0, 0, 0, 0, 0], 4], // everything cropped: fill only
  ])('pad %j value %d', async (pads, value) => {
    expect(await padConstant(x, dims, pads, value)).toEqual(refPad(x, dims, pads, value));
  });

  it('transpose', async () => {
    const perm = [0, 2, 3, 1];
    const got = await transpose(x, dims, perm);
    const outDims = perm.map((p) => dims[p]!);
    const want = new Float32Array(x.length);
    forEachIndex(outDims, (idx, k) => {
      const src = new Array<number>(4);
      perm.forEach((p, d) => (src[p] = idx[d]!));
      want[k] = at(x, dims, src);
    });
    expect(got).toEqual({ data: want, dims: outDims });
  });

  it('a Slice -> Slice -> Pad chain as one view equals the three ops', async () => {
    const s1 = specs[0]!, s2: SliceSpec = { starts: [0, 0], ends: [1000, 1000], axes: [2, 3], steps: [1, 1] };
    const pads = [0, 2, 0, 0, 0, 2, 0, 0];
    const a = refSlice(x, dims, s1), b = refSlice(a.data, a.dims, s2), want = refPad(b.data, b.dims, pads, 0);
    const view = [s1, s2].reduce(sliceView, denseView(dims));
    expect(await padView(x, view, pads, 0)).toEqual(want);
    expect(await copyView(x, view)).toEqual(b);
  });
});
