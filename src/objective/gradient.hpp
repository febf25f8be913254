// The gradient of a loss over chosen rows of a dataset, w.r.t. the flat parameter buffer: what
// full-batch gradient descent, gradient norms and Hessian-vector products (by differences of
// gradients) are built on. The training step does not use it: its backward is fused with the
// SGD update and never materializes a gradient (network.hpp, mlp_backward_sgd).
// Rows are processed in chunks of a fixed size on the plain-gradient path of network.hpp
// (mlp_forward, then mlp_backward on OpenBLAS); all buffers live in a GradientWorkspace made
// once, so a call allocates nothing. Deliberately left out: regularizers and per-row weights.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "model/mlp.hpp"
#include "model/network.hpp"
#include "objective/loss.hpp"

namespace initscope {

/// Rows per chunk by default: the size from which the forward prefers OpenBLAS for evaluation
/// (network.cpp), and a chunk's activations (256 × H floats per layer) stay in L2 up to H ≈ 1024.
constexpr int64_t k_gradient_chunk = 256;

/// Every buffer loss_gradient needs, for one network and chunks of up to `chunk` rows.
struct GradientWorkspace {
  int64_t chunk = 0;
  Workspace ws;                   // the network's activations for one chunk (backward buffers)
  std::vector<float> x;           // (chunk, input_dim): the chunk's rows, gathered
  std::vector<int32_t> y;         // (chunk): their labels
  std::vector<float> t;           // (chunk, outputs): their targets (regression)
  std::vector<float> dlogits;     // (chunk, outputs)
  std::vector<float> chunk_grad;  // (num_params): the chunk's summed gradient
  std::vector<double> sum;        // (num_params): Σ over chunks
};

/// `threads`: how many threads the forward kernels may use (the backward's OpenBLAS takes the
/// caller's openblas_set_num_threads).
GradientWorkspace make_gradient_workspace(const Mlp& net, int64_t chunk = k_gradient_chunk,
                                          int threads = 1);

/// Sees each chunk's logits as loss_gradient computes them, so that a caller can record what
/// the pass saw of every row (full-batch gd's running loss, error and margins) without a second
/// forward pass. `first` is the index (into rows or indices) of the chunk's first row; logits
/// (B, outputs) are valid only during the call. A virtual call per chunk: no allocation.
struct RowObserver {
  virtual void chunk(int64_t first, const float* logits, int64_t B) = 0;

 protected:
  ~RowObserver() = default;
};

/// Mean loss of rows x_i = rows[i] (input_dim floats each) with labels[i], i < n, and its
/// gradient: grad (num_params) = (1/n) Σ_i ∇_params loss(f(x_i), y_i). Returns the mean loss.
/// n ≥ 1. Chunk by chunk, each chunk's gradient is summed over its rows in float (the sgemms
/// of mlp_backward) and added to a double sum; the mean is taken once, at the end. So the
/// result depends on the chunk size only through the float rounding inside each chunk's sums
/// (about 1e-7 relative), never through how the chunks are weighted or accumulated.
double loss_gradient(const Mlp& net, std::span<const float> params, Loss loss,
                     std::span<const float* const> rows, std::span<const int32_t> labels,
                     std::span<float> grad, GradientWorkspace& gw, RowObserver* observer = nullptr);

/// The same for rows chosen by index from a dataset held as x (·, input_dim) row-major with
/// labels y (·): the rows x[indices[i]], i < indices.size(). For a regression task `targets`
/// (·, outputs) holds each row's targets and the loss is regression_loss (loss.hpp), `y` unused;
/// for classification `targets` is nullptr.
double loss_gradient(const Mlp& net, std::span<const float> params, Loss loss, const float* x,
                     const int32_t* y, const float* targets, std::span<const int64_t> indices,
                     std::span<float> grad, GradientWorkspace& gw, RowObserver* observer = nullptr);

}  // namespace initscope
