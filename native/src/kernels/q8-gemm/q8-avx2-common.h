// AVX2 building blocks shared by the q8 kernels (include only from files compiled for AVX2 or
// better; everything is TU-local, so each ISA's file gets its own copy): the output stage
// (requantize or dequantize 16 int32 accumulators, exactly the reference's float operations)
// and the activation panel packers for both step layouts (int16 pairs, uint8 quads).
#pragma once
#include <immintrin.h>

#include <cstring>
#include <utility>

#include "kernels/q8-gemm/q8-gemm.h"

namespace layerq {
namespace {

// 16 consecutive output pixels of one input row at stride 1 (16 bytes) or 2 (32 bytes, even
// bytes kept). Reads whole vectors: the caller guarantees the bytes exist.
template <int kStride>
inline __m128i Q8LoadPixels16(const uint8_t* p) {
  static_assert(kStride == 1 || kStride == 2, "stride 1 or 2");
  if (kStride == 1) return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m256i even = _mm256_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, -1, -1, -1, -1, -1, -1, -1, -1,
                                        0, 2, 4, 6, 8, 10, 12, 14, -1, -1, -1, -1, -1, -1, -1, -1);
  const __m256i v = _mm256_shuffle_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)), even);
  return _mm256_castsi256_si128(_mm256_permute4x64_epi64(v, 0x08));
}

// Writes the first n of 16 bytes to dst[p * stride].
inline void Q8StoreU8x16(__m128i b, size_t n, uint8_t* dst, size_t stride) {
  if (n == 16 && stride == 1) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), b);
    return;
  }
  alignas(16) uint8_t t[16];
  _mm_store_si128(reinterpret_cast<__m128i*>(t), b);
  for (size_t p = 0; p < n; ++p) dst[p * stride] = t[p];
}

class Q8RequantAvx2 {
 public:
  explicit Q8RequantAvx2(const Q8Output& o)
      : hi_(_mm256_set1_ps(static_cast<float>(o.qmax - o.zero))),
        flo_(_mm256_set1_ps(o.fmin)),
        fhi_(_mm256_set1_ps(o.fmax)),
        zero16_(_mm256_set1_epi16(static_cast<int16_t>(o.zero))),
        qmin16_(_mm256_set1_epi16(static_cast<int16_t>(o.qmin))) {}

  // uint8 of 16 accumulators: the reference's clamp(nearbyint(acc * multiplier) + zero, qmin,
  // qmax) in fewer operations. The float product (never fused) is capped at qmax - zero (an
  // integer, so capping before rounding is the same as after; NaN gets through the cap as the
  // second operand of vminps), rounded half to even (default MXCSR) to int32, where a NaN or a
  // value past int32 becomes INT32_MIN; the int32 codes pack to int16 with saturation (capped
  // above at 255 - zero, anything below -32768 is below qmin anyway), the zero point is added
  // with saturation and qmin applied in int16, and the pack to uint8 is exact: [qmin, qmax].
  __m128i U8x16(__m256i a0, __m256i a1, float multiplier) const {
    const __m256 m = _mm256_set1_ps(multiplier);
    const __m256i w16 = _mm256_permute4x64_epi64(Codes16(a0, a1, m, m), 0xD8);
    return _mm_packus_epi16(_mm256_castsi256_si128(w16), _mm256_extracti128_si256(w16, 1));
  }

