// NEON channel-block depthwise kernel (Q8DwBlockFn in q8-dwconv.h): the AVX2 kernel's 16x16
// byte transposes (zip1/zip2 in place of unpacklo/hi) into the pixel-major int16 buffer, and per
// output pixel and tap two loads of 8 channels and four smlal (int16 x int16 -> int32, exact)
// against the channels' taps held in registers; the output stage is the reference's float
// operations (as the NEON GEMM's).
#include <arm_neon.h>

#include <cstring>

#include "kernels/q8-dwconv/q8-dwconv.h"

namespace layerq {
namespace {

inline uint8x16_t Zip1(uint8x16_t a, uint8x16_t b, int bits) {
  switch (bits) {
    case 8: return vzip1q_u8(a, b);
    case 16: return vreinterpretq_u8_u16(vzip1q_u16(vreinterpretq_u16_u8(a), vreinterpretq_u16_u8(b)));
    case 32: return vreinterpretq_u8_u32(vzip1q_u32(vreinterpretq_u32_u8(a), vreinterpretq_u32_u8(b)));
    default: return vreinterpretq_u8_u64(vzip1q_u64(vreinterpretq_u64_u8(a), vreinterpretq_u64_u8(b)));
  }
}
inline uint8x16_t Zip2(uint8x16_t a, uint8x16_t b, int bits) {
  switch (bits) {
    case 8: return vzip2q_u8(a, b);
    case 16: return vreinterpretq_u8_u16(vzip2q_u16(vreinterpretq_u16_u8(a), vreinterpretq_u16_u8(b)));
    case 32: return vreinterpretq_u8_u32(vzip2q_u32(vreinterpretq_u32_u8(a), vreinterpretq_u32_u8(b)));
    default: return vreinterpretq_u8_u64(vzip2q_u64(vreinterpretq_u64_u8(a), vreinterpretq_u64_u8(b)));
  }
}

// out[p] = byte p of every in[c] (c = 0..15), the same rounds as the AVX2 transpose.
inline void Transpose16x16(const uint8x16_t in[16], uint8x16_t out[16]) {
  uint8x16_t a[16], b[16], c[16];
  for (int j = 0; j < 8; ++j) {
    a[j] = Zip1(in[2 * j], in[2 * j + 1], 8);
    a[j + 8] = Zip2(in[2 * j], in[2 * j + 1], 8);
  }
  for (int h = 0; h < 2; ++h) {
    for (int q = 0; q < 4; ++q) {
      b[8 * h + q] = Zip1(a[8 * h + 2 * q], a[8 * h + 2 * q + 1], 16);
      b[8 * h + 4 + q] = Zip2(a[8 * h + 2 * q], a[8 * h + 2 * q + 1], 16);
    }
  }
  for (int g = 0; g < 4; ++g) {
    const int base = (g / 2) * 8 + (g % 2) * 4;
    for (int o = 0; o < 2; ++o) {
      c[4 * g + o] = Zip1(b[base + 2 * o], b[base + 2 * o + 1], 32);
      c[4 * g + 2 + o] = Zip2(b[base + 2 * o], b[base + 2 * o + 1], 32);
    }
  }
  for (int g = 0; g < 4; ++g) {
    for (int s = 0; s < 2; ++s) {
      out[4 * g + 2 * s] = Zip1(c[4 * g + 2 * s], c[4 * g + 2 * s + 1], 64);
      out[4 * g + 2 * s + 1] = Zip2(c[4 * g + 2 * s], c[4 * g + 2 * s + 1], 64);
    }
  }
}

void TransposeIn(const Q8DwGeometry& g, const uint8_t* x, size_t channels, int16_t* t16) {
  const size_t hw = g.h * g.w;
  uint8x16_t rows[16], px[16];
  size_t iy = 0, ix = 0;
  for (size_t i0 = 0; i0 < hw; i0 += 16) {
    const size_t m = hw - i0 < 16 ? hw - i0 : 16;
    for (size_t c = 0; c < 16; ++c) {
      if (c >= channels) {
        rows[c] = vdupq_n_u8(0);
      } else if (m == 16 || x + c * hw + i0 + 16 <= g.x_end) {
        rows[c] = vld1q_u8(x + c * hw + i0);
      } else {
        uint8_t t[16] = {};
        std::memcpy(t, x + c * hw + i0, m);
        rows[c] = vld1q_u8(t);
      }
    }
    Transpose16x16(rows, px);
    for (size_t p = 0; p < m; ++p) {
      int16_t* dst = t16 + ((iy + g.pad_top) * g.wp + ix + g.pad_left) * kQ8DwBlock;
      vst1q_s16(dst, vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(px[p]))));
      vst1q_s16(dst + 8, vreinterpretq_s16_u16(vmovl_high_u8(px[p])));
      if (++ix == g.w) ix = 0, ++iy;
    }
  }
}

