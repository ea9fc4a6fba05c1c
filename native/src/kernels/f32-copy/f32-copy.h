// Strided copy of an f32 view (Slice, Pad, Transpose): plain loads and stores, no arithmetic.
#pragma once
#include <cstddef>
#include <cstdint>

namespace layerq {
namespace f32 {

constexpr size_t kCopyMaxRank = 8;

// For every index i within dims[0..rank):
//   dst[dst_offset + sum_d i_d * dst_strides[d]] = src[src_offset + sum_d i_d * src_strides[d]].
// Strides are in elements and may be negative or zero (zero only on the source side makes
// sense). When `fill` is set, dst[0, dst_len) is first set to `value` (Pad). The caller checks
// that every touched element lies inside both arrays. Multithreaded over the outer dims; inner
// runs contiguous on both sides are one memcpy.
void StridedCopy(const float* src, int64_t src_offset, const int64_t* src_strides, float* dst,
                 int64_t dst_offset, const int64_t* dst_strides, const size_t* dims, size_t rank,
                 bool fill, float value, size_t dst_len);

}  // namespace f32
}  // namespace layerq
