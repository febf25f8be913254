// The signal1d regression task (dataset.hpp, SignalSpec): a sum of sines on [−1, 1], sampled at
// n training points and on a dense test grid. Targets are computed in double and stored as float.
#include <cmath>
#include <numbers>

#include <fmt/format.h>

#include "common/error.hpp"
#include "common/rng.hpp"
#include "data/dataset.hpp"

namespace initscope {

namespace {

// The phases' stream: fixed, so that a signal is one function whatever the run seed.
constexpr uint64_t k_phase_seed = 0x5167'6e61'6c31'6400ULL;  // "Signal1d"

double signal_value(const std::vector<double>& f, const std::vector<double>& a,
                    const std::vector<double>& phi, double x) {
  double y = 0.0;
  for (size_t k = 0; k < f.size(); ++k)
    y += a[k] * std::sin(2.0 * std::numbers::pi * f[k] * x + phi[k]);
  return y;
}

Dataset signal_points(const std::vector<double>& xs, const std::vector<double>& f,
                      const std::vector<double>& a, const std::vector<double>& phi) {
  Dataset d;
  d.n = static_cast<int64_t>(xs.size());
  d.dim = 1;
  d.target_dim = 1;
  d.x.resize(xs.size());
  d.y.assign(xs.size(), 0);
  d.targets.resize(xs.size());
  for (size_t i = 0; i < xs.size(); ++i) {
    d.x[i] = static_cast<float>(xs[i]);
    d.targets[i] = static_cast<float>(signal_value(f, a, phi, xs[i]));
  }
  return d;
}

std::vector<double> linspace(double lo, double hi, int64_t n) {
  std::vector<double> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    v[static_cast<size_t>(i)] =
        n == 1 ? lo : lo + (hi - lo) * static_cast<double>(i) / static_cast<double>(n - 1);
  return v;
}

}  // namespace

std::vector<double> signal_phases(size_t k) {
  Rng rng(k_phase_seed);
  std::vector<double> phi(k);
  for (auto& p : phi) p = 2.0 * std::numbers::pi * rng.uniform();
  return phi;
}

TrainTest make_signal1d(const SignalSpec& s) {
  IS_CHECK(!s.freqs.empty() && s.n >= 1 && s.test_grid >= 2);
  std::vector<double> amps = s.amps.empty() ? std::vector<double>(s.freqs.size(), 1.0) : s.amps;
  IS_CHECK(amps.size() == s.freqs.size(), "config validation checks the amplitudes' count");
  const std::vector<double> phi = signal_phases(s.freqs.size());
  std::vector<double> xs;
  if (s.grid) {
    xs = linspace(-1.0, 1.0, s.n);
  } else {
    Rng rng(derive_seed(s.seed, "signal-points"));
    xs.resize(static_cast<size_t>(s.n));
    for (auto& x : xs) x = -1.0 + 2.0 * rng.uniform();
  }
  TrainTest tt{signal_points(xs, s.freqs, amps, phi),
               signal_points(linspace(-1.0, 1.0, s.test_grid), s.freqs, amps, phi)};
  if (s.noise > 0.0) {
    Rng rng(derive_seed(s.seed, "target-noise"));
    for (auto& t : tt.train.targets) t = static_cast<float>(t + s.noise * rng.normal());
  }
  return tt;
}

}  // namespace initscope
