#!/usr/bin/env node
'use strict';
/**
 * Builds the N-API addon (native/) with cmake: `npm run build:native` in a checkout, and
 * `layerq build-native` in an installed package where no prebuilt addon fits. The addon is built
 * against Node-API only (headers from the node-api-headers and node-addon-api packages,
 * NAPI_VERSION in CMakeLists.txt), so one binary serves every Node >= 20 of its platform and no
 * Node headers are downloaded.
 *
 *   node scripts/build-native.js [--arch x64|arm64] [--out DIR] [--build-dir DIR] [--jobs N]
 *
 * --arch arm64 on an x86-64 host cross-builds with Debian's g++-aarch64-linux-gnu
 * (cmake/aarch64-linux-gnu.cmake). Without --out the addon lands in build/Release (host) or
 * build/linux-<arch>/Release, where src/engine/addon.ts looks for it.
 */
const { spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const ADDON = 'layerq_native.node';

class BuildError extends Error {}

function which(cmd) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (!dir) continue;
    const file = path.join(dir, cmd);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** Include folder of an installed package, resolved from this package (node_modules, hoisted or not). */
function packageInclude(name, sub) {
  let pkg;
  try {
    pkg = require.resolve(`${name}/package.json`, { paths: [ROOT] });
  } catch {
    throw new BuildError(`the '${name}' package is missing; run 'npm install' first`);
  }
  return path.join(path.dirname(pkg), sub);
}

function hostArch() {
  return process.arch;
}

function parseArgs(argv) {
  const opts = { arch: hostArch(), out: undefined, buildDir: undefined, jobs: Math.max(1, os.availableParallelism ? os.availableParallelism() : os.cpus().length), quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new BuildError(`${a} needs a value`);
      return v;
    };
    if (a === '--arch') opts.arch = value();
    else if (a === '--out') opts.out = path.resolve(value());
    else if (a === '--build-dir') opts.buildDir = path.resolve(value());
    else if (a === '--jobs') opts.jobs = Number(value());
    else if (a === '--quiet') opts.quiet = true;
    else throw new BuildError(`unknown option ${a} (options: --arch x64|arm64, --out DIR, --build-dir DIR, --jobs N, --quiet)`);
  }
  if (!['x64', 'arm64'].includes(opts.arch)) throw new BuildError(`--arch must be x64 or arm64, not '${opts.arch}'`);
  if (!Number.isInteger(opts.jobs) || opts.jobs < 1) throw new BuildError('--jobs must be a positive integer');
  return opts;
}

function run(cmd, args, quiet) {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: quiet ? ['ignore', 'pipe', 'pipe'] : 'inherit', encoding: 'utf8' });
  if (r.error) throw new BuildError(`${cmd} failed to start: ${r.error.message}`);
  if (r.status !== 0) {
    if (quiet) process.stderr.write(`${r.stdout || ''}${r.stderr || ''}`);
    throw new BuildError(`${path.basename(cmd)} ${args[0]} exited with ${r.status ?? r.signal}`);
  }
}

/**
 * Configures and builds; returns the path of the built addon. Throws BuildError (one line) when
 * the tools are missing or the build fails (the compiler's own output is printed above it).
 */
function buildNative(options = {}) {
  const opts = { ...parseArgs([]), ...options };
  const cross = opts.arch !== hostArch();
  if (process.platform !== 'linux') throw new BuildError(`building the addon is set up for Linux only (this is ${process.platform})`);
  if (cross && !(opts.arch === 'arm64' && hostArch() === 'x64')) throw new BuildError(`cannot cross-build for ${opts.arch} on ${hostArch()}`);
  const cmake = which('cmake');
  const cxx = cross ? which('aarch64-linux-gnu-g++') : process.env.CXX ? which(process.env.CXX) || process.env.CXX : which('c++') || which('g++') || which('clang++');
  const missing = [];
  if (!cmake) missing.push('cmake (>= 3.15)');
  if (!cxx) missing.push(cross ? "Debian's g++-aarch64-linux-gnu" : 'a C++17 compiler (g++ or clang++)');
  if (missing.length) throw new BuildError(`building the native addon needs ${missing.join(' and ')} on the PATH`);

  const buildDir = opts.buildDir ?? path.join(ROOT, 'build', ...(cross ? [`linux-${opts.arch}`] : []));
  const outDir = opts.out ?? path.join(buildDir, 'Release');
  try {
    fs.mkdirSync(buildDir, { recursive: true });
    fs.mkdirSync(outDir, { recursive: true });
  } catch (e) {
    throw new BuildError(`cannot write the build folder ${buildDir} (${e.code || e.message})`);
  }
  // A build folder configured elsewhere (a moved checkout or package) or by cmake-js (before
  // this script) is started afresh; cmake refuses the first and would keep cmake-js's settings.
  const cache = path.join(buildDir, 'CMakeCache.txt');
  if (fs.existsSync(cache)) {
    const text = fs.readFileSync(cache, 'utf8');
    const home = /^CMAKE_HOME_DIRECTORY:INTERNAL=(.*)$/m.exec(text)?.[1];
    if (/^CMAKE_JS_VERSION:/m.test(text) || (home && path.resolve(home) !== ROOT)) {
      fs.rmSync(path.join(buildDir, 'CMakeCache.txt'));
      fs.rmSync(path.join(buildDir, 'CMakeFiles'), { recursive: true, force: true });
    }
  }
  const configure = [
    '-S', ROOT, '-B', buildDir,
    '-DCMAKE_BUILD_TYPE=Release',
    '-DLAYERQ_ADDON=ON',
    `-DLAYERQ_NODE_API_INCLUDE=${packageInclude('node-api-headers', 'include')}`,
    `-DLAYERQ_NODE_ADDON_API_INCLUDE=${path.dirname(require.resolve('node-addon-api/napi.h', { paths: [ROOT] }))}`,
    `-DCMAKE_LIBRARY_OUTPUT_DIRECTORY=${outDir}`,
  ];
  if (cross) configure.push(`-DCMAKE_TOOLCHAIN_FILE=${path.join(ROOT, 'cmake', 'aarch64-linux-gnu.cmake')}`);
  // A new build folder gets Ninja where there is one; an existing one keeps its generator.
  if (!fs.existsSync(path.join(buildDir, 'CMakeCache.txt')) && which('ninja')) configure.push('-G', 'Ninja');
  if (!opts.quiet) process.stderr.write(`layerq: building the native addon for linux-${opts.arch} in ${path.relative(process.cwd(), buildDir) || '.'}\n`);
  run(cmake, configure, opts.quiet);
  run(cmake, ['--build', buildDir, '--target', 'layerq_native', '-j', String(opts.jobs)], opts.quiet);
  const addon = path.join(outDir, ADDON);
  if (!fs.existsSync(addon)) throw new BuildError(`the build finished but ${addon} is missing`);
  return addon;
}

module.exports = { buildNative, parseArgs, BuildError };

if (require.main === module) {
  try {
    const addon = buildNative(parseArgs(process.argv.slice(2)));
    process.stderr.write(`layerq: native addon built: ${path.relative(process.cwd(), addon)}\n`);
  } catch (e) {
    if (!(e instanceof BuildError)) throw e;
    process.stderr.write(`layerq: error: ${e.message}\n`);
    process.exitCode = 1;
  }
}
