/**
 * Which addon file layerq loads (src/engine/addon.ts): a local build, else the prebuilt one for the
 * platform, else a one-line NO_NATIVE_ADDON error naming the source build. The real addon is not
 * loaded here; `load` stands in for require.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ADDON_FILE, addonCandidates, loadAddon, platformTag } from '../../src/engine/addon';
import { LayerqError } from '../../src/errors';
import { isInstalledPackage, packageRoot } from '../../src/package';

function tempPackage(files: string[]): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'layerq-loader-'));
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    fs.writeFileSync(path.join(root, f), 'stand-in');
  }
  return root;
}

function loadError(root: string, tag: string, load: (file: string) => unknown = (f) => f): LayerqError {
  try {
    loadAddon(root, tag, load);
  } catch (e) {
    return e as LayerqError;
  }
  throw new Error('expected loadAddon to throw');
}

describe('native addon loader', () => {
  test('platform tags name the prebuild folders', () => {
    expect(platformTag('linux', 'x64', false)).toBe('linux-x64');
    expect(platformTag('linux', 'arm64', false)).toBe('linux-arm64');
    expect(platformTag('linux', 'x64', true)).toBe('linux-x64-musl');
    expect(platformTag('darwin', 'arm64', false)).toBe('darwin-arm64');
    if (process.platform === 'linux') expect(['linux-x64', 'linux-arm64']).toContain(platformTag());
  });

  test('the prebuilt addon of the platform is loaded', () => {
    const root = tempPackage([`prebuilds/linux-x64/${ADDON_FILE}`, `prebuilds/linux-arm64/${ADDON_FILE}`]);
    expect(loadAddon(root, 'linux-arm64', (f) => `loaded ${f}`).file).toBe(path.join(root, 'prebuilds', 'linux-arm64', ADDON_FILE));
    expect(loadAddon(root, 'linux-x64', (f) => `loaded ${f}`).addon).toBe(`loaded ${path.join(root, 'prebuilds', 'linux-x64', ADDON_FILE)}`);
  });

  test('a local build (npm run build, layerq build-native) comes before the prebuilt one', () => {
    const root = tempPackage([`prebuilds/linux-x64/${ADDON_FILE}`, `build/Release/${ADDON_FILE}`]);
    expect(addonCandidates(root, 'linux-x64').map((c) => c.kind)).toEqual(['build', 'prebuilt']);
    expect(loadAddon(root, 'linux-x64', (f) => f).file).toBe(path.join(root, 'build', 'Release', ADDON_FILE));
  });

  test('a local build that does not load falls back to the prebuilt one', () => {
    const root = tempPackage([`prebuilds/linux-x64/${ADDON_FILE}`, `build/Release/${ADDON_FILE}`]);
    const load = (f: string) => {
      if (f.includes(`${path.sep}build${path.sep}`)) throw new Error(`${f}: wrong ELF class: ELFCLASS32`);
      return 'ok';
    };
    expect(loadAddon(root, 'linux-x64', load).file).toBe(path.join(root, 'prebuilds', 'linux-x64', ADDON_FILE));
  });

  test('no addon for the platform: one line that names the shipped platforms and the source build', () => {
    const root = tempPackage([`prebuilds/linux-x64/${ADDON_FILE}`, `prebuilds/linux-arm64/${ADDON_FILE}`]);
    const e = loadError(root, 'linux-x64-musl');
    expect(e).toBeInstanceOf(LayerqError);
    expect(e.code).toBe('NO_NATIVE_ADDON');
    expect(e.message).toBe(
      "no native addon for linux-x64-musl: this package has prebuilt addons for linux-arm64, linux-x64 only; build one from source with 'npx layerq build-native' (needs cmake and a C++17 compiler)",
    );
  });

  test('a checkout without a build says how to build', () => {
    const e = loadError(tempPackage([]), 'linux-x64');
    expect(e.message).toContain("npm run build");
    expect(e.message).toContain('npx layerq build-native');
    expect(e.message).not.toContain('\n');
  });

  test("a prebuilt addon that does not load here: the loader's reason on the same line", () => {
    const root = tempPackage([`prebuilds/linux-x64/${ADDON_FILE}`]);
    const file = path.join(root, 'prebuilds', 'linux-x64', ADDON_FILE);
    const e = loadError(root, 'linux-x64', () => {
      throw new Error(`/lib/x86_64-linux-gnu/libc.so.6: version \`GLIBC_2.32' not found (required by ${file})\n    at Module._extensions..node`);
    });
    expect(e.code).toBe('NO_NATIVE_ADDON');
    expect(e.message).toMatch(/^layerq's native addon: the prebuilt linux-x64 addon does not load here \(.*GLIBC_2\.32' not found.*\); build one from source with 'npx layerq build-native'/);
    expect(e.message).not.toContain('\n');
  });

  test('package root and installed-package detection', () => {
    expect(fs.existsSync(path.join(packageRoot(), 'package.json'))).toBe(true);
    expect(isInstalledPackage(packageRoot())).toBe(false);
    expect(isInstalledPackage('/srv/app/node_modules/layerq')).toBe(true);
    expect(isInstalledPackage('/usr/lib/node_modules/@acme/layerq')).toBe(true);
  });
});
