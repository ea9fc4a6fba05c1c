#!/usr/bin/env bash
# Builds the native kernel tests (every SIMD path against the scalar reference) and runs them:
# on this machine, and cross-built for aarch64 under qemu (NEON) when the toolchain is there.
set -euo pipefail
cd "$(dirname "$0")/../.."
jobs=$(nproc)
cmake -S . -B build/native-tests -DLAYERQ_NATIVE_TESTS=ON -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/native-tests -j "$jobs" --target layerq_native_tests >/dev/null
echo "== native tests ($(uname -m))"
build/native-tests/layerq_native_tests
if command -v aarch64-linux-gnu-g++ >/dev/null && command -v qemu-aarch64 >/dev/null; then
  cmake -S . -B build/native-tests-aarch64 -DLAYERQ_NATIVE_TESTS=ON -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake >/dev/null
  cmake --build build/native-tests-aarch64 -j "$jobs" --target layerq_native_tests >/dev/null
  # Every NEON path: -cpu max has the dot product (sdot kernels) and i8mm; a Cortex-A72 has
  # neither (the plain smlal kernels).
  echo "== native tests (aarch64 under qemu -cpu max: NEON with dotprod, i8mm)"
  qemu-aarch64 -cpu max build/native-tests-aarch64/layerq_native_tests
  echo "== native tests (aarch64 under qemu -cpu cortex-a72: NEON without dotprod)"
  qemu-aarch64 -cpu cortex-a72 build/native-tests-aarch64/layerq_native_tests
elif [ "${CI:-}" = "true" ]; then
  echo "error: aarch64 cross toolchain or qemu-aarch64 missing in CI: NEON paths not checked" >&2
  exit 1
else
  echo "warning: NEON paths not checked: install g++-aarch64-linux-gnu and qemu-user (Debian) to check them" >&2
fi
