// The quantities of Nagarajan & Kolter's Theorems C.1 and C.2 on a network with one output:
// the largest |f(x)| and the largest and mean gradient norm ‖∂f(x)/∂W‖ over a set of inputs.
// The theorems bound both by c^d (r + 1)^d (‖x‖ + 1) (times d for the gradient) with c
// independent of the width H, so at a fixed distance r from the initialization neither grows
// with H.
// The gradient is taken with respect to the weights W_1..W_d only (the theorems' ∂f/∂W), not
// the biases. For one example it is Σ_k ‖δ_k‖²·‖a_{k−1}‖², where δ_k = ∂f/∂z_k and a_{k−1} the
// layer's input: the gradient of W_k is the outer product δ_k a_{k−1}ᵀ, whose Frobenius norm is
// that product of vector norms, so no per-example gradient is ever formed.
// Metric names: out_abs_max, grad_w_norm_max, grad_w_norm_mean (over the training and test
// sets together), x_norm_max (the largest ‖x‖ there).
// Deliberately left out: networks with several outputs (the theorems are stated for one; the
// measure adds nothing for them).
#pragma once

#include <cstdint>
#include <span>

#include "common/metrics.hpp"
#include "model/mlp.hpp"

namespace initscope {

/// Running maxima and sums over the examples seen.
struct OutputBounds {
  double out_abs_max = 0.0;
  double grad_norm_max = 0.0;
  double grad_norm_sum = 0.0;
  double x_norm_max = 0.0;
  int64_t examples = 0;
};

/// Adds n examples x (n, net input) to `acc`, evaluated at `params`, in chunks of 256 rows
/// (float, OpenBLAS; the norms summed in double). The network must have one output.
void accumulate_output_bounds(const Mlp& net, std::span<const float> params,
                              std::span<const float> x, int64_t n, OutputBounds& acc);

/// out_abs_max, grad_w_norm_max, grad_w_norm_mean and x_norm_max of `acc` (nothing if it saw no
/// example).
void add_output_bound_metrics(const OutputBounds& acc, Metrics& out);

}  // namespace initscope
