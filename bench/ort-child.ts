/**
 * Runs a model in onnxruntime-node over raw float32 images and writes the logits: a separate
 * process, so that bench/ort-fused.ts can run ONNX Runtime on an emulated CPU
 * (`qemu-x86_64 -cpu Haswell`: AVX2 without AVX-512 or VNNI), where its fused int8 kernels take
 * their AVX2 `vpmaddubsw` path.
 * Usage: node dist/bench/ort-child.js MODEL IMAGES.bin COUNT OUT.bin exact|default
 */
import * as fs from 'fs';
import * as ort from 'onnxruntime-node';

async function main(): Promise<void> {
  const [model, imagesFile, countText, outFile, mode] = process.argv.slice(2) as [string, string, string, string, string];
  const count = Number(countText);
  const bytes = fs.readFileSync(imagesFile);
  const images = new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  const per = images.length / count;
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: 2,
    ...(mode === 'exact' ? { extra: { session: { disable_quant_qdq: '1' } } } : {}),
  });
  const chunks: Buffer[] = [];
  for (let start = 0; start < count; start += 64) {
    const n = Math.min(64, count - start);
    const x = new ort.Tensor('float32', images.subarray(start * per, (start + n) * per), [n, 3, 32, 32]);
    const out = await session.run({ [session.inputNames[0]!]: x });
    const logits = out[session.outputNames[0]!]!.data as Float32Array;
    chunks.push(Buffer.from(logits.buffer, logits.byteOffset, logits.byteLength));
  }
  fs.writeFileSync(outFile, Buffer.concat(chunks));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
