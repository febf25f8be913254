// RM23's line spectra and mechanism measures against closed forms and naive twins:
//  - along a line, a sinusoid of the input gives one peak at its frequency in cycles per unit
//    of input-space distance (line_spectrum.cpp);
//  - ‖G(ξ, θ)‖, the per-frequency rate and the one-step change (mechanism.cpp), computed
//    through the tangent kernel and FFTs, equal the direct sums over the per-point gradients of
//    the double-precision reference backward pass; the rate never exceeds its Cauchy–Schwarz
//    bound, and one small gradient step changes F(ξ) at the rate.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <numbers>
#include <vector>

#include "measure/mechanism.hpp"
#include "measure/registry.hpp"
#include "measure/spectrum.hpp"
#include "model/mlp.hpp"
#include "model/network.hpp"

namespace initscope {
namespace {

constexpr double pi = std::numbers::pi;

// f(x) = sin(ω·c·x₀) on inputs of 4 dimensions (sine activation, one hidden unit): along the
// segment from (0,0,0,0) to (3,0,0,0) it is a sinusoid of ω·c/(2π) cycles per unit distance.
TEST(LineSpectrum, ASinusoidAlongTheLinePeaksAtItsFrequencyPerUnitDistance) {
  MlpSpec spec;
  spec.input_dim = 4;
  spec.width = 1;
  spec.depth = 2;
  spec.outputs = 1;
  spec.activation = Activation::sine;
  spec.omega0 = 1.0;
  const Mlp net = Mlp::make(spec);
  std::vector<float> p(net.num_params, 0.0f);
  const double freq = 10.0 / 3.0;  // on bin 10 of a segment of length 3
  p[net.layers[0].w_offset] = static_cast<float>(2 * pi * freq);
  p[net.layers[1].w_offset] = 1.0f;
  Dataset test;
  test.n = 2;
  test.dim = 4;
  test.num_classes = 2;
  test.x = {0, 0, 0, 0, 3, 0, 0, 0};
  test.y = {1, 0};
  MeasureInput in;
  in.when = k_at_end;
  in.net = &net;
  in.params = p;
  in.init = p;
  in.test = &test;
  in.options = {{"line_segments", 6}, {"line_points", 256}, {"line_cutoff", 2.0}, {"seed", 3}};
  MeasureArrays arrays;
  in.arrays = &arrays;
  Metrics m;
  line_spectrum_measure(in, m);
  EXPECT_NEAR(m.at("fourier_line_length"), 3.0, 1e-6);
  // The Hann main lobe is symmetric about bin 10; detrending a whole number of cycles moves
  // the centroid by less than 1%.
  EXPECT_NEAR(m.at("fourier_centroid"), freq, 0.01 * freq);
  EXPECT_GT(m.at("fourier_hf_fraction"), 0.99);
  EXPECT_EQ(m.at("fourier_centroid"), m.at("fourier_centroid_init"));
  const auto& f = arrays.at("line_freq");
  const auto& e = arrays.at("line_final");
  ASSERT_EQ(f.size(), 129u);
  EXPECT_NEAR(f[1], 1.0 / 3.0, 1e-6);
  EXPECT_EQ(std::max_element(e.begin(), e.end()) - e.begin(), 10);
  // A cut-off above the peak leaves almost nothing above it.
  in.options["line_cutoff"] = 5.0;
  Metrics high;
  line_spectrum_measure(in, high);
  EXPECT_LT(high.at("fourier_hf_fraction"), 0.01);
  // Off by default and for regression data.
  in.options.erase("line_segments");
  Metrics none;
  line_spectrum_measure(in, none);
  EXPECT_TRUE(none.empty());
}

struct Tiny {
  Mlp net;
  std::vector<float> params;
  std::vector<float> xt, t;  // training inputs and targets
};

Tiny tiny_net(Activation act) {
  MlpSpec spec;
  spec.input_dim = 1;
  spec.width = 6;
  spec.depth = 3;
  spec.outputs = 1;
  spec.activation = act;
  spec.omega0 = spec.omega0_hidden = 3.0;
  Tiny n{Mlp::make(spec), {}, {-0.8f, -0.3f, 0.1f, 0.45f, 0.9f}, {0.5f, -0.2f, 0.3f, 0.9f, -0.7f}};
  n.params.resize(n.net.num_params);
  init_params(n.net, n.params, InitScheme::xavier_normal, 2.0, 11);
  for (const auto& l : n.net.layers)  // nonzero biases, so that their gradients count
    for (int64_t o = 0; o < l.out; ++o)
      n.params[l.b_offset + static_cast<size_t>(o)] = 0.1f * static_cast<float>(o + 1);
  return n;
}

TEST(Mechanism, TangentKernelRouteEqualsDirectSumsOverPerPointGradients) {
  for (const Activation act : {Activation::tanh, Activation::sine, Activation::relu}) {
    const Tiny n = tiny_net(act);
    const int64_t N = 64, H = N / 2 + 1;
    const double lr = 1e-7;
    const MechanismSpectra s = mechanism_spectra(n.net, n.params, nullptr, n.xt, n.t, lr, N);
    const std::vector<double> th(n.params.begin(), n.params.end());
    // Per-point gradients ∂f/∂θ at the grid's points, by the reference backward pass.
    std::vector<double> c(N);
    double wsum = 0;
    for (int64_t j = 0; j < N; ++j) wsum += c[j] = 0.5 - 0.5 * std::cos(2 * pi * j / N);
    const double one = 1.0;
    std::vector<std::vector<std::complex<double>>> G(H,
                                                     std::vector<std::complex<double>>(th.size()));
    for (int64_t j = 0; j < N; ++j) {
      const double x = static_cast<double>(static_cast<float>(-1.0 + 2.0 * j / N));
      const auto g = mlp_backward_ref(n.net, th.data(), &x, &one, 1);
      for (int64_t k = 0; k < H; ++k)
        for (size_t q = 0; q < th.size(); ++q)
          G[k][q] += c[j] / wsum * g[q] * std::polar(1.0, -2 * pi * k * j / N);
    }
    // ∇L of L = (1/n) Σ (f − t)².
    const int64_t m = static_cast<int64_t>(n.t.size());
    std::vector<double> xt(n.xt.begin(), n.xt.end());
    const auto f = mlp_forward_ref(n.net, th.data(), xt.data(), m);
    std::vector<double> dl(m);
    for (int64_t i = 0; i < m; ++i) dl[i] = 2.0 * (f[i] - n.t[i]) / m;
    const auto grad = mlp_backward_ref(n.net, th.data(), xt.data(), dl.data(), m);
    double gmax = 0, rmax = 0;
    for (int64_t k = 0; k < H; ++k) gmax = std::max(gmax, s.g_norm[k]);
    for (int64_t k = 0; k < H; ++k) rmax = std::max(rmax, s.rate[k]);
    for (int64_t k = 0; k < H; ++k) {
      double g2 = 0;
      std::complex<double> rate = 0;
      for (size_t q = 0; q < th.size(); ++q) {
        g2 += std::norm(G[k][q]);
        rate -= G[k][q] * grad[q];
      }
      EXPECT_NEAR(s.g_norm[k], std::sqrt(g2), 1e-9 * gmax) << to_string(act) << " k " << k;
      EXPECT_NEAR(s.rate[k], std::abs(rate), 1e-9 * rmax) << to_string(act) << " k " << k;
      EXPECT_LE(s.rate[k], s.bound[k] * (1 + 1e-9) + 1e-300) << to_string(act) << " k " << k;
      // One step of 1e-7 changes F(ξ) at the rate, up to O(η) and float weights' rounding.
      EXPECT_NEAR(s.step[k], s.rate[k], 1e-4 * rmax) << to_string(act) << " k " << k;
    }
    EXPECT_NEAR(s.freq[3], 1.5, 1e-15);
  }
}

TEST(Mechanism, SlopeAndMonotoneOnKnownCurves) {
  std::vector<double> f, g;
  for (int k = 0; k <= 100; ++k) {
    f.push_back(k / 2.0);
    g.push_back(k == 0 ? 5.0 : std::pow(k / 2.0, -2.0) * (k == 10 ? 3.0 : 1.0));
  }
  EXPECT_NEAR(log_log_slope(f, g, 6.0, 50.0), -2.0, 1e-12);
  EXPECT_EQ(monotone_from(f, g, 50.0), 5.0);  // the bump at k = 10 (ξ = 5) is the last rise
  g[100] = 1.0;                               // a rise at the very end: never monotone
  EXPECT_TRUE(std::isnan(monotone_from(f, g, 50.0)));
}

}  // namespace
}  // namespace initscope
