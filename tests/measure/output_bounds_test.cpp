// Theorems C.1 and C.2's quantities (output_bounds.hpp): max |f(x)| and the weights' gradient
// norm per example, against hand values on one layer and against a double-precision
// finite-difference gradient on a small ReLU network.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "common/rng.hpp"
#include "measure/output_bounds.hpp"

namespace initscope {
namespace {

TEST(OutputBounds, OneLayerByHand) {
  // f(x) = w·x + b with w = (1, 2), b = 0.5: ∂f/∂w = x, so the gradient norm is ‖x‖.
  const Mlp net = Mlp::make({.input_dim = 2, .width = 3, .depth = 1, .outputs = 1});
  const std::vector<float> params = {1, 2, 0.5f};
  const std::vector<float> x = {3, 4, -1, 0};  // f = 11.5 and −0.5
  OutputBounds acc;
  accumulate_output_bounds(net, params, x, 2, acc);
  Metrics m;
  add_output_bound_metrics(acc, m);
  EXPECT_NEAR(m.at("out_abs_max"), 11.5, 1e-6);
  EXPECT_NEAR(m.at("grad_w_norm_max"), 5.0, 1e-6);
  EXPECT_NEAR(m.at("grad_w_norm_mean"), 3.0, 1e-6);
  EXPECT_NEAR(m.at("x_norm_max"), 5.0, 1e-6);
}

// f in double at params p for one input.
double f_double(const Mlp& net, const std::vector<double>& p, const float* x) {
  std::vector<double> a(x, x + net.layers[0].in);
  for (size_t k = 0; k < net.layers.size(); ++k) {
    const LayerSlice& L = net.layers[k];
    std::vector<double> z(static_cast<size_t>(L.out));
    for (int64_t o = 0; o < L.out; ++o) {
      double s = p[L.b_offset + static_cast<size_t>(o)];
      for (int64_t j = 0; j < L.in; ++j)
        s += p[L.w_offset + static_cast<size_t>(o * L.in + j)] * a[static_cast<size_t>(j)];
      z[static_cast<size_t>(o)] = k + 1 < net.layers.size() ? std::max(s, 0.0) : s;
    }
    a = z;
  }
  return a[0];
}

TEST(OutputBounds, GradientNormMatchesFiniteDifferences) {
  const Mlp net = Mlp::make({.input_dim = 5, .width = 7, .depth = 4, .outputs = 1});
  std::vector<float> params(net.num_params);
  init_params(net, params, InitScheme::xavier_normal, 1.0, 3);
  Rng rng(9);
  for (const auto& L : net.layers)  // nonzero biases, so that no ReLU sits at its kink
    for (int64_t o = 0; o < L.out; ++o)
      params[L.b_offset + static_cast<size_t>(o)] = static_cast<float>(0.1 * rng.normal());
  const int64_t n = 300;  // more than one chunk of 256
  std::vector<float> x(static_cast<size_t>(n * 5));
  for (auto& v : x) v = static_cast<float>(rng.normal());
  OutputBounds acc;
  accumulate_output_bounds(net, params, x, n, acc);
  const std::vector<double> p(params.begin(), params.end());
  double max_f = 0.0, max_g = 0.0, sum_g = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const float* xi = x.data() + i * 5;
    max_f = std::max(max_f, std::fabs(f_double(net, p, xi)));
    double g2 = 0.0;
    for (const auto& L : net.layers)  // weights only
      for (size_t j = L.w_offset; j < L.w_offset + L.w_size(); ++j) {
        std::vector<double> hi = p, lo = p;
        hi[j] += 1e-6;
        lo[j] -= 1e-6;
        const double d = (f_double(net, hi, xi) - f_double(net, lo, xi)) / 2e-6;
        g2 += d * d;
      }
    max_g = std::max(max_g, std::sqrt(g2));
    sum_g += std::sqrt(g2);
  }
  EXPECT_NEAR(acc.out_abs_max, max_f, 1e-5 * max_f);
  EXPECT_NEAR(acc.grad_norm_max, max_g, 1e-4 * max_g);
  EXPECT_NEAR(acc.grad_norm_sum / n, sum_g / n, 1e-4 * sum_g / n);
  EXPECT_EQ(acc.examples, n);
}

}  // namespace
}  // namespace initscope
