// The spectra against closed forms: a sum of sines on a periodic grid gives its amplitudes and
// phases to 1e-9; a Hann-windowed off-bin sinusoid leaks no more than the window's side lobes
// allow; a 2-D plane wave has one peak at its |ξ|; a line's detrended segment has no energy
// above 0; band energies sum to the total and persistence is 0 for an unchanged spectrum.
// And the measure on a network: the grid it samples is the network's function.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <numbers>
#include <vector>

#include "measure/registry.hpp"
#include "measure/spectrum.hpp"
#include "model/mlp.hpp"
#include "model/network.hpp"

namespace initscope {
namespace {

constexpr double pi = std::numbers::pi;

TEST(Spectrum1d, SumOfSinesOnAPeriodicGridGivesAmplitudesAndPhases) {
  // x_j = −1 + 2j/n on [−1, 1): frequencies k/2 cycles per unit are on bins.
  const int64_t n = 256;
  const double h = 2.0 / n;
  struct Wave {
    double f, a, phi;
  };
  const std::vector<Wave> waves{{1.0, 1.5, 0.3}, {3.5, 0.25, -1.1}, {20.0, 0.01, 2.0}};
  std::vector<double> y(n);
  for (int64_t j = 0; j < n; ++j) {
    const double x = -1.0 + h * j;
    y[j] = 0.7;  // DC
    for (const auto& w : waves) y[j] += w.a * std::sin(2 * pi * w.f * x + w.phi);
  }
  const Spectrum1d s = spectrum_1d(y, h, Window::none);
  EXPECT_NEAR(s.coef[0].real(), 0.7, 1e-12);
  for (const auto& w : waves) {
    const auto k = static_cast<int64_t>(std::llround(w.f * n * h));
    EXPECT_DOUBLE_EQ(s.frequency(k), w.f);
    EXPECT_NEAR(2 * std::abs(s.coef[k]), w.a, 1e-9);
    // sin(2πf x + φ) = Im e^{i(2πf x + φ)}; with x = −1 + jh its bin coefficient is
    // (1/2i)·e^{iφ}·e^{−2πif}: the phase is φ − π/2 − 2πf (mod 2π).
    const std::complex<double> want = std::polar(w.a / 2, w.phi - pi / 2 - 2 * pi * w.f);
    EXPECT_NEAR(std::abs(s.coef[k] - want), 0.0, 1e-9) << w.f;
    EXPECT_NEAR(s.energy(k), w.a * w.a / 2, 1e-9);  // two-sided: a²/4 at ±f
  }
  // Elsewhere nothing.
  double rest = 0;
  for (int64_t k = 1; k <= n / 2; ++k)
    if (k != 2 && k != 7 && k != 40) rest += s.energy(k);
  EXPECT_LT(rest, 1e-20);
  // Band energies: the cut-off 3 puts f = 1 low, 3.5 mid, 20 top; the total is Parseval's.
  const BandEnergies b = band_energies(s, 3.0);
  EXPECT_NEAR(b.low, 0.49 + 1.5 * 1.5 / 2, 1e-9);
  EXPECT_NEAR(b.mid, 0.25 * 0.25 / 2, 1e-12);
  EXPECT_NEAR(b.high, 0.0, 1e-15);
  EXPECT_NEAR(b.top, 0.01 * 0.01 / 2, 1e-12);
  double mean_sq = 0;
  for (double v : y) mean_sq += v * v / n;
  EXPECT_NEAR(b.total, mean_sq, 1e-9);
  EXPECT_NEAR(b.centroid, (1.0 * 1.125 + 3.5 * 0.03125 + 20 * 5e-5) / (1.125 + 0.03125 + 5e-5),
              1e-9);
}

TEST(Spectrum1d, HannLeakageOfAnOffBinSineStaysUnderItsSideLobes) {
  // A sinusoid halfway between bins on a non-periodic grid: with the Hann window, bins more
  // than 3 away from it hold less than the window's side-lobe level (−31.5 dB for the first
  // side lobe, falling 18 dB per octave) relative to the peak; without it, far more.
  const int64_t n = 1024;
  const double h = 2.0 / n, f = 40.25;  // 40.25·n·h = 80.5: half a bin off
  std::vector<double> y(n);
  for (int64_t j = 0; j < n; ++j) y[j] = std::sin(2 * pi * f * (-1.0 + h * j) + 0.4);
  const Spectrum1d hann = spectrum_1d(y, h, Window::hann), none = spectrum_1d(y, h, Window::none);
  double peak = 0;
  for (int64_t k = 0; k <= n / 2; ++k) peak = std::max(peak, std::abs(hann.coef[k]));
  for (int64_t k = 0; k <= n / 2; ++k) {
    const double away = std::fabs(static_cast<double>(k) - 80.5);
    if (away > 3) EXPECT_LT(20 * std::log10(std::abs(hann.coef[k]) / peak), -31.5) << k;
  }
  // The rectangular window's far leakage (bin 300) is tens of dB above Hann's.
  EXPECT_GT(std::abs(none.coef[300]) / std::abs(hann.coef[300]), 100.0);
}

TEST(Spectrum1d, DetrendedLineHasNoEnergyAboveZero) {
  std::vector<double> y(256);
  for (size_t j = 0; j < y.size(); ++j) y[j] = 3.0 - 0.25 * static_cast<double>(j);
  detrend(y);
  const Spectrum1d s = spectrum_1d(y, 0.01, Window::hann);
  for (int64_t k = 0; k <= 128; ++k) EXPECT_LT(s.energy(k), 1e-20) << k;
}

TEST(Spectrum2d, PlaneWaveHasOnePeakAtItsRadius) {
  const int64_t n = 64;
  const double h = 2.0 / n;
  // cos(2π(3x + 4y)): |ξ| = 5 cycles per unit, on bins (6, 8) and its mirror.
  std::vector<double> z(n * n);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < n; ++c)
      z[r * n + c] = 0.8 * std::cos(2 * pi * (3 * (-1 + h * r) + 4 * (-1 + h * c)));
  const Spectrum2d s = spectrum_2d(z, n, h, Window::none);
  const BandEnergies b = band_energies(s, 4.9);
  EXPECT_NEAR(b.total, 0.32, 1e-9);  // mean of (0.8 cos)² = 0.32
  EXPECT_NEAR(b.mid, 0.32, 1e-9);    // all of it at |ξ| = 5 ∈ (4.9, 9.8]
  EXPECT_NEAR(b.centroid, 5.0, 1e-9);
  EXPECT_NEAR(s.radius(6, 8), 5.0, 1e-12);
  EXPECT_NEAR(s.radius(n - 6, 8), 5.0, 1e-12);
  // The same with a Hann window: the energy stays near |ξ| = 5 (the window's main lobe).
  const BandEnergies bh = band_energies(spectrum_2d(z, n, h, Window::hann), 4.0);
  EXPECT_GT(bh.mid / bh.total, 0.99);
  // Radial profile: its peak ring holds |ξ| = 5.
  const auto prof = radial_profile(s, 32);
  const double rmax = std::sqrt(2.0) * 0.5 / h;
  const auto peak = std::max_element(prof.begin(), prof.end()) - prof.begin();
  EXPECT_LE(peak * rmax / 32, 5.0);
  EXPECT_GT((peak + 1) * rmax / 32, 5.0);
}

TEST(Spectrum, BandChangeIsZeroForTheSameSpectrumAndRelativeOtherwise) {
  std::vector<double> a(128), b(128);
  for (int64_t j = 0; j < 128; ++j) {
    a[j] = std::sin(2 * pi * 2 * (-1 + j / 64.0));
    b[j] = 1.1 * a[j];
  }
  const Spectrum1d sa = spectrum_1d(a, 1 / 64.0, Window::none),
                   sb = spectrum_1d(b, 1 / 64.0, Window::none);
  EXPECT_EQ(band_change(sa, sa, -1, 1e9), 0.0);
  EXPECT_NEAR(band_change(sb, sa, -1, 3), 0.1, 1e-9);
}

// The measure samples the network itself: a one-layer linear "network" f(x) = w x + b on
// [−1, 1) has a detrend-free spectrum with a known DC; and persistence is 0 at the init.
TEST(FourierMeasure, SamplesTheNetworksFunctionAndReportsBands) {
  MlpSpec spec;
  spec.input_dim = 1;
  spec.width = 16;
  spec.depth = 2;
  spec.outputs = 1;
  spec.activation = Activation::sine;
  spec.omega0 = 30.0;
  const Mlp net = Mlp::make(spec);
  std::vector<float> p(net.num_params);
  init_params(net, p, InitScheme::siren, 1.0, 7, 0.0);
  MeasureInput in;
  in.when = k_at_end;
  in.net = &net;
  in.params = p;
  in.init = p;
  in.box.dims = 1;
  in.box.cutoff = 3.0;
  MeasureArrays arrays;
  in.arrays = &arrays;
  Metrics m;
  fourier_measure(in, m);
  EXPECT_EQ(m.at("fourier_change_low"), 0.0);
  EXPECT_EQ(m.at("fourier_ratio_above"), 1.0);
  EXPECT_EQ(m.at("fourier_low"), m.at("fourier_low_init"));
  EXPECT_GT(m.at("fourier_hf_fraction"), 0.0);  // ω₀ = 30 puts energy above 3 cycles per unit
  ASSERT_EQ(arrays.at("spectrum_freq").size(), 1025u);
  double total = 0;
  for (double e : arrays.at("spectrum_final")) total += e;
  EXPECT_NEAR(
      total, m.at("fourier_low") + m.at("fourier_mid") + m.at("fourier_high") + m.at("fourier_top"),
      1e-9 * total);
  // Nothing for a classification network.
  in.box.dims = 0;
  Metrics none;
  fourier_measure(in, none);
  EXPECT_TRUE(none.empty());
}

// The per-frequency fit: a network that outputs 0 everywhere is 100% off at every target
// frequency; the reach steps are the first trajectory steps below 0.1.
TEST(FourierMeasure, PerFrequencyFitAndReachSteps) {
  MlpSpec spec;
  spec.input_dim = 1;
  spec.width = 8;
  spec.depth = 2;
  spec.outputs = 1;
  const Mlp net = Mlp::make(spec);
  const std::vector<float> zero(net.num_params, 0.0f);
  MeasureInput in;
  in.when = k_during;
  in.net = &net;
  in.params = zero;
  in.init = zero;
  in.box.dims = 1;
  in.box.cutoff = 3.0;
  in.box.target = [](double x) { return std::sin(2 * pi * x + 0.3) + 0.5 * std::sin(6 * pi * x); };
  in.box.target_freqs = {1.0, 3.0};
  Metrics m;
  fourier_measure(in, m);
  EXPECT_NEAR(m.at("fourier_fit_f1"), 1.0, 1e-12);
  EXPECT_NEAR(m.at("fourier_fit_f2"), 1.0, 1e-12);
  const std::vector<TrajectoryPoint> traj{
      {0, 0, "fourier_fit_f1", 1.0},    {0, 0, "fourier_fit_f2", 1.0},
      {10, 10, "fourier_fit_f1", 0.05}, {10, 10, "fourier_fit_f2", 0.5},
      {20, 20, "fourier_fit_f1", 0.2},  {20, 20, "fourier_fit_f2", 0.08}};
  Metrics reach;
  fourier_reach_steps(traj, reach);
  EXPECT_EQ(reach.at("fourier_reach_f1"), 10.0);
  EXPECT_EQ(reach.at("fourier_reach_f2"), 20.0);
  Metrics never;
  fourier_reach_steps({{0, 0, "fourier_fit_f1", 0.5}}, never);
  EXPECT_TRUE(std::isnan(never.at("fourier_reach_f1")));
}

}  // namespace
}  // namespace initscope
