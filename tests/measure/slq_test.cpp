// Stochastic Lanczos quadrature on operators whose spectra we choose (measures-reference.md
// §1.5 test 4): weights sum to 1, nodes are the distinct eigenvalues once the steps cover them,
// A = I does not produce NaN, the quadrature is exact for moments up to 2·iter − 1, its first
// moment is Hutchinson's sample on the same probe, and the smoothed density integrates to 1.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/rng.hpp"
#include "measure/slq.hpp"

namespace initscope {
namespace {

SymmetricOp diagonal(std::vector<double> d) {
  return [d](std::span<const double> v, std::span<double> out) {
    for (size_t i = 0; i < d.size(); ++i) out[i] = d[i] * v[i];
  };
}

TEST(Slq, NodesAreTheDistinctEigenvaluesAndWeightsSumToOne) {
  // 60 entries with 4 distinct values: 4 steps span the Krylov space; 10 steps restart.
  std::vector<double> d;
  for (int i = 0; i < 60; ++i) d.push_back(std::vector<double>{-2.0, 0.5, 3.0, 7.0}[i % 4]);
  const SlqResult r = slq(diagonal(d), d.size(), 10, 3, 5);
  ASSERT_EQ(r.nodes.size(), 3u);
  for (size_t run = 0; run < 3; ++run) {
    double sum = 0.0;
    for (size_t j = 0; j < r.nodes[run].size(); ++j) {
      ASSERT_TRUE(std::isfinite(r.nodes[run][j]));
      sum += r.weights[run][j];
      if (r.weights[run][j] > 1e-12) {  // a node that carries weight is an eigenvalue
        double nearest = 1e300;
        for (const double e : {-2.0, 0.5, 3.0, 7.0})
          nearest = std::min(nearest, std::abs(e - r.nodes[run][j]));
        EXPECT_LT(nearest, 1e-8) << r.nodes[run][j];
      }
    }
    EXPECT_NEAR(sum, 1.0, 1e-12);
  }
}

TEST(Slq, IdentityExhaustsAtOnceWithoutNaN) {
  const SlqResult r = slq(diagonal(std::vector<double>(20, 1.0)), 20, 5, 2, 3);
  for (size_t run = 0; run < 2; ++run) {
    double sum = 0.0;
    for (size_t j = 0; j < r.nodes[run].size(); ++j) {
      EXPECT_NEAR(r.nodes[run][j], 1.0, 1e-12);
      sum += r.weights[run][j];
    }
    EXPECT_NEAR(sum, 1.0, 1e-12);
  }
}

TEST(Slq, QuadratureIsExactForLowMomentsAndMatchesHutchinson) {
  // A dense symmetric matrix with eigenvalues spread over [−3, 40].
  const size_t n = 40;
  Rng rng(9);
  std::vector<double> a(n * n);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j <= i; ++j) a[i * n + j] = a[j * n + i] = rng.normal();
  for (size_t i = 0; i < n; ++i) a[i * n + i] += static_cast<double>(i);
  const SymmetricOp op = [&](std::span<const double> v, std::span<double> out) {
    for (size_t i = 0; i < n; ++i) {
      double s = 0.0;
      for (size_t j = 0; j < n; ++j) s += a[i * n + j] * v[j];
      out[i] = s;
    }
  };
  const int iter = 6, runs = 4;
  const uint64_t seed = 21;
  const SlqResult r = slq(op, n, iter, runs, seed);
  // The same probes as Hutchinson's (one Rng(seed) stream), regenerated here.
  Rng probes(seed);
  double first_moment_mean = 0.0;
  for (int run = 0; run < runs; ++run) {
    std::vector<double> v(n), av(n);
    for (size_t i = 0; i < n; i += 64) {
      const uint64_t bits = probes.next_u64();
      for (size_t b = 0; b < 64 && i + b < n; ++b) v[i + b] = (bits >> b) & 1 ? 1.0 : -1.0;
    }
    for (double& x : v) x /= std::sqrt(static_cast<double>(n));
    // vᵀ A^p v for p = 0..5 against Σ_j w_j θ_j^p (exact for p ≤ 2·iter − 1 = 11).
    std::vector<double> apv = v;
    for (int p = 0; p <= 5; ++p) {
      double exact = 0.0;
      for (size_t i = 0; i < n; ++i) exact += v[i] * apv[i];
      double quad = 0.0;
      for (size_t j = 0; j < r.nodes[run].size(); ++j)
        quad += r.weights[run][j] * std::pow(r.nodes[run][j], p);
      EXPECT_NEAR(quad, exact, 1e-10 * std::max(1.0, std::abs(exact))) << "p = " << p;
      op(std::vector<double>(apv), av);
      apv = av;
    }
    double m1 = 0.0;
    for (size_t j = 0; j < r.nodes[run].size(); ++j) m1 += r.weights[run][j] * r.nodes[run][j];
    first_moment_mean += static_cast<double>(n) * m1 / runs;
  }
  const TraceResult h = hutchinson_trace(op, n, runs, runs, 0.0, seed);
  EXPECT_NEAR(first_moment_mean, h.trace, 1e-10 * std::abs(h.trace));
}

TEST(Slq, SmoothedDensityIntegratesToOne) {
  std::vector<double> d;
  for (int i = 0; i < 50; ++i) d.push_back(0.1 * i * i);
  const SlqResult r = slq(diagonal(d), d.size(), 20, 3, 4);
  const SpectralDensity s = slq_density(r, 2000);
  double integral = 0.0;
  const double dx = s.grid[1] - s.grid[0];
  for (const double x : s.density) integral += x * dx;
  EXPECT_NEAR(integral, 1.0, 1e-12);
  EXPECT_NEAR(s.variance, 1e-5 * (s.grid.back() - s.grid.front()), 1e-9);
}

}  // namespace
}  // namespace initscope
