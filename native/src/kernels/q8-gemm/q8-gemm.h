// Packed int8 GEMM core shared by q8 conv and q8 gemm (uint8 activations x int8 weights, int32
// accumulation, requantized uint8 or dequantized float32 output).
//
// Contract (DESIGN.md, "Quantization conventions"):
//   acc[c] = bias[c] + sum_k (x[k] - xZero) * w[c][k]                       (int32, wraps mod 2^32)
//   uint8:   y = clamp(nearbyint((float)acc * multiplier[c]) + yZero, yMin, yMax)
//            multiplier[c] = inputScale * weightScale[c] / outputScale      (float32)
//   float32: y = clamp((float)acc * (inputScale * weightScale[c]), fMin, fMax)
//
// Packing (once per weight tensor, per group): bias first, then blocked weights, then the
// per-channel multipliers; the zero-point correction -xZero * sum_k w[c][k] is folded into the
// packed bias, so the kernels multiply raw uint8 activations.
//   bias:    int32 [Mb]                      Mb = M rounded up to 8 (the largest row block)
//   pairs:   int16x2 [Mp / MR][Kp / 2][MR]   (w[c][k], w[c][k+1]) as one int32 each, so a
//            vpmaddwd against pair-interleaved int16 activations adds both products exactly;
//            MR = 4, or 1 when M == 1 (depthwise); Mp = M rounded up to MR
//   scales:  float [Mb]
//   quads:   int8x4 [Mb / 8][Kq / 4][8]      only where the CPU has AVX512-VNNI or the Armv8.2
//            dot product: 4 consecutive k per int32, for vpdpbusd against quad-interleaved
//            uint8 activations (4 products summed into int32 without saturation), or sdot
//            against the same quads as int8 (x - 128); and on AVX2 CPUs for weights small
//            enough that vpmaddubsw cannot saturate (ubs_depth() > 0: 4-bit weights always)
//   qbias:   int32 [Mb]                      only with sdot: bias + 128 * sum_k w[c][k] on top
//            of the folded bias (the activations' -128 given back)
//   octs:    int8x8 [Mb / 8][Ko / 8][8]      only where the CPU has Armv8.6 i8mm (and the sdot
//            kernels are not the ones chosen): 8 consecutive k per row, so that one 16-byte
//            register holds rows (c, c + 1) x 8 k, the 2x8 operand of usmmla (uint8 x int8)
// Kp, Kq, Ko = K rounded up to 2, 4, 8; padded rows and columns are zero. Activation panels hold
// 16 pixels x one step of 2 (int16) or 4 (uint8) k values = 64 bytes per step, or 8 (uint8)
// k values = 128 bytes per step for usmmla; the order inside a step is the ISA's own (AVX2:
// pixel-major pairs for vpmaddwd; NEON: k-major rows for smlal by element; VNNI and sdot:
// pixel-major quads; usmmla: pixel-major octs, two pixels per register). Q8PanelSize(K) holds
// a panel of any of these layouts.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "common/aligned.h"
#include "common/cpu.h"

