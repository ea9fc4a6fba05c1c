// Quantize driver: ISA dispatch and threading over rows of the [outer][channels][inner] view.
#include <algorithm>
#include <stdexcept>

#include "common/threadpool.h"
#include "kernels/f32-elementwise/f32-elementwise.h"
#include "kernels/q8-quantize/q8-quantize.h"

namespace layerq {
namespace {

constexpr size_t kGrainElements = 16384;
constexpr size_t kAddBlock = 256;  // 1 KiB of an add's sums: stays in L1 between the add and the quantize

// Calls row(offset, n, channel, step) over the tensor: rows of `inner` elements with one
// channel each, or, when inner == 1, rows of all channels with per-element parameters.
template <typename Row>
void ForEachRow(const Q8Layout& l, const Row& row) {
  if (l.size() == 0) return;
  if (l.inner == 1 && l.channels > 1) {
    const size_t grain = std::max<size_t>(1, kGrainElements / l.channels);
    ParallelFor(l.outer, grain, [&](size_t b, size_t e) {
      for (size_t o = b; o < e; ++o) row(o * l.channels, l.channels, 0, 1);
    });
    return;
  }
  const size_t rows = l.outer * l.channels;
  if (rows == 1) {  // per tensor over one row: split the row itself
    ParallelFor(l.inner, kGrainElements, [&](size_t b, size_t e) { row(b, e - b, 0, 0); });
    return;
  }
  const size_t grain = std::max<size_t>(1, kGrainElements / l.inner);
  ParallelFor(rows, grain, [&](size_t b, size_t e) {
    for (size_t r = b; r < e; ++r) row(r * l.inner, l.inner, r % l.channels, 0);
  });
}

void Check(const Q8QuantSpec& q, Q8Storage st) {
  const int32_t lo = st == Q8Storage::kUint8 ? 0 : -128, hi = st == Q8Storage::kUint8 ? 255 : 127;
  if (q.qmin < lo || q.qmax > hi || q.qmin > q.qmax) throw std::invalid_argument("quantize: [qmin, qmax] outside the storage type");
}

}  // namespace

const Q8QuantizeUkernels& Q8QuantizeUkernelsFor(Isa isa) {
#if defined(__x86_64__) || defined(_M_X64)
  if (isa == Isa::kAvx512) return kQ8QuantizeAvx512;
  if (isa == Isa::kAvx2) return kQ8QuantizeAvx2;
#endif
#if defined(__aarch64__)
  if (isa == Isa::kNeon) return kQ8QuantizeNeon;
#endif
  (void)isa;
  return kQ8QuantizeScalar;
}

void Q8Quantize(const float* x, const Q8Layout& l, const Q8QuantSpec& q, Q8Storage st, void* out) {
  Check(q, st);
  const Q8QuantizeUkernels& uk = Q8QuantizeUkernelsFor(ActiveIsa());
  ForEachRow(l, [&](size_t off, size_t n, size_t c, size_t step) {
    uk.quantize(x + off, n, q.scale + c, q.zero + c, step, q.qmin, q.qmax, st,
                static_cast<uint8_t*>(out) + off);
  });
}

void Q8Dequantize(const void* in, Q8Storage st, const Q8Layout& l, const Q8QuantSpec& q, float* out) {
  const Q8QuantizeUkernels& uk = Q8QuantizeUkernelsFor(ActiveIsa());
  ForEachRow(l, [&](size_t off, size_t n, size_t c, size_t step) {
    uk.dequantize(static_cast<const uint8_t*>(in) + off, st, n, q.scale + c, q.zero + c, step, out + off);
  });
}

void Q8FakeQuantize(const float* x, const Q8Layout& l, const Q8QuantSpec& q, float* out) {
  if (q.qmin > q.qmax) throw std::invalid_argument("fake-quantize: qmin > qmax");
  const Q8QuantizeUkernels& uk = Q8QuantizeUkernelsFor(ActiveIsa());
  ForEachRow(l, [&](size_t off, size_t n, size_t c, size_t step) {
    uk.fake_quantize(x + off, n, q.scale + c, q.zero + c, step, q.qmin, q.qmax, out + off);
  });
}

void Q8AddQuantizeRun(const Q8AddOperand& a, const Q8AddOperand& b, size_t n, const float* clamp, const Q8QuantSpec& q,
                      uint8_t* codes, float* fake) {
  const Isa isa = ActiveIsa();
  const Q8QuantizeUkernels& uk = Q8QuantizeUkernelsFor(isa);
  const f32::BinarySpanFn add = f32::BinarySpanFor(isa);
  f32::OutputClamp c;
  if (clamp) c.min = clamp[0], c.max = clamp[1];
  alignas(64) float y[kAddBlock], va[kAddBlock], vb[kAddBlock];
  // The operand's values of elements [off, off + m): in place, or its codes dequantized into buf.
  auto values = [&](const Q8AddOperand& v, size_t off, size_t m, float* buf) -> const float* {
    if (v.values) return v.values + off;
    uk.dequantize(v.codes + off, Q8Storage::kUint8, m, &v.scale, &v.zero, 0, buf);
    return buf;
  };
  for (size_t off = 0; off < n; off += kAddBlock) {
    const size_t m = std::min(kAddBlock, n - off);
    add(f32::BinaryOp::kAdd, values(a, off, m, va), 1, values(b, off, m, vb), 1, y, m, clamp ? &c : nullptr);
    if (codes) uk.quantize(y, m, q.scale, q.zero, 0, q.qmin, q.qmax, Q8Storage::kUint8, codes + off);
    // DQ(Q(y)) of the codes just written is (code - zero) * scale: no second division.
    if (fake && codes) uk.dequantize(codes + off, Q8Storage::kUint8, m, q.scale, q.zero, 0, fake + off);
    else if (fake) uk.fake_quantize(y, m, q.scale, q.zero, 0, q.qmin, q.qmax, fake + off);
  }
}

void Q8AddQuantize(const Q8AddOperand& a, const Q8AddOperand& b, size_t n, const float* clamp, const Q8QuantSpec& q,
                   uint8_t* codes, float* fake) {
  Check(q, Q8Storage::kUint8);
  ParallelFor((n + kAddBlock - 1) / kAddBlock, kGrainElements / kAddBlock, [&](size_t begin, size_t end) {
    const size_t off = begin * kAddBlock;
    Q8AddQuantizeRun(a.At(off), b.At(off), std::min(end * kAddBlock, n) - off, clamp, q, codes ? codes + off : nullptr,
                     fake ? fake + off : nullptr);
  });
}

}  // namespace layerq
