/** Shared test helpers: seeded random inputs and onnxruntime-node as the oracle. */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { mulberry32 } from '../../src/data/random';

export const MODELS_DIR = path.resolve(__dirname, '../../../shared/models');

/** Deterministic uniform values in [lo, hi) (mulberry32), replayable from the seed. */
export function seededRandom(n: number, seed: number, lo = 0, hi = 1): Float32Array {
  const next = mulberry32(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * next());
}

/**
 * Runs a model (path or bytes) in onnxruntime-node on named float32 inputs; returns every output
 * as plain numbers (int64 and bool included).
 * ORT runs in a child node process: inside jest's sandbox its output tensors fail the
 * `instanceof Float32Array` check (they are created in another realm).
 */
export function runOrt(
  model: string | Uint8Array,
  feeds: Record<string, { data: Float32Array; dims: number[] }>,
  options: { exactQdq?: boolean } = {},
): Record<string, { data: number[]; dims: number[] }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerq-ort-'));
  try {
    const modelPath = typeof model === 'string' ? model : path.join(dir, 'model.onnx');
    if (typeof model !== 'string') fs.writeFileSync(modelPath, model);
    const spec: Record<string, { file: string; dims: number[] }> = {};
    for (const [k, v] of Object.entries(feeds)) {
      const file = path.join(dir, `in-${Object.keys(spec).length}.bin`);
      fs.writeFileSync(file, Buffer.from(v.data.buffer, v.data.byteOffset, v.data.byteLength));
      spec[k] = { file, dims: v.dims };
    }
    const script = `
      const ort = require('onnxruntime-node'); const fs = require('fs');
      const [modelPath, specJson, dir] = process.argv.slice(1);
      (async () => {
        const s = await ort.InferenceSession.create(modelPath, JSON.parse(process.argv[4]));
        const feeds = {};
        for (const [k, v] of Object.entries(JSON.parse(specJson))) {
          const b = fs.readFileSync(v.file);
          feeds[k] = new ort.Tensor('float32', new Float32Array(b.buffer, b.byteOffset, b.length / 4), v.dims);
        }
        const res = await s.run(feeds);
        const out = {};
        for (const [k, t] of Object.entries(res)) out[k] = { data: Array.from(t.data, Number), dims: t.dims.map(Number) };
        process.stdout.write(JSON.stringify(out));
      })().catch((e) => { process.stderr.write(String(e && e.message || e)); process.exit(1); });`;
    // Exact QDQ semantics: ONNX Runtime's fused int8 kernels off (they may saturate on AVX2).
    const sessionOptions = options.exactQdq ? { extra: { session: { disable_quant_qdq: '1' } } } : {};
    const r = spawnSync(process.execPath, ['-e', script, modelPath, JSON.stringify(spec), dir, JSON.stringify(sessionOptions)], {
      cwd: path.resolve(__dirname, '../..'),
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`onnxruntime failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as Record<string, { data: number[]; dims: number[] }>;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The largest absolute difference between two equally long arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}
