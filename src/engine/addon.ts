/**
 * Loads the C++ addon (built by `npm run build:native` into build/Release). Every other module
 * reaches native code through the typed wrappers in this folder, never through `addon` directly.
 */
import * as path from 'path';

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

export function setThreads(threads: number): void {
  if (!Number.isInteger(threads) || threads < 1) {
    throw new RangeError(`Expected positive integer for threads but received ${threads}`);
  }
  addon.setThreads(threads);
}
