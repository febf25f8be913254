// The Fourier measure of a coordinate task's network (spectrum.hpp for the transforms and
// their conventions): f sampled on a dense grid over the box [−1, 1)^d, d = 1 (2048 points) or
// d = 2 (256 × 256), Hann-windowed, transformed, and summarized in bands relative to the task's
// cut-off K (FunctionBox): low [0, K], mid (K, 2K], high (2K, 4K], top (4K, ∞).
// Metrics (fourier_* now; at the end also fourier_*_init, recomputed from the initial weights):
//   fourier_low, fourier_mid, fourier_high, fourier_top: band energies Σ|F(ξ)|²
//   fourier_hf_fraction: energy above K over the energy at ξ > 0
//   fourier_centroid: energy-weighted mean |ξ| over ξ > 0, cycles per unit
//   fourier_change_{low,mid,high,top}: ‖F − F_init‖ / ‖F_init‖ in the band (RM23's persistence:
//     near 0 means the band kept what the initialization put there)
//   fourier_ratio_above: E_{>K}(end) / E_{>K}(init)
//   fourier_fit_f{k} (signal1d): |F(f_k) − F*(f_k)| / |F*(f_k)| at the target's k-th frequency
//     (k = 1, 2, ... in the order of --signal-freqs), F* the target's spectrum on the same grid
//     and window: the per-frequency learning curves when measured every N epochs; and at the
//     end fourier_reach_f{k}, the first step at which it fell below 0.1 (NaN if never), from
//     the trajectory (fourier_reach_steps)
// Arrays at the end: spectrum_freq with spectrum_init and spectrum_final (1-D: energy per bin;
// 2-D: the radial profile in 128 rings).
#include <cmath>
#include <cstring>
#include <map>

#include <fmt/format.h>

#include "common/error.hpp"
#include "measure/registry.hpp"
#include "measure/spectrum.hpp"
#include "model/network.hpp"

