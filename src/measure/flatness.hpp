// Flatness by perturbation (measures-reference.md §3): the PAC-Bayes σ (how much Gaussian
// noise on the weights the training error tolerates), the sharpness α (how large a box of
// adversarial perturbations it tolerates), and Keskar et al.'s ε-sharpness of the loss.
// Semantics, stated once (the reference codes differ on each; see §3.1–3.2 for their quirks):
//  - σ is a standard deviation, never a variance (nitarshan's code draws with std σ²);
//  - the noise is symmetric and perturbs every parameter, biases included;
//  - the statistic is the training error of the rows given, and the target is a deviation
//    d = mean error under perturbation − unperturbed error of 0.1 (Jiang et al.'s setting:
//    runs trained to ≈ 0 error, so this is "error ≤ 0.1");
//  - the search is a bisection that stops when |d − target| ≤ tolerance or the bracket is
//    narrower than rel_width·hi; it returns the last value tried and the bracket [lo, hi]
//    (d(lo) < target < d(hi) as measured);
//  - the Monte-Carlo noise of PAC-Bayes uses common random numbers: sample s is always
//    σ·z_s with z_s from its own seeded stream, so d(σ) is a deterministic function of σ and
//    the same seed gives the same σ bit for bit;
//  - the sharpness box is |Δ_i| ≤ α (plain), α(|w_i| + 1) (Keskar's) or α|w_i| + ε
//    (magnitude-aware); the worst case in it is sought by projected sign-gradient ascent on
//    the loss (the first step goes straight to the corner the gradient points at, exact for a
//    linear model; later steps move by a quarter of the box), from Δ = 0 and from symmetric
//    uniform restarts, and the worst error seen at any step counts.
// The functions take the statistic and the loss as callbacks over flat weights, so that tests
// can hand them closed forms; RowsEvaluator gives them a network's training error and loss.
// Deliberately left out: the bound forms of sharpness (Jiang's constants are unverified, §3.2)
// and Jiang's final sqrt(·/m) adjustment (rankings do not see it).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "common/metrics.hpp"
#include "measure/hessian.hpp"
#include "measure/registry.hpp"
#include "model/network.hpp"
#include "objective/gradient.hpp"

namespace initscope {

/// A statistic of the weights w (num_params), e.g. the training error.
using WeightsStatistic = std::function<double(std::span<const float> w)>;
/// The loss at w, with its gradient written to grad (num_params).
using LossAndGradient = std::function<double(std::span<const float> w, std::span<float> grad)>;

struct BisectionOptions {
  double lo = 0.0, hi = 2.0;  // the initial bracket (the reference codes' [0, 2])
  int max_steps = 15;         // the reference codes' search depth
  double target = 0.1;        // the deviation sought
  double tolerance = 0.01;    // |d − target| that ends the search
  double rel_width = 1e-3;    // a bracket narrower than this × hi also ends it
};

struct BisectionResult {
  double value = 0.0;         // the last value tried
  double lo = 0.0, hi = 0.0;  // the bracket when the search ended
  double deviation = 0.0;     // d at `value`
  double base = 0.0;          // the unperturbed statistic
  int steps = 0;
  bool hit_target = false;  // |d − target| ≤ tolerance (else the bracket width or steps ran out)
};

enum class NoiseKind {
  isotropic,  // u_i ~ N(0, σ²)
  magnitude,  // u_i ~ N(0, σ²w_i² + ε²) (Jiang's variance; std √(σ²w_i² + ε²))
};

struct PacBayesOptions {
  NoiseKind noise = NoiseKind::isotropic;
  double eps = 1e-3;  // magnitude-aware: ε
  int samples = 10;   // Monte-Carlo samples per σ
  uint64_t seed = 0;
  BisectionOptions search;
};

/// The largest σ such that the mean error over `samples` draws of w + u stays within the
/// target deviation from error(w).
BisectionResult pacbayes_sigma(std::span<const float> w, const WeightsStatistic& error,
                               const PacBayesOptions& o);

enum class BoxKind {
  plain,      // |Δ_i| ≤ α
  keskar,     // |Δ_i| ≤ α(|w_i| + 1)
  magnitude,  // |Δ_i| ≤ α|w_i| + ε
};

struct SharpnessOptions {
  BoxKind box = BoxKind::plain;
  double eps = 1e-3;     // magnitude-aware: ε
  int restarts = 2;      // the first from Δ = 0, the others from uniform noise in the box
  int ascent_steps = 5;  // projected sign-gradient steps per restart
  uint64_t seed = 0;
  BisectionOptions search;
};

/// The largest box half-width α whose worst case found (error at w + Δ) stays within the
/// target deviation from error(w). loss_grad drives the ascent.
BisectionResult sharpness_alpha(std::span<const float> w, const WeightsStatistic& error,
                                const LossAndGradient& loss_grad, const SharpnessOptions& o);

struct KeskarResult {
  double sharpness = 0.0;  // 100·(max_{Δ ∈ C_ε} L(w + Δ) − L(w)) / (1 + L(w))
  double loss = 0.0, max_loss = 0.0;
};

/// Keskar et al.'s ε-sharpness with C_ε = {|Δ_i| ≤ ε(|w_i| + 1)}, its maximum sought by the
/// same ascent as sharpness_alpha (restarts, steps and seed from `o`; its box is ignored).
KeskarResult keskar_sharpness(std::span<const float> w, const LossAndGradient& loss_grad,
                              double eps, const SharpnessOptions& o);

// ---- the registered measure (--flatness) --------------------------------------------------

/// What --flatness selects: lambda_max (Lanczos: hessian_lambda_max and hessian_lambda_min),
/// trace (Hutchinson: hessian_trace), sharpness (sharpness_alpha, sharpness_mag_alpha,
/// sharpness_eps), pacbayes (pacbayes_sigma, pacbayes_mag_sigma and Jiang's forms).
/// Lanczos steps at most for lambda_max: the basis holds this many vectors of num_params
/// doubles (H = 1024, d = 5: 20 × 3.96M × 8 B = 634 MB).
constexpr int k_flatness_lanczos_steps = 20;

enum class FlatnessMeasure { lambda_max, trace, sharpness, pacbayes };
const std::vector<std::string>& flatness_measure_names();
/// "lambda_max,trace" → those (empty text: none). Throws Error naming --flatness.
std::vector<FlatnessMeasure> parse_flatness(const std::string& list);
/// Whether it holds the training error fixed (and so needs a classification task).
bool needs_training_error(FlatnessMeasure m);

/// The measures in.flatness names, at in.params over a seeded subset of in.flatness_rows
/// training rows (derive_seed(seed, "flatness")); each with its uncertainty (README, Measures).
void flatness_measure(const MeasureInput& in, Metrics& out);

/// The training error and loss of a network on chosen rows at any weights, for the searches
/// above; owns its workspaces (made once), so that a call allocates nothing.
class RowsEvaluator {
 public:
  RowsEvaluator(const Mlp& net, const LossRows& rows);
  /// Fraction of the rows misclassified at w (example_error); classification only.
  double error(std::span<const float> w);
  /// The mean loss at w and its gradient (loss_gradient).
  double loss_gradient(std::span<const float> w, std::span<float> grad);
  WeightsStatistic error_fn() {
    return [this](std::span<const float> w) { return error(w); };
  }
  LossAndGradient loss_fn() {
    return [this](std::span<const float> w, std::span<float> g) { return loss_gradient(w, g); };
  }

 private:
  const Mlp& net_;
  LossRows rows_;
  Workspace ws_;
  GradientWorkspace gw_;
  std::vector<const float*> row_ptrs_;
};

}  // namespace initscope
