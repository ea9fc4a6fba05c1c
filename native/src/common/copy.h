// Copies of short runs (the rows of small maps): two fixed-size moves that overlap in the
// middle, inlined, instead of a call to memcpy per run (on 2x2 and 4x4 maps the calls cost as
// much as the arithmetic around them).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace layerq {

// n bytes from src to dst (not overlapping).
inline void CopyShort(void* dst, const void* src, size_t n) {
  auto* d = static_cast<uint8_t*>(dst);
  const auto* s = static_cast<const uint8_t*>(src);
  if (n >= 32 && n <= 64) {
    std::memcpy(d, s, 32);
    std::memcpy(d + n - 32, s + n - 32, 32);
  } else if (n >= 16 && n < 32) {
    std::memcpy(d, s, 16);
    std::memcpy(d + n - 16, s + n - 16, 16);
  } else if (n >= 8 && n < 16) {
    std::memcpy(d, s, 8);
    std::memcpy(d + n - 8, s + n - 8, 8);
  } else if (n >= 4 && n < 8) {
    std::memcpy(d, s, 4);
    std::memcpy(d + n - 4, s + n - 4, 4);
  } else {
    std::memcpy(d, s, n);
  }
}

}  // namespace layerq
