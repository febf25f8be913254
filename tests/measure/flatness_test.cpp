// The PAC-Bayes σ, the sharpness α and Keskar's ε-sharpness against the closed forms of
// measures-reference.md §3.3: a linear classifier f(x) = w·x with labels ±1, where Gaussian
// noise and box perturbations of w have exact effects on every margin.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/rng.hpp"
#include "measure/flatness.hpp"

namespace initscope {
namespace {

constexpr double k_z90 = 1.2815515655446004;  // Φ⁻¹(0.9)

// Rows z_i = y_i·x_i of a linear classifier (dim floats each); its error is the fraction with
// w·z_i ≤ 0 and its loss the mean logistic loss log(1 + exp(−w·z_i)).
struct Linear {
  int64_t dim = 0;
  std::vector<float> z;
  int64_t n() const { return static_cast<int64_t>(z.size()) / dim; }
  double margin(std::span<const float> w, int64_t i) const {
    double s = 0;
    for (int64_t j = 0; j < dim; ++j) s += static_cast<double>(w[j]) * z[i * dim + j];
    return s;
  }
  WeightsStatistic error() const {
    return [this](std::span<const float> w) {
      int64_t wrong = 0;
      for (int64_t i = 0; i < n(); ++i) wrong += margin(w, i) <= 0.0;
      return static_cast<double>(wrong) / n();
    };
  }
  LossAndGradient loss() const {
    return [this](std::span<const float> w, std::span<float> g) {
      std::vector<double> gs(dim, 0.0);
      double l = 0;
      for (int64_t i = 0; i < n(); ++i) {
        const double m = margin(w, i);
        l += m > 0 ? std::log1p(std::exp(-m)) : -m + std::log1p(std::exp(m));
        const double s = 1.0 / (1.0 + std::exp(m));  // σ(−m)
        for (int64_t j = 0; j < dim; ++j) gs[j] -= s * z[i * dim + j];
      }
      for (int64_t j = 0; j < dim; ++j) g[j] = static_cast<float>(gs[j] / n());
      return l / n();
    };
  }
};

// n unit rows z_i = c·ŵ + √(1 − c²)·u_i with u_i a random unit vector orthogonal to ŵ, so that
// every margin w·z_i is c·‖w‖.
Linear unit_rows(std::span<const float> w, double c, int64_t n, uint64_t seed) {
  Linear L;
  L.dim = static_cast<int64_t>(w.size());
  double nw = 0;
  for (float x : w) nw += static_cast<double>(x) * x;
  nw = std::sqrt(nw);
  Rng r(seed);
  for (int64_t i = 0; i < n; ++i) {
    std::vector<double> u(w.size());
    double d = 0, nu = 0;
    for (size_t j = 0; j < u.size(); ++j) u[j] = r.normal();
    for (size_t j = 0; j < u.size(); ++j) d += u[j] * w[j] / nw;
    for (size_t j = 0; j < u.size(); ++j) u[j] -= d * w[j] / nw;
    for (double x : u) nu += x * x;
    for (size_t j = 0; j < u.size(); ++j)
      L.z.push_back(
          static_cast<float>(c * w[j] / nw + std::sqrt(1 - c * c) * u[j] / std::sqrt(nu)));
  }
  return L;
}

// u ~ N(0, s²I) moves every margin γ by N(0, s²): the error is 1 − Φ(γ/s), so a deviation of 0.1
// from error 0 is reached at s* = γ/z₀.₉. The tolerance |d − 0.1| ≤ 0.01 allows ±4.4% in s;
// Monte-Carlo error adds a little.
TEST(PacBayes, IsotropicSigmaOfALinearClassifier) {
  const int64_t dim = 200;
  std::vector<float> w(dim, 0.0f);
  w[0] = 1.0f;
  const double gamma = 0.2;
  const Linear L = unit_rows(w, gamma, 2000, 3);
  PacBayesOptions o;
  o.samples = 50;
  o.seed = 11;
  const BisectionResult r = pacbayes_sigma(w, L.error(), o);
  const double want = gamma / k_z90;
  EXPECT_TRUE(r.hit_target);
  EXPECT_EQ(r.base, 0.0);
  EXPECT_NEAR(r.value / want, 1.0, 0.07) << r.value << " vs " << want;
  EXPECT_LE(r.lo, r.value);
  EXPECT_GE(r.hi, r.value);
  // The same seed gives the same σ, bit for bit.
  const BisectionResult again = pacbayes_sigma(w, L.error(), o);
  EXPECT_EQ(again.value, r.value);
  EXPECT_EQ(again.steps, r.steps);
}

// Every |w_i| = a: the magnitude-aware noise has std √(σ²a² + ε²) on every weight, so
// σ′ = √((γ/z₀.₉)² − ε²)/a.
TEST(PacBayes, MagnitudeAwareSigmaOfALinearClassifier) {
  const int64_t dim = 200;
  const double a = 0.1, gamma = 0.2;
  std::vector<float> w(dim);
  for (int64_t j = 0; j < dim; ++j) w[j] = static_cast<float>(j % 3 == 0 ? -a : a);
  const double c = gamma / (a * std::sqrt(static_cast<double>(dim)));
  const Linear L = unit_rows(w, c, 2000, 5);
  PacBayesOptions o;
  o.noise = NoiseKind::magnitude;
  o.samples = 50;
  o.seed = 2;
  const BisectionResult r = pacbayes_sigma(w, L.error(), o);
  const double want = std::sqrt(std::pow(gamma / k_z90, 2) - o.eps * o.eps) / a;
  EXPECT_TRUE(r.hit_target);
  EXPECT_NEAR(r.value / want, 1.0, 0.07) << r.value << " vs " << want;
}

// Mean perturbed error is non-decreasing in σ under common random numbers.
TEST(PacBayes, DeviationGrowsWithSigma) {
  std::vector<float> w(50, 0.0f);
  w[0] = 1.0f;
  const Linear L = unit_rows(w, 0.3, 500, 8);
  double prev = -1;
  for (double hi : {0.05, 0.1, 0.2, 0.4, 0.8}) {
    PacBayesOptions o;
    o.samples = 20;
    o.search.max_steps = 1;  // one evaluation at (lo + hi)/2
    o.search.lo = 0.0;
    o.search.hi = 2 * hi;
    const BisectionResult r = pacbayes_sigma(w, L.error(), o);
    EXPECT_GE(r.deviation, prev) << hi;
    prev = r.deviation;
  }
}

// Rows z_i with positive entries and positive weights: the logistic loss's gradient is negative
// in every coordinate, so one sign step reaches Δ = −α·1, which lowers margin i to
// γ_i − α‖z_i‖₁ for every i at once. The error at α is the fraction of r_i = γ_i/‖z_i‖₁ ≤ α,
// and the search must stop where that fraction is within 0.1 ± 0.01.
TEST(Sharpness, PlainBoxOfALinearClassifier) {
  const int64_t dim = 10, n = 1000;
  Rng rng(4);
  std::vector<float> w(dim);
  for (auto& x : w) x = static_cast<float>(0.1 + 0.9 * rng.uniform());
  Linear L;
  L.dim = dim;
  std::vector<double> ratio;
  for (int64_t i = 0; i < n; ++i) {
    double g = 0, l1 = 0;
    for (int64_t j = 0; j < dim; ++j) {
      const float v = static_cast<float>(std::pow(rng.uniform(), 3) + 1e-3);
      L.z.push_back(v);
      g += static_cast<double>(w[j]) * v;
      l1 += v;
    }
    ratio.push_back(g / l1);
  }
  SharpnessOptions o;
  o.seed = 3;
  const BisectionResult r = sharpness_alpha(w, L.error(), L.loss(), o);
  EXPECT_TRUE(r.hit_target);
  const double below =
      static_cast<double>(std::count_if(ratio.begin(), ratio.end(),
                                        [&](double x) { return x <= r.value * (1 + 1e-6); })) /
      n;
  EXPECT_NEAR(below, 0.1, 0.0105) << "alpha " << r.value;
  EXPECT_NEAR(r.deviation, below, 0.002);
}

// Magnitude-aware box |Δ_i| ≤ α|w_i| + ε: the worst margin is γ_i − Σ_j |z_ij|(α|w_j| + ε)
// (w and z positive: one sign step reaches it for every row at once).
TEST(Sharpness, MagnitudeBoxOfALinearClassifier) {
  const int64_t dim = 8, n = 500;
  Rng rng(6);
  std::vector<float> w(dim);
  for (auto& x : w) x = static_cast<float>(0.2 + rng.uniform());
  Linear L;
  L.dim = dim;
  for (int64_t i = 0; i < n * dim; ++i)
    L.z.push_back(static_cast<float>(std::pow(rng.uniform(), 2) + 1e-3));
  SharpnessOptions o;
  o.box = BoxKind::magnitude;
  o.eps = 0.2;  // large enough to spread the critical α_i = 1 − ε‖z_i‖₁/γ_i over [0.3, 0.8]
  const BisectionResult r = sharpness_alpha(w, L.error(), L.loss(), o);
  int64_t wrong = 0;
  for (int64_t i = 0; i < n; ++i) {
    double m = 0;
    for (int64_t j = 0; j < dim; ++j)
      m += L.z[i * dim + j] * (w[j] - (r.value * std::abs(w[j]) + o.eps));
    wrong += m <= 0;
  }
  EXPECT_TRUE(r.hit_target);
  EXPECT_NEAR(static_cast<double>(wrong) / n, r.deviation, 0.004);
  EXPECT_NEAR(r.deviation, 0.1, 0.01);
}

// L(w) = ½wᵀAw + c at w = 0 with A diagonal and PSD: the maximum over the box of half-width ε
// sits at a corner, so φ = 100·(½ε² tr A)/(1 + c).
TEST(Sharpness, KeskarOfAQuadratic) {
  const std::vector<double> a{4.0, 1.0, 0.5, 2.0, 0.0, 3.0};
  const double c = 0.3, eps = 1e-3;
  const LossAndGradient quad = [&](std::span<const float> w, std::span<float> g) {
    double l = c;
    for (size_t i = 0; i < a.size(); ++i) {
      l += 0.5 * a[i] * w[i] * w[i];
      g[i] = static_cast<float>(a[i] * w[i]);
    }
    return l;
  };
  const std::vector<float> w(a.size(), 0.0f);
  SharpnessOptions o;
  o.seed = 5;
  const KeskarResult k = keskar_sharpness(w, quad, eps, o);
  double tr = 0;
  for (double x : a) tr += x;
  EXPECT_NEAR(k.sharpness / (100.0 * 0.5 * eps * eps * tr / (1 + c)), 1.0, 1e-5);
  EXPECT_DOUBLE_EQ(k.loss, c);
}

// Through a network: a linear model (depth 1, one output, logistic loss) whose bias is also
// perturbed, so the noise on margin i has variance s²(‖x_i‖² + 1) = 2s² for unit rows.
TEST(PacBayes, NetworkEvaluatorIncludesTheBias) {
  const int64_t dim = 200, n = 2000;
  MlpSpec spec;
  spec.input_dim = dim;
  spec.depth = 1;
  spec.outputs = 1;
  const Mlp net = Mlp::make(spec);
  std::vector<float> w(net.num_params, 0.0f);
  w[net.layers[0].w_offset] = 1.0f;
  const double gamma = 0.2;
  const Linear L = unit_rows(std::span<const float>(w).first(dim), gamma, n, 12);
  // Rows x_i with labels y_i: alternate the labels, x_i = y_i·z_i.
  std::vector<float> x(L.z);
  std::vector<int32_t> y(static_cast<size_t>(n));
  std::vector<int64_t> idx(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    y[i] = static_cast<int32_t>(i % 2);
    idx[i] = i;
    if (y[i] == 0)
      for (int64_t j = 0; j < dim; ++j) x[i * dim + j] = -x[i * dim + j];
  }
  LossRows rows;
  rows.x = x.data();
  rows.y = y.data();
  rows.indices = idx;
  rows.loss = Loss::logistic;
  RowsEvaluator ev(net, rows);
  EXPECT_EQ(ev.error(w), 0.0);
  PacBayesOptions o;
  o.samples = 50;
  o.seed = 1;
  const BisectionResult r = pacbayes_sigma(w, ev.error_fn(), o);
  const double want = gamma / (k_z90 * std::sqrt(2.0));
  EXPECT_NEAR(r.value / want, 1.0, 0.07) << r.value << " vs " << want;
}

}  // namespace
}  // namespace initscope
