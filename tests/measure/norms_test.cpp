// Jiang et al.'s norm, path and margin measures against closed forms (measures-reference.md
// §2.3): spectral and Frobenius products of diagonal matrices, the path norm by enumerating
// every path, and the margin's k-th value.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "common/rng.hpp"
#include "measure/norms.hpp"

namespace initscope {
namespace {

Mlp make_net(int64_t in, int64_t width, int depth, int64_t out) {
  MlpSpec s;
  s.input_dim = in;
  s.width = width;
  s.depth = depth;
  s.outputs = out;
  s.activation = Activation::relu;
  return Mlp::make(s);
}

TEST(JiangMeasures, SpectralAndFrobeniusProductsOfDiagonalLayers) {
  // Two layers W = diag(3, 1): ‖W‖₂² = 9 and ‖W‖_F² = 10 each (§2.3).
  const Mlp net = make_net(2, 2, 2, 2);
  std::vector<float> w(net.num_params, 0.0f), w0(net.num_params, 0.0f);
  for (const LayerSlice& l : net.layers) {
    w[l.w_offset] = 3.0f;
    w[l.w_offset + 3] = 1.0f;
  }
  const double gamma = 2.0;
  const Metrics m = jiang_measures(net, w, w0, gamma);
  // The spectral norms come from spectral_norm's Lanczos on float products (as spec_w{k}'s):
  // float rounding, about 1e-7 relative; the Frobenius terms are sums in double.
  const double spec_tol = 1e-6;
  EXPECT_NEAR(m.at("log_prod_spec"), 2 * std::log(9.0), spec_tol);
  EXPECT_NEAR(m.at("log_sum_spec"), std::log(2.0) + 0.5 * (2 * std::log(9.0)), spec_tol);
  EXPECT_NEAR(m.at("log_prod_fro"), 2 * std::log(10.0), 1e-12);
  EXPECT_NEAR(m.at("log_sum_fro"), std::log(2.0) + std::log(10.0), 1e-12);
  EXPECT_NEAR(m.at("fro_over_spec"), 2 * 10.0 / 9.0, spec_tol);
  EXPECT_NEAR(m.at("log_prod_spec_over_margin"), 2 * std::log(9.0) - 2 * std::log(2.0), spec_tol);
  EXPECT_NEAR(m.at("log_sum_spec_over_margin"),
              std::log(2.0) + 0.5 * (2 * std::log(9.0) - 2 * std::log(2.0)), spec_tol);
  EXPECT_NEAR(m.at("log_prod_fro_over_margin"), 2 * std::log(10.0) - 2 * std::log(2.0), 1e-12);
  EXPECT_NEAR(m.at("log_spec_orig_main"),
              2 * std::log(9.0) - 2 * std::log(2.0) + std::log(20.0 / 9.0), spec_tol);
  // From w0 = 0, ‖W − W0‖_F² = ‖W‖_F²: the init term equals the origin one.
  EXPECT_NEAR(m.at("log_spec_init_main"), m.at("log_spec_orig_main"), 1e-12);
  EXPECT_NEAR(m.at("log_prod_spec_over_margin") - m.at("log_prod_spec"), -2 * std::log(2.0), 1e-12);
  EXPECT_DOUBLE_EQ(m.at("inverse_margin"), 0.25);
  EXPECT_DOUBLE_EQ(m.at("jiang_margin"), 2.0);
  // A negative margin is stored signed and used by its magnitude, as the reference's abs().
  const Metrics neg = jiang_measures(net, w, w0, -2.0);
  EXPECT_DOUBLE_EQ(neg.at("jiang_margin"), -2.0);
  EXPECT_DOUBLE_EQ(neg.at("log_prod_spec_over_margin"), m.at("log_prod_spec_over_margin"));
}

// Σ over paths input → hidden → output of the product of squared weights, plus the paths that
// start at a bias, for a one-hidden-layer ReLU net (all terms ≥ 0, so ReLU passes them).
double enumerate_paths(const Mlp& net, const std::vector<float>& w) {
  const LayerSlice &l1 = net.layers[0], &l2 = net.layers[1];
  double sum = 0.0;
  for (int64_t o = 0; o < l2.out; ++o) {
    const double b2 = w[l2.b_offset + o];
    sum += b2 * b2;
    for (int64_t h = 0; h < l2.in; ++h) {
      const double v = w[l2.w_offset + o * l2.in + h];
      const double b1 = w[l1.b_offset + h];
      sum += v * v * b1 * b1;
      for (int64_t i = 0; i < l1.in; ++i) {
        const double u = w[l1.w_offset + h * l1.in + i];
        sum += v * v * u * u;
      }
    }
  }
  return sum;
}

TEST(JiangMeasures, PathNormEqualsTheSumOverPaths) {
  // 3-4-2 ReLU (§2.3), without biases and then with them.
  const Mlp net = make_net(3, 4, 2, 2);
  std::vector<float> w(net.num_params);
  Rng rng(11);
  for (auto& x : w) x = static_cast<float>(rng.normal());
  std::vector<float> no_bias = w;
  for (const LayerSlice& l : net.layers)
    for (int64_t o = 0; o < l.out; ++o) no_bias[l.b_offset + o] = 0.0f;
  const double e0 = enumerate_paths(net, no_bias);
  EXPECT_NEAR(path_norm(net, no_bias), e0, 1e-12 * e0);
  const double e1 = enumerate_paths(net, w);
  EXPECT_NEAR(path_norm(net, w), e1, 1e-12 * e1);
  EXPECT_GT(e1, e0);
}

TEST(JiangMeasures, MarginIsTheTenthSmallestOfAHundred) {
  std::vector<double> margins;
  for (int i = 100; i >= 1; --i) margins.push_back(i);  // margins 1..100, unsorted
  EXPECT_DOUBLE_EQ(jiang_margin(margins), 10.0);
  EXPECT_DOUBLE_EQ(jiang_margin({5.0, -1.0, 3.0}), -1.0);  // m < 10: the smallest
  EXPECT_TRUE(std::isnan(jiang_margin({})));
}

}  // namespace
}  // namespace initscope
