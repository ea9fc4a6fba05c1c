/**
 * Typed wrapper over the addon's f32 kernels (NCHW float32). Every argument is validated here
 * with errors that name the parameter ("Expected positive integer for group but received 1.5");
 * the C++ side re-checks lengths against shapes before touching memory. Calls that do real work
 * return promises, settled by the time the call returns (the kernels run on the calling thread
 * with the addon's thread pool; LAYERQ_SYNC=0: off the event loop), reading and writing the
 * caller's typed arrays in place (no copies).
 */
import { addon } from './addon';
import { badArgument } from '../errors';
import { activationOf, bound, convOutDims, convWindowOf, describe, dimsOf, finite, gemmRhsDims, intArray, nonNegativeInt, options, outDim, positiveInt, product, tuple, typed } from './validate';

/** Fused output clamp: Relu = { min: 0, max: Infinity }, Clip(a, b) = { min: a, max: b }. */
export interface Activation {
  min: number;
  max: number;
}

export interface ConvParams {
  strides: [number, number];
  /** [top, left, bottom, right] */
  pads: [number, number, number, number];
  dilations: [number, number];
  group: number;
  activation?: Activation;
}

export interface PoolParams {
  kernel: [number, number];
  strides: [number, number];
  /** [top, left, bottom, right] */
  pads: [number, number, number, number];
  ceilMode?: boolean;
  countIncludePad?: boolean;
}

export type BinaryOp = 'add' | 'sub' | 'mul' | 'div';
export type UnaryOp = 'relu' | 'clip' | 'sigmoid' | 'hardsigmoid' | 'hardswish';

const BINARY_OPS: readonly BinaryOp[] = ['add', 'sub', 'mul', 'div'];
const UNARY_OPS: readonly UnaryOp[] = ['relu', 'clip', 'sigmoid', 'hardsigmoid', 'hardswish'];

// ---- validation ------------------------------------------------------------------------

const pair = (name: string, v: unknown, min: number): [number, number] =>
  tuple(name, v, 2, min > 0 ? positiveInt : nonNegativeInt) as [number, number];
const pads4 = (name: string, v: unknown): [number, number, number, number] =>
  tuple(name, v, 4, nonNegativeInt) as [number, number, number, number];

function validateConvParams(p: ConvParams): ConvParams {
  options('params', p, 'ConvParams object');
  const out: ConvParams = convWindowOf(p);
  if (p.activation !== undefined) out.activation = activationOf('params.activation', p.activation);
  return out;
}

// ---- convolution -----------------------------------------------------------------------

/** Output dims [N, Cout, Ho, Wo] of a convolution with weight dims [Cout, Cin/group, kh, kw]. */
export function convOutputDims(xDims: readonly number[], wDims: readonly number[], p: ConvParams): [number, number, number, number] {
  const x = dimsOf('xDims', xDims, 4);
  const w = dimsOf('wDims', wDims, 4);
  return convOutDims(x, w, validateConvParams(p));
}

/** Conv weights packed once into the kernels' layout (GEMM panels, or depthwise taps). */
export class PackedConv {
  readonly wDims: readonly number[];
  readonly params: Readonly<ConvParams>;
  /** @internal the addon's packed weights (see validate.ts) */
  readonly handle: unknown;

  private constructor(wDims: readonly number[], params: Readonly<ConvParams>, handle: unknown) {
    this.wDims = wDims;
    this.params = params;
    this.handle = handle;
  }

  /** weight [Cout, Cin/group, kh, kw]; bias [Cout] or null. Packs once; reuse for every call. */
  static create(weight: Float32Array, wDims: readonly number[], bias: Float32Array | null, params: ConvParams): PackedConv {
    const w = dimsOf('wDims', wDims, 4);
    const p = validateConvParams(params);
    typed('weight', weight, Float32Array, product(w));
    if (bias !== null) typed('bias', bias, Float32Array, w[0]);
    if (w[0] % p.group !== 0) throw badArgument('params.group', `a divisor of Cout (${w[0]})`, p.group);
    const act = activationOf('params.activation', p.activation);
    const handle = addon.f32PackConv(weight, w, bias, p.group, p.strides, p.pads, p.dilations, act.min, act.max);
    return new PackedConv(Object.freeze(w), Object.freeze(p), handle);
  }

