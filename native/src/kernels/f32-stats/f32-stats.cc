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

// Min, max (a NaN never wins a comparison) and the count of NaNs (`kNonFinite` false) or of
// NaNs and infinities (true) of x[0..n), in 8 independent lanes so the compiler vectorizes it
// without fast-math.
template <bool kNonFinite>
void LaneExtremes(const float* x, size_t n, float* mn_out, float* mx_out, uint32_t* bad_out) {
  constexpr size_t kLanes = 8;
  float mn[kLanes], mx[kLanes];
  int32_t bad[kLanes];
  for (size_t j = 0; j < kLanes; ++j) {
    mn[j] = *mn_out;
    mx[j] = *mx_out;
    bad[j] = 0;
  }
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (size_t j = 0; j < kLanes; ++j) {
      const float v = x[i + j];
      const float z = kNonFinite ? v - v : v;  // NaN for NaN (and +-inf when kNonFinite)
      bad[j] -= z != z ? -1 : 0;
      mn[j] = v < mn[j] ? v : mn[j];
      mx[j] = v > mx[j] ? v : mx[j];
    }
  }
  for (; i < n; ++i) {
    const float v = x[i];
    const float z = kNonFinite ? v - v : v;
    bad[0] += z != z;
    mn[0] = v < mn[0] ? v : mn[0];
    mx[0] = v > mx[0] ? v : mx[0];
  }
  uint32_t total = 0;
  for (size_t j = 0; j < kLanes; ++j) {
    *mn_out = std::min(*mn_out, mn[j]);
    *mx_out = std::max(*mx_out, mx[j]);
    total += static_cast<uint32_t>(bad[j]);
  }
  *bad_out = total;
}

Extremes ExtremesRange(const float* x, size_t n) {
  float mn = std::numeric_limits<float>::infinity();
  float mx = -mn;
  uint32_t bad = 0;
  LaneExtremes<true>(x, n, &mn, &mx, &bad);  // an infinity is redone below
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

// Bins x[from..to) into c (clamped to [0, bins - 1]); with `mn`/`mx`, tracks the extremes too.
// Bins x[from..to) into c[0..4 * bins) (four interleaved sub-histograms, so that runs of
// equal bins do not serialize on one counter) and tracks the extremes and NaNs. A block of
// indices is computed first in float32 (vectorizable: sub, mul, clamp, truncate), then counted.
// A NaN lands in bin 0 and is counted in `nan` (min/max never see it).
template <bool kExtremes>
void BinRange(const float* x, size_t from, size_t to, float lo, float inv, float last, size_t bins, uint32_t* c, float* mn,
              float* mx, size_t* nan) {
  constexpr size_t kBlock = 256;
  alignas(64) int32_t idx[kBlock];
  float lo_v = *mn, hi_v = *mx;
  uint32_t nans = 0;
  for (size_t start = from; start < to; start += kBlock) {
    const size_t m = std::min(kBlock, to - start);
    const float* src = x + start;
    if (kExtremes) {
      uint32_t block_nans = 0;
      LaneExtremes<false>(src, m, &lo_v, &hi_v, &block_nans);
      nans += block_nans;
    }
    for (size_t i = 0; i < m; ++i) {
      const float v = src[i];
      float t = (v - lo) * inv;
      t = t >= 0.f ? t : 0.f;  // NaN -> 0
      t = t < last ? t : last;
      idx[i] = static_cast<int32_t>(t);
    }
    size_t i = 0;
    for (; i + 4 <= m; i += 4) {
      c[idx[i]]++;
      c[bins + idx[i + 1]]++;
      c[2 * bins + idx[i + 2]]++;
      c[3 * bins + idx[i + 3]]++;
    }
    for (; i < m; ++i) c[idx[i]]++;
  }
  *mn = lo_v;
  *mx = hi_v;
  *nan = nans;
}

// Counts per chunk as integers, merged in chunk order: exact whatever the thread count.
template <bool kExtremes>
std::vector<uint32_t> BinChunks(const float* x, size_t n, double lo, double inv, size_t bins, float* mn, float* mx, size_t* nan) {
  const size_t chunks = std::max<size_t>(1, std::min<size_t>(n / kGrain, 64));
  const size_t per = (n + chunks - 1) / chunks;
  std::vector<uint32_t> local(chunks * 4 * bins, 0);
  std::vector<float> lows(chunks, std::numeric_limits<float>::infinity()), highs(chunks, -std::numeric_limits<float>::infinity());
  std::vector<size_t> nans(chunks, 0);
  const float last = static_cast<float>(bins - 1);
  const float lo_f = static_cast<float>(lo), inv_f = static_cast<float>(inv);
  ParallelFor(chunks, 1, [&](size_t begin, size_t end) {
    for (size_t k = begin; k < end; ++k) {
      BinRange<kExtremes>(x, k * per, std::min(n, k * per + per), lo_f, inv_f, last, bins, local.data() + k * 4 * bins, &lows[k],
                          &highs[k], &nans[k]);
    }
  });
  for (size_t k = 1; k < 4 * chunks; ++k) {
    uint32_t* dst = local.data();
    const uint32_t* src = local.data() + k * bins;
    for (size_t b = 0; b < bins; ++b) dst[b] += src[b];
  }
  for (size_t k = 1; k < chunks; ++k) {
    lows[0] = std::min(lows[0], lows[k]);
    highs[0] = std::max(highs[0], highs[k]);
    nans[0] += nans[k];
  }
  *mn = lows[0];
  *mx = highs[0];
  *nan = nans[0];
  local.resize(bins);
  return local;
}

void HistogramAdd(const float* x, size_t n, double lo, double inv, double* counts, size_t bins) {
  if (n == 0 || bins == 0) return;
  float mn, mx;
  size_t nan;
  const std::vector<uint32_t> c = BinChunks<false>(x, n, lo, inv, bins, &mn, &mx, &nan);
  for (size_t b = 0; b < bins; ++b) counts[b] += c[b];
}

bool HistogramUpdate(const float* x, size_t n, double lo, double hi, double inv, double* counts, size_t bins, Extremes* e) {
  *e = Extremes{std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(), 0};
  if (n == 0 || bins == 0) return true;
  size_t nan = 0;
  const std::vector<uint32_t> c = BinChunks<true>(x, n, lo, inv, bins, &e->min, &e->max, &nan);
  // An infinity shows as an extreme out of range: then count properly and let the caller
  // filter (NaN) or grow the range.
  if (nan != 0 || !(e->min >= lo && e->max <= hi)) {
    *e = ComputeExtremes(x, n);
    return false;
  }
  for (size_t b = 0; b < bins; ++b) counts[b] += c[b];
  return true;
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
