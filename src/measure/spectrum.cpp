// See spectrum.hpp. FFTW3 does the transforms (r2c, estimated plans: the sizes change per
// call and a plan is cheap next to the network evaluations that produce the samples).
#include "measure/spectrum.hpp"

#include <fftw3.h>

#include <algorithm>
#include <cmath>
#include <numbers>

#include "common/error.hpp"

namespace initscope {

namespace {

std::vector<double> window(int64_t n, Window w) {
  std::vector<double> v(static_cast<size_t>(n), 1.0);
  if (w == Window::hann)
    for (int64_t j = 0; j < n; ++j)
      v[static_cast<size_t>(j)] =
          0.5 -
          0.5 * std::cos(2.0 * std::numbers::pi * static_cast<double>(j) / static_cast<double>(n));
  return v;
}

// Frees FFTW's buffers and plan on every path.
struct FftwR2c {
  double* in = nullptr;
  fftw_complex* out = nullptr;
  fftw_plan plan = nullptr;
  FftwR2c(int rank, const int* dims, int64_t in_size, int64_t out_size) {
    in = fftw_alloc_real(static_cast<size_t>(in_size));
    out = fftw_alloc_complex(static_cast<size_t>(out_size));
    IS_CHECK(in && out, "FFTW could not allocate");
    plan = fftw_plan_dft_r2c(rank, dims, in, out, FFTW_ESTIMATE);
    IS_CHECK(plan != nullptr, "FFTW could not plan");
  }
  ~FftwR2c() {
    if (plan) fftw_destroy_plan(plan);
    fftw_free(in);
    fftw_free(out);
  }
  FftwR2c(const FftwR2c&) = delete;
  FftwR2c& operator=(const FftwR2c&) = delete;
};

// Whether |ξ| = r lies in (lo, hi].
bool in_band(double r, double lo, double hi) {
  return r > lo && r <= hi;
}

void add_to_bands(BandEnergies& b, double r, double e, double cutoff) {
  b.total += e;
  if (r <= cutoff)
    b.low += e;
  else if (r <= 2 * cutoff)
    b.mid += e;
  else if (r <= 4 * cutoff)
    b.high += e;
  else
    b.top += e;
  if (r > 0) b.centroid += r * e;
}

void finish_centroid(BandEnergies& b, double dc) {
  const double ac = b.total - dc;
  b.centroid = ac > 0 ? b.centroid / ac : 0.0;
}

}  // namespace

double Spectrum1d::energy(int64_t k) const {
  const double p = std::norm(coef[static_cast<size_t>(k)]);
  return (k == 0 || 2 * k == n) ? p : 2.0 * p;
}

Spectrum1d spectrum_1d(std::span<const double> samples, double spacing, Window w) {
  const auto n = static_cast<int64_t>(samples.size());
  IS_CHECK(n >= 2 && spacing > 0);
  const std::vector<double> win = window(n, w);
  double wsum = 0.0;
  for (const double x : win) wsum += x;
  const int dims[1] = {static_cast<int>(n)};
  FftwR2c fft(1, dims, n, n / 2 + 1);
  for (int64_t j = 0; j < n; ++j)
    fft.in[j] = samples[static_cast<size_t>(j)] * win[static_cast<size_t>(j)];
  fftw_execute(fft.plan);
  Spectrum1d s;
  s.n = n;
  s.spacing = spacing;
  s.coef.resize(static_cast<size_t>(n / 2 + 1));
  for (int64_t k = 0; k <= n / 2; ++k)
    s.coef[static_cast<size_t>(k)] = std::complex<double>(fft.out[k][0], fft.out[k][1]) / wsum;
  return s;
}

double Spectrum2d::radius(int64_t r, int64_t c) const {
  const int64_t fr = r <= n / 2 ? r : r - n;  // signed row frequency index
  const double u = static_cast<double>(fr) / (n * spacing),
               v = static_cast<double>(c) / (n * spacing);
  return std::sqrt(u * u + v * v);
}

double Spectrum2d::energy(int64_t r, int64_t c) const {
  const double p = std::norm(coef[static_cast<size_t>(r * (n / 2 + 1) + c)]);
  return (c == 0 || 2 * c == n) ? p : 2.0 * p;
}

Spectrum2d spectrum_2d(std::span<const double> samples, int64_t n, double spacing, Window w) {
  IS_CHECK(n >= 2 && static_cast<int64_t>(samples.size()) == n * n && spacing > 0);
  const std::vector<double> win = window(n, w);
  double wsum = 0.0;
  for (const double x : win) wsum += x;
  const int dims[2] = {static_cast<int>(n), static_cast<int>(n)};
  const int64_t half = n / 2 + 1;
  FftwR2c fft(2, dims, n * n, n * half);
  for (int64_t r = 0; r < n; ++r)
    for (int64_t c = 0; c < n; ++c)
      fft.in[r * n + c] = samples[static_cast<size_t>(r * n + c)] * win[static_cast<size_t>(r)] *
                          win[static_cast<size_t>(c)];
  fftw_execute(fft.plan);
  Spectrum2d s;
  s.n = n;
  s.spacing = spacing;
  s.coef.resize(static_cast<size_t>(n * half));
  const double norm = wsum * wsum;
  for (int64_t i = 0; i < n * half; ++i)
    s.coef[static_cast<size_t>(i)] = std::complex<double>(fft.out[i][0], fft.out[i][1]) / norm;
  return s;
}

void detrend(std::span<double> v) {
  const auto n = static_cast<double>(v.size());
  if (v.size() < 2) return;
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (size_t j = 0; j < v.size(); ++j) {
    const double x = static_cast<double>(j);
    sx += x;
    sy += v[j];
    sxx += x * x;
    sxy += x * v[j];
  }
  const double b = (n * sxy - sx * sy) / (n * sxx - sx * sx), a = (sy - b * sx) / n;
  for (size_t j = 0; j < v.size(); ++j) v[j] -= a + b * static_cast<double>(j);
}

BandEnergies band_energies(const Spectrum1d& s, double cutoff) {
  BandEnergies b;
  for (int64_t k = 0; k <= s.n / 2; ++k) add_to_bands(b, s.frequency(k), s.energy(k), cutoff);
  finish_centroid(b, s.energy(0));
  return b;
}

BandEnergies band_energies(const Spectrum2d& s, double cutoff) {
  BandEnergies b;
  const int64_t half = s.n / 2 + 1;
  for (int64_t r = 0; r < s.n; ++r)
    for (int64_t c = 0; c < half; ++c) add_to_bands(b, s.radius(r, c), s.energy(r, c), cutoff);
  finish_centroid(b, s.energy(0, 0));
  return b;
}

double band_change(const Spectrum1d& a, const Spectrum1d& b, double lo, double hi) {
  IS_CHECK(a.n == b.n && a.spacing == b.spacing);
  double num = 0, den = 0;
  for (int64_t k = 0; k <= a.n / 2; ++k) {
    if (!in_band(a.frequency(k), lo, hi)) continue;
    const double m = (k == 0 || 2 * k == a.n) ? 1.0 : 2.0;
    num += m * std::norm(a.coef[static_cast<size_t>(k)] - b.coef[static_cast<size_t>(k)]);
    den += m * std::norm(b.coef[static_cast<size_t>(k)]);
  }
  return den > 0 ? std::sqrt(num / den) : (num > 0 ? INFINITY : 0.0);
}

double band_change(const Spectrum2d& a, const Spectrum2d& b, double lo, double hi) {
  IS_CHECK(a.n == b.n && a.spacing == b.spacing);
  const int64_t half = a.n / 2 + 1;
  double num = 0, den = 0;
  for (int64_t r = 0; r < a.n; ++r)
    for (int64_t c = 0; c < half; ++c) {
      if (!in_band(a.radius(r, c), lo, hi)) continue;
      const auto i = static_cast<size_t>(r * half + c);
      const double m = (c == 0 || 2 * c == a.n) ? 1.0 : 2.0;
      num += m * std::norm(a.coef[i] - b.coef[i]);
      den += m * std::norm(b.coef[i]);
    }
  return den > 0 ? std::sqrt(num / den) : (num > 0 ? INFINITY : 0.0);
}

std::vector<double> radial_profile(const Spectrum2d& s, int64_t bins) {
  IS_CHECK(bins >= 1);
  const double rmax = std::sqrt(2.0) * 0.5 / s.spacing;  // the corner of the frequency square
  std::vector<double> sum(static_cast<size_t>(bins), 0.0), count(static_cast<size_t>(bins), 0.0);
  const int64_t half = s.n / 2 + 1;
  for (int64_t r = 0; r < s.n; ++r)
    for (int64_t c = 0; c < half; ++c) {
      const auto b = std::min<int64_t>(
          bins - 1, static_cast<int64_t>(s.radius(r, c) / rmax * static_cast<double>(bins)));
      const double m = (c == 0 || 2 * c == s.n) ? 1.0 : 2.0;
      sum[static_cast<size_t>(b)] += s.energy(r, c);
      count[static_cast<size_t>(b)] += m;
    }
  for (size_t b = 0; b < sum.size(); ++b) sum[b] = count[b] > 0 ? sum[b] / count[b] : 0.0;
  return sum;
}

}  // namespace initscope