  /** Output dims [N, Cout, Ho, Wo] for input dims [N, Cin, H, W] (the params were checked once, at create). */
  outputDims(xDims: readonly number[]): [number, number, number, number] {
    return convOutDims(dimsOf('xDims', xDims, 4), this.wDims, this.params);
  }
}

/** Checks x against xDims and out against the output dims `od` of a conv-like call; the dims to pass the addon. */
function convArrays(x: Float32Array, xDims: readonly number[], out: Float32Array, od: readonly number[]): number[] {
  typed('x', x, Float32Array, product(xDims));
  typed('out', out, Float32Array, product(od));
  return [...xDims];
}

/** A residual added to a conv's outputs, then clamped (a following Add, and Relu / Clip). */
export interface ConvResidual {
  data: Float32Array;
  activation?: Activation;
}

/**
 * x [N, Cin, H, W] -> out [N, Cout, Ho, Wo] (caller allocates out). With a residual (out's
 * shape): out = clamp(conv(x) + residual.data), bit for bit the conv followed by binary('add')
 * with the same activation, the add done while the outputs are in the caches.
 */
export function conv2d(packed: PackedConv, x: Float32Array, xDims: readonly number[], out: Float32Array, residual?: ConvResidual): Promise<void> {
  if (!(packed instanceof PackedConv)) throw badArgument('packed', 'PackedConv', describe(packed));
  const od = packed.outputDims(xDims);
  const dims = convArrays(x, xDims, out, od);
  if (residual === undefined) return addon.f32Conv2d(packed.handle, x, dims, out);
  options('residual', residual, '{ data, activation? }');
  typed('residual.data', residual.data, Float32Array, product(od));
  const act = activationOf('residual.activation', residual.activation);
  return addon.f32Conv2d(packed.handle, x, dims, out, residual.data, act.min, act.max);
}

// ---- inverted-residual blocks -----------------------------------------------------------

/**
 * Why three packed convs cannot run as one block ([expansion (1x1, or a stem: any group 1 conv of
 * dilation 1) ->] depthwise -> 1x1 project, channels chained), or undefined when they can: the
 * native kernel's own check (f32-block.cc BlockShapeError).
 */
export function blockShapeError(expand: PackedConv | null, dw: PackedConv, project: PackedConv): string | undefined {
  for (const [name, c] of [['expand', expand], ['dw', dw], ['project', project]] as const) {
    if (!(c === null && name === 'expand') && !(c instanceof PackedConv)) throw badArgument(name, 'PackedConv', describe(c));
  }
  return addon.f32BlockShapeError(expand?.handle ?? null, dw.handle, project.handle) ?? undefined;
}

/**
 * An inverted-residual block ([expansion ->] depthwise -> 1x1 projection) packed as one:
 * blockConv2d runs it strip by strip of output rows, its wide intermediates never leaving L2,
 * with the result of the three convs run one after the other, bit for bit.
 */
export class PackedBlock {
  readonly convs: readonly PackedConv[];
  /** @internal the addon's packed block (see validate.ts) */
  readonly handle: unknown;

  private constructor(convs: readonly PackedConv[], handle: unknown) {
    this.convs = convs;
    this.handle = handle;
  }

  /** Chains packed convs (expand may be null); throws naming the conv that does not fit. */
  static create(expand: PackedConv | null, dw: PackedConv, project: PackedConv): PackedBlock {
    const error = blockShapeError(expand, dw, project);  // also: each argument a PackedConv
    if (error) throw new RangeError(`PackedBlock: ${error}`);
    const convs = expand ? [expand, dw, project] : [dw, project];
    return new PackedBlock(Object.freeze(convs), addon.f32PackBlock(expand?.handle ?? null, dw.handle, project.handle));
  }