  // float32 of 16 accumulators, first n stored to dst[p * stride].
  void StoreF32x16(__m256i a0, __m256i a1, float scale, size_t n, float* dst, size_t stride) const {
    const __m256 s = _mm256_set1_ps(scale);
    const __m256 f0 = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(a0), s), flo_), fhi_);
    const __m256 f1 = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(a1), s), flo_), fhi_);
    if (n == 16 && stride == 1) {
      _mm256_storeu_ps(dst, f0);
      _mm256_storeu_ps(dst + 8, f1);
      return;
    }
    alignas(32) float t[16];
    _mm256_store_ps(t, f0);
    _mm256_store_ps(t + 8, f1);
    for (size_t p = 0; p < n; ++p) dst[p * stride] = t[p];
  }

  // 16 accumulators held in the order of an in-lane interleave, a = outputs {0-3, 8-11} and
  // b = {4-7, 12-15}, with per-lane multipliers ma, mb (same order): the 16 uint8 codes, in
  // order, to dst (the in-lane pack undoes the interleave).
  void StoreU8Halves(__m256i a, __m256i b, __m256 ma, __m256 mb, uint8_t* dst) const {
    const __m256i w16 = Codes16(a, b, ma, mb);  // 0-7 | 8-15
    const __m128i b8 = _mm_packus_epi16(_mm256_castsi256_si128(w16), _mm256_extracti128_si256(w16, 1));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), b8);
  }

  // The same accumulators with per-lane scales: 16 clamped float32, in order, to dst.
  void StoreF32Halves(__m256i a, __m256i b, __m256 sa, __m256 sb, float* dst) const {
    const __m256 fa = F32x8(a, sa), fb = F32x8(b, sb);
    _mm256_storeu_ps(dst, _mm256_permute2f128_ps(fa, fb, 0x20));
    _mm256_storeu_ps(dst + 8, _mm256_permute2f128_ps(fa, fb, 0x31));
  }

  // 8 accumulators, each with its own scale: clamped float32.
  __m256 F32x8(__m256i acc, __m256 s) const {
    return _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(acc), s), flo_), fhi_);
  }

 private:
  // The uint8 codes of a and b (8 accumulators each, multipliers ma and mb) as int16 in [qmin,
  // qmax], in the order of _mm256_packs_epi32(a, b) (per 128-bit lane: a's 4 then b's 4).
  __m256i Codes16(__m256i a, __m256i b, __m256 ma, __m256 mb) const {
    const __m256i ia = _mm256_cvtps_epi32(_mm256_min_ps(hi_, _mm256_mul_ps(_mm256_cvtepi32_ps(a), ma)));
    const __m256i ib = _mm256_cvtps_epi32(_mm256_min_ps(hi_, _mm256_mul_ps(_mm256_cvtepi32_ps(b), mb)));
    return _mm256_max_epi16(_mm256_adds_epi16(_mm256_packs_epi32(ia, ib), zero16_), qmin16_);
  }

  __m256 hi_, flo_, fhi_;
  __m256i zero16_, qmin16_;
};

// vpshufb controls that gather int16 pairs from a 16-byte source held in both 128-bit lanes:
// table i, int32 element e gets the source bytes pick(i, e) = {lo, hi}, zero-extended (an index
// below 0: 0). For the depthwise kernels of small planes.
template <size_t kTables>
struct Q8PairShuffles {
  alignas(32) int8_t bytes[kTables][32];
  template <class Pick>
  explicit Q8PairShuffles(Pick pick) {
    for (size_t i = 0; i < kTables; ++i) {
      for (size_t e = 0; e < 8; ++e) {
        const std::pair<int, int> src = pick(i, e);
        int8_t* at = bytes[i] + 4 * e;
        at[0] = static_cast<int8_t>(src.first < 0 ? -128 : src.first);
        at[2] = static_cast<int8_t>(src.second < 0 ? -128 : src.second);
        at[1] = at[3] = -128;
      }
    }
  }
  __m256i Get(size_t i) const { return _mm256_load_si256(reinterpret_cast<const __m256i*>(bytes[i])); }
};

