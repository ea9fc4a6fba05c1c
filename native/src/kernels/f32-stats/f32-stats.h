// f32 calibration statistics: the reductions layerq's observers (src/quant/observers.ts) run
// over every activation of every calibration batch. Portable C++ split over the thread pool;
// every result is independent of the thread count (integer-valued counts, per-plane sums).
#pragma once
#include <cstddef>

namespace layerq {
namespace f32 {

struct Extremes {
  float min;         // +inf when no finite value
  float max;         // -inf when no finite value
  size_t nonfinite;  // NaN and infinite values (left out of min/max)
};

// Min, max and the count of non-finite values of x[0..n).
Extremes ComputeExtremes(const float* x, size_t n);

// Adds x[0..n) into counts[0..bins): value v goes to bin trunc((v - float(lo)) * float(inv))
// computed in float32, clamped to [0, bins - 1] (the last bin also holds the top edge). Every
// value must be finite (the caller covered the range).
void HistogramAdd(const float* x, size_t n, double lo, double inv, double* counts, size_t bins);

// One pass for a histogram whose range usually already covers the data: the extremes of
// x[0..n) and, when every value is finite and in [lo, hi], the counts added as HistogramAdd
// would add them (returns true); otherwise counts are left untouched (returns false) and the
// caller grows the range and calls HistogramAdd.
bool HistogramUpdate(const float* x, size_t n, double lo, double hi, double inv, double* counts, size_t bins, Extremes* extremes);

// sums[c] += sum of x over every plane of channel c: x is [n, c, inner]; each plane is summed
// in double in order, the planes of a channel added in image order.
void ChannelSums(const float* x, size_t n, size_t c, size_t inner, double* sums);

}  // namespace f32
}  // namespace layerq
