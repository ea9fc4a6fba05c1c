// Native tests of `layerq bench`'s pieces: every peak probe this CPU has runs and reports a
// positive rate; the kernel timer checks and times a conv, a depthwise conv and a GEMM on
// every path (a wrong kernel would fail its reference check here, as in the int8/f32 suites).
#include <cstdio>
#include <string>
#include <vector>

#include "bench/kernel-bench.h"
#include "bench/peak-probe.h"
#include "common/cpu.h"

namespace layerq {

int RunBenchTests() {
  int failures = 0;
  const std::vector<PeakProbe> probes = AvailablePeakProbes();
  for (const PeakProbe& p : probes) {
    const PeakRate rate = MeasurePeak(p, 2, 0.002, 1);
    if (!(rate.wall > 0) || !(rate.cpu > 0)) {
      ++failures;
      std::printf("FAIL peak probe %s: rate %g (wall), %g (cpu)\n", p.name, rate.wall, rate.cpu);
    }
  }
  std::printf("  %zu peak probes (%s)\n", probes.size(), CpuFeatureList(DetectedFeatures()).c_str());
  std::vector<BenchLayerShape> shapes(3);
  shapes[0].n = 2, shapes[0].cin = 5, shapes[0].cout = 7, shapes[0].h = 9, shapes[0].w = 11, shapes[0].kh = 3, shapes[0].kw = 3;
  shapes[0].pad_top = shapes[0].pad_left = shapes[0].pad_bottom = shapes[0].pad_right = 1, shapes[0].stride_h = 2;
  shapes[1] = shapes[0];
  shapes[1].cin = shapes[1].cout = shapes[1].group = 6, shapes[1].stride_h = 1;
  shapes[2].gemm = true, shapes[2].n = 3, shapes[2].cin = 37, shapes[2].cout = 10;
  for (const BenchLayerShape& s : shapes) {
    for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512, Isa::kNeon}) {
      if (!IsaSupported(isa)) continue;
      for (BenchDtype dt : {BenchDtype::kF32, BenchDtype::kInt8}) {
        const KernelBenchResult r = BenchLayer(s, dt, isa, 2, 0.001);
        if (!r.passed || !(r.best_seconds > 0) || r.calls < 2) {
          ++failures;
          std::printf("FAIL bench layer %s group %zu %s %s: passed %d, mismatches %zu, diff %g, seconds %g\n",
                      s.gemm ? "gemm" : "conv", s.group, dt == BenchDtype::kInt8 ? "int8" : "f32", IsaName(isa),
                      r.passed, r.mismatches, r.max_abs_diff, r.best_seconds);
        }
      }
    }
  }
  return failures;
}

}  // namespace layerq
