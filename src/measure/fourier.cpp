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
// 2-D: the radial profile in 128 rings); in 2-D also spectrum2d_log_init / _final (log10 |F|²
// on the 128 × 128 bins around 0, ±32 cycles per unit) and, for images, image_final (the
// network on the image's pixels) with image_target (the image), for the report's pictures.
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
// The 2-D spectrum's picture: bins |u|, |v| < 64, i.e. ±32 cycles per unit on the 256² grid.
constexpr int64_t k_image_half = 64;
// Rows per forward pass: the workspace is made once per measurement and zeroed when made, so a
// smaller chunk costs less to set up (perf: at 1024 rows, the memset of a fresh workspace was a
// fifth of a measurement of a width-128 net).
constexpr int64_t k_chunk = 256;

// f at `points` raw coordinates, point p's written by place(p, its dims floats), through the
// encoding and the network.
template <class Place>
std::vector<double> sample_points(const MeasureInput& in, std::span<const float> params,
                                  int64_t points, Place place, Workspace& ws) {
  const int64_t d = in.box.dims;
  const Mlp& net = *in.net;
  IS_CHECK(net.spec.outputs == 1, "the spectra are of a one-output function");
  std::vector<float> raw(static_cast<size_t>(k_chunk * d)), enc;
  std::vector<double> out(static_cast<size_t>(points));
  for (int64_t start = 0; start < points; start += k_chunk) {
    const int64_t B = std::min(k_chunk, points - start);
    for (int64_t i = 0; i < B; ++i) place(start + i, raw.data() + i * d);
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

// f on the grid: the points −1 + 2j/n (j < n) in each axis, row-major (first coordinate
// slowest, as image_task orders (row, column)).
std::vector<double> sample_grid(const MeasureInput& in, std::span<const float> params, int64_t n,
                                Workspace& ws) {
  const auto coord = [n](int64_t j) {
    return static_cast<float>(-1.0 + 2.0 * static_cast<double>(j) / static_cast<double>(n));
  };
  if (in.box.dims == 1)
    return sample_points(
        in, params, n, [&](int64_t p, float* x) { x[0] = coord(p); }, ws);
  return sample_points(
      in, params, n * n,
      [&](int64_t p, float* x) {
        x[0] = coord(p / n);
        x[1] = coord(p % n);
      },
      ws);
}

// The 2-D power |F(ξ)|² on the (2h × 2h) bins around ξ = 0, row frequency slowest (from −h),
// as log10 rounded to 3 decimals (a picture, not a measurement: the report draws it).
std::vector<double> centred_log_power(const Spectrum2d& s, int64_t h) {
  const int64_t n = s.n, half = n / 2 + 1;
  std::vector<double> out;
  out.reserve(static_cast<size_t>(4 * h * h));
  for (int64_t u = -h; u < h; ++u)
    for (int64_t v = -h; v < h; ++v) {
      // The one-sided transform holds v ≥ 0; F(u, v) = conj F(−u, −v) gives the rest.
      const int64_t uu = v >= 0 ? u : -u, vv = v >= 0 ? v : -v;
      const double p = std::norm(s.coef[static_cast<size_t>(((uu % n + n) % n) * half + vv)]);
      out.push_back(std::round(1000.0 * std::log10(p + 1e-30)) / 1000.0);
    }
  return out;
}

// Images (image:NAME): the network's output on the image's own pixels (linspace(−1, 1) in each
// axis, as image_task places them) and the image itself, gathered back from the training and
// test rows in image_task's order, both in [−1, 1] rounded to 4 decimals: the report's
// reconstructions.
void add_images(const MeasureInput& in, Workspace& ws, MeasureArrays& a) {
  const int64_t S = in.options.value("image_size", int64_t{0}),
                stride = in.options.value("train_stride", int64_t{1});
  if (S < 2 || !in.train || !in.test || in.train->n + (stride == 1 ? 0 : in.test->n) != S * S)
    return;
  const auto coord = [S](int64_t i) {
    return static_cast<float>(-1.0 + 2.0 * static_cast<double>(i) / static_cast<double>(S - 1));
  };
  std::vector<double> img = sample_points(
      in, in.params, S * S,
      [&](int64_t p, float* xy) {
        xy[0] = coord(p / S);
        xy[1] = coord(p % S);
      },
      ws);
  std::vector<double> target;
  int64_t ti = 0, si = 0;
  for (int64_t r = 0; r < S; ++r)
    for (int64_t c = 0; c < S; ++c) {
      const bool train = r % stride == 0 && c % stride == 0;
      target.push_back(train ? in.train->targets[static_cast<size_t>(ti++)]
                             : in.test->targets[static_cast<size_t>(si++)]);
    }
  for (auto& v : img) v = std::round(1e4 * v) / 1e4;
  for (auto& v : target) v = std::round(1e4 * v) / 1e4;
  a["image_final"] = std::move(img);
  a["image_target"] = std::move(target);
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
    a["spectrum2d_log_init"] = centred_log_power(init.s2, k_image_half);
    a["spectrum2d_log_final"] = centred_log_power(now.s2, k_image_half);
    add_images(in, ws, a);
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
