// Weight packing for the q8 GEMM microkernels (layout in q8-gemm.h).
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>

#include "kernels/q8-gemm/q8-gemm.h"

namespace layerq {
namespace {

uint8_t* AlignedAlloc(size_t bytes) {
  void* p = std::aligned_alloc(64, (bytes + 63) / 64 * 64);
  if (!p) throw std::bad_alloc();
  return static_cast<uint8_t*>(p);
}

// Q8PackedWeights::ubs_depth() of `rows` rows of k weights.
size_t UbsDepth(const int8_t* w, size_t rows, size_t k) {
  int32_t most = 0;  // P: the largest |w[k]| + |w[k + 1]|, k even
  for (size_t r = 0; r < rows; ++r)
    for (size_t i = 0; i < k; i += 2) {
      const int32_t a = std::abs(static_cast<int32_t>(w[r * k + i]));
      const int32_t b = i + 1 < k ? std::abs(static_cast<int32_t>(w[r * k + i + 1])) : 0;
      most = std::max(most, a + b);
    }
  size_t depth = 8;
  while (depth > 0 && static_cast<int64_t>(depth) * 255 * most > 32767) depth /= 2;
  return depth;
}

}  // namespace

Q8PackedWeights::Q8PackedWeights(const int8_t* w, const int32_t* bias, size_t groups, size_t m,
                                 size_t k, const Q8QuantParams& q)
    : groups_(groups), m_(m), k_(k), mr_(m == 1 ? 1 : 4), has_quads_(false), has_signed_quads_(false), has_octs_(false), q_(q),
      blob_(nullptr, std::free) {
  if (groups == 0 || m == 0 || k == 0) throw std::invalid_argument("q8 weights: empty shape");
  if (q.weightScale.size() != 1 && q.weightScale.size() != groups * m) {
    throw std::invalid_argument("q8 weights: weightScale must have 1 or Cout elements");
  }
  if (q.inputZero < 0 || q.inputZero > 255) throw std::invalid_argument("q8 weights: inputZero out of [0, 255]");
  if (q.output.kind == Q8OutputKind::kUint8 &&
      (q.output.qmin < 0 || q.output.qmax > 255 || q.output.qmin > q.output.qmax)) {
    throw std::invalid_argument("q8 weights: output range must be within [0, 255]");
  }
  mp_ = (m + mr_ - 1) / mr_ * mr_;
  mb_ = (m + 7) / 8 * 8;
  ubs_depth_ = UbsDepth(w, groups * m, k);
#if defined(__x86_64__) || defined(_M_X64)
  has_quads_ = Q8HasAvx512Vnni() || (ubs_depth_ > 0 && DetectedFeatures().avx2_fma);
#endif
#if defined(__aarch64__)
  // One layout for the 8-row kernels: usmmla's octs when chosen, else sdot's signed quads.
  has_octs_ = Q8HasNeonI8mm();
  has_quads_ = has_signed_quads_ = !has_octs_ && Q8HasNeonDot();
#endif
  const size_t kp = kpairs(), kq = kquads(), ko = kocts();
  group_bytes_ = ((mb_ + mp_ * kp + mb_ + (has_quads_ ? mb_ * kq : 0) + (has_signed_quads_ ? mb_ : 0) +
                   (has_octs_ ? mb_ * ko * 2 : 0)) * 4 + 63) / 64 * 64;
  blob_.reset(AlignedAlloc(groups * group_bytes_));
  std::memset(blob_.get(), 0, groups * group_bytes_);

  raw_w_.assign(w, w + groups * m * k);
  raw_bias_.assign(groups * m, 0);
  if (bias) raw_bias_.assign(bias, bias + groups * m);

  for (size_t g = 0; g < groups; ++g) {
    uint8_t* base = blob_.get() + g * group_bytes_;
    int32_t* pb = reinterpret_cast<int32_t*>(base);
    uint32_t* pw = reinterpret_cast<uint32_t*>(pb + mb_);
    float* ps = reinterpret_cast<float*>(pw + mp_ * kp);
    uint8_t* pq = reinterpret_cast<uint8_t*>(ps + mb_);
    int32_t* pqb = reinterpret_cast<int32_t*>(pq + (has_quads_ ? mb_ * kq * 4 : 0));
    const int8_t* wg = w + g * m * k;
    for (size_t c = 0; c < m; ++c) {
      int64_t sum = 0;
      for (size_t i = 0; i < k; ++i) sum += wg[c * k + i];
      // bias - xZero * sum_k w, modulo 2^32 like the int32 accumulator itself.
      const uint32_t b = static_cast<uint32_t>(raw_bias_[g * m + c]) -
                         static_cast<uint32_t>(static_cast<int64_t>(q.inputZero) * sum);
      pb[c] = static_cast<int32_t>(b);
      ps[c] = ChannelScale(g, c);
      // sdot multiplies x - 128: give 128 * sum_k w back (mod 2^32).
      if (has_signed_quads_) pqb[c] = static_cast<int32_t>(b + static_cast<uint32_t>(128 * sum));
    }
    for (size_t blk = 0; blk < mp_ / mr_; ++blk) {
      for (size_t p = 0; p < kp; ++p) {
        for (size_t r = 0; r < mr_; ++r) {
          const size_t c = blk * mr_ + r;
          int8_t lo = 0, hi = 0;
          if (c < m) {
            lo = wg[c * k + 2 * p];
            if (2 * p + 1 < k) hi = wg[c * k + 2 * p + 1];
          }
          pw[(blk * kp + p) * mr_ + r] = Q8PackPair(lo, hi);
        }
      }
    }
    // Quads or octs: [mb / 8][K / n][8][n] int8, n consecutive k of each of 8 rows per step.
    auto pack_rows8 = [&](size_t n) {
      const size_t steps = (k + n - 1) / n;
      for (size_t blk = 0; blk < mb_ / 8; ++blk)
        for (size_t p = 0; p < steps; ++p)
          for (size_t r = 0; r < 8; ++r)
            for (size_t j = 0; j < n; ++j) {
              const size_t c = blk * 8 + r, i = n * p + j;
              pq[((blk * steps + p) * 8 + r) * n + j] = static_cast<uint8_t>(c < m && i < k ? wg[c * k + i] : 0);
            }
    };
    if (has_quads_) pack_rows8(4);
    if (has_octs_) pack_rows8(8);  // in place of the quads
  }
}

float Q8PackedWeights::ChannelScale(size_t g, size_t c) const {
  const float ws = q_.weightScale.size() == 1 ? q_.weightScale[0] : q_.weightScale[g * m_ + c];
  const float s = q_.inputScale * ws;
  return q_.output.kind == Q8OutputKind::kUint8 ? s / q_.output.outputScale : s;
}

}  // namespace layerq