// See the AVX2 kernel: the partial chunk first, whole stores that stay inside the block.
void TransposeOutU8(size_t pixels, const uint8_t* obuf, size_t channels, uint8_t* out) {
  uint8x16_t rows[16], ch[16];
  const size_t chunks = (pixels + 15) / 16;
  for (size_t j = chunks; j-- > 0;) {
    const size_t p0 = j * 16, m = pixels - p0 < 16 ? pixels - p0 : 16;
    for (size_t p = 0; p < 16; ++p) rows[p] = p < m ? vld1q_u8(obuf + (p0 + p) * 16) : vdupq_n_u8(0);
    Transpose16x16(rows, ch);
    for (size_t c = 0; c < channels; ++c) {
      if (m == 16 || c * pixels + p0 + 16 <= channels * pixels) {
        vst1q_u8(out + c * pixels + p0, ch[c]);
      } else {
        uint8_t t[16];
        vst1q_u8(t, ch[c]);
        std::memcpy(out + c * pixels + p0, t, m);
      }
    }
  }
}

template <size_t kTaps, bool kU8>
void Compute(const Q8DwGeometry& g, const Q8DwBlockParams& p, const int16_t* t16, void* obuf) {
  const size_t taps = kTaps ? kTaps : g.taps;
  constexpr size_t kMax = kTaps ? kTaps : 1;
  int16x8_t w0[kMax], w1[kMax];
  int32_t off[kMax];
  for (size_t t = 0; t < kTaps; ++t) {
    w0[t] = vld1q_s16(p.taps + t * 16);
    w1[t] = vld1q_s16(p.taps + t * 16 + 8);
    off[t] = g.tap_offsets[t] * 16;
  }
  int32x4_t bias[4];
  float32x4_t scale[4];
  for (int q = 0; q < 4; ++q) bias[q] = vld1q_s32(p.bias + 4 * q), scale[q] = vld1q_f32(p.scales + 4 * q);
  const Q8Output& o = g.output;
  const float32x4_t lo = vdupq_n_f32(kU8 ? static_cast<float>(o.qmin - o.zero) : o.fmin);
  const float32x4_t hi = vdupq_n_f32(kU8 ? static_cast<float>(o.qmax - o.zero) : o.fmax);
  const int32x4_t zero = vdupq_n_s32(o.zero);
  size_t at = 0;
  for (size_t oy = 0; oy < g.ho; ++oy) {
    const int16_t* row = t16 + oy * g.stride_h * g.wp * 16;
    for (size_t ox = 0; ox < g.wo; ++ox, ++at) {
      const int16_t* base = row + ox * g.stride_w * 16;
      int32x4_t a0 = bias[0], a1 = bias[1], a2 = bias[2], a3 = bias[3];
      for (size_t t = 0; t < taps; ++t) {
        const int16_t* xp = base + (kTaps ? off[t] : g.tap_offsets[t] * 16);
        const int16x8_t x0 = vld1q_s16(xp), x1 = vld1q_s16(xp + 8);
        const int16x8_t v0 = kTaps ? w0[t] : vld1q_s16(p.taps + t * 16), v1 = kTaps ? w1[t] : vld1q_s16(p.taps + t * 16 + 8);
        a0 = vmlal_s16(a0, vget_low_s16(x0), vget_low_s16(v0));
        a1 = vmlal_high_s16(a1, x0, v0);
        a2 = vmlal_s16(a2, vget_low_s16(x1), vget_low_s16(v1));
        a3 = vmlal_high_s16(a3, x1, v1);
      }
      const int32x4_t acc[4] = {a0, a1, a2, a3};
      if (kU8) {
        int16x4_t h[4];
        for (int q = 0; q < 4; ++q) {
          float32x4_t f = vmulq_f32(vcvtq_f32_s32(acc[q]), scale[q]);
          f = vminnmq_f32(vmaxnmq_f32(f, lo), hi);
          h[q] = vqmovn_s32(vaddq_s32(vcvtnq_s32_f32(f), zero));
        }
        vst1q_u8(static_cast<uint8_t*>(obuf) + at * 16,
                 vcombine_u8(vqmovun_s16(vcombine_s16(h[0], h[1])), vqmovun_s16(vcombine_s16(h[2], h[3]))));
      } else {
        float* out = static_cast<float*>(obuf) + at * 16;
        for (int q = 0; q < 4; ++q) vst1q_f32(out + 4 * q, vminnmq_f32(vmaxnmq_f32(vmulq_f32(vcvtq_f32_s32(acc[q]), scale[q]), lo), hi));
      }
    }
  }
}

}  // namespace

void Q8DwBlockNeon(const Q8DwGeometry& g, const uint8_t* x, size_t channels, const Q8DwBlockParams& p, int16_t* t16,
                   void* obuf, void* out) {
  TransposeIn(g, x, channels, t16);
  const bool u8 = g.output.kind == Q8OutputKind::kUint8;
  if (g.taps == 9) {
    u8 ? Compute<9, true>(g, p, t16, obuf) : Compute<9, false>(g, p, t16, obuf);
  } else {
    u8 ? Compute<0, true>(g, p, t16, obuf) : Compute<0, false>(g, p, t16, obuf);
  }
  const size_t pixels = g.ho * g.wo;
  if (u8) {
    TransposeOutU8(pixels, static_cast<const uint8_t*>(obuf), channels, static_cast<uint8_t*>(out));
  } else {
    const float* ob = static_cast<const float*>(obuf);
    float* o = static_cast<float*>(out);
    for (size_t c = 0; c < channels; ++c)
      for (size_t q = 0; q < pixels; ++q) o[c * pixels + q] = ob[q * 16 + c];
  }
}

}  // namespace layerq