  /** Output dims [N, Cout, Ho, Wo] for input dims [N, Cin, H, W]. */
  outputDims(xDims: readonly number[]): [number, number, number, number] {
    const dims = this.convs.reduce<number[]>((d, c) => c.outputDims(d), [...xDims]);
    return dims as [number, number, number, number];
  }
}

/** x [N, Cin, H, W] -> out [N, Cout, Ho, Wo] through the block (caller allocates out). */
export function blockConv2d(block: PackedBlock, x: Float32Array, xDims: readonly number[], out: Float32Array): Promise<void> {
  if (!(block instanceof PackedBlock)) throw badArgument('block', 'PackedBlock', describe(block));
  return addon.f32BlockConv2d(block.handle, x, convArrays(x, xDims, out, block.outputDims(xDims)), out);
}

// ---- GEMM ------------------------------------------------------------------------------

/** Options of PackedGemm.create: Y = alpha * A * B + beta * bias, then the fused clamp. */
export interface GemmParams {
  /** default 1 */
  alpha?: number;
  /** default 1 */
  beta?: number;
  activation?: Activation;
}

/** Constant right-hand side of Y = alpha * A * B + beta * bias, packed once. */
export class PackedGemm {
  readonly K: number;
  readonly N: number;
  /** @internal the addon's packed weights (see validate.ts) */
  readonly handle: unknown;

  private constructor(K: number, N: number, handle: unknown) {
    this.K = K;
    this.N = N;
    this.handle = handle;
  }

  /** B is [K, N] (transB false) or [N, K] (transB true); bias [N] or null; Y = alpha*A*B + beta*bias. */
  static create(b: Float32Array, bDims: readonly number[], transB: boolean, bias: Float32Array | null, params: GemmParams = {}): PackedGemm {
    const [K, N] = gemmRhsDims(bDims, transB);
    typed('b', b, Float32Array, K * N);
    if (bias !== null) typed('bias', bias, Float32Array, N);
    options('params', params, 'GemmParams object');
    const alpha = finite('params.alpha', params.alpha ?? 1), beta = finite('params.beta', params.beta ?? 1);
    const act = activationOf('params.activation', params.activation);
    const handle = addon.f32PackGemm(b, K, N, transB, bias, alpha, beta, act.min, act.max);
    return new PackedGemm(K, N, handle);
  }
}

/** a [M, K] row-major -> out [M, N]. */
export function gemm(packed: PackedGemm, a: Float32Array, M: number, out: Float32Array): Promise<void> {
  if (!(packed instanceof PackedGemm)) throw badArgument('packed', 'PackedGemm', describe(packed));
  positiveInt('M', M);
  typed('a', a, Float32Array, M * packed.K);
  typed('out', out, Float32Array, M * packed.N);
  return addon.f32Gemm(packed.handle, a, M, out);
}

// ---- elementwise -----------------------------------------------------------------------

