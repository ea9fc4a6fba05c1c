#!/usr/bin/env bash
# Builds the native kernel tests (every SIMD path against the scalar reference) and runs them:
# on this machine, and cross-built for aarch64 under qemu (NEON) when the toolchain is there.
# Then, in CI (CI=true) or with LAYERQ_SANITIZE=1 (LAYERQ_SANITIZE=0 turns it off), the same
# tests built with AddressSanitizer and UndefinedBehaviorSanitizer, on x86-64 and on aarch64
# under qemu (leak checking off there: LeakSanitizer cannot run under qemu-user). Any sanitizer
# report fails the run.
set -euo pipefail
cd "$(dirname "$0")/../.."
jobs=$(nproc)
in_ci() { [ "${CI:-}" = "true" ]; }
have_cross() { command -v aarch64-linux-gnu-g++ >/dev/null && command -v qemu-aarch64 >/dev/null; }

# build DIR [cmake args...]: configure and build the test binary quietly.
build() {
  local dir=$1
  shift
  cmake -S . -B "$dir" -DLAYERQ_NATIVE_TESTS=ON -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
  cmake --build "$dir" -j "$jobs" --target layerq_native_tests >/dev/null
}

build build/native-tests
echo "== native tests ($(uname -m))"
build/native-tests/layerq_native_tests
if have_cross; then
  build build/native-tests-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
  # Every NEON path: -cpu max has i8mm (usmmla kernels) and the dot product (sdot kernels, with
  # i8mm turned off); a Cortex-A72 has neither (the plain smlal kernels).
  echo "== native tests (aarch64 under qemu -cpu max: NEON with i8mm)"
  qemu-aarch64 -cpu max build/native-tests-aarch64/layerq_native_tests
  echo "== native tests (aarch64 under qemu -cpu max, LAYERQ_NEON_I8MM=0: NEON with dotprod)"
  LAYERQ_NEON_I8MM=0 qemu-aarch64 -cpu max build/native-tests-aarch64/layerq_native_tests
  echo "== native tests (aarch64 under qemu -cpu cortex-a72: NEON without dotprod)"
  qemu-aarch64 -cpu cortex-a72 build/native-tests-aarch64/layerq_native_tests
elif in_ci; then
  echo "error: aarch64 cross toolchain or qemu-aarch64 missing in CI: NEON paths not checked" >&2
  exit 1
else
  echo "warning: NEON paths not checked: install g++-aarch64-linux-gnu and qemu-user (Debian) to check them" >&2
fi

sanitize=${LAYERQ_SANITIZE:-}
if [ -z "$sanitize" ]; then in_ci && sanitize=1 || sanitize=0; fi
if [ "$sanitize" = "1" ]; then
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  build build/native-tests-asan -DLAYERQ_SANITIZE=ON
  echo "== native tests ($(uname -m), AddressSanitizer + UndefinedBehaviorSanitizer)"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 build/native-tests-asan/layerq_native_tests
  if have_cross; then
    build build/native-tests-aarch64-asan -DLAYERQ_SANITIZE=ON -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
    echo "== native tests (aarch64 under qemu, AddressSanitizer + UndefinedBehaviorSanitizer)"
    ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 qemu-aarch64 -L /usr/aarch64-linux-gnu build/native-tests-aarch64-asan/layerq_native_tests
  fi
fi
