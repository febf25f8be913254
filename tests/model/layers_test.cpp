// Finite-difference gradient checks of each layer and activation in double precision, and the
// optimized float kernels against their naive twins.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <vector>

#include "common/rng.hpp"
#include "model/layers.hpp"

namespace initscope {
namespace {

std::vector<double> randn(size_t n, uint64_t seed, double scale = 1.0) {
  Rng r(seed);
  std::vector<double> v(n);
  for (auto& x : v) x = r.normal() * scale;
  return v;
}

// Checks d(f)/d(v) against central differences, where f is a scalar function of v.
void expect_grad(std::vector<double>& v, const std::vector<double>& analytic,
                 const std::function<double()>& f, double tol = 1e-7) {
  const double eps = 1e-6;
  for (size_t i = 0; i < v.size(); ++i) {
    const double keep = v[i];
    v[i] = keep + eps;
    const double up = f();
    v[i] = keep - eps;
    const double down = f();
    v[i] = keep;
    const double fd = (up - down) / (2 * eps);
    EXPECT_NEAR(analytic[i], fd, tol * std::max(1.0, std::fabs(fd))) << "index " << i;
  }
}

TEST(Linear, GradientMatchesFiniteDifferences) {
  const int64_t B = 3, C = 4, OC = 5;
  auto inp = randn(B * C, 1), w = randn(OC * C, 2), b = randn(OC, 3), r = randn(B * OC, 4);
  std::vector<double> out(B * OC), dinp(B * C), dw(OC * C), db(OC);
  // Scalar objective Σ r ⊙ out makes dout = r.
  const auto f = [&] {
    linear_forward_ref(out.data(), inp.data(), w.data(), b.data(), B, C, OC);
    double s = 0;
    for (size_t i = 0; i < out.size(); ++i) s += r[i] * out[i];
    return s;
  };
  linear_backward_ref(dinp.data(), dw.data(), db.data(), r.data(), inp.data(), w.data(), B, C, OC);
  expect_grad(w, dw, f);
  expect_grad(b, db, f);
  expect_grad(inp, dinp, f);
}

class ActivationGrad : public ::testing::TestWithParam<Activation> {};

TEST_P(ActivationGrad, GradientMatchesFiniteDifferences) {
  const Activation a = GetParam();
  const int64_t n = 50;
  auto pre = randn(n, 5);
  for (auto& x : pre) x += x > 0 ? 0.01 : -0.01;  // keep away from ReLU's kink
  auto r = randn(n, 6);
  std::vector<double> out(n), dpre(n);
  // Parameters as they are used: sine at SIREN's ω = 30 and at ω = 1.7, gaussian at s = 1.7
  // and s = 0.2 (Sophon's), ignored by the others.
  for (const double p : {30.0, 1.7, 0.2}) {
    if (a == Activation::sine && p < 1) continue;
    if (a == Activation::gaussian && p > 10) continue;
    const auto f = [&] {
      activation_forward_ref(a, out.data(), pre.data(), n, p);
      double s = 0;
      for (int64_t i = 0; i < n; ++i) s += r[i] * out[i];
      return s;
    };
    activation_backward_ref(a, dpre.data(), r.data(), pre.data(), n, p);
    // sin(30z)'s third derivative is 27000: central differences at ε = 1e-6 err by ~5e-9.
    expect_grad(pre, dpre, f, p > 10 ? 1e-6 : 1e-7);
  }
}

INSTANTIATE_TEST_SUITE_P(All, ActivationGrad, ::testing::ValuesIn(k_activations));

TEST(Linear, OptimizedMatchesReference) {
  const int64_t B = 7, C = 33, OC = 17;
  std::vector<float> inp(B * C), w(OC * C), b(OC), dout(B * OC);
  Rng r(9);
  for (auto* v : {&inp, &w, &b, &dout})
    for (auto& x : *v) x = static_cast<float>(r.normal());
  for (const Activation a : k_activations) {
    const float p = a == Activation::sine ? 3.0f : 1.5f;  // ω or s; ignored by the others
    std::vector<float> pre(B * OC), out(B * OC), pre_ref(B * OC), out_ref(B * OC);
    linear_act_forward(pre.data(), out.data(), inp.data(), w.data(), b.data(), B, C, OC, a, p);
    linear_forward_ref(pre_ref.data(), inp.data(), w.data(), b.data(), B, C, OC);
    activation_forward_ref(a, out_ref.data(), pre_ref.data(), B * OC, p);
    for (size_t i = 0; i < pre.size(); ++i) {
      EXPECT_NEAR(pre[i], pre_ref[i], 1e-4f);
      EXPECT_NEAR(out[i], out_ref[i], 1e-4f);
    }
    std::vector<float> d = dout, dinp(B * C), dw(OC * C), db(OC), deriv(B * OC);
    for (size_t i = 0; i < deriv.size(); ++i) deriv[i] = act_derivative(a, pre[i], p);
    linear_act_backward(dinp.data(), dw.data(), db.data(), d.data(), out.data(),
                        derivative_from(a) == DerivativeFrom::stored ? deriv.data() : nullptr,
                        inp.data(), w.data(), B, C, OC, a);
    std::vector<float> dpre(B * OC), dinp_ref(B * C), dw_ref(OC * C), db_ref(OC);
    activation_backward_ref(a, dpre.data(), dout.data(), pre_ref.data(), B * OC, p);
    linear_backward_ref(dinp_ref.data(), dw_ref.data(), db_ref.data(), dpre.data(), inp.data(),
                        w.data(), B, C, OC);
    for (size_t i = 0; i < dw.size(); ++i) EXPECT_NEAR(dw[i], dw_ref[i], 1e-4f);
    for (size_t i = 0; i < db.size(); ++i) EXPECT_NEAR(db[i], db_ref[i], 1e-4f);
    for (size_t i = 0; i < dinp.size(); ++i) EXPECT_NEAR(dinp[i], dinp_ref[i], 1e-4f);
  }
}

}  // namespace
}  // namespace initscope
