// An estimate of the empirical Rademacher complexity of Nagarajan & Kolter's Theorem 5.1: the
// networks with linear activations within distance r of the initialization θ₀ = (Z, C),
//   R̂ = E_ξ sup_{‖θ − θ₀‖ ≤ r} (1/m) Σ_i ξ_i f_θ(x_i),   ξ uniform on {−1, +1}^m.
//
// For a linear network Σ_i ξ_i f_θ(x_i) = f̃_θ(v, s): the network applied to the single input
// v = Σ_i ξ_i x_i with every bias multiplied by s = Σ_i ξ_i. So each objective and gradient
// costs one matrix-vector pass through the network, whatever m.
//
// The supremum is found by projected gradient ascent on the sphere ‖θ − θ₀‖ = r (the objective
// is linear in each layer's parameters, so a maximum over the ball lies on it): from each start,
// θ ← θ₀ + r·u/‖u‖ with u = (θ − θ₀) + α·r·∇g/‖∇g‖, α doubled after a step that improves g and
// quartered (the step undone) after one that does not, until the gain falls below 1e-8 relative
// or `steps` run out. The starts are θ₀ itself (its
// first step goes along the gradient) and `starts − 1` random points of the sphere; the best
// value counts. **This is a lower bound on the supremum** (a local maximum, never more than the
// true one), so R̂ here is a lower bound on the Rademacher complexity, up to the Monte Carlo
// error over ξ, stated as a standard error over the draws.
// For one layer (f = w·x + b) the objective is linear and the supremum is exact:
// g(θ₀) + r·‖(v, s)‖/m, which the tests check.
// Deliberately left out: nonlinear activations (the reduction to one input needs linearity) and
// networks with several outputs.
#pragma once

#include <cstdint>
#include <span>

#include "common/metrics.hpp"
#include "model/mlp.hpp"

namespace initscope {

struct RademacherOptions {
  double radius = 1.0;  // r
  int draws = 20;       // ξ draws
  int starts = 2;       // starts of the ascent per draw (θ₀ and starts − 1 random)
  int steps = 200;      // ascent steps per start, at most
  uint64_t seed = 1;    // ξ and the random starts
};

struct RademacherEstimate {
  double mean = 0.0;        // (1/draws) Σ over draws of the best sup found
  double se = 0.0;          // its standard error, sd/√draws (sample sd, n − 1)
  double centre = 0.0;      // mean over draws of g(θ₀), the centre's term
  double start_gap = 0.0;   // mean over draws of (best − worst start) / |best|: how much the
                            // starts disagree (0: all found the same maximum)
  double x_norm_max = 0.0;  // max_i ‖x_i‖
  double steps = 0.0;       // mean ascent steps per start
  int draws = 0;
};

/// The sup over the sphere for one ξ (as v = Σ ξ_i x_i and s = Σ ξ_i) by projected gradient
/// ascent from `starts` starts; `rng_seed` draws the random starts. Returns the best (1/m)·f̃.
/// `worst` (the lowest start's value), `centre` (g(θ₀)) and `steps` (ascent steps over all
/// starts) are optional outputs.
double rademacher_sup(const Mlp& net, std::span<const float> init, std::span<const double> v,
                      double s, int64_t m, const RademacherOptions& opt, uint64_t rng_seed,
                      double* worst = nullptr, double* centre = nullptr, int* steps = nullptr);

/// The estimate over opt.draws draws of ξ for the n rows of x (n, input). The network must have
/// linear activations and one output.
RademacherEstimate estimate_rademacher(const Mlp& net, std::span<const float> init,
                                       std::span<const float> x, int64_t n,
                                       const RademacherOptions& opt);

/// rademacher, rademacher_se, rademacher_centre, rademacher_start_gap, rademacher_steps,
/// rademacher_draws,
/// rademacher_radius, and rademacher_bound_shape = d·(r + 1)^d·max‖x‖/√m (Theorem 5.1's bound
/// with c = 1 and its logarithmic factors left out: its shape in H and m, not its value).
void add_rademacher_metrics(const RademacherEstimate& e, const Mlp& net, double radius, int64_t m,
                            Metrics& out);

}  // namespace initscope
