// Full-batch gradient descent, the stand-in for gradient flow: every step takes the gradient of
// the MEAN loss over the whole training set through objective/'s gradient path (loss_gradient:
// chunks of k_gradient_chunk rows on OpenBLAS, summed in double), then SGD's update with
// momentum μ (μ = 0: plain gradient descent). Memory is the network's parameters plus one chunk
// of activations: nothing is sized by the number of rows.
// Deliberately left out: line searches and step-size schedules.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "model/mlp.hpp"
#include "objective/gradient.hpp"
#include "objective/loss.hpp"

namespace initscope {

/// Every buffer a gd step needs, made once.
struct GdState {
  GradientWorkspace gw;
  std::vector<float> grad;  // (num_params): the mean gradient of the last step
};
GdState make_gd_state(const Mlp& net, int64_t chunk = k_gradient_chunk, int threads = 1);

/// One step on rows x[indices[i]] (x (·, input_dim) row-major, labels y (·), or for regression
/// targets (·, outputs), else nullptr; loss_gradient's contract): grad = ∇ of the
/// mean loss over those rows at params; momentum ← μ·momentum + grad; params ← params − lr·
/// momentum. Returns the mean loss before the step. `observer`, if given, sees each chunk's
/// logits (gradient.hpp, RowObserver). Allocates nothing.
double gd_step(const Mlp& net, std::span<float> params, std::span<float> momentum, Loss loss,
               const float* x, const int32_t* y, const float* targets,
               std::span<const int64_t> indices, float lr, float mu, GdState& state,
               RowObserver* observer = nullptr);

}  // namespace initscope
