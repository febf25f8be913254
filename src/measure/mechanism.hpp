// RM23 E4, the mechanism behind the weak spectral bias law (rm23-operational.md §2.2 and §3.5,
// our reconstruction): for a 1-D network f(x; θ) with one output, on the dense grid of the
// Fourier measure (x_j = −1 + 2j/N, periodic Hann window w, coefficients normalized by Σw as
// spectrum.hpp does), at the current weights:
//   G(ξ, θ) = Σ_j c_j ∂_θ f(x_j; θ) e^{−2πi k j/N},  c_j = w_j / Σw,  ξ = k/2 cycles per unit,
// the Fourier transform of the parameter-gradient field, so that ∂_θ F(ξ) = G(ξ);
//   rate(ξ) = ∂_t F(ξ) = −⟨G(ξ), ∇L⟩ under gradient flow on L = (1/n) Σ_i ℓ(f(x_i), t_i);
//   bound(ξ) = (1/n) Σ_i |ℓ′_i| ‖∂_θ f(x_i)‖ · ‖G(ξ)‖ (Cauchy–Schwarz twice), the note's bound;
//   step(ξ) = |F(ξ, θ − η∇L) − F(ξ, θ)| / η, the change of one plain gradient step of size η,
//   what a finite-difference check of the rate measures.
// How, exactly and without storing the p × N Jacobian: the per-point gradient is
// ∂f/∂W_l = δ_l(x) ⊗ a_l(x), ∂f/∂b_l = δ_l(x) (δ_l the back-propagated ∂f/∂(pre-activation),
// a_l the layer's input), so G's entries for row o of layer l are the windowed FFTs of the
// sequences δ_l,o(x_j) a_l,q(x_j) over the grid, and ‖G(ξ)‖² is a sum of their squared
// magnitudes (no cancellation: it resolves ‖G‖ down to about 1e-14 of its largest value, where
// the kernel's quadratic form Σ c_j c_j′ K(x_j, x_j′) e^{…} lost everything below ~1e-6). The
// rate is the windowed transform of u(x_j) = −∂_θ f(x_j)·∇L, a Jacobian-vector product through
// the same factors. All in double. Cost: one FFT of the grid per weight and bias (≈ p FFTs of
// N points); memory N × width per layer.
// Deliberately left out: networks with more than one input or output, and Adam's preconditioned
// flow (the bound is gradient flow's; step uses a plain gradient step whatever the optimizer).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/metrics.hpp"
#include "model/encoding.hpp"
#include "model/mlp.hpp"

namespace initscope {

struct MechanismSpectra {
  std::vector<double> freq;    // (N/2 + 1) ξ_k = k/2, cycles per unit
  std::vector<double> g_norm;  // ‖G(ξ_k)‖
  std::vector<double> rate;    // |∂_t F(ξ_k)|
  std::vector<double> bound;   // the Cauchy–Schwarz bound on it
  std::vector<double> step;    // |ΔF(ξ_k)| / η of one gradient step
  double loss = 0.0;           // L at θ
};

/// The mechanism's spectra at params (num_params) of a one-output net on 1-D coordinates.
/// train_inputs (n, input_dim): the training rows as the network sees them (encoded), targets
/// (n); the loss is the regression MSE, ℓ = (f − t)². `encoding` maps the grid's coordinates to
/// the network's inputs (nullptr or kind none: input_dim must be 1). `lr` the step size η;
/// grid N even ≥ 8.
MechanismSpectra mechanism_spectra(const Mlp& net, std::span<const float> params,
                                   const Encoding* encoding, std::span<const float> train_inputs,
                                   std::span<const float> targets, double lr, int64_t grid = 2048);

/// Least-squares slope of log ‖G‖ against log ξ over the bins with lo ≤ ξ ≤ hi and ‖G‖ above
/// the floor 1e-12·max ‖G‖ (below it, double rounding, not the function; NaN for fewer than 3
/// bins): the decay exponent the note's rule reads (≤ −1 for smooth nets).
double log_log_slope(const std::vector<double>& freq, const std::vector<double>& g, double lo,
                     double hi);

/// The smallest ξ₀ beyond which g is non-increasing, over the bins up to hi or up to the first
/// bin below the floor 1e-12·max g, whichever comes first: NaN if even the last two increase.
double monotone_from(const std::vector<double>& freq, const std::vector<double>& g, double hi);

struct MeasureInput;
/// The registered measure (--mechanism, signal1d): mech_* metrics during training and at the end.
void mechanism_measure(const MeasureInput& in, Metrics& out);

}  // namespace initscope
