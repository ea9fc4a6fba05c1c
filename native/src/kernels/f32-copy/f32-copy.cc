#include "kernels/f32-copy/f32-copy.h"

#include <algorithm>
#include <cstring>

#include "common/threadpool.h"

namespace layerq {
namespace f32 {
namespace {

constexpr size_t kCopyGrain = 16384;  // elements per task: well above thread hand-off costs

}  // namespace

void StridedCopy(const float* src, int64_t src_offset, const int64_t* src_strides, float* dst,
                 int64_t dst_offset, const int64_t* dst_strides, const size_t* dims, size_t rank,
                 bool fill, float value, size_t dst_len) {
  if (fill) {
    ParallelFor(dst_len, 4 * kCopyGrain, [&](size_t begin, size_t end) { std::fill(dst + begin, dst + end, value); });
  }
  if (rank > kCopyMaxRank) return;
  // Drop unit dims and merge neighbours that are contiguous with each other on both sides.
  size_t n[kCopyMaxRank];
  int64_t ss[kCopyMaxRank], ds[kCopyMaxRank];
  size_t r = 0, total = 1;
  for (size_t d = 0; d < rank; ++d) {
    total *= dims[d];
    if (dims[d] == 1) continue;
    if (r > 0 && ss[r - 1] == src_strides[d] * static_cast<int64_t>(dims[d]) &&
        ds[r - 1] == dst_strides[d] * static_cast<int64_t>(dims[d])) {
      n[r - 1] *= dims[d];
      ss[r - 1] = src_strides[d];
      ds[r - 1] = dst_strides[d];
      continue;
    }
    n[r] = dims[d];
    ss[r] = src_strides[d];
    ds[r] = dst_strides[d];
    ++r;
  }
  if (total == 0) return;
  if (r == 0) {  // a single element
    dst[dst_offset] = src[src_offset];
    return;
  }
  const size_t inner = n[r - 1];
  const int64_t si = ss[r - 1], di = ds[r - 1];
  const size_t outer = total / inner;
  const float* s0 = src + src_offset;
  float* d0 = dst + dst_offset;
  ParallelFor(outer, std::max<size_t>(1, kCopyGrain / inner), [&](size_t begin, size_t end) {
    for (size_t o = begin; o < end; ++o) {
      int64_t so = 0, dof = 0;
      size_t rem = o;
      for (size_t d = r - 1; d-- > 0;) {
        const size_t idx = rem % n[d];
        rem /= n[d];
        so += static_cast<int64_t>(idx) * ss[d];
        dof += static_cast<int64_t>(idx) * ds[d];
      }
      const float* s = s0 + so;
      float* t = d0 + dof;
      if (si == 1 && di == 1) {
        std::memcpy(t, s, inner * sizeof(float));
      } else {
        for (size_t i = 0; i < inner; ++i) t[static_cast<int64_t>(i) * di] = s[static_cast<int64_t>(i) * si];
      }
    }
  });
}

}  // namespace f32
}  // namespace layerq
