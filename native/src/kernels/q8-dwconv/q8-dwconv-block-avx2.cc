// AVX2 channel-block depthwise kernel (Q8DwBlockFn in q8-dwconv.h): 16x16 byte transposes in
// and out of a pixel-major int16 buffer, and per output pixel one vpmaddwd per tap pair and 8
// channels. The products and their pair sums fit in int32 exactly (|255 * -128| * 2), the int32
// sums wrap like the reference's, and the output stage is the reference's float operations.
#include <immintrin.h>

#include <cstring>

#include "common/unroll.h"
#include "kernels/q8-dwconv/q8-dwconv.h"
#include "kernels/q8-gemm/q8-avx2-common.h"

namespace layerq {
namespace {

// A 16x16 byte transpose on ymm registers: in[r] = row r (16 bytes), r = 0..15; out[k] holds
// column 2k (low lane) and column 2k + 1 (high lane), each the 16 bytes of that column. Rows r
// and r + 8 share a register (one per lane), three in-lane unpack rounds transpose each lane's
// 8 rows, and a qword permute joins a column's two halves: 8 registers instead of 16 xmm, so
// nothing spills.
inline void Transpose16x16(const __m128i in[16], __m256i out[8]) {
  __m256i r[8], a[8], b[8];
  Unroll<8>([&](auto j) { r[j] = _mm256_inserti128_si256(_mm256_castsi128_si256(in[j]), in[j + 8], 1); });
  Unroll<4>([&](auto j) {  // a[2j + h]: rows 2j, 2j+1 (and +8) interleaved, columns 8h..8h+7
    a[2 * j] = _mm256_unpacklo_epi8(r[2 * j], r[2 * j + 1]);
    a[2 * j + 1] = _mm256_unpackhi_epi8(r[2 * j], r[2 * j + 1]);
  });
  Unroll<2>([&](auto q) {
    Unroll<2>([&](auto h) {  // b[4q + 2h + s]: rows 4q..4q+3, columns 8h + 4s .. + 3
      b[4 * q + 2 * h] = _mm256_unpacklo_epi16(a[4 * q + h], a[4 * q + 2 + h]);
      b[4 * q + 2 * h + 1] = _mm256_unpackhi_epi16(a[4 * q + h], a[4 * q + 2 + h]);
    });
  });
  Unroll<2>([&](auto h) {
    Unroll<2>([&](auto s) {  // rows 0..7 of the lane, columns 8h + 4s + 2t, + 1: qwords (col, col + 1)
      const __m256i lo = _mm256_unpacklo_epi32(b[2 * h + s], b[4 + 2 * h + s]);
      const __m256i hi = _mm256_unpackhi_epi32(b[2 * h + s], b[4 + 2 * h + s]);
      out[4 * h + 2 * s] = _mm256_permute4x64_epi64(lo, 0xD8);
      out[4 * h + 2 * s + 1] = _mm256_permute4x64_epi64(hi, 0xD8);
    });
  });
}

// Input planes of `channels` channels (h x w each) into the interior of T (pixel-major int16).
// A partial chunk (planes of fewer than 16 pixels, or a plane's last pixels) is still one
// 16-byte load per channel where that stays before x_end (the bytes past the plane are not used).
void TransposeIn(const Q8DwGeometry& g, const uint8_t* x, const uint8_t* x_end, size_t channels, int16_t* t16) {
  const size_t hw = g.h * g.w;
  __m128i rows[16];
  __m256i px[8];
  size_t iy = 0, ix = 0;  // of the chunk's first pixel
  for (size_t i0 = 0; i0 < hw; i0 += 16) {
    const size_t m = hw - i0 < 16 ? hw - i0 : 16;
    for (size_t c = 0; c < 16; ++c) {
      if (c >= channels) {
        rows[c] = _mm_setzero_si128();
      } else if (m == 16 || x + c * hw + i0 + 16 <= x_end) {
        rows[c] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x + c * hw + i0));
      } else {
        alignas(16) uint8_t t[16] = {};
        std::memcpy(t, x + c * hw + i0, m);
        rows[c] = _mm_load_si128(reinterpret_cast<const __m128i*>(t));
      }
    }
    Transpose16x16(rows, px);
    // Unrolled: px indexed by a loop counter would live in memory (GCC keeps it in registers
    // only with constant indices).
    Unroll<16>([&](auto p) {
      if (p >= m) return;
      int16_t* dst = t16 + ((iy + g.pad_top) * g.wp + ix + g.pad_left) * kQ8DwBlock;
      const __m128i v = p % 2 ? _mm256_extracti128_si256(px[p / 2], 1) : _mm256_castsi256_si128(px[p / 2]);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), _mm256_cvtepu8_epi16(v));
      if (++ix == g.w) ix = 0, ++iy;
    });
  }
}

