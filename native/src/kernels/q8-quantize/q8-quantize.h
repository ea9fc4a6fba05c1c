// Quantize / dequantize / fake-quantize (ONNX QuantizeLinear / DequantizeLinear semantics,
// float32 arithmetic; DESIGN.md "Quantization conventions"):
//   q  = clamp(nearbyint(x / scale) + zero, qmin, qmax)      (round half to even; NaN -> qmin)
//   x' = (q - zero) * scale
//   fake-quantize: x -> x' of its q, float to float (in place allowed).
// Tensors are viewed as [outer][channels][inner]; scale/zero have one entry per channel
// (channels == 1: per tensor).
#pragma once
#include <cstddef>
#include <cstdint>

#include "common/cpu.h"

namespace layerq {

struct Q8QuantSpec {
  const float* scale = nullptr;   // [channels], finite and > 0
  const int32_t* zero = nullptr;  // [channels], within [qmin, qmax]
  int32_t qmin = 0, qmax = 255;   // within the storage type's range
};

struct Q8Layout {
  size_t outer = 1, channels = 1, inner = 0;
  size_t size() const { return outer * channels * inner; }
};

enum class Q8Storage { kUint8, kInt8 };

void Q8Quantize(const float* x, const Q8Layout& l, const Q8QuantSpec& q, Q8Storage st, void* out);
void Q8Dequantize(const void* in, Q8Storage st, const Q8Layout& l, const Q8QuantSpec& q, float* out);
void Q8FakeQuantize(const float* x, const Q8Layout& l, const Q8QuantSpec& q, float* out);

// One operand of Q8AddQuantize: float values, or per-tensor uint8 codes read as their
// dequantized values (code - zero) * scale, bit for bit Q8Dequantize's (and so the DQ(Q(x))
// that Q8FakeQuantize or this function's `fake` would have written for them).
struct Q8AddOperand {
  const float* values = nullptr;   // float operand, or null when it comes as codes
  const uint8_t* codes = nullptr;  // its codes (values == nullptr)
  float scale = 1;
  int32_t zero = 0;
  static Q8AddOperand Values(const float* v) { return {v, nullptr, 1, 0}; }
  static Q8AddOperand Codes(const uint8_t* c, float scale, int32_t zero) { return {nullptr, c, scale, zero}; }
  // The operand from element `off` on.
  Q8AddOperand At(size_t off) const { return values ? Values(values + off) : Codes(codes + off, scale, zero); }
};

// The float-residual Add of the int8 engine with the quantization of its output, in one pass:
// y = a + b (then clamped to [clamp[0], clamp[1]] when clamp is not null: a fused Relu/Clip),
// codes = Q(y) into `codes` and y' = DQ(Q(y)) into `fake` (either may be null), per tensor
// (q.scale[0], q.zero[0]; uint8 codes). An operand that comes as codes (a residual the plan
// quantizes: 1 byte an element to read instead of 4, and its producer writes no float copy) is
// dequantized a block at a time. Blocks of 256 elements run through the active ISA's f32 binary
// span and quantize / fake-quantize rows, so the results are bit for bit those of f32 Binary
// followed by Q8Quantize and Q8FakeQuantize. fake may alias a float operand.
void Q8AddQuantize(const Q8AddOperand& a, const Q8AddOperand& b, size_t n, const float* clamp, const Q8QuantSpec& q,
                   uint8_t* codes, float* fake);
// The same on the calling thread, for kernels that add a residual to outputs they just wrote
// (q unchecked). Element-wise, so any split of a tensor into runs (operands and outputs moved
// to the run's first element: Q8AddOperand::At) gives Q8AddQuantize's bits. codes may alias an
// operand's codes and fake its values (each block is read before it is written).
void Q8AddQuantizeRun(const Q8AddOperand& a, const Q8AddOperand& b, size_t n, const float* clamp, const Q8QuantSpec& q,
                      uint8_t* codes, float* fake);

// Row kernels of one ISA: n elements, scale/zero advancing by `step` (0: one value for the row,
// 1: one per element).
struct Q8QuantizeUkernels {
  void (*quantize)(const float* x, size_t n, const float* scale, const int32_t* zero, size_t step,
                   int32_t qmin, int32_t qmax, Q8Storage st, void* out);
  void (*dequantize)(const void* in, Q8Storage st, size_t n, const float* scale,
                     const int32_t* zero, size_t step, float* out);
  void (*fake_quantize)(const float* x, size_t n, const float* scale, const int32_t* zero,
                        size_t step, int32_t qmin, int32_t qmax, float* out);
};

// The scalar reference (oracle) and the ISA's fast path (reference when it has none).
extern const Q8QuantizeUkernels kQ8QuantizeScalar;
#if defined(__x86_64__) || defined(_M_X64)
extern const Q8QuantizeUkernels kQ8QuantizeAvx2;
extern const Q8QuantizeUkernels kQ8QuantizeAvx512;
#endif
#if defined(__aarch64__)
extern const Q8QuantizeUkernels kQ8QuantizeNeon;
#endif
const Q8QuantizeUkernels& Q8QuantizeUkernelsFor(Isa isa);

}  // namespace layerq
