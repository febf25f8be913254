// Every activation (model/activation.hpp) at a few points against values worked out by hand,
// in its scalar forms and in the SIMD form the fused kernels apply (through forward_kernel with
// one input of weight 1, so out = φ(x) exactly, and φ′ as the kernels store it for sine and
// gaussian), and the SIMD tanh, sin, cos and exp against the C++ library in double over sweeps
// of floats on every instruction set this CPU can run.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "model/activation.hpp"
#include "model/cpu.hpp"
#include "model/kernels.hpp"
#include "model/mlp.hpp"

namespace initscope {
namespace {

struct Point {
  double z, phi, dphi;  // z, φ(z), φ′(z)
};

// The parameter the hand values use: sine's ω = 2, gaussian's s = 0.5 (ignored by the others).
double param(Activation a) {
  switch (a) {
    case Activation::relu:
    case Activation::linear:
    case Activation::tanh:
      return 1.0;
    case Activation::sine:
      return 2.0;
    case Activation::gaussian:
      return 0.5;
  }
  return 1.0;
}

// tanh and 1 − tanh², sin(2z) and 2·cos(2z), exp(−z²/(2·0.25)) and −z/0.25·φ from Python's
// math module. gaussian at z = s is e^{−½} (measures-reference.md §6.4).
const std::vector<Point>& hand_values(Activation a) {
  static const std::vector<Point> relu = {
      {-1.0, 0.0, 0.0}, {0.0, 0.0, 0.0}, {2.5, 2.5, 1.0}, {1e-30, 1e-30, 1.0}};
  static const std::vector<Point> linear = {{-1.0, -1.0, 1.0}, {0.0, 0.0, 1.0}, {2.5, 2.5, 1.0}};
  static const std::vector<Point> tanh = {{0.0, 0.0, 1.0},
                                          {0.5, 0.46211715726000974, 0.7864477329659274},
                                          {1.0, 0.7615941559557649, 0.41997434161402614},
                                          {-2.0, -0.9640275800758169, 0.07065082485316443}};
  static const std::vector<Point> sine = {{0.0, 0.0, 2.0},
                                          {0.25, 0.479425538604203, 1.7551651237807455},
                                          {-0.7, -0.9854497299884601, 0.33993428580048207},
                                          {1.3, 0.5155013718214642, -1.7137775067378946}};
  static const std::vector<Point> gaussian = {{0.0, 1.0, 0.0},
                                              {0.5, 0.6065306597126334, -1.2130613194252668},
                                              {-0.5, 0.6065306597126334, 1.2130613194252668},
                                              {1.0, 0.1353352832366127, -0.5413411329464508}};
  switch (a) {
    case Activation::relu:
      return relu;
    case Activation::linear:
      return linear;
    case Activation::tanh:
      return tanh;
    case Activation::sine:
      return sine;
    case Activation::gaussian:
      return gaussian;
  }
  return linear;
}

TEST(Activation, ScalarFormsMatchHandValues) {
  for (const Activation a : k_activations)
    for (const Point& p : hand_values(a)) {
      const std::string at = to_string(a) + " at " + std::to_string(p.z);
      const double q = param(a);
      EXPECT_NEAR(act_forward(a, p.z, q), p.phi, 1e-15) << at;
      EXPECT_NEAR(act_backward(a, 1.0, p.z, q), p.dphi, 1e-15) << at;
      EXPECT_NEAR(act_backward(a, -3.0, p.z, q), -3.0 * p.dphi, 1e-14) << at;
      EXPECT_NEAR(act_derivative(a, p.z, q), p.dphi, 1e-15) << at;
      // From the output, as the optimized paths compute it where φ′ is a function of it.
      if (derivative_from(a) == DerivativeFrom::output) {
        EXPECT_NEAR(act_backward_from_output(a, 1.0, act_forward(a, p.z, q)), p.dphi, 1e-15) << at;
      } else {
        EXPECT_TRUE(std::isnan(act_backward_from_output(a, 1.0, act_forward(a, p.z, q)))) << at;
      }
      EXPECT_NEAR(
          static_cast<double>(act_forward(a, static_cast<float>(p.z), static_cast<float>(q))),
          p.phi, 1e-7)
          << at;
    }
}

// The two parameterizations of the Gaussian (measures-reference.md §6.2): exp(−(σz)²) with
// scale σ equals exp(−z²/(2a²)) with a = 1/(σ√2).
TEST(Activation, GaussianParameterizationsAgree) {
  for (const double sigma : {10.0, 30.0})
    for (const double z : {-0.1, 0.003, 0.02, 0.05}) {
      const double a = 1.0 / (sigma * std::sqrt(2.0));
      EXPECT_NEAR(act_forward(Activation::gaussian, z, a), std::exp(-(sigma * z) * (sigma * z)),
                  1e-12);
    }
}

TEST(Activation, NamesRoundTripAndUnknownIsRefused) {
  for (const Activation a : k_activations) EXPECT_EQ(parse_activation(to_string(a)), a);
  EXPECT_THROW(parse_activation("sinus"), Error);
  for (const Activation a : {Activation::relu, Activation::linear, Activation::tanh})
    EXPECT_EQ(derivative_from(a), DerivativeFrom::output);
  for (const Activation a : {Activation::sine, Activation::gaussian})
    EXPECT_EQ(derivative_from(a), DerivativeFrom::stored);
}

// out (n) = φ(x (n)) with parameter p through the fused forward kernel of the current
// instruction set: one input of weight 1 and bias 0, so the pre-activation is x exactly (−0
// becomes +0). For an activation whose φ′ is stored, *deriv receives it if given.
std::vector<float> kernel_forward(Activation a, const std::vector<float>& x, float p = 1.0f,
                                  std::vector<float>* deriv = nullptr) {
  const auto B = static_cast<int64_t>(x.size());
  std::vector<const float*> rows(x.size());
  for (size_t i = 0; i < x.size(); ++i) rows[i] = &x[i];
  std::vector<float> in_panel(static_cast<size_t>(panel_floats(B, 1))), out_panel(in_panel.size()),
      out(x.size()), deriv_panel(in_panel.size());
  const float w = 1.0f, b = 0.0f;
  ForwardArgs f;
  f.inp_rows = rows.data();
  f.in_panel = in_panel.data();
  f.w = &w;
  f.b = &b;
  f.out_panel = out_panel.data();
  f.out = out.data();
  f.B = B;
  f.C = 1;
  f.OC = 1;
  f.act = a;
  f.act_param = p;
  if (deriv) {
    deriv->assign(x.size(), 0.0f);
    f.deriv_panel = deriv_panel.data();
    f.deriv = deriv->data();
  }
  forward_kernel(f);
  return out;
}

// Distance in units in the last place between two finite floats of the same sign.
int64_t ulps(float a, float b) {
  const auto ia = static_cast<int64_t>(std::bit_cast<int32_t>(a));
  const auto ib = static_cast<int64_t>(std::bit_cast<int32_t>(b));
  return ia > ib ? ia - ib : ib - ia;
}

class ActivationIsa : public ::testing::TestWithParam<KernelIsa> {
 protected:
  void SetUp() override {
    if (!set_kernel_isa(GetParam())) GTEST_SKIP() << "CPU cannot run " << to_string(GetParam());
  }
  void TearDown() override { set_kernel_isa(best_kernel_isa()); }
};

TEST_P(ActivationIsa, KernelFormsMatchHandValues) {
  for (const Activation a : k_activations) {
    std::vector<float> x;
    for (const Point& p : hand_values(a)) x.push_back(static_cast<float>(p.z));
    const auto q = static_cast<float>(param(a));
    const auto y = kernel_forward(a, x, q);
    std::vector<float> d;
    const auto y2 = kernel_forward(a, x, q, &d);
    const auto& pts = hand_values(a);
    for (size_t i = 0; i < pts.size(); ++i) {
      // sine: sin of t = ω·z rounded to float, within 1 ulp (kernels_impl.hpp, sincos_f); t's
      // own rounding moves sin t by up to |cos t|·ulp(t)/2, 1.2e-7 at z = 1.3.
      const double tol = a == Activation::sine ? 2e-7 : 1e-7;
      EXPECT_NEAR(static_cast<double>(y[i]), pts[i].phi, tol * std::max(1.0, std::fabs(pts[i].phi)))
          << to_string(a) << " at " << pts[i].z;
      EXPECT_EQ(y[i], y2[i]) << "φ with and without φ′, " << to_string(a) << " at " << pts[i].z;
      if (derivative_from(a) == DerivativeFrom::stored) {
        EXPECT_NEAR(static_cast<double>(d[i]), pts[i].dphi,
                    2e-7 * std::max(1.0, std::fabs(pts[i].dphi)))
            << "φ′ of " << to_string(a) << " at " << pts[i].z;
      }
    }
  }
  const float inf = std::numeric_limits<float>::infinity();
  const auto y = kernel_forward(Activation::tanh, {inf, -inf, std::nanf(""), 10.0f, 1e-30f});
  EXPECT_EQ(y[0], 1.0f);
  EXPECT_EQ(y[1], -1.0f);
  EXPECT_TRUE(std::isnan(y[2]));
  EXPECT_EQ(y[3], 1.0f);
  EXPECT_EQ(y[4], 1e-30f);
}

// Every float of magnitude in [2^-40, 12), both signs, at a stride of 997 bit patterns (about
// 2.3 million values): the kernels' tanh against glibc's std::tanh(float) and against tanh in
// double rounded once to float (the correctly rounded value, except within 1e-16 of a midpoint).
// Measured on AVX-512, AVX2 and generic alike over this sweep: 0 ulp from the correctly rounded
// value, and at most 2 ulp from std::tanh(float), which is glibc's own error (its tanhf is
// documented to 2 ulp); DISABLED_TanhExhaustive measures all floats in [0, 10].
void check_tanh(uint32_t first, uint32_t last, uint32_t stride, int64_t& worst_glibc,
                int64_t& worst_rounded) {
  std::vector<float> x;
  for (uint64_t bits = first; bits < last; bits += stride)
    x.push_back(std::bit_cast<float>(static_cast<uint32_t>(bits)));
  const size_t n = x.size();
  for (size_t i = 0; i < n; ++i) x.push_back(-x[i]);
  const auto y = kernel_forward(Activation::tanh, x);
  for (size_t i = 0; i < x.size(); ++i) {
    worst_glibc = std::max(worst_glibc, ulps(y[i], std::tanh(x[i])));
    worst_rounded = std::max(worst_rounded,
                             ulps(y[i], static_cast<float>(std::tanh(static_cast<double>(x[i])))));
  }
}

TEST_P(ActivationIsa, TanhIsCorrectlyRoundedAndWithinGlibcsErrorOfStdTanh) {
  const uint32_t lo = std::bit_cast<uint32_t>(0x1p-40f), hi = std::bit_cast<uint32_t>(12.0f);
  int64_t worst_glibc = 0, worst_rounded = 0;
  check_tanh(lo, hi, 997, worst_glibc, worst_rounded);
  EXPECT_LE(worst_glibc, 2);
  EXPECT_LE(worst_rounded, 1);
  std::printf("tanh %s: max %lld ulp from std::tanh(float), %lld from tanh(double) rounded\n",
              to_string(GetParam()), static_cast<long long>(worst_glibc),
              static_cast<long long>(worst_rounded));
}

// sin, cos (as φ′ = ω·cos with ω = 1) and exp(−u) in the kernels against the C++ library in
// double rounded once to float (the correctly rounded value, but within ~1e-16 of a midpoint),
// over every float magnitude in [2^-30, 2^20) at a stride of 331 bit patterns, both signs, plus
// larger arguments up to 2^40. Also: every instruction set gives the same bits (checked against
// the generic path's), so a run does not depend on the CPU; the sweep crosses sine's float
// bound (8192) inside vectors, so lanes of both paths meet in one vector. Measured on all three
// paths: at most 1 ulp from the correctly rounded value for sin and cos (computed in float up
// to |t| = 8192, in double beyond: 0 ulp there), 0 ulp for the Gaussian's exp and φ′.
struct UlpResult {
  int64_t sin = 0, cos = 0, exp = 0, dexp = 0;
};

UlpResult sweep_sine_gaussian(std::vector<float>* sin_out = nullptr) {
  std::vector<float> x;
  const uint32_t lo = std::bit_cast<uint32_t>(0x1p-30f), hi = std::bit_cast<uint32_t>(0x1p20f);
  for (uint64_t bits = lo; bits < hi; bits += 331)
    x.push_back(std::bit_cast<float>(static_cast<uint32_t>(bits)));
  for (float big = 0x1p20f; big <= 0x1p40f; big *= 1.0009765625f) x.push_back(big);
  const size_t n = x.size();
  for (size_t i = 0; i < n; ++i) x.push_back(-x[i]);
  UlpResult r;
  std::vector<float> c;
  const auto s = kernel_forward(Activation::sine, x, 1.0f, &c);
  for (size_t i = 0; i < x.size(); ++i) {
    const double t = static_cast<double>(x[i]);
    const auto want_s = static_cast<float>(std::sin(t)), want_c = static_cast<float>(std::cos(t));
    // Same sign or both tiny: ulps() compares bit patterns of one sign.
    if (std::signbit(s[i]) == std::signbit(want_s))
      r.sin = std::max(r.sin, ulps(s[i], want_s));
    else
      r.sin = std::max<int64_t>(r.sin, std::fabs(s[i] - want_s) == 0.0f ? 0 : 1000000);
    if (std::signbit(c[i]) == std::signbit(want_c))
      r.cos = std::max(r.cos, ulps(c[i], want_c));
    else
      r.cos = std::max<int64_t>(r.cos, std::fabs(c[i] - want_c) == 0.0f ? 0 : 1000000);
  }
  // gaussian with s = 1/√2: φ = exp(−z²); z over [0, 10.5) (u = z² up to 110) by 2^-14.
  std::vector<float> z, d;
  for (float v = 0.0f; v < 10.5f; v += 0x1p-14f) z.push_back(v);
  const auto g =
      kernel_forward(Activation::gaussian, z, static_cast<float>(1.0 / std::sqrt(2.0)), &d);
  const double sd = static_cast<double>(static_cast<float>(1.0 / std::sqrt(2.0)));
  const double cst = 0.5 / (sd * sd);
  for (size_t i = 0; i < z.size(); ++i) {
    const double zd = static_cast<double>(z[i]);
    const double y = std::exp(-zd * zd * cst);
    r.exp = std::max(r.exp, ulps(g[i], static_cast<float>(y)));
    const auto want_d = static_cast<float>(-2.0 * cst * zd * y);
    if (want_d != 0.0f || d[i] != 0.0f) r.dexp = std::max(r.dexp, ulps(d[i], want_d));
  }
  if (sin_out) {
    *sin_out = s;
    sin_out->insert(sin_out->end(), c.begin(), c.end());
    sin_out->insert(sin_out->end(), g.begin(), g.end());
    sin_out->insert(sin_out->end(), d.begin(), d.end());
  }
  return r;
}

TEST_P(ActivationIsa, SinCosAndExpAreCorrectlyRoundedAndTheSameOnEveryPath) {
  std::vector<float> here, generic;
  const UlpResult r = sweep_sine_gaussian(&here);
  EXPECT_LE(r.sin, 1);
  EXPECT_LE(r.cos, 1);
  EXPECT_LE(r.exp, 1);
  EXPECT_LE(r.dexp, 1);
  std::printf(
      "%s: max ulp from the double-precision library rounded to float: sin %lld, cos "
      "%lld, exp(-z^2) %lld, its derivative %lld\n",
      to_string(GetParam()), static_cast<long long>(r.sin), static_cast<long long>(r.cos),
      static_cast<long long>(r.exp), static_cast<long long>(r.dexp));
  ASSERT_TRUE(set_kernel_isa(KernelIsa::generic));
  sweep_sine_gaussian(&generic);
  ASSERT_EQ(here.size(), generic.size());
  size_t differ = 0;
  for (size_t i = 0; i < here.size(); ++i)
    differ += std::bit_cast<uint32_t>(here[i]) != std::bit_cast<uint32_t>(generic[i]) ? 1 : 0;
  EXPECT_EQ(differ, 0u) << "values that differ from the generic path's";
}

TEST_P(ActivationIsa, SineAndGaussianEdgeCases) {
  const float inf = std::numeric_limits<float>::infinity();
  const auto s = kernel_forward(Activation::sine, {std::nanf(""), 0.0f, -0.0f, 1e-30f}, 30.0f);
  EXPECT_TRUE(std::isnan(s[0]));
  EXPECT_EQ(s[1], 0.0f);
  EXPECT_EQ(s[3], 30.0f * 1e-30f);
  const auto g = kernel_forward(Activation::gaussian, {std::nanf(""), inf, 100.0f, 0.0f}, 1.0f);
  EXPECT_TRUE(std::isnan(g[0]));
  EXPECT_EQ(g[1], 0.0f);
  EXPECT_EQ(g[2], 0.0f);
  EXPECT_EQ(g[3], 1.0f);
}

// All floats in [0, 10] (1.1e9, a few minutes): run with --gtest_also_run_disabled_tests.
TEST_P(ActivationIsa, DISABLED_TanhExhaustive) {
  const uint32_t hi = std::bit_cast<uint32_t>(10.0f), step = 1u << 22;
  int64_t worst_glibc = 0, worst_rounded = 0;
  for (uint64_t b = 0; b <= hi; b += step)
    check_tanh(static_cast<uint32_t>(b),
               static_cast<uint32_t>(std::min<uint64_t>(b + step, hi + 1ull)), 1, worst_glibc,
               worst_rounded);
  std::printf(
      "tanh %s, all floats in [0, 10]: max %lld ulp from std::tanh(float), %lld from "
      "tanh(double) rounded\n",
      to_string(GetParam()), static_cast<long long>(worst_glibc),
      static_cast<long long>(worst_rounded));
}

std::string isa_name(const ::testing::TestParamInfo<KernelIsa>& p) {
  return to_string(p.param);
}

INSTANTIATE_TEST_SUITE_P(Isa, ActivationIsa,
                         ::testing::Values(KernelIsa::generic, KernelIsa::avx2, KernelIsa::avx512),
                         isa_name);

}  // namespace
}  // namespace initscope
