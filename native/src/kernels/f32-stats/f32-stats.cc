// f32 calibration statistics (see f32-stats.h). The loops are written so the compiler can
// vectorize the min/max (`v < m ? v : m` is minps) and the plane sums stay in a fixed order.
#include "kernels/f32-stats/f32-stats.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "common/threadpool.h"

namespace layerq {
namespace f32 {
namespace {

constexpr size_t kGrain = 1 << 16;

Extremes ExtremesRange(const float* x, size_t n) {
  float mn = std::numeric_limits<float>::infinity();
  float mx = -mn;
  uint32_t bad = 0;
  for (size_t i = 0; i < n; ++i) {
    const float v = x[i];
    const float z = v - v;  // NaN for NaN and +-inf, 0 otherwise
    bad += z != z;
    mn = v < mn ? v : mn;  // a NaN never wins a comparison; an infinity is redone below
    mx = v > mx ? v : mx;
  }
  if (bad != 0) {
    mn = std::numeric_limits<float>::infinity();
    mx = -mn;
    for (size_t i = 0; i < n; ++i) {
      const float v = x[i];
      if (!std::isfinite(v)) continue;
      mn = v < mn ? v : mn;
      mx = v > mx ? v : mx;
    }
  }
  return {mn, mx, bad};
}

}  // namespace

Extremes ComputeExtremes(const float* x, size_t n) {
  const size_t chunks = std::max<size_t>(1, std::min<size_t>(n / kGrain, 64));
  std::vector<Extremes> part(chunks, Extremes{std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(), 0});
  const size_t per = (n + chunks - 1) / chunks;
  ParallelFor(chunks, 1, [&](size_t begin, size_t end) {
    for (size_t k = begin; k < end; ++k) {
      const size_t from = k * per, to = std::min(n, from + per);
      if (from < to) part[k] = ExtremesRange(x + from, to - from);
    }
  });
  Extremes r = part[0];
  for (size_t k = 1; k < chunks; ++k) {
    r.min = std::min(r.min, part[k].min);
    r.max = std::max(r.max, part[k].max);
    r.nonfinite += part[k].nonfinite;
  }
  return r;
}

void HistogramAdd(const float* x, size_t n, double lo, double inv, double* counts, size_t bins) {
  if (n == 0 || bins == 0) return;
  const size_t chunks = std::max<size_t>(1, std::min<size_t>(n / kGrain, 64));
  const size_t per = (n + chunks - 1) / chunks;
  // Counts per chunk as integers, merged in chunk order: exact whatever the thread count.
  std::vector<std::vector<uint32_t>> local(chunks, std::vector<uint32_t>(bins, 0));
  const int64_t last = static_cast<int64_t>(bins) - 1;
  ParallelFor(chunks, 1, [&](size_t begin, size_t end) {
    for (size_t k = begin; k < end; ++k) {
      uint32_t* c = local[k].data();
      const size_t from = k * per, to = std::min(n, from + per);
      for (size_t i = from; i < to; ++i) {
        const int64_t j = static_cast<int64_t>((static_cast<double>(x[i]) - lo) * inv);  // truncates
        c[j > last ? last : (j < 0 ? 0 : j)]++;
      }
    }
  });
  for (size_t k = 0; k < chunks; ++k) {
    for (size_t b = 0; b < bins; ++b) counts[b] += local[k][b];
  }
}

void ChannelSums(const float* x, size_t n, size_t c, size_t inner, double* sums) {
  std::vector<double> plane(n * c, 0.0);
  ParallelFor(n * c, std::max<size_t>(1, kGrain / std::max<size_t>(1, inner)), [&](size_t begin, size_t end) {
    for (size_t p = begin; p < end; ++p) {
      const float* src = x + p * inner;
      double s = 0;
      for (size_t i = 0; i < inner; ++i) s += src[i];
      plane[p] = s;
    }
  });
  for (size_t i = 0; i < n; ++i) {
    for (size_t ch = 0; ch < c; ++ch) sums[ch] += plane[i * c + ch];
  }
}

}  // namespace f32
}  // namespace layerq
