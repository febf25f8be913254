// The spectral norm on matrices whose singular values we choose, including nearly equal top
// values (where power iteration would crawl), against the known value and a dense SVD.
#include <cblas.h>
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "common/rng.hpp"
#include "measure/spectral.hpp"

namespace initscope {
namespace {

// n × k matrix with orthonormal columns (Gram–Schmidt on Gaussian columns), row-major.
std::vector<double> orthonormal(int64_t n, int64_t k, Rng& r) {
  std::vector<double> q(static_cast<size_t>(n * k));
  for (int64_t j = 0; j < k; ++j) {
    std::vector<double> v(static_cast<size_t>(n));
    for (auto& x : v) x = r.normal();
    for (int pass = 0; pass < 2; ++pass)
      for (int64_t i = 0; i < j; ++i) {
        double d = 0;
        for (int64_t t = 0; t < n; ++t) d += q[t * k + i] * v[t];
        for (int64_t t = 0; t < n; ++t) v[t] -= d * q[t * k + i];
      }
    double nv = 0;
    for (double x : v) nv += x * x;
    nv = std::sqrt(nv);
    for (int64_t t = 0; t < n; ++t) q[t * k + j] = v[t] / nv;
  }
  return q;
}

// A (rows, cols) = U diag(s) Vᵀ.
std::vector<double> with_singular_values(int64_t rows, int64_t cols, const std::vector<double>& s,
                                         uint64_t seed) {
  Rng r(seed);
  const int64_t k = static_cast<int64_t>(s.size());
  const auto u = orthonormal(rows, k, r), v = orthonormal(cols, k, r);
  std::vector<double> a(static_cast<size_t>(rows * cols), 0.0);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      double acc = 0;
      for (int64_t t = 0; t < k; ++t) acc += u[i * k + t] * s[t] * v[j * k + t];
      a[i * cols + j] = acc;
    }
  return a;
}

void expect_sigma(int64_t rows, int64_t cols, const std::vector<double>& s, uint64_t seed) {
  const auto a = with_singular_values(rows, cols, s, seed);
  std::vector<float> af(a.begin(), a.end());
  const SpectralResult res = spectral_norm(af.data(), rows, cols, 1e-4);
  EXPECT_NEAR(res.sigma, s[0], 1e-4 * s[0])
      << rows << "x" << cols << " after " << res.iterations << " iterations";
  EXPECT_LE(res.rel_bound, 1e-4);
  EXPECT_NEAR(spectral_norm_ref(a.data(), rows, cols), s[0], 1e-10 * s[0]);
}

TEST(Spectral, KnownSingularValues) {
  expect_sigma(60, 40, {7.0, 3.0, 2.0, 1.0, 0.5}, 1);
  expect_sigma(40, 60, {2.5, 2.0, 1.0}, 2);  // wide: uses AAᵀ
}

TEST(Spectral, NearlyEqualTopValues) {
  std::vector<double> s;
  for (int i = 0; i < 80; ++i) s.push_back(3.0 - 0.001 * i);  // gap 0.03% between the top two
  expect_sigma(200, 120, s, 3);
}

TEST(Spectral, VectorsAndScaledIdentity) {
  std::vector<float> v = {3.0f, 4.0f};  // 1×2: ‖v‖ = 5
  EXPECT_NEAR(spectral_norm(v.data(), 1, 2).sigma, 5.0, 1e-6);
  EXPECT_NEAR(spectral_norm(v.data(), 2, 1).sigma, 5.0, 1e-6);
  std::vector<float> eye(30 * 30, 0.0f);
  for (int i = 0; i < 30; ++i) eye[static_cast<size_t>(i * 31)] = 2.0f;
  EXPECT_NEAR(spectral_norm(eye.data(), 30, 30).sigma, 2.0, 1e-6);
  std::vector<float> zero(12, 0.0f);
  EXPECT_EQ(spectral_norm(zero.data(), 3, 4).sigma, 0.0);
}

// An lr scan that blows up leaves weights near 1e20 before they overflow: σ² is then beyond
// float, and the estimate must still be right (issue B1: it aborted in dstev). Tiny matrices
// likewise, where σ² underflows.
TEST(Spectral, ExtremeScalesAreMeasuredNotAborted) {
  for (const double magnitude : {1e20, 1e30, 1e-25}) {
    const int64_t rows = 7, cols = 5;
    std::vector<float> a(static_cast<size_t>(rows * cols));
    std::vector<double> ad(a.size());
    Rng rng(3);
    for (size_t i = 0; i < a.size(); ++i) {
      a[i] = static_cast<float>(rng.normal() * magnitude);
      ad[i] = static_cast<double>(a[i]);
    }
    const SpectralResult r = spectral_norm(a.data(), rows, cols);
    const double ref = spectral_norm_ref(ad.data(), rows, cols);
    ASSERT_TRUE(std::isfinite(r.sigma)) << magnitude;
    EXPECT_NEAR(r.sigma / ref, 1.0, 1e-4) << magnitude;
  }
}

TEST(Spectral, RandomGaussianMatchesDenseSvd) {
  const int64_t rows = 300, cols = 256;
  Rng r(5);
  std::vector<double> a(static_cast<size_t>(rows * cols));
  for (auto& x : a) x = r.normal() / std::sqrt(static_cast<double>(rows + cols) / 2);
  std::vector<float> af(a.begin(), a.end());
  std::vector<double> back(af.begin(), af.end());
  const double want = spectral_norm_ref(back.data(), rows, cols);
  EXPECT_NEAR(spectral_norm(af.data(), rows, cols).sigma, want, 1e-4 * want);
}

// A run's `threads` is not part of its identity, so σ must not depend on OpenBLAS's threads:
// with two, OpenBLAS split the first layer's products (1024 × 784, the shape of NK17's W1) along
// the sum and σ moved in its 9th digit. The caller's thread count is left as it was.
TEST(Spectral, TheSameBitsWhateverOpenBlasThreadsTheCallerSet) {
  const int64_t rows = 1024, cols = 784;
  Rng r(11);
  std::vector<float> a(static_cast<size_t>(rows * cols));
  for (auto& x : a) x = static_cast<float>(r.normal() * 0.05);
  const int before = openblas_get_num_threads();
  openblas_set_num_threads(1);
  const SpectralResult one = spectral_norm(a.data(), rows, cols);
  const SpectralResult one_t = spectral_norm(a.data(), cols, rows);
  openblas_set_num_threads(2);
  const SpectralResult two = spectral_norm(a.data(), rows, cols);
  const SpectralResult two_t = spectral_norm(a.data(), cols, rows);
  EXPECT_EQ(openblas_get_num_threads(), 2);
  openblas_set_num_threads(before);
  EXPECT_EQ(one.sigma, two.sigma);
  EXPECT_EQ(one_t.sigma, two_t.sigma);
  EXPECT_EQ(one.iterations, two.iterations);
}

}  // namespace
}  // namespace initscope
