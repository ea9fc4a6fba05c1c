// Block iteration shared by the SIMD quantize kernels (AVX2: 8 lanes, NEON: 4).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace layerq {

// Runs body(i, count, scale, zero) over n elements in blocks of kLanes. `step` is 1 when scale
// and zero are per element (per-channel runs), 0 when one value serves all. The last partial
// block is handed padded parameter copies (scale 1, zero 0) and must write `count` results only.
template <size_t kLanes, typename Body>
inline void QuantizeBlocks(size_t n, const float* scale, const int32_t* zero, size_t step, const Body& body) {
  size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) body(i, kLanes, scale + i * step, zero + i * step);
  if (i == n) return;
  if (!step) {
    body(i, n - i, scale, zero);
    return;
  }
  float s[kLanes];
  int32_t z[kLanes];
  for (size_t k = 0; k < kLanes; ++k) {
    s[k] = 1;
    z[k] = 0;
  }
  std::memcpy(s, scale + i, (n - i) * sizeof(float));
  std::memcpy(z, zero + i, (n - i) * sizeof(int32_t));
  body(i, n - i, s, z);
}

}  // namespace layerq
