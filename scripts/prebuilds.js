#!/usr/bin/env node
'use strict';
/**
 * Makes the prebuilt addons that the npm package ships (run by `npm pack` / `npm publish` through
 * the prepack script, and by .ci/package-check.sh):
 *   prebuilds/linux-x64/layerq_native.node    the host build (build/Release, as `npm run build`)
 *   prebuilds/linux-arm64/layerq_native.node  cross-built with Debian's g++-aarch64-linux-gnu
 * Both are Node-API builds: one binary per platform serves every Node >= 20. Needs an x86-64
 * Linux host with cmake, g++ and g++-aarch64-linux-gnu; builds are incremental.
 */
const fs = require('fs');
const path = require('path');
const { buildNative, BuildError } = require('./build-native');

const ROOT = path.resolve(__dirname, '..');
const TARGETS = ['x64', 'arm64'];

function main() {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new BuildError(`prebuilt addons are made on linux-x64 (this is ${process.platform}-${process.arch})`);
  }
  fs.rmSync(path.join(ROOT, 'prebuilds'), { recursive: true, force: true });
  for (const arch of TARGETS) {
    const built = buildNative({ arch, quiet: true });
    const dest = path.join(ROOT, 'prebuilds', `linux-${arch}`, path.basename(built));
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.copyFileSync(built, dest);
    process.stderr.write(`prebuilt: ${path.relative(ROOT, dest)} (${(fs.statSync(dest).size / 1024).toFixed(0)} KiB)\n`);
  }
}

try {
  main();
} catch (e) {
  if (!(e instanceof BuildError)) throw e;
  process.stderr.write(`prebuilds: error: ${e.message}\n`);
  process.exitCode = 1;
}
