/**
 * Size limits: every size a file or an option declares is checked against these before memory
 * is allocated for it, so a hostile or broken input is a one-line TOO_LARGE error instead of an
 * exhausted heap, an "Invalid typed array length" or a read that never ends.
 */
import { constants as bufferConstants } from 'buffer';
import * as os from 'os';
import { LayerqError } from '../errors';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

/** Largest files layerq reads (bytes). A model is one protobuf message (2 GiB at most). */
export const FILE_LIMITS = {
  model: 2 * GiB - 1,
  image: 256 * MiB,
  listFile: 256 * MiB,
  lockFile: 64 * 1024,
} as const;

/** Largest typed array this Node can allocate, in bytes. */
const MAX_ARRAY_BYTES = Math.min(bufferConstants.MAX_LENGTH, Number.MAX_SAFE_INTEGER);

/** "1.5 GiB", "300.0 MiB", "12 bytes". */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return `${n} bytes`;
  if (n >= GiB) return `${(n / GiB).toFixed(1)} GiB`;
  if (n >= MiB) return `${(n / MiB).toFixed(1)} MiB`;
  return `${n} bytes`;
}

/** Parses "4G", "512M", "1048576" (bytes; K, M, G, T suffixes are powers of 1024). */
export function parseBytes(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$/i.exec(text);
  if (!m) return undefined;
  const scale = { '': 1, k: 1024, m: MiB, g: GiB, t: 1024 * GiB }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  const n = Math.floor(Number(m[1]) * scale);
  return n > 0 ? n : undefined;
}

let totalMemory: number | undefined;

/**
 * Bytes layerq allows one tensor (and one image set) to take: LAYERQ_MEMORY_BUDGET when set
 * ("8G"), else half of the machine's memory, and never more than one typed array can hold.
 */
export function memoryBudget(): number {
  const env = process.env['LAYERQ_MEMORY_BUDGET'];
  const fromEnv = env !== undefined ? parseBytes(env) : undefined;
  // The machine's memory is read once: it is a system call, and engine runs check every batch.
  totalMemory ??= os.totalmem();
  return Math.min(fromEnv ?? Math.floor(totalMemory / 2), MAX_ARRAY_BYTES);
}

/**
 * Throws TOO_LARGE "<what> would need 7.5 GiB ([1, 3, 50000, 50000] x 4 bytes), above the
 * memory budget of 12.0 GiB (LAYERQ_MEMORY_BUDGET)" unless `elements` is a non-negative safe
 * integer whose bytes fit the budget. Call it before allocating anything sized by a file.
 */
export function checkAllocation(what: string, elements: number, bytesPerElement: number, shape?: readonly number[]): void {
  const bytes = elements * bytesPerElement;
  const budget = memoryBudget();
  if (Number.isSafeInteger(elements) && elements >= 0 && bytes <= budget) return;
  const detail = shape ? `[${shape.join(', ')}] x ${bytesPerElement} bytes` : `${elements} x ${bytesPerElement} bytes`;
  throw new LayerqError(
    'TOO_LARGE',
    `${what} would need ${formatBytes(bytes)} (${detail}), above the memory budget of ${formatBytes(budget)} (set LAYERQ_MEMORY_BUDGET to change it)`,
  );
}

/** Product of `dims` when every dim is a non-negative safe integer and the product is safe; else NaN. */
export function safeProduct(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) return NaN;
    n *= d;
    if (!Number.isSafeInteger(n)) return NaN;
  }
  return n;
}