// Output pixels [P][16] (uint8) back into `channels` planes of P = ho * wo. The partial chunk
// goes first, as whole 16-byte stores where they end inside the block's planes: what spills past
// a channel's plane lands in the next channels' planes, which later stores overwrite (the same
// chunk's next channels, then the full chunks).
void TransposeOutU8(size_t pixels, const uint8_t* obuf, size_t channels, uint8_t* out) {
  __m128i rows[16];
  __m256i ch[8];
  const size_t chunks = (pixels + 15) / 16;
  for (size_t j = chunks; j-- > 0;) {
    const size_t p0 = j * 16, m = pixels - p0 < 16 ? pixels - p0 : 16;
    for (size_t p = 0; p < 16; ++p) {
      rows[p] = p < m ? _mm_loadu_si128(reinterpret_cast<const __m128i*>(obuf + (p0 + p) * 16)) : _mm_setzero_si128();
    }
    Transpose16x16(rows, ch);
    Unroll<16>([&](auto c) {  // constant indices into ch, as in TransposeIn
      if (c >= channels) return;
      const __m128i v = c % 2 ? _mm256_extracti128_si256(ch[c / 2], 1) : _mm256_castsi256_si128(ch[c / 2]);
      if (m == 16 || c * pixels + p0 + 16 <= channels * pixels) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + c * pixels + p0), v);
      } else {
        alignas(16) uint8_t t[16];
        _mm_store_si128(reinterpret_cast<__m128i*>(t), v);
        std::memcpy(out + c * pixels + p0, t, m);
      }
    });
  }
}

void TransposeOutF32(size_t pixels, const float* obuf, size_t channels, float* out) {
  for (size_t c = 0; c < channels; ++c)
    for (size_t p = 0; p < pixels; ++p) out[c * pixels + p] = obuf[p * 16 + c];
}

// Every output pixel of the block. kPairs > 0 fixes the tap pair count (3x3: 5).
template <size_t kPairs, bool kU8>
void Compute(const Q8DwGeometry& g, const Q8DwBlockParams& p, const int16_t* t16, void* obuf) {
  const size_t pairs = kPairs ? kPairs : g.kpairs;
  const Q8RequantAvx2 rq(g.output);
  constexpr size_t kMax = kPairs ? kPairs : 1;
  __m256i wl[kMax], wh[kMax];
  int32_t off[2 * kMax];
  if constexpr (kPairs > 0) {
    Unroll<kPairs>([&](auto q) {
      wl[q] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p.pairs + q * 16));
      wh[q] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p.pairs + q * 16 + 8));
      off[2 * q] = g.tap_offsets[2 * q] * 16;
      off[2 * q + 1] = 2 * q + 1 < g.taps ? g.tap_offsets[2 * q + 1] * 16 : -1;
    });
  }
  const __m256i bl = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p.bias));
  const __m256i bh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p.bias + 8));
  const __m256 sl = _mm256_loadu_ps(p.scales), sh = _mm256_loadu_ps(p.scales + 8);
  const __m256i zero = _mm256_setzero_si256();
  size_t at = 0;
  for (size_t oy = 0; oy < g.ho; ++oy) {
    const int16_t* row = t16 + oy * g.stride_h * g.wp * 16;
    for (size_t ox = 0; ox < g.wo; ++ox, ++at) {
      const int16_t* base = row + ox * g.stride_w * 16;
      __m256i al = bl, ah = bh;
      auto pair = [&](size_t q, int32_t o0, int32_t o1, __m256i ql, __m256i qh) {
        const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(base + o0));
        const __m256i b = o1 >= 0 ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(base + o1)) : zero;
        al = _mm256_add_epi32(al, _mm256_madd_epi16(_mm256_unpacklo_epi16(a, b), ql));
        ah = _mm256_add_epi32(ah, _mm256_madd_epi16(_mm256_unpackhi_epi16(a, b), qh));
        (void)q;
      };
      if constexpr (kPairs > 0) {
        Unroll<kPairs>([&](auto q) { pair(q, off[2 * q], off[2 * q + 1], wl[q], wh[q]); });
      } else {
        for (size_t q = 0; q < pairs; ++q) {
          pair(q, g.tap_offsets[2 * q] * 16, 2 * q + 1 < g.taps ? g.tap_offsets[2 * q + 1] * 16 : -1,
               _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p.pairs + q * 16)),
               _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p.pairs + q * 16 + 8)));
        }
      }
      // Lanes {0-3, 8-11} and {4-7, 12-15}: the channels of the in-lane interleave.
      if (kU8) {
        rq.StoreU8Halves(al, ah, sl, sh, static_cast<uint8_t*>(obuf) + at * 16);
      } else {
        rq.StoreF32Halves(al, ah, sl, sh, static_cast<float*>(obuf) + at * 16);
      }
    }
  }
}

}  // namespace

void Q8DwBlockAvx2(const Q8DwGeometry& g, const uint8_t* x, size_t channels, const Q8DwBlockParams& p, int16_t* t16,
                   void* obuf, void* out) {
  TransposeIn(g, x, g.x_end, channels, t16);
  const bool u8 = g.output.kind == Q8OutputKind::kUint8;
  if (g.kpairs == 5) {
    u8 ? Compute<5, true>(g, p, t16, obuf) : Compute<5, false>(g, p, t16, obuf);
  } else {
    u8 ? Compute<0, true>(g, p, t16, obuf) : Compute<0, false>(g, p, t16, obuf);
  }
  const size_t pixels = g.ho * g.wo;
  if (u8) {
    TransposeOutU8(pixels, static_cast<const uint8_t*>(obuf), channels, static_cast<uint8_t*>(out));
  } else {
    TransposeOutF32(pixels, static_cast<const float*>(obuf), channels, static_cast<float*>(out));
  }
}

}  // namespace layerq
