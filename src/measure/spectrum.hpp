// Fourier spectra of a network's function (RM23, part 2; measures-reference.md §5): on a dense
// grid over the data box for 1-D and 2-D inputs, and along line segments in input space for
// high-dimensional inputs. Frequencies are in cycles per unit of input coordinate (a sine
// sin(2π f x) has frequency f), energies are sums of |F(ξ)|² over the full (two-sided)
// spectrum, and every estimate says how it was windowed.
// Choices, and why (the reference codes' pitfalls, measures-reference.md §5):
//  - A Hann window (periodic, w_j = ½ − ½cos(2πj/N)) on grids and segments, because the
//    network's function is not periodic on the box: without it, the jump at the box's edge
//    leaks energy into every high frequency and fakes a high-frequency content. Coefficients
//    are normalized by Σw, so an on-bin sinusoid of amplitude a gives |F| = a/2 at ±f either
//    way. `Window::none` is there for periodic signals and tests.
//  - Segments are detrended (the least-squares line removed) before the window: an affine
//    function has no energy above frequency 0 then, as a function that is locally linear
//    should not.
//  - Complex coefficients are kept, not magnitudes only, so that persistence compares
//    F_T − F_0 (a phase change is a change).
// Deliberately left out: non-uniform (NUDFT) spectra of scattered training points.
#pragma once

#include <complex>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/metrics.hpp"

namespace initscope {

enum class Window { none, hann };

/// One-sided spectrum of n real samples at spacing h: coef[k] for k = 0..n/2 at frequency
/// k/(n·h), normalized by Σw (so |coef[k]| is half a sinusoid's amplitude for 0 < k < n/2).
struct Spectrum1d {
  int64_t n = 0;
  double spacing = 0.0;
  std::vector<std::complex<double>> coef;
  double frequency(int64_t k) const { return static_cast<double>(k) / (n * spacing); }
  /// |coef[k]|² counted twice for 0 < k < n/2 (the negative frequency), once at 0 and n/2:
  /// the energy at |ξ| = frequency(k).
  double energy(int64_t k) const;
};
Spectrum1d spectrum_1d(std::span<const double> samples, double spacing, Window w);

/// Spectrum of an n × n grid of real samples (row-major) at spacing h in both axes: the
/// one-sided 2-D transform coef (n, n/2 + 1), normalized by Σw (the separable window's sum).
struct Spectrum2d {
  int64_t n = 0;
  double spacing = 0.0;
  std::vector<std::complex<double>> coef;  // (n, n/2 + 1) row-major
  /// |ξ| of bin (r, c): sqrt(fr² + fc²) with fr the signed row frequency.
  double radius(int64_t r, int64_t c) const;
  /// Energy of bin (r, c), counting the mirrored half that the one-sided transform omits.
  double energy(int64_t r, int64_t c) const;
};
Spectrum2d spectrum_2d(std::span<const double> samples, int64_t n, double spacing, Window w);

/// Removes the least-squares line a + b·j from v in place (j = 0..n−1).
void detrend(std::span<double> v);

/// Energy by band of |ξ| relative to a cut-off K: low [0, K], mid (K, 2K], high (2K, 4K],
/// top (4K, ∞); `above` is everything above K. DC (ξ = 0) counts in low and in total, not in
/// the centroid, which is the energy-weighted mean |ξ| over ξ > 0.
struct BandEnergies {
  double low = 0, mid = 0, high = 0, top = 0, total = 0, centroid = 0;
  double above() const { return mid + high + top; }
};
BandEnergies band_energies(const Spectrum1d& s, double cutoff);
BandEnergies band_energies(const Spectrum2d& s, double cutoff);

/// ‖A − B‖ / ‖B‖ over the bins of |ξ| in (lo, hi] (lo < 0 includes DC): how much of B's
/// spectrum in that band changed; 0 if B has no energy there and A equals B.
double band_change(const Spectrum1d& a, const Spectrum1d& b, double lo, double hi);
double band_change(const Spectrum2d& a, const Spectrum2d& b, double lo, double hi);

/// Radially averaged energy of a 2-D spectrum in `bins` rings of width max|ξ|/bins, for
/// plotting and for tools/ to check against.
std::vector<double> radial_profile(const Spectrum2d& s, int64_t bins);

struct MeasureInput;
/// The registered Fourier measure (fourier.cpp): nothing unless in.box.dims is 1 or 2.
void fourier_measure(const MeasureInput& in, Metrics& out);
/// The registered line-spectrum measure (line_spectrum.cpp): nothing unless the run asks for it
/// with --line-segments N > 0 on a classification task.
void line_spectrum_measure(const MeasureInput& in, Metrics& out);
/// fourier_reach_f{k}: the first step of the trajectory at which fourier_fit_f{k} < 0.1.
void fourier_reach_steps(const std::vector<TrajectoryPoint>& trajectory, Metrics& out);

}  // namespace initscope
