/**
 * Loads the C++ addon (built by `npm run build:native` into build/Release). Every other module
 * reaches native code through the typed wrappers in this folder, never through `addon` directly.
 */
import * as path from 'path';
import { badArgument } from '../errors';

/** Most kernel threads layerq runs (the native pool clamps to the same bound). */
export const MAX_THREADS = 256;

/* eslint-disable @typescript-eslint/no-explicit-any */
function load(): any {
  const file = path.resolve(__dirname, '..', '..', '..', 'build', 'Release', 'layerq_native.node');
  const alt = path.resolve(__dirname, '..', '..', 'build', 'Release', 'layerq_native.node');
  for (const candidate of [file, alt]) {
    try {
      return require(candidate);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw e;
    }
  }
  throw new Error(`layerq native addon not found (looked for ${file}); run 'npm run build' first`);
}

export const addon: any = load();

export type IsaName = 'scalar' | 'avx2' | 'avx512' | 'neon';

export interface IsaInfo {
  detected: IsaName;
  active: IsaName;
  threads: number;
}

export function isaInfo(): IsaInfo {
  return addon.isaInfo();
}

/** Forces the kernel path (tests and benchmarks); throws when the CPU lacks it. */
export function setIsa(isa: IsaName): void {
  addon.setIsa(isa);
}

/** Sets the kernel thread count: an integer in [1, MAX_THREADS], else BAD_ARGUMENT. */
export function setThreads(threads: number): void {
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
    throw badArgument('threads', `an integer between 1 and ${MAX_THREADS}`, threads);
  }
  addon.setThreads(threads);
}
