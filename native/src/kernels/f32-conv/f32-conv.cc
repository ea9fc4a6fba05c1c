// Conv2d driver: weight packing, im2col panel packing, per-(image, pixel panel) tasks.
#include "kernels/f32-conv/f32-conv.h"

#include <algorithm>
#include <cstring>

#include "common/cpu.h"
#include "common/threadpool.h"
#include "kernels/f32-dwconv/f32-dwconv.h"
#include "kernels/f32-gemm/f32-gemm.h"

namespace layerq {
namespace f32 {
namespace {

DwConvPlaneFn ActiveDwConv() {
  switch (ActiveIsa()) {
#if defined(__x86_64__) || defined(_M_X64)
    case Isa::kAvx2:
      return DwConvPlaneAvx2;
#endif
    default:
      return DwConvPlaneScalar;
  }
}

void DepthwiseConv2d(const PackedConv& pc, const float* x, size_t n, size_t h, size_t w, float* out) {
  const ConvShape& s = pc.s;
  const size_t ho = ConvOutDim(h, s.kh, s.sh, s.pt, s.pb, s.dh);
  const size_t wo = ConvOutDim(w, s.kw, s.sw, s.pl, s.pr, s.dw);
  const DwConvPlaneFn plane = ActiveDwConv();
  const size_t c = s.cout, taps = s.kh * s.kw;
  ParallelFor(n * c, 1, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      const size_t ch = i % c;
      plane(x + i * h * w, h, w, pc.a.data() + ch * taps, pc.bias[ch], s, ho, wo, pc.min, pc.max,
            out + i * ho * wo);
    }
  });
}

}  // namespace

size_t ConvOutDim(size_t in, size_t k, size_t stride, size_t pad0, size_t pad1, size_t dilation) {
  const size_t padded = in + pad0 + pad1, span = (k - 1) * dilation + 1;
  return padded < span ? 0 : (padded - span) / stride + 1;
}

PackedConv PackConv(const float* weight, const float* bias, const ConvShape& s, float min, float max) {
  PackedConv pc;
  pc.s = s;
  pc.min = min;
  pc.max = max;
  const size_t taps = s.kh * s.kw;
  pc.depthwise = s.group > 1 && s.group == s.cin && s.group == s.cout;
  if (pc.depthwise) {
    pc.a.assign(weight, weight + s.cout * taps);
    pc.bias.assign(s.cout, 0.0f);
    if (bias != nullptr) std::copy(bias, bias + s.cout, pc.bias.begin());
    return pc;
  }
  const size_t cout_g = s.cout / s.group;
  pc.k = s.cin / s.group * taps;
  pc.m_panels = (cout_g + kMR - 1) / kMR;
  pc.a.assign(s.group * pc.m_panels * pc.k * kMR, 0.0f);
  pc.bias.assign(s.group * pc.m_panels * kMR, 0.0f);
  for (size_t g = 0; g < s.group; ++g) {
    for (size_t mp = 0; mp < pc.m_panels; ++mp) {
      const size_t m0 = mp * kMR, mr = std::min(kMR, cout_g - m0);
      const size_t panel = g * pc.m_panels + mp;
      PackAPanel(weight + (g * cout_g + m0) * pc.k, pc.k, mr, pc.k, pc.a.data() + panel * pc.k * kMR);
      if (bias != nullptr) {
        for (size_t r = 0; r < mr; ++r) pc.bias[panel * kMR + r] = bias[g * cout_g + m0 + r];
      }
    }
  }
  return pc;
}

