/** Figures report.json derives from a plan and the measured logits: pure functions. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { accuracy } from '../eval/metrics';
import type { Layer } from '../quant/layers';
import type { QuantPlan } from '../quant/plan';
import type { QuantizeReport, ReportLayer } from './report';

const BIT_KEY = (bits: number | null): string => (bits === null ? 'float' : String(bits));

/** What the bit and MAC figures need of a layer (a `Layer`, or a report's layer entry). */
type LayerRef = Pick<Layer, 'id' | 'input' | 'macs'>;

/** Weight bits (null: float layer) and input activation bits (null: float input) of one layer. */
export function layerBits(plan: QuantPlan, layer: LayerRef): { weightBits: number | null; activationBits: number | null } {
  const lp = plan.layers.find((l) => l.id === layer.id);
  const weightBits = lp && !lp.float && lp.weight ? lp.weight.bits : null;
  const input = plan.activations[layer.input];
  return { weightBits, activationBits: weightBits !== null && input ? input.bits : null };
}

/** Percent of conv/Gemm MACs at each weight width and at each input width. */
export function macShare(plan: QuantPlan, layers: readonly LayerRef[]): QuantizeReport['macShare'] {
  const total = layers.reduce((s, l) => s + l.macs, 0) || 1;
  const weightBits: Record<string, number> = {};
  const activationBits: Record<string, number> = {};
  for (const l of layers) {
    const b = layerBits(plan, l);
    const share = (100 * l.macs) / total;
    weightBits[BIT_KEY(b.weightBits)] = (weightBits[BIT_KEY(b.weightBits)] ?? 0) + share;
    activationBits[BIT_KEY(b.activationBits)] = (activationBits[BIT_KEY(b.activationBits)] ?? 0) + share;
  }
  return { weightBits, activationBits };
}

/** Share (percent) of MACs whose weights are at most `wBits` and inputs at most `aBits` wide. */
export function lowBitShare(plan: QuantPlan, layers: readonly Layer[], wBits: number, aBits?: number): number {
  const total = layers.reduce((s, l) => s + l.macs, 0) || 1;
  let low = 0;
  for (const l of layers) {
    const b = layerBits(plan, l);
    const wOk = b.weightBits !== null && b.weightBits <= wBits;
    const aOk = aBits === undefined || (b.activationBits !== null && b.activationBits <= aBits);
    if (wOk && aOk) low += l.macs;
  }
  return (100 * low) / total;
}

export function reportLayers(plan: QuantPlan, layers: readonly Layer[], candidates: ReadonlyMap<string, string> = new Map()): ReportLayer[] {
  return layers.map((l) => ({
    id: l.id,
    kind: l.kind,
    macs: l.macs,
    input: l.input,
    output: l.output,
    ...layerBits(plan, l),
    candidate: candidates.get(l.id) ?? 'first',
  }));
}

/** Per-class top-1, FP32 against quantized, classes that lost most first. */
export function perClassComparison(fp32: Float32Array, quantized: Float32Array, labels: ArrayLike<number>, classes: readonly string[]): QuantizeReport['perClass'] {
  const a = accuracy(fp32, labels, classes).perClass;
  const b = accuracy(quantized, labels, classes).perClass;
  return a
    .map((c, i) => ({ name: c.name, images: c.total, fp32: c.accuracy, quantized: b[i]!.accuracy }))
    .filter((c) => c.images > 0)
    .sort((x, y) => y.fp32 - y.quantized - (x.fp32 - x.quantized) || x.name.localeCompare(y.name));
}

/** The command line (`layerq ...`, or the script that called the library) and the machine, for the report's header. */
export function runInfo(isa: string, threads: number): QuantizeReport['run'] {
  const script = process.argv[1] ?? '';
  const cli = /^layerq(\.js)?$/.test(path.basename(script));
  return {
    command: [cli ? 'layerq' : `node ${path.relative(process.cwd(), script) || script}`, ...process.argv.slice(2)].join(' '),
    layerqVersion: packageVersion(),
    node: process.version,
    isa,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    threads,
  };
}

/** Bytes of the FP32 model given and of the written QDQ model. */
export function fileSizes(model: string, output: string): NonNullable<QuantizeReport['files']> {
  return { modelBytes: fs.statSync(model).size, outputBytes: fs.statSync(output).size };
}

/** layerq's version, from the package.json above this file (src/ under ts-jest, dist/src/ when built). */
function packageVersion(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (!fs.existsSync(file)) continue;
    const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'layerq') return pkg.version ?? 'unknown';
  }
  return 'unknown';
}
