// Theorem 5.1's estimate (rademacher.hpp): on a one-layer linear model the supremum over the
// ball has a closed form, g(θ₀) + r·‖(Σξ_i x_i, Σξ_i)‖/m, which the ascent must reach; on deeper
// linear networks the value found lies between the centre's and the bound Π(‖Z_k‖₂ + r)-type
// ceiling, every start ends on the sphere, and the estimate is reproducible by its seed.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "common/rng.hpp"
#include "measure/rademacher.hpp"

namespace initscope {
namespace {

std::vector<float> gaussian_rows(int64_t n, int64_t dim, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> x(static_cast<size_t>(n * dim));
  for (auto& v : x) v = static_cast<float>(rng.normal());
  return x;
}

MlpSpec linear_spec(int64_t in, int64_t width, int depth) {
  return {.input_dim = in,
          .width = width,
          .depth = depth,
          .outputs = 1,
          .activation = Activation::linear};
}

TEST(Rademacher, OneLayerSupremumIsTheClosedForm) {
  const int64_t n = 50, dim = 6;
  const Mlp net = Mlp::make(linear_spec(dim, 1, 1));
  std::vector<float> z = {0.3f, -0.2f, 0.1f, 0.5f, -0.4f, 0.2f, 0.25f};  // w, then b
  const std::vector<float> x = gaussian_rows(n, dim, 4);
  Rng xi_rng(17);
  for (const double r : {0.5, 2.0}) {
    std::vector<double> v(dim, 0.0);
    double s = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      const double xi = xi_rng.below(2) ? 1.0 : -1.0;
      s += xi;
      for (int64_t j = 0; j < dim; ++j) v[static_cast<size_t>(j)] += xi * x[i * dim + j];
    }
    double centre = 0.0, norm2 = s * s;
    for (int64_t j = 0; j < dim; ++j) {
      centre += z[static_cast<size_t>(j)] * v[static_cast<size_t>(j)];
      norm2 += v[static_cast<size_t>(j)] * v[static_cast<size_t>(j)];
    }
    centre = (centre + z[6] * s) / n;
    const double exact = centre + r * std::sqrt(norm2) / n;
    RademacherOptions o;
    o.radius = r;
    o.starts = 3;
    double worst = 0.0, c = 0.0;
    const double sup = rademacher_sup(net, z, v, s, n, o, 5, &worst, &c);
    EXPECT_NEAR(sup, exact, 1e-9 * std::fabs(exact)) << "r = " << r;
    EXPECT_NEAR(worst, exact, 1e-6 * std::fabs(exact)) << "every start finds it";
    EXPECT_NEAR(c, centre, 1e-12);
  }
}

TEST(Rademacher, OneLayerEstimateIsTheMeanOfClosedForms) {
  // E_ξ of the closed form over the same draws the estimate makes, and its standard error.
  const int64_t n = 40, dim = 3;
  const Mlp net = Mlp::make(linear_spec(dim, 1, 1));
  const std::vector<float> z = {0.0f, 0.0f, 0.0f, 0.0f};
  const std::vector<float> x = gaussian_rows(n, dim, 8);
  RademacherOptions o;
  o.radius = 1.5;
  o.draws = 30;
  o.seed = 21;
  const RademacherEstimate e = estimate_rademacher(net, z, x, n, o);
  Rng xi_rng(derive_seed(21, "rademacher-xi"));
  std::vector<double> sups;
  for (int draw = 0; draw < 30; ++draw) {
    std::vector<double> v(dim, 0.0);
    double s = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      const double xi = xi_rng.below(2) ? 1.0 : -1.0;
      s += xi;
      for (int64_t j = 0; j < dim; ++j) v[static_cast<size_t>(j)] += xi * x[i * dim + j];
    }
    double norm2 = s * s;
    for (double a : v) norm2 += a * a;
    sups.push_back(1.5 * std::sqrt(norm2) / n);
  }
  double mean = 0.0;
  for (double a : sups) mean += a / 30;
  double ss = 0.0;
  for (double a : sups) ss += (a - mean) * (a - mean);
  EXPECT_NEAR(e.mean, mean, 1e-9 * mean);
  EXPECT_NEAR(e.se, std::sqrt(ss / 29) / std::sqrt(30.0), 1e-9 * mean);
  EXPECT_NEAR(e.centre, 0.0, 1e-15);
  EXPECT_EQ(e.draws, 30);
  // Khintchine: E‖Σξ_i x_i‖ ≤ √(Σ‖x_i‖²), so R ≤ r·√(Σ(‖x_i‖² + 1))/m.
  double sum2 = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    sum2 += 1.0;
    for (int64_t j = 0; j < dim; ++j) sum2 += double(x[i * dim + j]) * x[i * dim + j];
  }
  EXPECT_LE(e.mean, 1.5 * std::sqrt(sum2) / n + 3 * e.se);
}

TEST(Rademacher, DeepLinearNetworkLiesBetweenCentreAndTheLayerBound) {
  // d = 3 linear layers: g(θ) = (1/m)·(W3 W2 W1 v + s·(W3 W2 b1 + W3 b2 + b3)). On the sphere
  // ‖θ − θ₀‖ = r, each ‖W_k‖₂ ≤ ‖Z_k‖₂ + r and each ‖b_k‖ ≤ r, which bounds |g|.
  const int64_t n = 64, dim = 10, H = 16;
  const Mlp net = Mlp::make(linear_spec(dim, H, 3));
  std::vector<float> z(net.num_params);
  init_params(net, z, InitScheme::xavier_normal, 1.0, 2);
  const std::vector<float> x = gaussian_rows(n, dim, 3);
  RademacherOptions o;
  o.radius = 1.0;
  o.draws = 8;
  o.starts = 3;
  o.seed = 4;
  const RademacherEstimate e = estimate_rademacher(net, z, x, n, o);
  EXPECT_GT(e.mean, std::fabs(e.centre));  // the ascent moved up from the centre
  EXPECT_GE(e.start_gap, 0.0);
  EXPECT_LT(e.start_gap, 0.05);  // the starts agree on the maximum
  // Ceiling: (1/m)·(Π(‖Z_k‖_F + r)·‖v‖ + |s|·(…)) with Frobenius ≥ spectral norms, over the
  // largest ‖v‖ and |s| any draw can have (every ξ_i = sign of …): ‖v‖ ≤ Σ‖x_i‖, |s| ≤ m.
  double fro[3] = {0, 0, 0};
  for (int k = 0; k < 3; ++k) {
    const auto& L = net.layers[static_cast<size_t>(k)];
    for (size_t j = 0; j < L.w_size(); ++j) fro[k] += double(z[L.w_offset + j]) * z[L.w_offset + j];
    fro[k] = std::sqrt(fro[k]) + 1.0;
  }
  double sum_norm = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    double a = 0.0;
    for (int64_t j = 0; j < dim; ++j) a += double(x[i * dim + j]) * x[i * dim + j];
    sum_norm += std::sqrt(a);
  }
  const double ceiling =
      (fro[0] * fro[1] * fro[2] * sum_norm + n * (fro[2] * fro[1] + fro[2] + 1.0)) / n;
  EXPECT_LT(e.mean, ceiling);
  // Reproducible by its seed, and another seed draws other ξ.
  EXPECT_EQ(estimate_rademacher(net, z, x, n, o).mean, e.mean);
  o.seed = 5;
  EXPECT_NE(estimate_rademacher(net, z, x, n, o).mean, e.mean);
}

}  // namespace
}  // namespace initscope
