// Elementwise drivers: ISA dispatch, broadcasting (collapsed to an outer loop over spans in
// which each operand is either contiguous or one repeated value), threads.
#include "kernels/f32-elementwise/f32-elementwise.h"

#include <algorithm>

#include "common/cpu.h"
#include "common/threadpool.h"

namespace layerq {
namespace f32 {
namespace {

constexpr size_t kMaxRank = 8;
constexpr size_t kSpanGrain = 16384;  // elements per task: well above thread hand-off costs

// The elementwise kernels of one ISA path, chosen once per call from ActiveIsa().
struct ElementwiseUkernels {
  BinarySpanFn binary;
  UnarySpanFn unary;
  SoftmaxRowFn softmax;
};

const ElementwiseUkernels kElementwiseScalar = {BinarySpanScalar, UnarySpanScalar, SoftmaxRowScalar};
#if defined(__x86_64__) || defined(_M_X64)
// AVX-512 has no variant of its own: it runs this table too.
const ElementwiseUkernels kElementwiseAvx2 = {BinarySpanAvx2, UnarySpanAvx2, SoftmaxRowAvx2};
#endif
#if defined(__aarch64__)
const ElementwiseUkernels kElementwiseNeon = {BinarySpanNeon, UnarySpanNeon, SoftmaxRowScalar};
#endif

const ElementwiseUkernels& ElementwiseUkernelsFor(Isa isa) {
#if defined(__x86_64__) || defined(_M_X64)
  if (IsAtLeastAvx2(isa)) return kElementwiseAvx2;
#endif
#if defined(__aarch64__)
  if (isa == Isa::kNeon) return kElementwiseNeon;
#endif
  (void)isa;
  return kElementwiseScalar;
}

}  // namespace

BinarySpanFn BinarySpanFor(Isa isa) { return ElementwiseUkernelsFor(isa).binary; }

bool BroadcastDims(const size_t* a, size_t a_rank, const size_t* b, size_t b_rank, size_t* out,
                   size_t* out_rank) {
  const size_t rank = std::max(a_rank, b_rank);
  for (size_t i = 0; i < rank; ++i) {
    const size_t da = i + a_rank >= rank ? a[i + a_rank - rank] : 1;
    const size_t db = i + b_rank >= rank ? b[i + b_rank - rank] : 1;
    if (da != db && da != 1 && db != 1) return false;
    out[i] = da == 1 ? db : da;
  }
  *out_rank = rank;
  return true;
}

void Binary(BinaryOp op, const float* a, const size_t* a_dims, size_t a_rank, const float* b,
            const size_t* b_dims, size_t b_rank, float* out, const OutputClamp* clamp) {
  size_t dims[kMaxRank], rank = 0;
  if (std::max(a_rank, b_rank) > kMaxRank || !BroadcastDims(a_dims, a_rank, b_dims, b_rank, dims, &rank)) return;
  // Per-axis dims of a and b aligned to the output rank, and element strides (0 = broadcast).
  size_t da[kMaxRank], db[kMaxRank], sa[kMaxRank], sb[kMaxRank];
  size_t ra = 1, rb = 1, total = 1;
  for (size_t i = rank; i-- > 0;) {
    da[i] = i + a_rank >= rank ? a_dims[i + a_rank - rank] : 1;
    db[i] = i + b_rank >= rank ? b_dims[i + b_rank - rank] : 1;
    sa[i] = da[i] == 1 ? 0 : ra;
    sb[i] = db[i] == 1 ? 0 : rb;
    ra *= da[i];
    rb *= db[i];
    total *= dims[i];
  }
  if (total == 0) return;
  // Inner span: trailing axes over which a and b each keep one mode (contiguous or repeated).
  size_t split = rank, inner = 1;
  int mode_a = -1, mode_b = -1;
  while (split > 0) {
    const size_t i = split - 1;
    if (dims[i] != 1) {
      const int ma = da[i] == 1 ? 0 : 1, mb = db[i] == 1 ? 0 : 1;
      if ((mode_a >= 0 && ma != mode_a) || (mode_b >= 0 && mb != mode_b)) break;
      mode_a = ma;
      mode_b = mb;
    }
    inner *= dims[i];
    --split;
  }
  const size_t step_a = mode_a == 0 ? 0 : 1, step_b = mode_b == 0 ? 0 : 1;
  const size_t outer = total / inner;
  const size_t chunks_per_span = std::max<size_t>(1, inner / kSpanGrain);
  const size_t chunk = (inner + chunks_per_span - 1) / chunks_per_span;
  const BinarySpanFn span = ElementwiseUkernelsFor(ActiveIsa()).binary;
  const size_t grain = std::max<size_t>(1, kSpanGrain / std::max<size_t>(chunk, 1));
  ParallelFor(outer * chunks_per_span, grain, [&](size_t begin, size_t end) {
    for (size_t t = begin; t < end; ++t) {
      const size_t o = t / chunks_per_span, c0 = (t % chunks_per_span) * chunk;
      const size_t len = std::min(chunk, inner - c0);
      size_t off_a = 0, off_b = 0, rem = o;
      for (size_t i = split; i-- > 0;) {
        const size_t idx = rem % dims[i];
        rem /= dims[i];
        off_a += idx * sa[i];
        off_b += idx * sb[i];
      }
      span(op, a + off_a + c0 * step_a, step_a, b + off_b + c0 * step_b, step_b, out + o * inner + c0, len, clamp);
    }
  });
}

void Unary(UnaryOp op, const UnaryParams& p, const float* x, float* out, size_t n) {
  const UnarySpanFn span = ElementwiseUkernelsFor(ActiveIsa()).unary;
  ParallelFor(n, kSpanGrain, [&](size_t begin, size_t end) { span(op, p, x + begin, out + begin, end - begin); });
}

void Softmax(const float* x, size_t rows, size_t cols, float* out) {
  const SoftmaxRowFn row = ElementwiseUkernelsFor(ActiveIsa()).softmax;
  const size_t grain = std::max<size_t>(1, kSpanGrain / std::max<size_t>(cols, 1));
  ParallelFor(rows, grain, [&](size_t begin, size_t end) {
    for (size_t r = begin; r < end; ++r) row(x + r * cols, out + r * cols, cols);
  });
}

}  // namespace f32
}  // namespace layerq