void PackIm2colPanel(const float* x, size_t h, size_t w, const ConvShape& s, size_t wo, size_t p0,
                     size_t pc, float* dst) {
  const size_t cin_g = s.cin / s.group;
  if (pc < kNR) std::memset(dst, 0, cin_g * s.kh * s.kw * kNR * sizeof(float));
  const bool pointwise = s.kh == 1 && s.kw == 1 && s.sh == 1 && s.sw == 1 && s.pt == 0 &&
                         s.pl == 0 && s.pb == 0 && s.pr == 0;
  if (pointwise) {  // 1x1 stride 1: pixels are contiguous in x, B is a plain copy.
    for (size_t ci = 0; ci < cin_g; ++ci) std::memcpy(dst + ci * kNR, x + ci * h * w + p0, pc * sizeof(float));
    return;
  }
  // Split the panel into runs of pixels on one output row.
  struct Run { size_t oy, ox, len, j; };
  Run runs[kNR];
  size_t nruns = 0;
  for (size_t j = 0; j < pc;) {
    const size_t p = p0 + j, oy = p / wo, ox = p % wo, len = std::min(wo - ox, pc - j);
    runs[nruns++] = Run{oy, ox, len, j};
    j += len;
  }
  const long lh = static_cast<long>(h), lw = static_cast<long>(w);
  float* row = dst;
  for (size_t ci = 0; ci < cin_g; ++ci) {
    const float* plane = x + ci * h * w;
    for (size_t ky = 0; ky < s.kh; ++ky) {
      for (size_t kx = 0; kx < s.kw; ++kx, row += kNR) {
        for (size_t r = 0; r < nruns; ++r) {
          const Run& run = runs[r];
          float* d = row + run.j;
          const long iy = static_cast<long>(run.oy * s.sh + ky * s.dh) - static_cast<long>(s.pt);
          if (iy < 0 || iy >= lh) {
            std::fill(d, d + run.len, 0.0f);
            continue;
          }
          const float* src = plane + iy * lw;
          const long ix0 = static_cast<long>(run.ox * s.sw + kx * s.dw) - static_cast<long>(s.pl);
          if (s.sw == 1 && ix0 >= 0 && ix0 + static_cast<long>(run.len) <= lw) {
            for (size_t t = 0; t < run.len; ++t) d[t] = src[ix0 + t];
          } else {
            const long step = static_cast<long>(s.sw);
            for (size_t t = 0; t < run.len; ++t) {
              const long ix = ix0 + static_cast<long>(t) * step;
              d[t] = (ix >= 0 && ix < lw) ? src[ix] : 0.0f;
            }
          }
        }
      }
    }
  }
}

void Conv2d(const PackedConv& pc, const float* x, size_t n, size_t h, size_t w, float* out) {
  if (pc.depthwise) return DepthwiseConv2d(pc, x, n, h, w, out);
  const ConvShape& s = pc.s;
  const size_t ho = ConvOutDim(h, s.kh, s.sh, s.pt, s.pb, s.dh);
  const size_t wo = ConvOutDim(w, s.kw, s.sw, s.pl, s.pr, s.dw);
  const size_t pixels = ho * wo;
  if (n == 0 || pixels == 0) return;
  const size_t cin_g = s.cin / s.group, cout_g = s.cout / s.group, k = pc.k;
  const size_t n_panels = (pixels + kNR - 1) / kNR;
  const GemmUkernelFn ukernel = ActiveGemmUkernel();
  // Tasks: (image, pixel panel); each packs its B panel once per group and sweeps all output
  // channels of the group over it while it is hot in L1/L2.
  ParallelFor(n * n_panels, 1, [&](size_t begin, size_t end) {
    std::vector<float> b_panel(std::max<size_t>(k, 1) * kNR);
    for (size_t t = begin; t < end; ++t) {
      const size_t img = t / n_panels, p0 = (t % n_panels) * kNR, nc = std::min(kNR, pixels - p0);
      for (size_t g = 0; g < s.group; ++g) {
        PackIm2colPanel(x + (img * s.cin + g * cin_g) * h * w, h, w, s, wo, p0, nc, b_panel.data());
        for (size_t mp = 0; mp < pc.m_panels; ++mp) {
          const size_t panel = g * pc.m_panels + mp, m0 = mp * kMR, mr = std::min(kMR, cout_g - m0);
          GemmEpilogue ep{pc.bias.data() + panel * kMR, nullptr, pc.min, pc.max};
          ukernel(mr, nc, k, pc.a.data() + panel * k * kMR, b_panel.data(),
                  out + (img * s.cout + g * cout_g + m0) * pixels + p0, pixels, ep);
        }
      }
    }
  });
}

}  // namespace f32
}  // namespace layerq
