// Curvature of the training loss: exact Hessian-vector products of the mean loss over chosen
// rows, and what is built on them: the extreme eigenvalues by Lanczos and the trace by
// Hutchinson's estimator (measures-reference.md §1).
// Semantics, stated once: the Hessian is ∇²L(w) of L(w) = (1/n) Σ_i loss(f(x_i; w), y_i), the
// mean (never the sum) of the run's training loss (ce, mse, logistic, or the regression mse)
// over the n rows given, with respect to every parameter, biases included; no regularizer, no
// weight decay. λ_max is the largest algebraic eigenvalue and λ_min the smallest (most
// negative), never the largest magnitude (PyHessian's power iteration returns that).
// The product is Pearlmutter's R-operator through the layers (forward-over-reverse): exact up to
// rounding, about 2.7 gradients' worth of matrix products (8 against 3 per layer). It runs in
// float on OpenBLAS with each chunk's product added to a double sum, as loss_gradient does, or
// in double (the same code) for tests. hvp_finite_difference_ref is its twin for tests: central
// differences of the double-precision reference gradient.
// Deliberately left out: stochastic Lanczos quadrature (the spectral density), per-layer blocks,
// and Hessians with respect to activations.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "model/mlp.hpp"
#include "objective/loss.hpp"

namespace initscope {

/// The rows a loss is taken over: x[indices[i]] (input_dim floats each) of a dataset x held
/// row-major, with labels y (classification) or targets (·, outputs) (regression, loss mse;
/// y unused), as loss_gradient reads them.
struct LossRows {
  const float* x = nullptr;
  const int32_t* y = nullptr;
  const float* targets = nullptr;  // nullptr for classification
  std::span<const int64_t> indices;
  Loss loss = Loss::ce;
};

/// Every buffer a Hessian-vector product needs, for chunks of up to `chunk` rows; T is the
/// precision of the products (float: OpenBLAS sgemm; double: dgemm, for tests).
template <class T>
struct HvpWorkspace {
  int64_t chunk = 0;
  std::vector<T> x;             // (chunk, input_dim)
  std::vector<T> z, a, rz, ra;  // hidden layers' pre-activation, φ, and their R-forwards,
                                // concatenated, layer k at offset[k]·chunk, (chunk, out_k)
  std::vector<size_t> offset;   // Σ_{j<k} out_j over hidden layers
  std::vector<T> f, rf;         // (chunk, outputs): logits and R(logits)
  std::vector<T> d, rd, e, re;  // (chunk, max width): δ, Rδ and the next layer's ∂/∂a, R∂/∂a
  std::vector<T> hv;            // (num_params): the chunk's Σ over rows
  std::vector<double> sum;      // (num_params): Σ over chunks
};

template <class T>
HvpWorkspace<T> make_hvp_workspace(const Mlp& net, int64_t chunk = 256);

/// hv (num_params) = ∇²L(w)·v with L the mean loss over `rows` (n ≥ 1) at params w; returns L.
/// v, w (num_params). Allocates nothing. Thread count: OpenBLAS's current setting.
template <class T>
double hessian_vector_product(const Mlp& net, std::span<const T> params, const LossRows& rows,
                              std::span<const T> v, std::span<double> hv, HvpWorkspace<T>& hw);

/// The twin for tests: (g(w + hv) − g(w − hv)) / 2h with g the double-precision reference
/// gradient (mlp_backward_ref) of the same mean loss. Slow; small networks only.
std::vector<double> hvp_finite_difference_ref(const Mlp& net, std::span<const double> params,
                                              const LossRows& rows, std::span<const double> v,
                                              double h = 1e-5);

// ---- spectra of a symmetric operator --------------------------------------------------------

/// A symmetric linear map of ℝⁿ: out = A·v (out is overwritten).
using SymmetricOp = std::function<void(std::span<const double> v, std::span<double> out)>;

struct LanczosResult {
  std::vector<double> top;           // the k largest Ritz values, largest first
  std::vector<double> top_residual;  // ‖A y − θ y‖ of each (y the unit Ritz vector)
  std::vector<std::vector<double>> top_vectors;  // their Ritz vectors (unit, orthonormal)
  double lambda_min = 0.0;  // the smallest Ritz value (most negative eigenvalue)
  double lambda_min_residual = 0.0;
  int steps = 0;           // products with A
  bool converged = false;  // every wanted residual ≤ rel_tol · max|θ|
};

/// Lanczos with full reorthogonalization from a seeded Gaussian start. Stops once the top k
/// Ritz values (and, if want_min, the smallest) have residual ‖A y − θ y‖ ≤ rel_tol·max|θ|
/// (the a posteriori bound on |θ − λ| for an isolated λ), or the Krylov space is exhausted
/// (β = 0: the Ritz values are then eigenvalues), or after max_steps products. Memory: the
/// Lanczos basis, max_steps × n doubles.
LanczosResult lanczos_extremes(const SymmetricOp& op, size_t n, int k, int max_steps,
                               double rel_tol, uint64_t seed, bool want_min = true);

struct TraceResult {
  double trace = 0.0;  // mean of vᵀAv over the probes
  double se = 0.0;     // its standard error, √(sample variance / probes)
  int probes = 0;
  bool converged = false;  // se ≤ rel_se·|trace| was reached before max_probes
};

/// Hutchinson's estimator with Rademacher probes v (±1 entries, not normalized) from a seeded
/// stream; each vᵀAv is accumulated in double. Stops after at least min_probes once the
/// standard error is ≤ rel_se·|trace|, else after max_probes (min = max: a fixed count).
/// One probe's variance is 2(‖A‖_F² − Σ A_ii²): a diagonal A gives the exact trace.
TraceResult hutchinson_trace(const SymmetricOp& op, size_t n, int min_probes, int max_probes,
                             double rel_se, uint64_t seed);

}  // namespace initscope
