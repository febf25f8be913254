// The optimizers' updates (optim/optimizer.hpp, optim/gd.hpp): one Adam step and one gd step of
// a tiny network against closed forms worked out by hand, in double through the naive twins
// and in float through the optimized paths; adam_update against its twin over many steps; and
// that neither update allocates.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <new>
#include <numeric>
#include <vector>

#include "common/error.hpp"
#include "common/rng.hpp"
#include "model/network.hpp"
#include "optim/gd.hpp"
#include "optim/optimizer.hpp"

#include "../common/count_allocations.hpp"  // this binary's operator new, counted

using initscope::testing::g_allocations;

namespace initscope {
namespace {

// The tiny network: f(x) = w·(a₁x₁ + a₂x₂ + c) + d, linear, one output, squared loss
// (f − t)² with t = ±1 (label 1: +1, label 0: −1). Flat layout (mlp.hpp): a₁, a₂, c, w, d.
Mlp tiny_net() {
  return Mlp::make(
      {.input_dim = 2, .width = 1, .depth = 2, .outputs = 1, .activation = Activation::linear});
}

// ∇ of (f(x) − t)² at p = (a₁, a₂, c, w, d), by hand: with h = a·x + c and r = w·h + d − t,
// ∂/∂a_j = 2r·w·x_j, ∂/∂c = 2r·w, ∂/∂w = 2r·h, ∂/∂d = 2r.
std::vector<double> hand_gradient(const std::vector<double>& p, double x1, double x2, double t) {
  const double h = p[0] * x1 + p[1] * x2 + p[2];
  const double r = p[3] * h + p[4] - t;
  return {2 * r * p[3] * x1, 2 * r * p[3] * x2, 2 * r * p[3], 2 * r * h, 2 * r};
}

const std::vector<double> k_p0 = {0.5, -0.25, 0.125, 0.75, -0.5};

TEST(Adam, OneAndTwoStepsOfATinyNetworkMatchTheClosedForm) {
  const Mlp net = tiny_net();
  ASSERT_EQ(net.num_params, 5u);
  const double x[2] = {1.0, 2.0};
  const double lr = 0.01;
  const AdamHyper h;  // β₁ 0.9, β₂ 0.999, ε 1e-8
  std::vector<double> p = k_p0, m(5, 0.0), v(5, 0.0);
  // The gradient by the naive twins equals the hand one.
  const auto grad_at = [&](const std::vector<double>& q) {
    const auto f = mlp_forward_ref(net, q.data(), x, 1);
    const double dl = 2 * (f[0] - 1.0);
    return mlp_backward_ref(net, q.data(), x, &dl, 1);
  };
  const auto g1 = grad_at(p), g1_hand = hand_gradient(p, 1, 2, 1);
  for (size_t j = 0; j < 5; ++j) EXPECT_NEAR(g1[j], g1_hand[j], 1e-14) << j;
  adam_update_ref(p.data(), m.data(), v.data(), g1.data(), 5, lr, h, 1);
  // Step 1: m̂ = g and v̂ = g², so every parameter moves by lr·g/(|g| + ε): by lr, against g's sign.
  std::vector<double> p1(5);
  for (size_t j = 0; j < 5; ++j) {
    p1[j] = k_p0[j] - lr * g1_hand[j] / (std::fabs(g1_hand[j]) + 1e-8);
    EXPECT_NEAR(p[j], p1[j], 1e-14) << j;
  }
  // Step 2: m̂ = (β₁(1−β₁)g₁ + (1−β₁)g₂)/(1−β₁²), v̂ = (β₂(1−β₂)g₁² + (1−β₂)g₂²)/(1−β₂²).
  const auto g2 = grad_at(p), g2_hand = hand_gradient(p1, 1, 2, 1);
  adam_update_ref(p.data(), m.data(), v.data(), g2.data(), 5, lr, h, 2);
  for (size_t j = 0; j < 5; ++j) {
    const double mh = (0.9 * 0.1 * g1_hand[j] + 0.1 * g2_hand[j]) / (1 - 0.81);
    const double vh = (0.999 * 0.001 * g1_hand[j] * g1_hand[j] + 0.001 * g2_hand[j] * g2_hand[j]) /
                      (1 - 0.999 * 0.999);
    EXPECT_NEAR(p[j], p1[j] - lr * mh / (std::sqrt(vh) + 1e-8), 1e-14) << j;
  }
  // The optimized float update gives the same two steps to float rounding.
  std::vector<float> pf(k_p0.begin(), k_p0.end()), gf(5);
  AdamState st(5);
  for (const auto* g : {&g1, &g2}) {
    for (size_t j = 0; j < 5; ++j) gf[j] = static_cast<float>((*g)[j]);
    adam_update(pf, st, gf, lr, h);
  }
  EXPECT_EQ(st.t, 2);
  for (size_t j = 0; j < 5; ++j) EXPECT_NEAR(pf[j], p[j], 1e-6) << j;
}

TEST(Adam, TheOptimizedUpdateMatchesItsTwinOverManySteps) {
  const int64_t n = 1001;  // not a multiple of any vector width
  Rng r(5);
  std::vector<float> p(n), g(n), pr(n), mr(n, 0.0f), vr(n, 0.0f);
  for (auto& x : p) x = static_cast<float>(r.normal());
  pr = p;
  AdamState st(n);
  const AdamHyper h{.beta1 = 0.8, .beta2 = 0.99, .eps = 1e-6};
  for (int t = 1; t <= 100; ++t) {
    for (auto& x : g) x = static_cast<float>(r.normal() * (t % 7 == 0 ? 1e-4 : 1.0));
    adam_update(p, st, g, 1e-3, h);
    adam_update_ref(pr.data(), mr.data(), vr.data(), g.data(), n, 1e-3, h, t);
  }
  float worst = 0.0f;
  for (int64_t i = 0; i < n; ++i)
    worst = std::max(worst, std::fabs(p[static_cast<size_t>(i)] - pr[static_cast<size_t>(i)]));
  EXPECT_LT(worst, 1e-6f);
}

// gd on three examples: the mean of the hand gradients, then v ← μv + ḡ, p ← p − lr·v.
TEST(Gd, TwoStepsOfATinyNetworkMatchTheClosedForm) {
  const Mlp net = tiny_net();
  const std::vector<float> xf = {1.0f, 2.0f, -0.5f, 0.25f, 2.0f, -1.0f};  // (3, 2)
  const std::vector<int32_t> y = {1, 0, 1};
  const std::vector<int64_t> rows = {0, 1, 2};
  const double lr = 0.05, mu = 0.9;
  const auto mean_hand = [&](const std::vector<double>& p) {
    std::vector<double> g(5, 0.0);
    for (size_t i = 0; i < 3; ++i) {
      const auto gi = hand_gradient(p, xf[2 * i], xf[2 * i + 1], y[i] == 1 ? 1.0 : -1.0);
      for (size_t j = 0; j < 5; ++j) g[j] += gi[j] / 3.0;
    }
    return g;
  };
  // Closed form in double.
  const auto g1 = mean_hand(k_p0);
  std::vector<double> p1(5), p2(5), v(5);
  for (size_t j = 0; j < 5; ++j) {
    v[j] = g1[j];
    p1[j] = k_p0[j] - lr * v[j];
  }
  const auto g2 = mean_hand(p1);
  for (size_t j = 0; j < 5; ++j) p2[j] = p1[j] - lr * (mu * v[j] + g2[j]);

  // The naive twins in double, all rows at once, with sgd_update_ref.
  {
    std::vector<double> p = k_p0, vd(5, 0.0), xd(xf.begin(), xf.end());
    for (int s = 0; s < 2; ++s) {
      const auto f = mlp_forward_ref(net, p.data(), xd.data(), 3);
      std::vector<double> dl(3);
      loss_forward_backward(Loss::mse, dl.data(), f.data(), y.data(), 3, 1, 1.0 / 3.0);
      const auto g = mlp_backward_ref(net, p.data(), xd.data(), dl.data(), 3);
      sgd_update_ref(p.data(), vd.data(), g.data(), 5, lr, mu);
      for (size_t j = 0; j < 5; ++j) EXPECT_NEAR(p[j], s == 0 ? p1[j] : p2[j], 1e-14) << j;
    }
  }
  // The optimized path: gd_step through loss_gradient, in float, chunks of 2 rows.
  std::vector<float> p(k_p0.begin(), k_p0.end()), vf(5, 0.0f);
  GdState st = make_gd_state(net, 2);
  for (int s = 0; s < 2; ++s) {
    gd_step(net, p, vf, Loss::mse, xf.data(), y.data(), nullptr, rows, static_cast<float>(lr),
            static_cast<float>(mu), st);
    for (size_t j = 0; j < 5; ++j) EXPECT_NEAR(p[j], s == 0 ? p1[j] : p2[j], 1e-6) << j;
  }
}

TEST(Optimizers, UpdatesAllocateNothing) {
  const Mlp net = Mlp::make({.input_dim = 13, .width = 17, .depth = 3, .outputs = 4});
  std::vector<float> p(net.num_params), g(net.num_params, 0.01f), v(net.num_params, 0.0f);
  init_params(net, p, InitScheme::xavier_normal, 1.0, 3);
  AdamState st(net.num_params);
  const int64_t n = 300;
  std::vector<float> x(static_cast<size_t>(n * 13));
  Rng r(2);
  for (auto& e : x) e = static_cast<float>(r.normal());
  std::vector<int32_t> y(static_cast<size_t>(n));
  for (auto& e : y) e = static_cast<int32_t>(r.below(4));
  std::vector<int64_t> rows(static_cast<size_t>(n));
  std::iota(rows.begin(), rows.end(), int64_t{0});
  GdState gd = make_gd_state(net);
  gd_step(net, p, v, Loss::ce, x.data(), y.data(), nullptr, rows, 0.1f, 0.9f, gd);
  const long before = g_allocations.load();
  for (int i = 0; i < 3; ++i) {
    adam_update(p, st, g, 1e-3, AdamHyper{});
    sgd_update(p, v, g, 0.1f, 0.9f);
    gd_step(net, p, v, Loss::ce, x.data(), y.data(), nullptr, rows, 0.1f, 0.9f, gd);
  }
  EXPECT_EQ(g_allocations.load() - before, 0) << "an update allocated";
}

TEST(Optimizers, NamesRoundTripAndUnknownNamesAreRefused) {
  for (const auto& name : optimizer_names()) EXPECT_EQ(to_string(parse_optimizer(name)), name);
  try {
    parse_optimizer("rmsprop");
    FAIL() << "rmsprop was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--optimizer rmsprop"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace initscope
