// Kernel timing for `layerq bench`: one conv or GEMM layer shape on one dtype (f32, int8 or int8
// activations with 4-bit weights) and
// ISA path, timed natively (a C++ loop of kernel calls, no N-API hop per call) after its output
// has been checked against the scalar reference on the same inputs: int8 bit for bit, f32 within
// 1e-5 of the largest reference output (at least 1).
#pragma once
#include <cstddef>
#include <string>

#include "common/cpu.h"

namespace layerq {

// A conv over NCHW (n images of cin x h x w; weights [cout][cin / group][kh][kw]), or a GEMM
// (gemm = true: n rows of cin values times a [cout][cin] weight).
struct BenchLayerShape {
  bool gemm = false;
  size_t n = 1, cin = 1, cout = 1, h = 1, w = 1, kh = 1, kw = 1, group = 1;
  size_t stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  size_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;

  size_t OutH() const;
  size_t OutW() const;
  // Multiply-accumulates of one call (ops = 2 * MACs).
  double Macs() const;
  // Empty when the shape is valid, else what is wrong.
  std::string Invalid() const;
};

// kW4A8: the int8 kernels with weights in [-8, 7] (on AVX2 the vpmaddubsw kernels).
enum class BenchDtype { kF32 = 0, kInt8 = 1, kW4A8 = 2 };

struct KernelBenchResult {
  bool passed = false;        // the output matched the reference (else nothing was timed)
  size_t checked_images = 0;  // images (rows for a GEMM) of the check: all, or fewer for huge shapes
  double max_abs_diff = 0;    // f32: max |path - reference|
  double tolerance = 0;       // f32: the bound max_abs_diff was held to
  size_t mismatches = 0;      // int8: outputs that differ from the reference
  double best_seconds = 0;    // one call: the fastest sample
  double median_seconds = 0;  // one call: the median sample
  // One call: the least process CPU time of a sample, all threads together. On a shared
  // machine it does not count the time other processes held the cores (1 thread: the
  // kernel's own time; N threads: N times it when the split is perfect).
  double cpu_seconds = 0;
  size_t calls = 0;           // calls timed in all
};

// Checks (unless `check` is false: a repeat of a checked measurement), then times `shape` on
// `isa` with `threads` kernel threads for about min_seconds. Restores the active ISA and thread
// count afterwards. Throws std::invalid_argument for a bad shape or an ISA this CPU lacks.
KernelBenchResult BenchLayer(const BenchLayerShape& shape, BenchDtype dtype, Isa isa, int threads,
                             double min_seconds, bool check = true);

}  // namespace layerq
