// GPTQ rounding (f32-rounding.h). The upper Cholesky factor U of Hinv = (H + damping)^-1 is
// found without forming Hinv: with J the reversal permutation, chol(J H J) = L gives
// H = (J L J)(J L J)^T with J L J upper triangular, hence Hinv = U^T U for U = (J L J)^-1 =
// J L^-1 J (one Cholesky and one triangular inverse instead of GPTQ's two and an inverse).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <vector>

#include "common/threadpool.h"
#include "kernels/f32-rounding/f32-rounding.h"

namespace layerq {
namespace f32 {
namespace {

constexpr int kDampRetries = 4;

// Lower Cholesky factor of a (n x n, lower triangle read) into l (upper triangle zeroed);
// false when a is not (numerically) positive definite.
bool CholeskyLower(const double* a, size_t n, double* l) {
  std::fill(l, l + n * n, 0.0);
  for (size_t i = 0; i < n; ++i) {
    const double* li = l + i * n;
    for (size_t j = 0; j <= i; ++j) {
      const double* lj = l + j * n;
      double sum = a[i * n + j];
      for (size_t k = 0; k < j; ++k) sum -= li[k] * lj[k];
      if (i == j) {
        if (!(sum > 0) || !std::isfinite(sum)) return false;
        l[i * n + i] = std::sqrt(sum);
      } else {
        l[i * n + j] = sum / lj[j];
      }
    }
  }
  return true;
}

// inv = l^-1 for lower triangular l, row by row: row i = -(sum_{k<i} l_ik inv_k) / l_ii.
void InvertLower(const double* l, size_t n, double* inv) {
  std::fill(inv, inv + n * n, 0.0);
  for (size_t i = 0; i < n; ++i) {
    double* __restrict row = inv + i * n;
    for (size_t k = 0; k < i; ++k) {
      const double a = l[i * n + k];
      const double* __restrict rk = inv + k * n;
      for (size_t j = 0; j <= k; ++j) row[j] += a * rk[j];
    }
    const double d = l[i * n + i];
    for (size_t j = 0; j < i; ++j) row[j] = -row[j] / d;
    row[i] = 1.0 / d;
  }
}

// u = upper Cholesky factor of (damped h)^-1 for one group (k x k); false when h stays
// indefinite after every damping retry.
bool InverseHessianFactor(const double* h, size_t k, double damp, double* u) {
  std::vector<double> diag(k), a(k * k), l(k * k);
  double mean = 0;
  for (size_t i = 0; i < k; ++i) {
    diag[i] = h[i * k + i] == 0 ? 1.0 : h[i * k + i];  // an input never seen: a free column
    mean += diag[i];
  }
  mean /= static_cast<double>(k);
  for (int attempt = 0; attempt <= kDampRetries; ++attempt) {
    for (size_t i = 0; i < k; ++i) {  // a = J (h + damp mean I) J, lower triangle
      const size_t ri = k - 1 - i;
      for (size_t j = 0; j < i; ++j) a[i * k + j] = h[ri * k + (k - 1 - j)];
      a[i * k + i] = diag[ri] + damp * mean;
    }
    if (CholeskyLower(a.data(), k, l.data())) {
      InvertLower(l.data(), k, a.data());
      for (size_t i = 0; i < k; ++i)
        for (size_t j = 0; j < k; ++j) u[i * k + j] = a[(k - 1 - i) * k + (k - 1 - j)];
      return true;
    }
    damp = damp > 0 ? damp * 10 : 1e-3;
  }
  return false;
}

int8_t Code(double v, double s, int32_t qmin, int32_t qmax) {
  const double q = std::nearbyint(v / s);  // ties to even in the default rounding mode
  return static_cast<int8_t>(q < qmin ? qmin : q > qmax ? qmax : q);
}

}  // namespace

size_t FitRounding(const FitRoundingParams& p, const float* w, const double* h, int8_t* codes) {
  const size_t k = p.k, g_count = p.group;
  if (g_count == 0 || p.cout % g_count) throw std::invalid_argument("fit rounding: cout not divisible by group");
  if (p.scale_count != 1 && p.scale_count != p.cout) throw std::invalid_argument("fit rounding: scale count must be 1 or cout");
  if (p.qmin < -128 || p.qmax > 127 || p.qmin > p.qmax) throw std::invalid_argument("fit rounding: bad qmin/qmax");
  if (p.cout == 0 || k == 0) return 0;
  std::vector<double> u(g_count * k * k);
  std::vector<char> ok(g_count);
  ParallelFor(g_count, 1, [&](size_t b, size_t e) {
    for (size_t g = b; g < e; ++g) ok[g] = InverseHessianFactor(h + g * k * k, k, p.damp, u.data() + g * k * k);
  });
  const size_t per_group = p.cout / g_count;
  ParallelFor(p.cout, 1, [&](size_t b, size_t e) {
    std::vector<double> row(k);
    for (size_t c = b; c < e; ++c) {
      const double s = p.scale[p.scale_count == 1 ? 0 : c];
      const size_t g = c / per_group;
      const double* ug = u.data() + g * k * k;
      const float* wc = w + c * k;
      int8_t* qc = codes + c * k;
      std::copy(wc, wc + k, row.begin());
      for (size_t i = 0; i < k; ++i) {
        qc[i] = Code(row[i], s, p.qmin, p.qmax);
        if (!ok[g]) continue;  // fallback: nearest rounding
        const double* __restrict ui = ug + i * k;
        const double err = (row[i] - qc[i] * s) / ui[i];
        double* __restrict r = row.data();
        for (size_t j = i + 1; j < k; ++j) r[j] -= err * ui[j];
      }
    }
  });
  return static_cast<size_t>(std::count(ok.begin(), ok.end(), 0));
}

}  // namespace f32
}  // namespace layerq
