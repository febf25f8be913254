// Measures of a parameter vector against its initialization (Nagarajan & Kolter, §2–6):
// distance from initialization r = ‖(W,B) − (Z,C)‖_F in total and per layer, Frobenius and
// spectral norms of W_k, Z_k and W_k − Z_k, and the norm products of §6.
// Metric names (k = 1..d):
//   dist_init, dist_init_w, dist_init_b, dist_w{k}, dist_b{k}, dist_{k}
//   fro_w{k}, spec_w{k}, fro_z{k}, spec_z{k}, spec_dw{k}
//   prod_fro2_w, prod_spec_w, spec_complexity_w (= H^{d−1}·Π‖W_k‖₂), the same with _z,
//   prop62_bound = Π(‖Z_k‖₂ + r), prop62_holds (1 if Π‖W_k‖₂ ≤ prop62_bound)
//   param_norm = ‖(W,B)‖_F, init_norm = ‖(Z,C)‖_F
#pragma once

#include <map>
#include <span>
#include <string>

#include "common/metrics.hpp"
#include "model/mlp.hpp"

namespace initscope {

/// Norms of the initialization alone (fro_z{k}, spec_z{k}, the _z products, init_norm).
/// Constant over a run, so the trainer computes them once.
Metrics measure_init(const Mlp& net, std::span<const float> z);

/// Everything above for parameters w against initialization z; `init` is measure_init(z).
/// With spectral = false the spectral norms of W and W − Z (the costly part) are skipped.
Metrics measure_weights(const Mlp& net, std::span<const float> w, std::span<const float> z,
                        const Metrics& init, bool spectral = true);

}  // namespace initscope
