# Cross build of the kernel library and native tests for aarch64 (Debian g++-aarch64-linux-gnu),
# run under qemu-aarch64: the NEON paths checked against the scalar reference.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
# Static, so qemu-aarch64 runs it without a sysroot; sanitizer runtimes need dynamic linking
# (run with qemu-aarch64 -L /usr/aarch64-linux-gnu).
if(NOT LAYERQ_SANITIZE)
  set(CMAKE_EXE_LINKER_FLAGS "-static")
endif()