// Output stage of an accumulator tile acc[mr][kQ8Nr]: rows [0, mr) x columns [0, np) to
// out[r * row_stride + p * col_stride].
inline void Q8StoreAccU8(const int32_t* acc, size_t mr, size_t np, const float* scales, const Q8Output& o,
                         uint8_t* out, size_t row_stride, size_t col_stride) {
  const Q8RequantAvx2 rq(o);
  for (size_t r = 0; r < mr; ++r) {
    const __m128i b = rq.U8x16(_mm256_load_si256(reinterpret_cast<const __m256i*>(acc + r * kQ8Nr)),
                               _mm256_load_si256(reinterpret_cast<const __m256i*>(acc + r * kQ8Nr + 8)), scales[r]);
    Q8StoreU8x16(b, np, out + r * row_stride, col_stride);
  }
}

inline void Q8StoreAccF32(const int32_t* acc, size_t mr, size_t np, const float* scales, const Q8Output& o,
                          float* out, size_t row_stride, size_t col_stride) {
  const Q8RequantAvx2 rq(o);
  for (size_t r = 0; r < mr; ++r) {
    rq.StoreF32x16(_mm256_load_si256(reinterpret_cast<const __m256i*>(acc + r * kQ8Nr)),
                   _mm256_load_si256(reinterpret_cast<const __m256i*>(acc + r * kQ8Nr + 8)), scales[r], np,
                   out + r * row_stride, col_stride);
  }
}

// ---- activation panels: 64 bytes per step of kStep k values x 16 pixels ----------------------

// Pairs (vpmaddwd): 16 x (x[k][p], x[k+1][p]) zero-extended to int16, in pixel order.
struct Q8PairStep {
  static constexpr size_t kStep = 2;
  static void Emit(const __m128i* rows, int16_t* out) {
    const __m128i lo = _mm_unpacklo_epi8(rows[0], rows[1]);  // pixels 0..7
    const __m128i hi = _mm_unpackhi_epi8(rows[0], rows[1]);  // pixels 8..15
    _mm256_store_si256(reinterpret_cast<__m256i*>(out), _mm256_cvtepu8_epi16(lo));
    _mm256_store_si256(reinterpret_cast<__m256i*>(out + 16), _mm256_cvtepu8_epi16(hi));
  }
};

// Quads (vpdpbusd): 16 x (x[k][p], x[k+1][p], x[k+2][p], x[k+3][p]) as uint8, in pixel order.
struct Q8QuadStep {
  static constexpr size_t kStep = 4;
  static void Emit(const __m128i* rows, int16_t* out) {
    const __m128i a = _mm_unpacklo_epi8(rows[0], rows[1]), b = _mm_unpackhi_epi8(rows[0], rows[1]);
    const __m128i c = _mm_unpacklo_epi8(rows[2], rows[3]), d = _mm_unpackhi_epi8(rows[2], rows[3]);
    __m128i* o = reinterpret_cast<__m128i*>(out);
    _mm_store_si128(o + 0, _mm_unpacklo_epi16(a, c));  // pixels 0..3
    _mm_store_si128(o + 1, _mm_unpackhi_epi16(a, c));  // pixels 4..7
    _mm_store_si128(o + 2, _mm_unpacklo_epi16(b, d));  // pixels 8..11
    _mm_store_si128(o + 3, _mm_unpackhi_epi16(b, d));  // pixels 12..15
  }
};

// Panel from 16 columns of col (uint8 [K][col_stride]); k past K reads as 0, columns past np
// as 0 (never stored anyway).
template <class Step>
void Q8PackPanel(const uint8_t* col, size_t col_stride, size_t k, size_t np, int16_t* panel) {
  alignas(16) uint8_t t[Step::kStep][kQ8Nr];
  __m128i rows[Step::kStep];
  for (size_t s = 0; s * Step::kStep < k; ++s) {
    for (size_t j = 0; j < Step::kStep; ++j) {
      const size_t i = s * Step::kStep + j;
      if (i >= k) {
        rows[j] = _mm_setzero_si128();
      } else if (np == kQ8Nr) {
        rows[j] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(col + i * col_stride));
      } else {
        std::memset(t[j], 0, kQ8Nr);
        std::memcpy(t[j], col + i * col_stride, np);
        rows[j] = _mm_load_si128(reinterpret_cast<const __m128i*>(t[j]));
      }
    }
    Step::Emit(rows, panel + s * 2 * kQ8Nr);
  }
}

