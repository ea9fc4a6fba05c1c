// f32 elementwise ops: binary with numpy broadcasting, unary activations, softmax over rows.
#pragma once
#include <cstddef>

#include "common/cpu.h"

namespace layerq {
namespace f32 {

enum class BinaryOp { kAdd = 0, kSub = 1, kMul = 2, kDiv = 3 };
enum class UnaryOp { kRelu = 0, kClip = 1, kSigmoid = 2, kHardSigmoid = 3, kHardSwish = 4 };

struct UnaryParams {
  float min = -__builtin_inff(), max = __builtin_inff();  // clip
  float alpha = 0.2f, beta = 0.5f;                         // hardsigmoid: clamp(alpha*x+beta, 0, 1)
};

// Output clamp fused into a binary op (a following Relu / Clip): y = min(max(y, min), max),
// the same operations, in the same order, as the unary clip.
struct OutputClamp {
  float min = -__builtin_inff(), max = __builtin_inff();
};

// out[i] = a[a_step * i] op b[b_step * i] for i < n, steps 0 (broadcast) or 1 (contiguous),
// then clamped when `clamp` is not null. out may alias a contiguous a or b.
using BinarySpanFn = void (*)(BinaryOp op, const float* a, size_t a_step, const float* b,
                              size_t b_step, float* out, size_t n, const OutputClamp* clamp);
void BinarySpanScalar(BinaryOp op, const float* a, size_t a_step, const float* b, size_t b_step,
                      float* out, size_t n, const OutputClamp* clamp = nullptr);
// out[i] = f(x[i]); out may alias x.
using UnarySpanFn = void (*)(UnaryOp op, const UnaryParams& p, const float* x, float* out, size_t n);
void UnarySpanScalar(UnaryOp op, const UnaryParams& p, const float* x, float* out, size_t n);
// One row: out = exp(x - max) / sum.
using SoftmaxRowFn = void (*)(const float* x, float* out, size_t n);
void SoftmaxRowScalar(const float* x, float* out, size_t n);
#if defined(__x86_64__) || defined(_M_X64)
void BinarySpanAvx2(BinaryOp op, const float* a, size_t a_step, const float* b, size_t b_step,
                    float* out, size_t n, const OutputClamp* clamp = nullptr);
void UnarySpanAvx2(UnaryOp op, const UnaryParams& p, const float* x, float* out, size_t n);
void SoftmaxRowAvx2(const float* x, float* out, size_t n);
#endif
#if defined(__aarch64__)
void BinarySpanNeon(BinaryOp op, const float* a, size_t a_step, const float* b, size_t b_step,
                    float* out, size_t n, const OutputClamp* clamp = nullptr);
void UnarySpanNeon(UnaryOp op, const UnaryParams& p, const float* x, float* out, size_t n);
#endif

// The active-ISA span kernels (the same ones Binary runs).
BinarySpanFn BinarySpanFor(Isa isa);

// Output dims of numpy broadcasting; false when the shapes are incompatible.
bool BroadcastDims(const size_t* a, size_t a_rank, const size_t* b, size_t b_rank, size_t* out,
                   size_t* out_rank);

// out (broadcast shape of a and b) = a op b, clamped when `clamp` is not null. Multithreaded.
void Binary(BinaryOp op, const float* a, const size_t* a_dims, size_t a_rank, const float* b,
            const size_t* b_dims, size_t b_rank, float* out, const OutputClamp* clamp = nullptr);
void Unary(UnaryOp op, const UnaryParams& p, const float* x, float* out, size_t n);
// x, out [rows, cols]; softmax over each row.
void Softmax(const float* x, size_t rows, size_t cols, float* out);

}  // namespace f32
}  // namespace layerq
