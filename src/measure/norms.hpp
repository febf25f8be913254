// The norm, path and margin measures of Jiang et al. (2020) that the rest of initscope lacks, as
// Dziugaite et al.'s code (nitarshan/robust-generalization-measures) computes them
// (measures-reference.md §2), under their usual names in log space, so that a user can compare
// with those papers' tables.
// Semantics, stated once:
//  - "weights" are the weight matrices W_l only (no biases), d of them, as in the reference;
//    biases enter only the path norm;
//  - the margin γ is the k-th smallest training margin (logit of the true class minus the
//    largest other logit) with k = floor(m/10), 1-indexed (the reference's kthvalue(m // 10),
//    about the 10th percentile), then |γ| as the reference takes abs(); γ itself is stored
//    signed as jiang_margin so that a negative one (training error above ~10%) is visible;
//  - the path norm is the sum of the outputs of the network with every parameter squared
//    (biases too) on an all-ones input: for a ReLU net the sum over all paths of the product of
//    their squared weights; un-rooted, as the reference stores it; with other activations it is
//    what the same code computes (the activation applied to the squared network), no more;
//  - Jiang's final adjustment (0.5·(value − log m) for LOG_ names, sqrt(value/m) otherwise) is
//    not applied: rankings do not see it, and the raw values are what the formulas say.
// Metric names (Jiang's equation numbers):
//   log_prod_spec (32) = Σ_l log‖W_l‖₂²;  log_prod_spec_over_margin (31) = (32) − 2 log γ;
//   log_sum_spec (35) = log d + (32)/d;   log_sum_spec_over_margin (34) = log d + (31)/d;
//   the same four with _fro and ‖W_l‖_F² (37, 36, 39, 38);
//   fro_over_spec (33) = Σ_l ‖W_l‖_F²/‖W_l‖₂²;  log_spec_orig_main (30) = (31) + log (33);
//   log_spec_init_main (29) = (31) + log Σ_l ‖W_l − W_l⁰‖_F²/‖W_l‖₂²;
//   path_norm (44);  path_norm_over_margin (43) = (44)/γ²;  inverse_margin (22) = 1/γ²;
//   jiang_margin = γ (signed).
// Classification only (a margin needs classes); the path norm alone is also given for
// regression tasks.
#pragma once

#include <span>
#include <vector>

#include "common/metrics.hpp"
#include "measure/registry.hpp"
#include "model/mlp.hpp"

namespace initscope {

/// The path norm above of the network `net` at parameters w (num_params), in double.
double path_norm(const Mlp& net, std::span<const float> w);

/// The reference's margin: the floor(m/10)-th smallest of the margins (1-indexed; the smallest
/// if m < 10). NaN for none.
double jiang_margin(std::vector<double> margins);

/// Every measure above from the weights w, the initialization w0 and the margin γ (signed).
Metrics jiang_measures(const Mlp& net, std::span<const float> w, std::span<const float> w0,
                       double gamma);

/// The registered measure `norms`: opt-in, it runs only when named (initscope measure
/// --measures norms), since its margins cost one more pass over the training set.
void norms_measure(const MeasureInput& in, Metrics& out);

}  // namespace initscope
