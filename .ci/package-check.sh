#!/usr/bin/env bash
# CI: layerq as a user gets it from npm. Packs the built checkout (prepack: fresh dist, the
# prebuilt linux-x64 and linux-arm64 addons), checks the tarball's contents (only what runs, no
# build-machine paths), installs it into an empty project with no compiler on the PATH, runs
# `npx layerq demo` (the built-in task) and a TypeScript program on the library API, checks CJS
# require and ESM import, a global install, the one-line error when no addon fits and the source
# build that fixes it, and loads and runs the arm64 addon under qemu-aarch64 with Debian's arm64
# Node. Run by .ci/run after the tests; needs cmake, g++, g++-aarch64-linux-gnu and qemu-user.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
work=$(mktemp -d "${TMPDIR:-/tmp}/layerq-package.XXXXXX")
trap 'rm -rf "$work"' EXIT
step() { echo "== package: $*"; }
fail() { echo "package check failed: $*" >&2; exit 1; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

step "npm pack (prepack: tsc, prebuilt addons for linux-x64 and linux-arm64)"
npm pack --pack-destination "$work" --json >"$work/pack.json" 2>"$work/pack.log" || { cat "$work/pack.log" >&2; fail "npm pack"; }
grep '^prebuilt:' "$work/pack.log" || true
tgz=$(node -p "require('path').join('$work', require('$work/pack.json')[0].filename)")
node .ci/package/check-contents.js "$tgz" "$repo" "$HOME" "$work"

# An empty project whose PATH has node and npm and nothing else: no compiler, no cmake, no make.
nocc=$work/nocc-bin
mkdir -p "$nocc"
for t in node npm npx sh env; do ln -s "$(command -v "$t")" "$nocc/$t"; done
found=$(PATH=$nocc sh -c 'for t in cc gcc g++ c++ clang clang++ cmake make ninja; do command -v $t; done' || true)
[ -z "$found" ] || fail "a build tool is reachable from the test PATH: $found"
run() { env -u CC -u CXX PATH="$nocc" "$@"; }
# npm without its notes on held-back install scripts (of layerq's dependencies); fails when npm does.
npmq() { run npm "$@" 2>&1 | { grep -v '^npm warn install-scripts' || true; }; }

app=$work/app
mkdir -p "$app"
cd "$app"
run npm init -y >/dev/null
step "npm install ./$(basename "$tgz") into an empty project (no compiler on the PATH), then npx layerq demo"
t0=$(now)
npmq install --no-audit --no-fund "$tgz"
t1=$(now)
run npx layerq demo --quiet | tee "$work/demo.txt"
t2=$(now)
grep -q 'built-in stripes task' "$work/demo.txt" || fail "the demo did not run the built-in task"
grep -q '^| W8A8 |' "$work/demo.txt" || fail "the demo printed no W8A8 result"
echo "install-to-demo: $(secs "$t0" "$t2") s (npm install $(secs "$t0" "$t1") s, npx layerq demo $(secs "$t1" "$t2") s)"
addon=$(run node -p "require('layerq').nativeAddonPath()")
[ "$addon" = "$app/node_modules/layerq/prebuilds/linux-x64/layerq_native.node" ] || fail "the demo used $addon, not the prebuilt linux-x64 addon"

step "TypeScript program on the library API (strict; nodenext and node10 resolution)"
cp "$repo/.ci/package/consumer.ts" "$repo/.ci/package/tsconfig.json" .
npmq install --no-audit --no-fund --save-dev typescript@5 @types/node@20
run npx tsc -p tsconfig.json
run npx tsc -p tsconfig.json --noEmit --module commonjs --moduleResolution node10
run node out/consumer.js | tee "$work/consumer.json"
run node -e "
  const r = JSON.parse(require('fs').readFileSync('$work/consumer.json', 'utf8'));
  const ok = r.addon.endsWith('prebuilds/linux-x64/layerq_native.node') && r.fp32Top1 > 50
    && r.validation.quantized.top1 > 50 && r.missingModelError === 'FILE_NOT_FOUND';
  if (!ok) { console.error('unexpected consumer result'); process.exit(1); }"

step "CommonJS require and ESM import"
run node -e "const l = require('layerq'); for (const f of ['quantize', 'evaluate', 'demo', 'loadModel']) if (typeof l[f] !== 'function') process.exit(1); console.log('require: ok,', l.isaInfo().detected)"
run node --input-type=module -e "import { quantize, evaluate, isaInfo } from 'layerq'; if (typeof quantize !== 'function' || typeof evaluate !== 'function') process.exit(1); console.log('import: ok,', isaInfo().detected)"

step "global install"
npmq install -g --prefix "$work/global" --no-audit --no-fund "$tgz"
version=$(PATH="$work/global/bin:$nocc" layerq --version)
[ "$version" = "$(node -p "require('$repo/package.json').version")" ] || fail "global layerq --version printed '$version'"
(cd "$work" && PATH="$work/global/bin:$nocc" layerq demo --quiet --json --out global-demo >"$work/global-demo.json")
node -e "const r = require('$work/global-demo.json'); if (r.source !== 'synthetic' || r.runs.length !== 3) process.exit(1)"
echo "global: layerq $version; demo ok"

step "no addon for this platform: one line, and the source build that fixes it"
mv node_modules/layerq/prebuilds "$work/prebuilds-aside"
set +e
run npx layerq --help >/dev/null; help_rc=$?
run npx layerq demo --quiet >/dev/null 2>"$work/noaddon.err"; noaddon_rc=$?
run npx layerq build-native >/dev/null 2>"$work/nocompiler.err"; nocompiler_rc=$?
set -e
[ $help_rc -eq 0 ] || fail "layerq --help needs the addon"
cat "$work/noaddon.err" "$work/nocompiler.err"
[ $noaddon_rc -eq 1 ] && [ "$(wc -l <"$work/noaddon.err")" -eq 1 ] && grep -q "^layerq: error: no native addon for linux-x64.*npx layerq build-native" "$work/noaddon.err" \
  || fail "no addon: expected exit 1 and one line naming 'npx layerq build-native'"
[ $nocompiler_rc -eq 1 ] && [ "$(wc -l <"$work/nocompiler.err")" -eq 1 ] && grep -q "needs cmake" "$work/nocompiler.err" \
  || fail "build-native without a compiler: expected exit 1 and one line"
# With the compiler back on the PATH: the package's own sources build the addon.
t3=$(now)
npx layerq build-native >"$work/build-native.log" 2>&1 || { cat "$work/build-native.log" >&2; fail "layerq build-native"; }
tail -1 "$work/build-native.log"
run npx layerq demo --quiet --out demo-source-build | grep -q '^| W8A8 |' || fail "demo on the source-built addon"
[ "$(run node -p "require('layerq').nativeAddonPath()")" = "$app/node_modules/layerq/build/Release/layerq_native.node" ] || fail "the source-built addon is not the one loaded"
echo "source build from the package and demo on it: $(secs "$t3" "$(now)") s"
mv "$work/prebuilds-aside" node_modules/layerq/prebuilds

step "arm64: the package installed for linux-arm64, its prebuilt addon run under qemu-aarch64"
command -v qemu-aarch64 >/dev/null || fail "qemu-aarch64 missing (Debian qemu-user)"
task=$app/layerq-demo/synthetic
expected=$(run node -e "
  const l = require('layerq');
  (async () => {
    const f = await l.evaluate({ model: '$task/stripes.onnx', data: '$task/test', preset: 'cifar', limitPerClass: 50 });
    const q = await l.quantize({ model: '$task/stripes.onnx', calibData: '$task/calib-pool', valData: '$task/val', out: '$work/x64-out', preset: 'cifar',
      config: { weightBits: 8, activationBits: 8, perChannel: true, method: 'minmax', weightMethod: 'minmax', symmetricActivations: false, scope: 'float-residual' },
      calibrationPerClass: 16, seed: 0, labelFree: false });
    console.log(JSON.stringify({ limitPerClass: 50, fp32Top1: f.top1, int8EngineTop1: q.report.accuracy.int8Engine.top1, quantizedTop1: q.report.accuracy.quantized.top1 }));
  })();")
echo "x86-64 reference: $expected"
if arm64_node=$(bash "$repo/.ci/package/arm64-node.sh" "$work/arm64-node"); then
  app64=$work/app-arm64
  mkdir -p "$app64"
  cd "$app64"
  run npm init -y >/dev/null
  npmq install --no-audit --no-fund --cpu=arm64 --os=linux --libc=glibc "$tgz"
  cp "$repo/.ci/package/arm64.js" .
  echo "arm64 check: Debian's arm64 Node ($(qemu-aarch64 -L "$work/arm64-node/root" "$arm64_node" --version), nodejs:arm64 from apt multiarch)"
  qemu-aarch64 -L "$work/arm64-node/root" "$arm64_node" arm64.js "$task" "$expected"
elif [ -x "$repo/build/native-tests-aarch64/layerq_native_tests" ]; then
  echo "arm64 check: no arm64 Node from apt; running the addon's own aarch64 test binary instead"
  qemu-aarch64 "$repo/build/native-tests-aarch64/layerq_native_tests"
else
  fail "arm64: neither Debian's arm64 Node nor the aarch64 native test binary is available"
fi

pack_summary=$(node -e "const p = require('$work/pack.json')[0]; console.log(p.entryCount + ' files, ' + (p.size / 1024).toFixed(0) + ' KiB packed, ' + (p.unpackedSize / 1024).toFixed(0) + ' KiB unpacked')")
echo "package check: $(basename "$tgz") ($pack_summary) installs and runs on x86-64 and arm64"
