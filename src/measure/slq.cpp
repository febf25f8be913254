// Stochastic Lanczos quadrature (slq.hpp).
#include "measure/slq.hpp"

#include <lapacke.h>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "common/error.hpp"
#include "common/rng.hpp"

namespace initscope {

namespace {

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0.0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// w minus its projections on the basis q, twice ("twice is enough").
void orthogonalize(std::vector<double>& w, const std::vector<std::vector<double>>& q) {
  for (int pass = 0; pass < 2; ++pass)
    for (const auto& qi : q) {
      const double c = dot(qi, w);
      for (size_t i = 0; i < w.size(); ++i) w[i] -= c * qi[i];
    }
}

}  // namespace

SlqResult slq(const SymmetricOp& op, size_t n, int iter, int runs, uint64_t seed) {
  IS_CHECK(n >= 1 && iter >= 1 && runs >= 1);
  const int steps = static_cast<int>(std::min<size_t>(static_cast<size_t>(iter), n));
  Rng probes(seed);                                // hutchinson_trace's probes
  Rng restarts(derive_seed(seed, "slq-restart"));  // fresh vectors after β = 0
  SlqResult r;
  std::vector<double> w(n);
  for (int run = 0; run < runs; ++run) {
    std::vector<std::vector<double>> q;
    {
      std::vector<double> v(n);
      for (size_t i = 0; i < n; i += 64) {
        const uint64_t bits = probes.next_u64();
        for (size_t b = 0; b < 64 && i + b < n; ++b) v[i + b] = (bits >> b) & 1 ? 1.0 : -1.0;
      }
      const double norm = std::sqrt(static_cast<double>(n));
      for (double& x : v) x /= norm;
      q.push_back(std::move(v));
    }
    std::vector<double> alpha, beta;
    for (int j = 0; j < steps; ++j) {
      op(q.back(), w);
      ++r.products;
      const double a = dot(q.back(), w);
      alpha.push_back(a);
      if (j + 1 == steps) break;
      orthogonalize(w, q);
      double b = std::sqrt(dot(w, w));
      double scale = 0.0;
      for (const double x : alpha) scale = std::max(scale, std::abs(x));
      if (!(b > 1e-10 * std::max(scale, 1e-300))) {
        // The Krylov space is exhausted: continue from a fresh vector orthogonal to it, β = 0.
        b = 0.0;
        do {
          for (double& x : w) x = restarts.normal();
          orthogonalize(w, q);
        } while (dot(w, w) <= 1e-20);
        const double nw = std::sqrt(dot(w, w));
        for (double& x : w) x /= nw;
      } else {
        for (double& x : w) x /= b;
      }
      beta.push_back(b);
      q.push_back(w);
    }
    const int m = static_cast<int>(alpha.size());
    std::vector<double> theta = alpha, e(beta.begin(), beta.end()), s(static_cast<size_t>(m * m));
    e.resize(static_cast<size_t>(std::max(m - 1, 1)));
    const int info = LAPACKE_dstev(LAPACK_COL_MAJOR, 'V', m, theta.data(), e.data(), s.data(), m);
    IS_CHECK(info == 0, "dstev failed on the SLQ tridiagonal");
    std::vector<double> wt(static_cast<size_t>(m));
    for (int k = 0; k < m; ++k) {
      const double c = s[static_cast<size_t>(k * m)];  // first component of eigenvector k
      wt[static_cast<size_t>(k)] = c * c;
    }
    r.nodes.push_back(std::move(theta));
    r.weights.push_back(std::move(wt));
  }
  return r;
}

SpectralDensity slq_density(const SlqResult& r, int bins, double sigma_squared, double overhead) {
  IS_CHECK(!r.nodes.empty() && bins >= 2);
  double lo = 0.0, hi = 0.0;
  for (const auto& t : r.nodes) {
    lo += t.front();
    hi += t.back();
  }
  const double runs = static_cast<double>(r.nodes.size());
  lo = lo / runs - overhead;
  hi = hi / runs + overhead;
  SpectralDensity d;
  d.variance = sigma_squared * std::max(1.0, hi - lo);  // PyHessian: the range with its overhead
  d.grid.resize(static_cast<size_t>(bins));
  d.density.assign(static_cast<size_t>(bins), 0.0);
  const double dx = (hi - lo) / (bins - 1);
  for (int i = 0; i < bins; ++i) d.grid[static_cast<size_t>(i)] = lo + i * dx;
  const double norm = 1.0 / std::sqrt(2 * std::numbers::pi * d.variance);
  for (size_t run = 0; run < r.nodes.size(); ++run)
    for (size_t j = 0; j < r.nodes[run].size(); ++j)
      for (int i = 0; i < bins; ++i) {
        const double z = d.grid[static_cast<size_t>(i)] - r.nodes[run][j];
        d.density[static_cast<size_t>(i)] +=
            r.weights[run][j] * norm * std::exp(-z * z / (2 * d.variance)) / runs;
      }
  double total = 0.0;
  for (const double x : d.density) total += x * dx;
  if (total > 0)
    for (double& x : d.density) x /= total;
  return d;
}

}  // namespace initscope
