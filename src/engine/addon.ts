/**
 * Loads the C++ addon. Every other module reaches native code through the typed wrappers in this
 * folder, never through `addon` directly.
 *
 * Where it comes from, first that exists: `build/Release/layerq_native.node` in the package root
 * (a contributor's `npm run build`, or a user's `npx layerq build-native`: a local build is made
 * for this machine, so it wins), then the prebuilt `prebuilds/<platform>-<arch>/layerq_native.node`
 * shipped in the npm package (linux-x64, linux-arm64; N-API, so one binary serves every Node >= 20).
 * The addon is loaded on first use, so `layerq --help` and `layerq build-native` work without one;
 * when none fits, the first use throws a one-line LayerqError ('NO_NATIVE_ADDON') naming the fix.
 */
import * as fs from 'fs';
import * as path from 'path';
import { LayerqError, badArgument } from '../errors';
import { packageRoot } from '../package';

/** Most kernel threads layerq runs (the native pool clamps to the same bound). */
export const MAX_THREADS = 256;

export const ADDON_FILE = 'layerq_native.node';
const BUILD_HINT = "build one from source with 'npx layerq build-native' (needs cmake and a C++17 compiler)";

/** The prebuild folder name for a platform: linux-x64, linux-arm64; musl libc gets a -musl suffix. */
export function platformTag(platform: string = process.platform, arch: string = process.arch, musl: boolean = isMusl()): string {
  return `${platform}-${arch}${platform === 'linux' && musl ? '-musl' : ''}`;
}

function isMusl(): boolean {
  if (process.platform !== 'linux') return false;
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return !report?.header?.glibcVersionRuntime;
}

/** Addon files to try, in order: a local source build, then the shipped prebuild for this platform. */
export function addonCandidates(root: string, tag: string = platformTag()): { file: string; kind: 'build' | 'prebuilt' }[] {
  return [
    { file: path.resolve(root, 'build', 'Release', ADDON_FILE), kind: 'build' },
    { file: path.resolve(root, 'prebuilds', tag, ADDON_FILE), kind: 'prebuilt' },
  ];
}

/** First line of a loader error, without the file path Node repeats in it. */
function reason(e: unknown): string {
  return String((e as Error).message ?? e).split('\n')[0]!.replace(/^[^:]*\.node: /, '');
}

/**
 * Loads the first candidate that exists; throws a one-line LayerqError when none exists or the
 * ones that exist do not load here (wrong libc, too old a glibc/libstdc++).
 */
export function loadAddon(root: string = packageRoot(), tag: string = platformTag(), load: (file: string) => unknown = require): { addon: unknown; file: string } {
  const failures: string[] = [];
  for (const { file, kind } of addonCandidates(root, tag)) {
    if (!fs.existsSync(file)) continue;
    try {
      return { addon: load(file), file };
    } catch (e) {
      failures.push(`the ${kind === 'build' ? 'locally built' : `prebuilt ${tag}`} addon does not load here (${reason(e)})`);
    }
  }
  if (failures.length) throw new LayerqError('NO_NATIVE_ADDON', `layerq's native addon: ${failures.join('; ')}; ${BUILD_HINT}`);
  const shipped = fs.existsSync(path.join(root, 'prebuilds'))
    ? fs.readdirSync(path.join(root, 'prebuilds')).filter((d) => fs.existsSync(path.join(root, 'prebuilds', d, ADDON_FILE))).sort()
    : [];
  const where = shipped.length ? `this package has prebuilt addons for ${shipped.join(', ')} only` : "no prebuilt addons here and none built (in a checkout: 'npm run build')";
  throw new LayerqError('NO_NATIVE_ADDON', `no native addon for ${tag}: ${where}; ${BUILD_HINT}`);
}

/* eslint-disable @typescript-eslint/no-explicit-any */
let loaded: { addon: any; file: string } | undefined;
let failure: unknown;

function native(): { addon: any; file: string } {
  if (loaded) return loaded;
  if (failure) throw failure;
  try {
    loaded = loadAddon() as { addon: any; file: string };
    return loaded;
  } catch (e) {
    failure = e;
    throw e;
  }
}

/** The addon's exports, loaded on first property access. */
export const addon: any = new Proxy({}, { get: (_target, key) => native().addon[key] });

/** Path of the addon file in use (loads it if not yet loaded). */
export function nativeAddonPath(): string {
  return native().file;
}

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
