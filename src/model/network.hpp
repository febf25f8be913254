// Whole-network forward and backward over the flat parameter buffer.
// The Workspace holds every activation the backward pass needs, sized once for a batch, so
// a training step allocates nothing. The forward runs on the panel kernels (kernels.hpp), or on
// OpenBLAS for evaluation chunks of 256 rows or more, where it measured faster; the training
// step's backward is fused with the SGD update (mlp_backward_sgd) so that no gradient buffer
// exists; mlp_backward, which returns the plain gradient, stays on OpenBLAS.
// mlp_forward_ref / mlp_backward_ref are the naive twins, templated for the double-precision
// gradient checks and the float comparison tests.
#pragma once

#include <cstdint>
#include <vector>

#include "model/layers.hpp"
#include "model/mlp.hpp"

namespace initscope {

/// Activations for up to `batch` rows. Hidden layer k keeps post_k = φ(pre_k) (B, out_k): the
/// backward gets φ′ from it (relu: post > 0, tanh: 1 − post²), so the pre-activation is never
/// stored. An activation whose φ′ is not a function of its output (derivative_from in
/// activation.hpp: sine, gaussian) needs `deriv`, φ′(pre_k) in post's layout, written by the
/// forward: make_workspace allocates it only for such an activation, and the passes below refuse
/// one until they write and read it.
struct Workspace {
  int64_t batch = 0;
  int threads = 1;                       // threads the kernels may use (kernel_threads)
  bool backward = true;                  // post and the backward buffers exist
  std::vector<float> post;               // hidden layers, concatenated; layer k at offset[k]·batch
  std::vector<float> deriv;              // φ′ in post's layout, or empty (see above)
  std::vector<size_t> offset;            // Σ_{j<k} out_j
  std::vector<float> logits;             // (batch, outputs)
  std::vector<float> panel_a, panel_b;   // forward panels (kernels.hpp), ping-pong between layers
  std::vector<float> panel_d;            // the φ′ panel of one layer, or empty (see above)
  std::vector<float> grad_a, grad_b;     // (batch, max(width, input_dim)), ping-pong in backward
  std::vector<float> pack;               // backward kernel scratch
  std::vector<const float*> input_rows;  // (batch) rows of a contiguous x, for the x overloads
  std::vector<const float*> layer_rows;  // (batch) rows of a hidden layer's post, for backward
  std::vector<const float*> deriv_rows;  // (batch) rows of a hidden layer's deriv, or empty
  float* post_of(int k) {
    return post.data() + offset[static_cast<size_t>(k)] * static_cast<size_t>(batch);
  }
  float* deriv_of(int k) {  // null if the activation's φ′ is not stored
    return deriv.empty()
               ? nullptr
               : deriv.data() + offset[static_cast<size_t>(k)] * static_cast<size_t>(batch);
  }
};

/// `backward = false` for evaluation: only the forward panels and the logits.
/// `threads` > 1 lets the kernels split large layers between that many threads.
/// Throws initscope::Error if the kernels cannot run the network's activation.
Workspace make_workspace(const Mlp& net, int64_t batch, bool backward = true, int threads = 1);

/// Forward pass for B ≤ ws.batch rows of x (B, input_dim). Returns the logits (B, outputs),
/// which live in the workspace until the next call.
const float* mlp_forward(const Mlp& net, const float* params, const float* x, int64_t B,
                         Workspace& ws);

/// Backward pass after mlp_forward on the same x and B: grads (num_params) is overwritten with
/// d(loss)/d(params) given dlogits (B, outputs).
void mlp_backward(const Mlp& net, const float* params, float* grads, const float* x,
                  const float* dlogits, int64_t B, Workspace& ws);

/// mlp_forward with the batch's rows given by pointer: x_i = rows[i] (input_dim floats each),
/// so that a minibatch drawn from a dataset is read where it lies, with no gather copy.
const float* mlp_forward(const Mlp& net, const float* params, const float* const* rows, int64_t B,
                         Workspace& ws);

/// The training step's backward after mlp_forward on the same rows and B, fused with PyTorch's
/// SGD-with-momentum update: for every parameter p with gradient g (given dlogits (B, outputs)),
/// v ← mu·v + g and p ← p − lr·v, where momentum (num_params) holds v. Same result as
/// mlp_backward followed by sgd_update_ref, up to float rounding; no gradient is stored.
void mlp_backward_sgd(const Mlp& net, float* params, float* momentum, const float* const* rows,
                      const float* dlogits, int64_t B, Workspace& ws, float lr, float mu);
/// The same for a contiguous x (B, input_dim).
void mlp_backward_sgd(const Mlp& net, float* params, float* momentum, const float* x,
                      const float* dlogits, int64_t B, Workspace& ws, float lr, float mu);

// ---- reference twins ---------------------------------------------------------------------

/// Naive forward; returns logits (B, outputs) and keeps every layer's pre-activation in `pres`.
template <class T>
std::vector<T> mlp_forward_ref(const Mlp& net, const T* params, const T* x, int64_t B,
                               std::vector<std::vector<T>>* pres = nullptr) {
  std::vector<T> inp(x, x + B * net.spec.input_dim);
  if (pres) pres->clear();
  for (int k = 0; k < net.depth(); ++k) {
    const auto& l = net.layers[static_cast<size_t>(k)];
    std::vector<T> pre(static_cast<size_t>(B * l.out));
    linear_forward_ref(pre.data(), inp.data(), params + l.w_offset, params + l.b_offset, B, l.in,
                       l.out);
    if (pres) pres->push_back(pre);
    if (k == net.depth() - 1) return pre;
    inp.assign(pre.size(), T(0));
    activation_forward_ref(net.spec.activation, inp.data(), pre.data(), B * l.out,
                           static_cast<T>(act_param(net.spec, k)));
  }
  return {};
}

/// Naive backward: returns d(loss)/d(params) given dlogits (B, outputs).
template <class T>
std::vector<T> mlp_backward_ref(const Mlp& net, const T* params, const T* x, const T* dlogits,
                                int64_t B) {
  std::vector<std::vector<T>> pres;
  mlp_forward_ref(net, params, x, B, &pres);
  std::vector<T> grads(net.num_params, T(0));
  std::vector<T> dout(dlogits, dlogits + B * net.spec.outputs);
  for (int k = net.depth() - 1; k >= 0; --k) {
    const auto& l = net.layers[static_cast<size_t>(k)];
    std::vector<T> inp;
    if (k == 0) {
      inp.assign(x, x + B * l.in);
    } else {
      inp.assign(static_cast<size_t>(B * l.in), T(0));
      activation_forward_ref(net.spec.activation, inp.data(),
                             pres[static_cast<size_t>(k - 1)].data(), B * l.in,
                             static_cast<T>(act_param(net.spec, k - 1)));
    }
    std::vector<T> dinp(static_cast<size_t>(B * l.in));
    linear_backward_ref(k > 0 ? dinp.data() : static_cast<T*>(nullptr), grads.data() + l.w_offset,
                        grads.data() + l.b_offset, dout.data(), inp.data(), params + l.w_offset, B,
                        l.in, l.out);
    if (k > 0) {
      dout.assign(dinp.size(), T(0));
      activation_backward_ref(net.spec.activation, dout.data(), dinp.data(),
                              pres[static_cast<size_t>(k - 1)].data(), B * l.in,
                              static_cast<T>(act_param(net.spec, k - 1)));
    }
  }
  return grads;
}

}  // namespace initscope
