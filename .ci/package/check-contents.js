#!/usr/bin/env node
'use strict';
/**
 * Checks an `npm pack` tarball of layerq: only what runs is inside (dist without tests or
 * benchmarks, both prebuilt addons for their right architectures, the native sources and build
 * script for `layerq build-native`, README, LICENSE), no install scripts, and no absolute path of
 * the build machine in any file, text or binary.
 *
 *   node .ci/package/check-contents.js PACKAGE.tgz FORBIDDEN_PATH...
 *
 * FORBIDDEN_PATH: paths of this machine that must not appear (the checkout, $HOME, ...); every
 * file is also searched for absolute paths under the usual build roots (/home, /root, /work, /tmp,
 * /usr/include, /usr/lib/gcc, ...). Prints the file count and sizes; exits 1 on any finding.
 */
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const [tgz, ...forbidden] = process.argv.slice(2);
if (!tgz) {
  console.error('usage: check-contents.js PACKAGE.tgz [FORBIDDEN_PATH...]');
  process.exit(2);
}
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layerq-pkg-contents-'));
execFileSync('tar', ['xzf', tgz, '-C', dir]);
const root = path.join(dir, 'package');

function walk(d, out = []) {
  for (const e of fs.readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(path.relative(root, p).split(path.sep).join('/'));
  }
  return out;
}
const files = walk(root).sort();
const problems = [];

const REQUIRED = [
  'package.json', 'README.md', 'LICENSE', 'bin/layerq.js', 'dist/src/index.js', 'dist/src/index.d.ts',
  'dist/src/cli/main.js', 'prebuilds/linux-x64/layerq_native.node', 'prebuilds/linux-arm64/layerq_native.node',
  'CMakeLists.txt', 'scripts/build-native.js', 'native/src/bindings/addon.cc',
];
for (const f of REQUIRED) if (!files.includes(f)) problems.push(`missing: ${f}`);

const ALLOWED = [
  /^(package\.json|README\.md|LICENSE|CMakeLists\.txt|scripts\/build-native\.js|bin\/layerq\.js)$/,
  /^dist\/src\/.+\.(js|d\.ts)$/,
  /^prebuilds\/linux-(x64|arm64)\/layerq_native\.node$/,
  /^native\/src\/.+\.(cc|h)$/,
];
for (const f of files) if (!ALLOWED.some((re) => re.test(f))) problems.push(`not for the package: ${f}`);

// Every kernel and binding source that CMakeLists.txt globs must be there for the fallback build.
const nativeSources = execFileSync('git', ['ls-files', 'native/src'], { cwd: path.resolve(__dirname, '..', '..'), encoding: 'utf8' })
  .split('\n').filter((f) => /\.(cc|h)$/.test(f));
for (const f of nativeSources) if (!files.includes(f)) problems.push(`native source missing (layerq build-native needs it): ${f}`);

// No install-time scripts: npm 11 holds them back anyway, and the package must not need one.
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
for (const s of ['preinstall', 'install', 'postinstall']) if (pkg.scripts?.[s]) problems.push(`install script in package.json: ${s}`);
if (pkg.gypfile) problems.push('package.json has gypfile: npm would try to build with node-gyp');

// The prebuilt addons: ELF shared objects of the right machine.
const ELF_MACHINE = { x64: 62, arm64: 183 };
for (const [arch, machine] of Object.entries(ELF_MACHINE)) {
  const f = path.join(root, 'prebuilds', `linux-${arch}`, 'layerq_native.node');
  if (!fs.existsSync(f)) continue;
  const b = fs.readFileSync(f);
  const ok = b.readUInt32BE(0) === 0x7f454c46 && b[4] === 2 && b.readUInt16LE(16) === 3 && b.readUInt16LE(18) === machine;
  if (!ok) problems.push(`prebuilds/linux-${arch}/layerq_native.node is not a 64-bit ELF shared object for ${arch}`);
}

// The oldest systems the prebuilt addons load on (README): glibc 2.32, GCC 11's libstdc++. The
// symbol versions they need are named in their .dynstr.
const FLOOR = { GLIBC: '2.32', GLIBCXX: '3.4.29' };
const newer = (a, b) => { const x = a.split('.').map(Number), y = b.split('.').map(Number); for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) > (y[i] ?? 0); return false; };
for (const arch of Object.keys(ELF_MACHINE)) {
  const f = path.join(root, 'prebuilds', `linux-${arch}`, 'layerq_native.node');
  if (!fs.existsSync(f)) continue;
  const text = fs.readFileSync(f).toString('latin1');
  const needs = [];
  for (const [lib, floor] of Object.entries(FLOOR)) {
    const versions = [...new Set([...text.matchAll(new RegExp(`\\b${lib}_([0-9.]+)\\b`, 'g'))].map((m) => m[1]))];
    const max = versions.reduce((m, v) => (newer(v, m) ? v : m), '0');
    needs.push(`${lib} ${max}`);
    if (newer(max, floor)) problems.push(`prebuilds/linux-${arch} needs ${lib}_${max}, newer than the documented ${lib}_${floor}`);
  }
  console.log(`prebuilds/linux-${arch}/layerq_native.node: ${(fs.statSync(f).size / 1024).toFixed(0)} KiB, needs ${needs.join(', ')}`);
}

// Absolute paths of the build machine.
const BUILD_ROOTS = /\/(?:home|root|work|tmp|opt|mnt|srv|builds?|var\/lib|usr\/(?:local\/)?(?:include|src|lib\/gcc|lib\/node_modules))\/[\w.@+-][\w.@+\/-]{0,60}/g;
const literal = [...new Set(forbidden.filter(Boolean).flatMap((p) => [p, fs.existsSync(p) ? fs.realpathSync(p) : p]))]
  .filter((p) => p.length > 1 && p !== '/');
for (const f of files) {
  const text = fs.readFileSync(path.join(root, f)).toString('latin1');
  for (const p of literal) if (text.includes(p)) problems.push(`build-machine path ${p} in ${f}`);
  for (const m of new Set(text.match(BUILD_ROOTS) ?? [])) problems.push(`absolute path '${m}...' in ${f}`);
}

const size = fs.statSync(tgz).size;
const unpacked = files.reduce((n, f) => n + fs.statSync(path.join(root, f)).size, 0);
fs.rmSync(dir, { recursive: true, force: true });
console.log(`package ${path.basename(tgz)}: ${files.length} files, ${(size / 1024).toFixed(0)} KiB packed, ${(unpacked / 1024).toFixed(0)} KiB unpacked`);
if (problems.length) {
  for (const p of problems) console.error(`package check: ${p}`);
  process.exit(1);
}
console.log('package contents: only what runs, both prebuilt addons (x86-64, aarch64), no build-machine paths');