namespace layerq {

// Output pixels (GEMM columns) per microkernel tile; activations are packed in panels this wide.
constexpr size_t kQ8Nr = 16;

enum class Q8OutputKind { kUint8 = 0, kFloat32 = 1 };

struct Q8Output {
  Q8OutputKind kind = Q8OutputKind::kUint8;
  int32_t zero = 0;           // uint8: yZero
  int32_t qmin = 0, qmax = 255;  // uint8: [yMin, yMax], within [0, 255]
  float fmin = -INFINITY, fmax = INFINITY;  // float32: fused clamp (infinite when none)
  float outputScale = 1.0f;   // uint8 only
};

// Quantization of one packed weight tensor (every float is float32, as the contract says).
struct Q8QuantParams {
  float inputScale = 1.0f;
  int32_t inputZero = 0;          // [0, 255]
  std::vector<float> weightScale;  // size 1 (per tensor) or M (per output channel)
  Q8Output output;
};

// Two int8 weights as one vpmaddwd pair: lo in the low int16, hi in the high one (sign-extended).
inline uint32_t Q8PackPair(int8_t lo, int8_t hi) {
  return static_cast<uint16_t>(static_cast<int16_t>(lo)) |
         static_cast<uint32_t>(static_cast<uint16_t>(static_cast<int16_t>(hi))) << 16;
}

// Int8 weight w as byte j (0..3) of a vpdpbusd quad (the other bytes kept).
inline void Q8SetQuadByte(int32_t& quad, size_t j, int8_t w) {
  quad = static_cast<int32_t>(static_cast<uint32_t>(quad) | static_cast<uint32_t>(static_cast<uint8_t>(w)) << (8 * j));
}

// Weights of `groups` independent GEMMs of M output channels x K reduction each, packed for the
// ISA's microkernels; also keeps the unpacked weights for the scalar reference path.
class Q8PackedWeights {
 public:
  // w: int8 [groups][M][K] row-major; bias: int32 [groups * M] or null.
  Q8PackedWeights(const int8_t* w, const int32_t* bias, size_t groups, size_t m, size_t k,
                  const Q8QuantParams& q);

  size_t groups() const { return groups_; }
  size_t m() const { return m_; }
  size_t k() const { return k_; }
  size_t mr() const { return mr_; }          // pairs row block: 4, or 1 when M == 1 (depthwise)
  size_t mp() const { return mp_; }          // M rounded up to mr
  size_t mb() const { return mb_; }          // M rounded up to 8: bias, scales, accumulators
  size_t kpairs() const { return (k_ + 1) / 2; }
  size_t kquads() const { return (k_ + 3) / 4; }
  size_t kocts() const { return (k_ + 7) / 8; }
  bool has_quads() const { return has_quads_; }
  // AVX2 without VNNI: how many vpmaddubsw results (each a pair sum x[k] w[k] + x[k+1] w[k+1],
  // k even, of any uint8 x) an int16 lane can add up exactly: the largest power of two d <= 8
  // with d * 255 * P <= 32767, P the largest |w[k]| + |w[k+1]| of the weights; 0 when P > 128
  // (one pair sum alone could saturate). 4-bit weights (P <= 16): 8.
  size_t ubs_depth() const { return ubs_depth_; }
  bool has_octs() const { return has_octs_; }
  const Q8QuantParams& quant() const { return q_; }

  // Packed views of group g.
  const int32_t* bias(size_t g) const { return reinterpret_cast<const int32_t*>(Group(g)); }
  const int32_t* weights(size_t g) const { return bias(g) + mb_; }  // pairs
  const float* scales(size_t g) const {
    return reinterpret_cast<const float*>(weights(g) + mp_ * kpairs());
  }
  const int32_t* quads(size_t g) const {  // null unless has_quads()
    return has_quads_ ? reinterpret_cast<const int32_t*>(scales(g) + mb_) : nullptr;
  }
  const int32_t* quad_bias(size_t g) const {  // null unless has_signed_quads()
    return has_signed_quads_ ? quads(g) + mb_ * kquads() : nullptr;
  }
  bool has_signed_quads() const { return has_signed_quads_; }
  const int32_t* octs(size_t g) const {  // null unless has_octs(); 2 int32 words per row and step
    return has_octs_ ? reinterpret_cast<const int32_t*>(scales(g) + mb_) : nullptr;
  }

  // Unpacked, for the reference: int8 [groups][M][K], int32 [groups * M] (zeros when none),
  // and the float32 per-output-channel multiplier (uint8 output) or scale (float32 output).
  const int8_t* raw_weights() const { return raw_w_.data(); }
  const int32_t* raw_bias() const { return raw_bias_.data(); }
  float ChannelScale(size_t g, size_t c) const;

 private:
  const uint8_t* Group(size_t g) const { return blob_.get() + g * group_bytes_; }