namespace initscope {

namespace {

constexpr int64_t k_grid_1d = 2048, k_grid_2d = 256, k_radial_bins = 128;
// Rows per forward pass: the workspace is made once per measurement and zeroed when made, so a
// smaller chunk costs less to set up (perf: at 1024 rows, the memset of a fresh workspace was a
// fifth of a measurement of a width-128 net).
constexpr int64_t k_chunk = 256;

// f on the grid: the points −1 + 2j/n (j < n) in each axis, row-major (first coordinate
// slowest, as image_task orders (row, column)), through the encoding and the network.
std::vector<double> sample_grid(const MeasureInput& in, std::span<const float> params, int64_t n,
                                Workspace& ws) {
  const int64_t d = in.box.dims, points = d == 1 ? n : n * n;
  const Mlp& net = *in.net;
  IS_CHECK(net.spec.outputs == 1, "the spectra are of a one-output function");
  std::vector<float> raw(static_cast<size_t>(k_chunk * d)), enc;
  std::vector<double> out(static_cast<size_t>(points));
  const auto coord = [n](int64_t j) {
    return static_cast<float>(-1.0 + 2.0 * static_cast<double>(j) / static_cast<double>(n));
  };
  for (int64_t start = 0; start < points; start += k_chunk) {
    const int64_t B = std::min(k_chunk, points - start);
    for (int64_t i = 0; i < B; ++i) {
      const int64_t p = start + i;
      if (d == 1) {
        raw[static_cast<size_t>(i)] = coord(p);
      } else {
        raw[static_cast<size_t>(2 * i)] = coord(p / n);
        raw[static_cast<size_t>(2 * i + 1)] = coord(p % n);
      }
    }
    const float* x = raw.data();
    if (in.box.encoding && in.box.encoding->kind != EncodingKind::none) {
      enc.resize(static_cast<size_t>(B * in.box.encoding->output_dim()));
      encode(*in.box.encoding, raw.data(), B, enc.data());
      x = enc.data();
    }
    const float* f = mlp_forward(net, params.data(), x, B, ws);
    for (int64_t i = 0; i < B; ++i) out[static_cast<size_t>(start + i)] = f[i];
  }
  return out;
}

struct Measured {
  Spectrum1d s1;
  Spectrum2d s2;
  BandEnergies bands;
};

Measured measure_spectrum(const MeasureInput& in, std::span<const float> params, Workspace& ws) {
  Measured m;
  if (in.box.dims == 1) {
    m.s1 = spectrum_1d(sample_grid(in, params, k_grid_1d, ws), 2.0 / k_grid_1d, Window::hann);
    m.bands = band_energies(m.s1, in.box.cutoff);
  } else {
    m.s2 = spectrum_2d(sample_grid(in, params, k_grid_2d, ws), k_grid_2d, 2.0 / k_grid_2d,
                       Window::hann);
    m.bands = band_energies(m.s2, in.box.cutoff);
  }
  return m;
}

void put_bands(const BandEnergies& b, double dc, const char* suffix, Metrics& out) {
  out[fmt::format("fourier_low{}", suffix)] = b.low;
  out[fmt::format("fourier_mid{}", suffix)] = b.mid;
  out[fmt::format("fourier_high{}", suffix)] = b.high;
  out[fmt::format("fourier_top{}", suffix)] = b.top;
  out[fmt::format("fourier_hf_fraction{}", suffix)] =
      b.total - dc > 0 ? b.above() / (b.total - dc) : 0.0;
  out[fmt::format("fourier_centroid{}", suffix)] = b.centroid;
}

double dc_energy(const Measured& m, int64_t dims) {
  return dims == 1 ? m.s1.energy(0) : m.s2.energy(0, 0);
}

}  // namespace

void fourier_measure(const MeasureInput& in, Metrics& out) {
  if (in.box.dims != 1 && in.box.dims != 2) return;  // not a coordinate task
  IS_CHECK(in.box.cutoff > 0, "a coordinate task has a cut-off frequency");
  Workspace ws = make_workspace(*in.net, k_chunk, /*backward=*/false, in.box.threads);
  const Measured now = measure_spectrum(in, in.params, ws);
  const Measured init = measure_spectrum(in, in.init, ws);
  const int64_t d = in.box.dims;
  put_bands(now.bands, dc_energy(now, d), "", out);
  const double K = in.box.cutoff;
  const double edges[5] = {-1.0, K, 2 * K, 4 * K, INFINITY};
  const char* names[4] = {"low", "mid", "high", "top"};
  for (int b = 0; b < 4; ++b)
    out[fmt::format("fourier_change_{}", names[b])] =
        d == 1 ? band_change(now.s1, init.s1, edges[b], edges[b + 1])
               : band_change(now.s2, init.s2, edges[b], edges[b + 1]);
  if (d == 1 && in.box.target) {
    std::vector<double> t(static_cast<size_t>(k_grid_1d));
    for (int64_t j = 0; j < k_grid_1d; ++j)
      t[static_cast<size_t>(j)] =
          in.box.target(-1.0 + 2.0 * static_cast<double>(j) / static_cast<double>(k_grid_1d));
    const Spectrum1d target = spectrum_1d(t, 2.0 / k_grid_1d, Window::hann);
    for (size_t k = 0; k < in.box.target_freqs.size(); ++k) {
      // The bin nearest f_k (on-bin for frequencies that are multiples of ½).
      const auto bin = static_cast<size_t>(
          std::llround(std::fabs(in.box.target_freqs[k]) * k_grid_1d * (2.0 / k_grid_1d)));
      if (bin >= target.coef.size()) continue;
      out[fmt::format("fourier_fit_f{}", k + 1)] =
          std::abs(now.s1.coef[bin] - target.coef[bin]) / std::abs(target.coef[bin]);
    }
  }
  if (in.when != k_at_end) return;
  put_bands(init.bands, dc_energy(init, d), "_init", out);
  out["fourier_ratio_above"] =
      init.bands.above() > 0 ? now.bands.above() / init.bands.above() : NAN;
  if (!in.arrays) return;
  auto& a = *in.arrays;
  if (d == 1) {
    std::vector<double> f, e0, e1;
    for (int64_t k = 0; k <= now.s1.n / 2; ++k) {
      f.push_back(now.s1.frequency(k));
      e0.push_back(init.s1.energy(k));
      e1.push_back(now.s1.energy(k));
    }
    a["spectrum_freq"] = std::move(f);
    a["spectrum_init"] = std::move(e0);
    a["spectrum_final"] = std::move(e1);
  } else {
    std::vector<double> f;
    const double rmax = std::sqrt(2.0) * 0.5 / now.s2.spacing;
    for (int64_t b = 0; b < k_radial_bins; ++b)
      f.push_back((static_cast<double>(b) + 0.5) * rmax / static_cast<double>(k_radial_bins));
    a["spectrum_freq"] = std::move(f);
    a["spectrum_init"] = radial_profile(init.s2, k_radial_bins);
    a["spectrum_final"] = radial_profile(now.s2, k_radial_bins);
  }
}

void fourier_reach_steps(const std::vector<TrajectoryPoint>& trajectory, Metrics& out) {
  std::map<std::string, double> first;
  for (const auto& p : trajectory) {
    if (p.name.rfind("fourier_fit_f", 0) != 0) continue;
    const std::string name = "fourier_reach_f" + p.name.substr(13);
    if (!first.count(name)) first[name] = NAN;
    if (std::isnan(first[name]) && p.value < 0.1) first[name] = static_cast<double>(p.step);
  }
  out.insert(first.begin(), first.end());
}

}  // namespace initscope
