// Lanczos iteration for the top eigenvalue of AᵀA; see spectral.hpp.
#include "measure/spectral.hpp"

#include <cblas.h>
#include <lapacke.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/error.hpp"
#include "common/rng.hpp"

namespace initscope {

namespace {

// y = M v with M = AᵀA (gram_cols) or AAᵀ; products in float (the matrix is float), Lanczos
// vectors kept in double so reorthogonalization does not lose accuracy.
struct GramOp {
  const float* a;
  int64_t rows, cols;
  bool gram_cols;  // true: M = AᵀA (n = cols); false: M = AAᵀ (n = rows)
  float scale;     // M is of scale·A: a power of two, 1 unless A's entries are extreme
  std::vector<float> vin, tmp, vout;
  int64_t n() const { return gram_cols ? cols : rows; }
  void apply(const double* v, double* y) {
    const int64_t nn = n();
    for (int64_t i = 0; i < nn; ++i) vin[static_cast<size_t>(i)] = static_cast<float>(v[i]);
    const int r = static_cast<int>(rows), c = static_cast<int>(cols);
    const float s = scale;
    if (gram_cols) {
      cblas_sgemv(CblasRowMajor, CblasNoTrans, r, c, s, a, c, vin.data(), 1, 0.0f, tmp.data(), 1);
      cblas_sgemv(CblasRowMajor, CblasTrans, r, c, s, a, c, tmp.data(), 1, 0.0f, vout.data(), 1);
    } else {
      cblas_sgemv(CblasRowMajor, CblasTrans, r, c, s, a, c, vin.data(), 1, 0.0f, tmp.data(), 1);
      cblas_sgemv(CblasRowMajor, CblasNoTrans, r, c, s, a, c, tmp.data(), 1, 0.0f, vout.data(), 1);
    }
    for (int64_t i = 0; i < nn; ++i) y[i] = static_cast<double>(vout[static_cast<size_t>(i)]);
  }
};

// OpenBLAS splits a matrix-vector product between its threads along the sum for some shapes
// (AᵀA's first product for a wide A), so σ would move in its 9th digit with the run's
// `threads`, which is not part of the run's identity. The iteration's products are memory-bound
// and gain little from threads: they run on one, whatever the caller set, and the caller's
// setting is restored.
class OneBlasThread {
 public:
  OneBlasThread() : threads_(openblas_get_num_threads()) {
    if (threads_ != 1) openblas_set_num_threads(1);
  }
  ~OneBlasThread() {
    if (threads_ != 1) openblas_set_num_threads(threads_);
  }
  OneBlasThread(const OneBlasThread&) = delete;
  OneBlasThread& operator=(const OneBlasThread&) = delete;