// One im2col row of a panel from a padded input: one load per run, merged by byte masks.
template <int kStride>
class Q8RunGather {
 public:
  explicit Q8RunGather(const Q8PanelRuns& runs) : runs_(runs) {
    const __m128i iota = _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (size_t r = 0; r < runs.count; ++r) {
      mask_[r] = _mm_andnot_si128(_mm_cmplt_epi8(iota, _mm_set1_epi8(static_cast<char>(runs.begin[r]))),
                                  _mm_cmplt_epi8(iota, _mm_set1_epi8(static_cast<char>(runs.end[r]))));
    }
  }
  __m128i Row(const uint8_t* s) const {
    __m128i v = Q8LoadPixels16<kStride>(s + runs_.base[0]);
    for (size_t r = 1; r < runs_.count; ++r) v = _mm_blendv_epi8(v, Q8LoadPixels16<kStride>(s + runs_.base[r]), mask_[r]);
    return v;
  }

 private:
  const Q8PanelRuns& runs_;
  __m128i mask_[kQ8Nr];
};

template <class Step, int kStride>
void Q8PackRuns(const uint8_t* src, const int64_t* koff, size_t k, const Q8PanelRuns& runs, int16_t* panel) {
  const Q8RunGather<kStride> gather(runs);
  __m128i rows[Step::kStep];
  const size_t full = k / Step::kStep;
  if (runs.count == 1) {  // common case: the panel lies in one output row
    const int64_t base = runs.base[0];
    for (size_t s = 0; s < full; ++s) {
      for (size_t j = 0; j < Step::kStep; ++j) rows[j] = Q8LoadPixels16<kStride>(src + koff[s * Step::kStep + j] + base);
      Step::Emit(rows, panel + s * 2 * kQ8Nr);
    }
  } else {
    for (size_t s = 0; s < full; ++s) {
      for (size_t j = 0; j < Step::kStep; ++j) rows[j] = gather.Row(src + koff[s * Step::kStep + j]);
      Step::Emit(rows, panel + s * 2 * kQ8Nr);
    }
  }
  if (k % Step::kStep) {
    for (size_t j = 0; j < Step::kStep; ++j) {
      const size_t i = full * Step::kStep + j;
      rows[j] = i < k ? gather.Row(src + koff[i]) : _mm_setzero_si128();
    }
    Step::Emit(rows, panel + full * 2 * kQ8Nr);
  }
}

// Any stride: one byte at a time.
template <class Step>
void Q8PackRunsGeneric(const uint8_t* src, const int64_t* koff, size_t k, const Q8PanelRuns& runs, int16_t* panel) {
  alignas(16) uint8_t t[Step::kStep][kQ8Nr];
  __m128i rows[Step::kStep];
  for (size_t s = 0; s * Step::kStep < k; ++s) {
    for (size_t j = 0; j < Step::kStep; ++j) {
      std::memset(t[j], 0, kQ8Nr);
      const size_t i = s * Step::kStep + j;
      if (i < k) Q8GatherRuns(src + koff[i], runs, t[j]);
      rows[j] = _mm_load_si128(reinterpret_cast<const __m128i*>(t[j]));
    }
    Step::Emit(rows, panel + s * 2 * kQ8Nr);
  }
}

template <class Step>
void Q8PackPanelRuns(const uint8_t* src, const int64_t* koff, size_t k, const Q8PanelRuns& runs, int16_t* panel) {
  if (runs.stride == 1) return Q8PackRuns<Step, 1>(src, koff, k, runs, panel);
  if (runs.stride == 2) return Q8PackRuns<Step, 2>(src, koff, k, runs, panel);
  Q8PackRunsGeneric<Step>(src, koff, k, runs, panel);
}

}  // namespace
}  // namespace layerq