  size_t groups_, m_, k_, mr_, mp_, mb_, group_bytes_, ubs_depth_ = 0;
  bool has_quads_, has_signed_quads_, has_octs_;
  Q8QuantParams q_;
  std::unique_ptr<uint8_t, void (*)(void*)> blob_;
  std::vector<int8_t> raw_w_;
  std::vector<int32_t> raw_bias_;
};

// The 16 pixels of one conv panel in a padded input plane (see q8-conv.cc): runs of pixels of
// one output row each, pixel d of run r at byte offset base[r] + d * stride (d in [begin, end)),
// so that the packer reads a row segment with one load per run. Columns >= np are don't-care
// (their outputs are never stored).
struct Q8PanelRuns {
  size_t count = 0, np = 0, stride = 1;
  int64_t base[kQ8Nr];
  uint8_t begin[kQ8Nr], end[kQ8Nr];
};

// One im2col row of a panel from runs, a byte at a time (any stride): t[d] = row[base[r] + d *
// stride] for d in each run; other columns of t are left as they are. For the ISAs' generic
// packers; TU-local, as each ISA's file compiles it with its own target flags.
namespace {
inline void Q8GatherRuns(const uint8_t* row, const Q8PanelRuns& runs, uint8_t* t) {
  for (size_t r = 0; r < runs.count; ++r)
    for (size_t d = runs.begin[r]; d < runs.end[r]; ++d) t[d] = row[runs.base[r] + static_cast<int64_t>(d * runs.stride)];
}
}  // namespace

// Microkernels and helpers of one ISA, all on the packed layout above.
struct Q8GemmUkernels {
  size_t kstep;  // k values per packed step: 2 (int16 pairs), 4 (uint8 quads) or 8 (uint8 octs)
  size_t mr;     // rows of `gemm` (the weights' row block for that layout)
  // acc[mr][kQ8Nr] (+)= sum over `steps` steps of weights x panel. init: start from bias.
  void (*gemm)(size_t steps, const int32_t* w, const int16_t* panel, const int32_t* bias,
               int32_t* acc, bool init);
  // The same for M == 1 (pairs layout with MR = 1); null when `gemm` handles it.
  void (*gemm_1x16)(size_t steps, const int32_t* w, const int16_t* panel, const int32_t* bias,
                    int32_t* acc, bool init);
  // Panel (64 bytes per step) from 16 columns of col (uint8 [K][col_stride]): columns past `np`
  // are don't-care; k past K is zero.
  void (*pack_panel)(const uint8_t* col, size_t col_stride, size_t k, size_t np, int16_t* panel);
  // The same panel gathered straight from a padded input: row k of the im2col matrix starts at
  // src + koff[k] (channel, ky, kx offsets), its pixels at runs. src must be readable from
  // 32 bytes before the first to 64 bytes after the last pixel byte the runs address.
  void (*pack_panel_runs)(const uint8_t* src, const int64_t* koff, size_t k, const Q8PanelRuns& runs,
                          int16_t* panel);
  // Writes rows [0, mr) x columns [0, np) of acc[.][kQ8Nr] to out[r * row_stride + p * col_stride].
  void (*store_u8)(const int32_t* acc, size_t mr, size_t np, const float* scales,
                   const Q8Output& o, uint8_t* out, size_t row_stride, size_t col_stride);
  void (*store_f32)(const int32_t* acc, size_t mr, size_t np, const float* scales,
                    const Q8Output& o, float* out, size_t row_stride, size_t col_stride);
  // The table for weights of one row (M == 1, e.g. depthwise groups) when this one's row block
  // would waste most of its work on them (the quads' 8 rows); null: this one.
  const Q8GemmUkernels* one_row = nullptr;
  // Quads hold x - 128 as int8 (sdot): the GEMM starts from the packed quad bias.
  bool signed_quads = false;
  // `gemm` from the bias (init) fused with `store_u8` (rows, np, out, row_stride; column stride
  // 1), the accumulators requantized in registers; null: gemm then store_u8.
  void (*gemm_u8)(size_t steps, const int32_t* w, const int16_t* panel, const int32_t* bias, const float* scales,
                  const Q8Output& o, size_t rows, size_t np, uint8_t* out, size_t row_stride) = nullptr;
};

// int16 elements of an activation panel of K values, enough for every step layout above.
inline size_t Q8PanelSize(size_t k) {
  const size_t pairs = (k + 1) / 2 * 2 * kQ8Nr, octs = (k + 7) / 8 * 8 * kQ8Nr / 2;
  return pairs > octs ? pairs : octs;
}

// Fast-path microkernels for `isa`, or null when it has none (the scalar path is the reference).
const Q8GemmUkernels* Q8GemmUkernelsFor(Isa isa);
// The same for these weights: on the AVX2 path, weights with ubs_depth() > 0 run the vpmaddubsw
// kernels (int16 sums, see Q8GemmAvx2Ubs), the others vpmaddwd.
const Q8GemmUkernels* Q8GemmUkernelsFor(Isa isa, const Q8PackedWeights& weights);
#if defined(__x86_64__) || defined(_M_X64)
extern const Q8GemmUkernels kQ8GemmAvx2;
extern const Q8GemmUkernels kQ8GemmAvx512Vnni;
// AVX2 vpmaddubsw kernels on the quads layout for weights of ubs_depth() `depth` (1, 2, 4 or 8):
// depth pair sums added in int16, then widened into the int32 accumulators (vpmaddwd by ones).
const Q8GemmUkernels* Q8GemmAvx2Ubs(size_t depth);
// AVX-512 with VNNI (vpdpbusd): the kAvx512 path of the q8 GEMM, and the quads layout.
bool Q8HasAvx512Vnni();
#endif
#if defined(__aarch64__)
extern const Q8GemmUkernels kQ8GemmNeon;
extern const Q8GemmUkernels kQ8GemmNeonDot;
extern const Q8GemmUkernels kQ8GemmNeonI8mm;
// The Armv8.2 dot product (sdot): the kNeon path of the q8 GEMM, and the signed quads layout.
// LAYERQ_NEON_DOT=0 turns it off (the plain smlal kernels then run, for tests and benchmarks).
bool Q8HasNeonDot();
// Armv8.6 i8mm (usmmla): the kNeon path of the q8 GEMM ahead of sdot, and the octs layout.
// LAYERQ_NEON_I8MM=0 turns it off (then sdot, or smlal).
bool Q8HasNeonI8mm();
#endif

// Runs every row block of group g against one packed activation panel (np valid columns) and
// stores the results: output (c, p) goes to out[c * row_stride + p * col_stride], counted in
// output elements (uint8 or float per the packed output kind). acc: scratch int32 [mb * kQ8Nr].
void Q8ComputePanel(const Q8GemmUkernels& uk, const Q8PackedWeights& packed, size_t g,
                    const int16_t* panel, size_t np, int32_t* acc, void* out, size_t row_stride,
                    size_t col_stride);

// The same for `count` consecutive panels (panel j at panels + j * panel_stride, output columns
// [16 j, 16 j + 16), the last one np_last wide), row block by row block: each output row is
// written as one run of 16 * count pixels, and one row block's weights stay in L1 while it
// sweeps the panels. Sums in the same order as Q8ComputePanel (bit-identical).
void Q8ComputePanels(const Q8GemmUkernels& uk, const Q8PackedWeights& packed, size_t g, const int16_t* panels,
                     size_t panel_stride, size_t count, size_t np_last, int32_t* acc, void* out, size_t row_stride);

// out[M rows of A][N] = A (uint8 [rows][K]) x packed^T, one group; see qgemm in the TS API.
void Q8Gemm(const Q8PackedWeights& packed, const uint8_t* a, size_t rows, void* out);
// The scalar reference of Q8Gemm (oracle): the contract computed directly from raw weights.
void Q8GemmScalar(const Q8PackedWeights& packed, const uint8_t* a, size_t rows, void* out);

}  // namespace layerq