 private:
  int threads_;
};

double dot(const double* x, const double* y, int64_t n) {
  double s = 0.0;
  for (int64_t i = 0; i < n; ++i) s += x[i] * y[i];
  return s;
}

}  // namespace

SpectralResult spectral_norm(const float* a, int64_t rows, int64_t cols, double rel_tol,
                             uint64_t seed) {
  IS_CHECK(rows > 0 && cols > 0);
  const OneBlasThread one_thread;
  SpectralResult res;
  // A diverged run's weights hold NaN or inf; their norm is not a number, and LAPACK must not see
  // them.
  for (int64_t i = 0; i < rows * cols; ++i)
    if (!std::isfinite(a[i])) {
      res.sigma = res.rel_bound = NAN;
      return res;
    }
  // M's entries are sums of products of A's in float: with entries beyond about 1e15 (an lr scan
  // that blows up without yet overflowing) σ² overflows float, and below about 1e-15 it
  // underflows. Such an A is scaled by a power of two, which is exact, so every ordinary matrix
  // (scale 1) gives the same bits as before.
  float amax = 0.0f;
  for (int64_t i = 0; i < rows * cols; ++i) amax = std::max(amax, std::fabs(a[i]));
  float scale = 1.0f;
  if (amax > 0x1p50f || (amax > 0.0f && amax < 0x1p-50f))
    scale = std::ldexp(1.0f, -std::ilogb(amax));
  GramOp op{a, rows, cols, cols <= rows, scale, {}, {}, {}};
  const int64_t n = op.n();
  op.vin.resize(static_cast<size_t>(n));
  op.vout.resize(static_cast<size_t>(n));
  op.tmp.resize(static_cast<size_t>(op.gram_cols ? rows : cols));

  const int max_iter = static_cast<int>(std::min<int64_t>(n, 400));
  std::vector<double> q(static_cast<size_t>(n) *
                        static_cast<size_t>(max_iter + 1));  // Lanczos basis
  std::vector<double> alpha, beta, w(static_cast<size_t>(n));
  Rng rng(seed);
  double* q0 = q.data();
  for (int64_t i = 0; i < n; ++i) q0[i] = rng.normal();
  const double nq = std::sqrt(dot(q0, q0, n));
  for (int64_t i = 0; i < n; ++i) q0[i] /= nq;

  std::vector<double> d, e, z;
  for (int j = 0; j < max_iter; ++j) {
    double* qj = q.data() + static_cast<size_t>(j) * static_cast<size_t>(n);
    op.apply(qj, w.data());
    const double aj = dot(qj, w.data(), n);
    alpha.push_back(aj);
    // Full reorthogonalization against every basis vector, twice ("twice is enough").
    for (int pass = 0; pass < 2; ++pass)
      for (int i = 0; i <= j; ++i) {
        const double* qi = q.data() + static_cast<size_t>(i) * static_cast<size_t>(n);
        const double c = dot(qi, w.data(), n);
        for (int64_t t = 0; t < n; ++t) w[static_cast<size_t>(t)] -= c * qi[t];
      }
    const double bj = std::sqrt(dot(w.data(), w.data(), n));

    // Ritz values of the (j+1)×(j+1) tridiagonal T: the largest estimates λ_max(M) = σ².
    const int m = j + 1;
    d.assign(alpha.begin(), alpha.end());
    e.assign(beta.begin(), beta.end());
    e.resize(static_cast<size_t>(std::max(m - 1, 1)));
    z.assign(static_cast<size_t>(m) * static_cast<size_t>(m), 0.0);
    const int info = LAPACKE_dstev(LAPACK_COL_MAJOR, 'V', m, d.data(), e.data(), z.data(), m);
    if (info != 0) {  // LAPACK's QL iteration did not converge: no estimate, not a crash
      res.sigma = res.rel_bound = NAN;
      res.iterations = m;
      return res;
    }
    const double theta = d[static_cast<size_t>(m - 1)];  // ascending order
    const double s_last =
        z[static_cast<size_t>(m - 1) * static_cast<size_t>(m) + static_cast<size_t>(m - 1)];
    const double resid = bj * std::fabs(s_last);  // |θ − λ| ≤ resid for some eigenvalue λ
    res.iterations = m;
    res.sigma = std::sqrt(std::max(theta, 0.0)) / static_cast<double>(scale);
    // Relative error of σ = √θ is about half that of θ.
    res.rel_bound = theta > 0 ? 0.5 * resid / theta : 0.0;
    if (theta <= 0.0 || res.rel_bound <= rel_tol || bj <= 1e-12 * std::max(theta, 1e-300)) break;
    beta.push_back(bj);
    double* qn = q.data() + static_cast<size_t>(j + 1) * static_cast<size_t>(n);
    for (int64_t t = 0; t < n; ++t) qn[t] = w[static_cast<size_t>(t)] / bj;
  }
  return res;
}

double spectral_norm_ref(const double* a, int64_t rows, int64_t cols) {
  std::vector<double> copy(a, a + rows * cols);
  const int64_t k = std::min(rows, cols);
  std::vector<double> s(static_cast<size_t>(k)),
      superb(static_cast<size_t>(std::max<int64_t>(k - 1, 1)));
  const int info = LAPACKE_dgesvd(LAPACK_ROW_MAJOR, 'N', 'N', static_cast<int>(rows),
                                  static_cast<int>(cols), copy.data(), static_cast<int>(cols),
                                  s.data(), nullptr, 1, nullptr, 1, superb.data());
  IS_CHECK(info == 0, "dgesvd failed");
  return s[0];
}

}  // namespace initscope
