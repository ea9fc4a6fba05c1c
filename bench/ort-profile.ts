/**
 * ONNX Runtime's own time per node (its profiler, `enableProfiling`), for comparing layer by
 * layer with `layerq bench --profile MODEL`: the same model, batch and threads, ONNX Runtime's
 * default session (its graph optimisations on, so nodes may be fused or renamed: a Conv with its
 * Clip, the NCHWc reorders). Per node the fastest of the runs, and the whole run's fastest.
 * Run: npm run build && node dist/bench/ort-profile.js [model=mobilenetv2-imagenet] [batch=16] [runs=15]
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ort from 'onnxruntime-node';
import { loadClassifier } from '../src/api/model';
import { syntheticImages } from '../src/bench/profile';
import { modelPath, ortSession } from './common';

const THREADS = 2;

interface TraceEvent {
  cat?: string;
  name?: string;
  dur?: number;
  args?: { op_name?: string };
}

async function main(): Promise<void> {
  const name = process.argv[2] ?? 'mobilenetv2-imagenet';
  const batch = Number(process.argv[3] ?? 16);
  const runs = Number(process.argv[4] ?? 15);
  const file = name.endsWith('.onnx') ? name : modelPath(name);
  const { input } = loadClassifier(file);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerq-ort-profile-'));
  const session = await ortSession(file, { threads: THREADS, noSpin: true, profilePrefix: path.join(dir, 'ort') });
  const dims = input.layout === 'NHWC' ? [batch, input.height, input.width, input.channels] : [batch, input.channels, input.height, input.width];
  const data = syntheticImages(input, batch).batch(0, batch).data;
  const feeds = { [session.inputNames[0]!]: new ort.Tensor('float32', data, dims) };
  for (let i = 0; i < 3 + runs; i++) await session.run(feeds);
  session.endProfiling();
  const trace = fs.readdirSync(dir).find((f) => f.endsWith('.json'));
  if (!trace) throw new Error(`ONNX Runtime wrote no profile in ${dir}`);
  const events = JSON.parse(fs.readFileSync(path.join(dir, trace), 'utf8')) as TraceEvent[];
  fs.rmSync(dir, { recursive: true, force: true });
  // Node events: "<node>_kernel_time", in microseconds, one per node per run.
  const nodes = new Map<string, { op: string; us: number[] }>();
  const whole: number[] = [];
  for (const e of events) {
    if (e.cat === 'Session' && e.name === 'model_run' && e.dur !== undefined) whole.push(e.dur);
    if (e.cat !== 'Node' || !e.name?.endsWith('_kernel_time') || e.dur === undefined) continue;
    const node = e.name.slice(0, -'_kernel_time'.length);
    const entry = nodes.get(node) ?? { op: e.args?.op_name ?? '?', us: [] };
    entry.us.push(e.dur);
    nodes.set(node, entry);
  }
  const fastest = (us: number[]) => Math.min(...us.slice(-runs)) / 1000;
  const sum = [...nodes.values()].reduce((s, n) => s + fastest(n.us), 0);
  console.log(`ONNX Runtime ${ort.env.versions.common} per-node profile: ${path.basename(file)}, batch ${batch}, ${THREADS} threads, ms (fastest of ${runs} runs after 3)`);
  console.log(`whole run ${fastest(whole).toFixed(2)} ms; sum of the nodes' fastest ${sum.toFixed(2)} ms`);
  console.log('| node | op | ms |');
  console.log('| --- | --- | --- |');
  for (const [node, n] of nodes) console.log(`| ${node} | ${n.op} | ${fastest(n.us).toFixed(3)} |`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
