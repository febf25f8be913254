// Whole-network forward and backward over the flat parameter buffer.
// The Workspace holds every activation the backward pass needs, sized once for a batch, so
// a training step allocates nothing. mlp_forward_ref / mlp_backward_ref are the naive twins,
// templated for the double-precision gradient checks and the float comparison tests.
#pragma once

#include <cstdint>
#include <vector>

#include "model/layers.hpp"
#include "model/mlp.hpp"

namespace initscope {

/// Activations for up to `batch` rows: per layer pre (B,out) and post (B,out) = φ(pre),
/// plus two (B, max_width) buffers that the backward pass ping-pongs between.
struct Workspace {
  int64_t batch = 0;
  std::vector<float> pre, post;        // concatenated per layer; layer k at offset[k]·batch
  std::vector<size_t> offset;          // Σ_{j<k} out_j
  std::vector<float> grad_a, grad_b;   // (batch, max_width)
  float* pre_of(int k) { return pre.data() + offset[k] * batch; }
  float* post_of(int k) { return post.data() + offset[k] * batch; }
};

Workspace make_workspace(const Mlp& net, int64_t batch);

/// Forward pass for B ≤ ws.batch rows of x (B, input_dim). Returns the logits (B, outputs),
/// which live in the workspace until the next call.
const float* mlp_forward(const Mlp& net, const float* params, const float* x, int64_t B,
                         Workspace& ws);

/// Backward pass after mlp_forward on the same x and B: grads (num_params) is overwritten with
/// d(loss)/d(params) given dlogits (B, outputs).
void mlp_backward(const Mlp& net, const float* params, float* grads, const float* x,
                  const float* dlogits, int64_t B, Workspace& ws);

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
    activation_forward_ref(net.spec.activation, inp.data(), pre.data(), B * l.out);
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
      activation_forward_ref(net.spec.activation, inp.data(), pres[static_cast<size_t>(k - 1)].data(),
                             B * l.in);
    }
    std::vector<T> dinp(static_cast<size_t>(B * l.in));
    linear_backward_ref(k > 0 ? dinp.data() : static_cast<T*>(nullptr), grads.data() + l.w_offset,
                        grads.data() + l.b_offset, dout.data(), inp.data(), params + l.w_offset,
                        B, l.in, l.out);
    if (k > 0) {
      dout.assign(dinp.size(), T(0));
      activation_backward_ref(net.spec.activation, dout.data(), dinp.data(),
                              pres[static_cast<size_t>(k - 1)].data(), B * l.in);
    }
  }
  return grads;
}

}  // namespace initscope
