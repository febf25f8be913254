// The optimizers a run can step, and their state: sgd (PyTorch's SGD with momentum, fused into
// the backward pass by model/; its momentum is one flat buffer in the parameters' layout), adam
// (PyTorch's torch.optim.Adam on the minibatch gradient: two flat buffers, one per moment), and
// gd (full-batch gradient descent through objective/'s chunked gradient path, with SGD's
// momentum; gd.hpp). Each update has a naive *_ref twin templated for double, which the tests
// compare against and check by hand.
// Deliberately left out: weight decay, amsgrad, Nesterov, dampening, learning-rate schedules
// (none is offered; options that would need them are refused by config validation).
// Every choice by optimizer is a `switch` without `default` (CONTRIBUTING.md, "Recipe: add an
// optimizer"), so that -Wswitch lists each place a new one must be handled.
#pragma once

#include <cmath>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace initscope {

enum class Optimizer { sgd, adam, gd };
Optimizer parse_optimizer(const std::string& name);  // throws Error naming --optimizer
std::string to_string(Optimizer o);
/// Every optimizer's name, in the enum's order (the option table's choices).
const std::vector<std::string>& optimizer_names();

/// Adam's hyperparameters, PyTorch's names and defaults.
struct AdamHyper {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
};

/// Adam's state: the first and second moments, each one flat buffer in the parameters' layout,
/// and the number of updates made so far (PyTorch's `step`).
struct AdamState {
  std::vector<float> m, v;  // (num_params) each
  int64_t t = 0;
  explicit AdamState(size_t num_params = 0) : m(num_params, 0.0f), v(num_params, 0.0f) {}
};

/// Adam's bias-corrected step size and √(1 − β₂ᵗ), computed in double as PyTorch does (Python
/// floats) before being applied to float tensors.
struct AdamScalars {
  double step_size, bc2_sqrt;
};
inline AdamScalars adam_scalars(double lr, const AdamHyper& h, int64_t t) {
  const double bc1 = 1.0 - std::pow(h.beta1, static_cast<double>(t));
  const double bc2 = 1.0 - std::pow(h.beta2, static_cast<double>(t));
  return {lr / bc1, std::sqrt(bc2)};
}

/// One Adam update of p (n) with gradient g (n), torch.optim.Adam (1.13, single-tensor, no weight
/// decay, no amsgrad), operation for operation:
///   t ← t + 1;  m ← β₁·m + (1 − β₁)·g;  v ← β₂·v + (1 − β₂)·g·g;
///   p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε).
/// `t` is the step number after the increment (1 for the first update). Naive twin, any type.
template <class T>
void adam_update_ref(T* p, T* m, T* v, const T* g, int64_t n, double lr, const AdamHyper& h,
                     int64_t t) {
  const AdamScalars s = adam_scalars(lr, h, t);
  const T b1 = static_cast<T>(h.beta1), b2 = static_cast<T>(h.beta2);
  const T a1 = static_cast<T>(1.0 - h.beta1), a2 = static_cast<T>(1.0 - h.beta2);
  const T eps = static_cast<T>(h.eps), bc2_sqrt = static_cast<T>(s.bc2_sqrt);
  const T neg_step = static_cast<T>(-s.step_size);
  for (int64_t i = 0; i < n; ++i) {
    m[i] = m[i] * b1 + a1 * g[i];
    v[i] = v[i] * b2 + a2 * g[i] * g[i];
    const T denom = std::sqrt(v[i]) / bc2_sqrt + eps;
    p[i] = p[i] + neg_step * m[i] / denom;
  }
}

/// The optimized Adam update (adam.cpp): the same arithmetic as adam_update_ref<float>, one
/// vectorized pass over p, m, v and g; increments state.t first. Allocates nothing.
void adam_update(std::span<float> params, AdamState& state, std::span<const float> grad, double lr,
                 const AdamHyper& h);

/// One SGD-with-momentum update of a whole flat buffer (PyTorch's semantics, as
/// sgd_update_ref in model/layers.hpp): v ← μ·v + g; p ← p − lr·v. The update of gd, whose
/// gradient is materialized; sgd's minibatch step never calls it (the update is fused into the
/// backward pass).
void sgd_update(std::span<float> params, std::span<float> momentum, std::span<const float> grad,
                float lr, float mu);

}  // namespace initscope
