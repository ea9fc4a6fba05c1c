// NEON quantize / dequantize / fake-quantize rows: the reference's float operations, 4 lanes at
// a time (fdiv, frintn = round half to even, fmaxnm/fminnm so that NaN goes to lo as in the
// reference, exact conversions of integral values). Row tails go through the same vector code on
// a zero-padded copy.
#include <arm_neon.h>

#include <cstring>

#include "kernels/q8-quantize/q8-quantize.h"
#include "kernels/q8-quantize/q8-quantize-blocks.h"

namespace layerq {
namespace {

struct Params4 {
  float32x4_t scale, lo, hi;
  int32x4_t zero;
};

inline Params4 Load(const float* scale, const int32_t* zero, size_t step, int32_t qmin, int32_t qmax) {
  Params4 p;
  p.scale = step ? vld1q_f32(scale) : vdupq_n_f32(scale[0]);
  p.zero = step ? vld1q_s32(zero) : vdupq_n_s32(zero[0]);
  p.lo = vcvtq_f32_s32(vsubq_s32(vdupq_n_s32(qmin), p.zero));
  p.hi = vcvtq_f32_s32(vsubq_s32(vdupq_n_s32(qmax), p.zero));
  return p;
}

// q - zero as an int32: clamp(nearbyint(x / scale)).
inline int32x4_t Offset4(float32x4_t x, const Params4& p) {
  const float32x4_t r = vrndnq_f32(vdivq_f32(x, p.scale));
  return vcvtq_s32_f32(vminnmq_f32(vmaxnmq_f32(r, p.lo), p.hi));
}

void Quantize(const float* x, size_t n, const float* scale, const int32_t* zero, size_t step,
              int32_t qmin, int32_t qmax, Q8Storage st, void* out) {
  uint8_t* o = static_cast<uint8_t*>(out);
  QuantizeBlocks<4>(n, scale, zero, step, [&](size_t i, size_t count, const float* s, const int32_t* z) {
    const Params4 p = Load(s, z, step, qmin, qmax);
    float t[4] = {0, 0, 0, 0};
    std::memcpy(t, x + i, count * sizeof(float));
    int32_t q[4];
    vst1q_s32(q, vaddq_s32(Offset4(vld1q_f32(t), p), p.zero));
    for (size_t j = 0; j < count; ++j) {
      if (st == Q8Storage::kUint8) o[i + j] = static_cast<uint8_t>(q[j]);
      else reinterpret_cast<int8_t*>(o)[i + j] = static_cast<int8_t>(q[j]);
    }
  });
}

void Dequantize(const void* in, Q8Storage st, size_t n, const float* scale, const int32_t* zero,
                size_t step, float* out) {
  QuantizeBlocks<4>(n, scale, zero, step, [&](size_t i, size_t count, const float* s, const int32_t* z) {
    const Params4 p = Load(s, z, step, 0, 0);
    int32_t q[4] = {0, 0, 0, 0};
    for (size_t j = 0; j < count; ++j) {
      q[j] = st == Q8Storage::kUint8 ? static_cast<const uint8_t*>(in)[i + j] : static_cast<const int8_t*>(in)[i + j];
    }
    float t[4];
    vst1q_f32(t, vmulq_f32(vcvtq_f32_s32(vsubq_s32(vld1q_s32(q), p.zero)), p.scale));
    std::memcpy(out + i, t, count * sizeof(float));
  });
}

void FakeQuantize(const float* x, size_t n, const float* scale, const int32_t* zero, size_t step,
                  int32_t qmin, int32_t qmax, float* out) {
  QuantizeBlocks<4>(n, scale, zero, step, [&](size_t i, size_t count, const float* s, const int32_t* z) {
    const Params4 p = Load(s, z, step, qmin, qmax);
    float t[4] = {0, 0, 0, 0};
    std::memcpy(t, x + i, count * sizeof(float));
    vst1q_f32(t, vmulq_f32(vcvtq_f32_s32(Offset4(vld1q_f32(t), p)), p.scale));
    std::memcpy(out + i, t, count * sizeof(float));
  });
}

}  // namespace

const Q8QuantizeUkernels kQ8QuantizeNeon = {Quantize, Dequantize, FakeQuantize};

}  // namespace layerq