/** numpy broadcast of two shapes; throws naming bDims when they are incompatible. */
export function broadcastDims(aDims: readonly number[], bDims: readonly number[]): number[] {
  const rank = Math.max(aDims.length, bDims.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = aDims[i - rank + aDims.length] ?? 1, db = bDims[i - rank + bDims.length] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw badArgument('bDims', `shape broadcastable to [${aDims.join(', ')}]`, `[${bDims.join(', ')}]`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

/**
 * out (the broadcast shape of a and b, numpy rules) = a op b, then clamped to
 * [activation.min, activation.max] when given (a fused Relu / Clip). out may be a (same shape).
 */
export function binary(
  op: BinaryOp, a: Float32Array, aDims: readonly number[], b: Float32Array, bDims: readonly number[], out: Float32Array,
  activation?: Activation,
): Promise<void> {
  const code = BINARY_OPS.indexOf(op);
  if (code < 0) throw badArgument('op', `one of ${BINARY_OPS.join(', ')}`, op);
  const ad = dimsOf('aDims', aDims, undefined, false), bd = dimsOf('bDims', bDims, undefined, false);
  typed('a', a, Float32Array, product(ad));
  typed('b', b, Float32Array, product(bd));
  typed('out', out, Float32Array, product(broadcastDims(ad, bd)));
  if (activation === undefined) return addon.f32Binary(code, a, ad, b, bd, out);
  const act = activationOf('activation', activation);
  return addon.f32Binary(code, a, ad, b, bd, out, act.min, act.max);
}

// ---- strided copy ----------------------------------------------------------------------

/** [lowest, highest] element offset a view touches, or undefined when a dim is 0. */
function viewExtent(offset: number, strides: readonly number[], dims: readonly number[]): [number, number] | undefined {
  if (dims.some((d) => d === 0)) return undefined;
  let lo = offset, hi = offset;
  dims.forEach((d, i) => {
    const span = (d - 1) * strides[i]!;
    if (span < 0) lo += span;
    else hi += span;
  });
  return [lo, hi];
}

/**
 * Copies a strided view (Slice, Pad, Transpose): for every index i within dims,
 * dst[dstOffset + sum(i[d] * dstStrides[d])] = src[srcOffset + sum(i[d] * srcStrides[d])].
 * Strides are in elements and may be negative (a reversed slice). With `fill`, all of dst is set
 * to it first (Pad). Every element touched must lie inside both arrays. Rank <= 8.
 */
export function stridedCopy(
  src: Float32Array, srcOffset: number, srcStrides: readonly number[],
  dst: Float32Array, dstOffset: number, dstStrides: readonly number[],
  dims: readonly number[], fill?: number,
): Promise<void> {
  const d = dimsOf('dims', dims, undefined, false);
  typed('src', src, Float32Array);
  typed('dst', dst, Float32Array);
  const ss = intArray('srcStrides', srcStrides, d.length), ds = intArray('dstStrides', dstStrides, d.length);
  nonNegativeInt('srcOffset', srcOffset);
  nonNegativeInt('dstOffset', dstOffset);
  if (fill !== undefined && typeof fill !== 'number') throw badArgument('fill', 'number', describe(fill));
  const check = (name: string, arr: Float32Array, offset: number, strides: number[]): void => {
    const e = viewExtent(offset, strides, d);
    if (!e) return;
    if (e[0] < 0) throw badArgument(`${name}Strides`, `a view starting at or after element 0 of ${name}`, `[${strides.join(', ')}]`);
    if (e[1] >= arr.length) throw badArgument(`${name}.length`, `> ${e[1]} (the furthest element of the view)`, arr.length);
  };
  check('src', src, srcOffset, ss);
  check('dst', dst, dstOffset, ds);
  return fill === undefined
    ? addon.f32StridedCopy(src, srcOffset, ss, dst, dstOffset, ds, d)
    : addon.f32StridedCopy(src, srcOffset, ss, dst, dstOffset, ds, d, fill);
}

/**
 * out = f(x) elementwise (out may be x). clip: clamp(x, min, max) (defaults -Inf, +Inf);
 * hardsigmoid: clamp(alpha * x + beta, 0, 1) (defaults 0.2, 0.5); hardswish: x * hardsigmoid(x)
 * with alpha 1/6, beta 0.5; sigmoid: 1 / (1 + exp(-x)).
 */
export function unary(op: UnaryOp, x: Float32Array, out: Float32Array, params?: { min?: number; max?: number; alpha?: number; beta?: number }): Promise<void> {
  const code = UNARY_OPS.indexOf(op);
  if (code < 0) throw badArgument('op', `one of ${UNARY_OPS.join(', ')}`, op);
  typed('x', x, Float32Array);
  typed('out', out, Float32Array, x.length);
  const min = bound('params.min', params?.min ?? -Infinity);
  const max = bound('params.max', params?.max ?? Infinity);
  if (min > max) throw badArgument('params.max', `number >= min (${min})`, max);
  const alpha = params?.alpha ?? 0.2, beta = params?.beta ?? 0.5;
  finite('params.alpha', alpha);
  finite('params.beta', beta);
  return addon.f32Unary(code, x, out, x.length, min, max, alpha, beta);
}

// ---- pooling and softmax ---------------------------------------------------------------

function validatePool(p: PoolParams): PoolParams {
  options('params', p, 'PoolParams object');
  const kernel = pair('params.kernel', p.kernel, 1);
  const pads = pads4('params.pads', p.pads);
  if (pads[0] >= kernel[0] || pads[2] >= kernel[0]) throw badArgument('params.pads', `vertical pads < kernel height ${kernel[0]}`, `[${pads.join(', ')}]`);
  if (pads[1] >= kernel[1] || pads[3] >= kernel[1]) throw badArgument('params.pads', `horizontal pads < kernel width ${kernel[1]}`, `[${pads.join(', ')}]`);
  return { kernel, strides: pair('params.strides', p.strides, 1), pads, ceilMode: p.ceilMode === true, countIncludePad: p.countIncludePad === true };
}

/** Output dims [N, C, Ho, Wo] of a 2D pooling (ONNX floor/ceil rules). */
export function poolOutputDims(xDims: readonly number[], p: PoolParams): [number, number, number, number] {
  const x = dimsOf('xDims', xDims, 4);
  const q = validatePool(p);
  const ceil = q.ceilMode === true;
  return [
    x[0],
    x[1],
    outDim('xDims[2]', x[2], q.kernel[0], q.strides[0], q.pads[0], q.pads[2], 1, ceil),
    outDim('xDims[3]', x[3], q.kernel[1], q.strides[1], q.pads[1], q.pads[3], 1, ceil),
  ];
}

function pool(isMax: boolean, x: Float32Array, xDims: readonly number[], p: PoolParams, out: Float32Array): Promise<void> {
  const od = poolOutputDims(xDims, p);
  const q = validatePool(p);
  typed('x', x, Float32Array, product(xDims));
  typed('out', out, Float32Array, product(od));
  const flat = [...q.kernel, ...q.strides, ...q.pads, q.ceilMode ? 1 : 0, q.countIncludePad ? 1 : 0];
  return addon.f32Pool2d(isMax, x, [...xDims], flat, out);
}

export function maxPool2d(x: Float32Array, xDims: readonly number[], p: PoolParams, out: Float32Array): Promise<void> {
  return pool(true, x, xDims, p, out);
}

export function avgPool2d(x: Float32Array, xDims: readonly number[], p: PoolParams, out: Float32Array): Promise<void> {
  return pool(false, x, xDims, p, out);
}

/** x [N, C, H, W] -> out [N, C] (mean over H x W). */
export function globalAvgPool(x: Float32Array, xDims: readonly number[], out: Float32Array): Promise<void> {
  const d = dimsOf('xDims', xDims, 4);
  typed('x', x, Float32Array, product(d));
  typed('out', out, Float32Array, d[0] * d[1]);
  return addon.f32GlobalAvgPool(x, d[0] * d[1], d[2] * d[3], out);
}

/** Softmax over the last axis of x [rows, cols]; out may be x. */
export function softmax(x: Float32Array, rows: number, cols: number, out: Float32Array): Promise<void> {
  positiveInt('rows', rows);
  positiveInt('cols', cols);
  typed('x', x, Float32Array, rows * cols);
  typed('out', out, Float32Array, rows * cols);
  return addon.f32Softmax(x, rows, cols, out);
}
