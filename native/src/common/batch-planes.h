// Planes [n][c][p] <-> rows [c][n * p]: a pointwise (1x1, stride 1, unpadded) conv over images
// of fewer pixels than a kernel tile (2x2 maps at the end of a CIFAR MobileNet: 4 pixels against
// 16-pixel int8 panels or 8/16-lane f32 segments) runs the whole batch as one image of n * p
// pixels, so no lanes are wasted, at the cost of these two copies. (int8 copies only maps whose
// pixels do not divide 16: the others gather each panel across images, q8-conv.cc.)
#pragma once
#include <cstddef>
#include <cstring>

#include "common/threadpool.h"

namespace layerq {

// p elements; the common tiny sizes as fixed-size copies (no memcpy call per plane).
template <typename T>
inline void CopyPlane(T* dst, const T* src, size_t p) {
  switch (p * sizeof(T)) {
    case 1: std::memcpy(dst, src, 1); return;
    case 4: std::memcpy(dst, src, 4); return;
    case 8: std::memcpy(dst, src, 8); return;
    case 16: std::memcpy(dst, src, 16); return;
    case 64: std::memcpy(dst, src, 64); return;
    default: std::memcpy(dst, src, p * sizeof(T));
  }
}

// dst[ci][b * p + i] = x[b][ci][i].
template <typename T>
void PlanesToBatchRows(const T* x, size_t n, size_t c, size_t p, T* dst) {
  ParallelFor(c, 8, [&](size_t c0, size_t c1) {
    for (size_t ci = c0; ci < c1; ++ci)
      for (size_t b = 0; b < n; ++b) CopyPlane(dst + (ci * n + b) * p, x + (b * c + ci) * p, p);
  });
}

// out[b][co][i] = rows[co][b * p + i].
template <typename T>
void BatchRowsToPlanes(const T* rows, size_t n, size_t c, size_t p, T* out) {
  ParallelFor(n, 1, [&](size_t b0, size_t b1) {
    for (size_t b = b0; b < b1; ++b)
      for (size_t co = 0; co < c; ++co) CopyPlane(out + (b * c + co) * p, rows + (co * n + b) * p, p);
  });
}

}  // namespace layerq
