// Forward and backward of the MLP's pieces, as free functions over flat buffers.
// Every kernel has a naive reference twin (*_ref, templated so gradient checks can run in
// double). Two kinds of optimized float versions: the BLAS ones (sgemm, then the elementwise
// work in one pass) that compute plain gradients, and the fused training-step ones on our own
// kernels (kernels.hpp): the forward through batch-contiguous panels, and the backward fused
// with the SGD update so that no gradient buffer exists.
// Shapes: B = batch, C = input features, OC = output features; all buffers row-major.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "model/activation.hpp"
#include "model/mlp.hpp"

namespace initscope {

// ---- reference kernels (naive loops, any floating type) ---------------------------------

/// out (B,OC) = inp (B,C) · wᵀ + b;  w (OC,C), b (OC)
template <class T>
void linear_forward_ref(T* out, const T* inp, const T* w, const T* b, int64_t B, int64_t C,
                        int64_t OC) {
  for (int64_t i = 0; i < B; ++i)
    for (int64_t o = 0; o < OC; ++o) {
      T acc = b[o];
      for (int64_t c = 0; c < C; ++c) acc += inp[i * C + c] * w[o * C + c];
      out[i * OC + o] = acc;
    }
}

/// Given dout (B,OC): dw (OC,C) = doutᵀ·inp, db (OC) = Σ_rows dout, dinp (B,C) = dout·w.
/// dw and db are overwritten; dinp may be null (the first layer needs no input gradient).
template <class T>
void linear_backward_ref(T* dinp, T* dw, T* db, const T* dout, const T* inp, const T* w, int64_t B,
                         int64_t C, int64_t OC) {
  for (int64_t o = 0; o < OC; ++o) {
    T sb = 0;
    for (int64_t i = 0; i < B; ++i) sb += dout[i * OC + o];
    db[o] = sb;
    for (int64_t c = 0; c < C; ++c) {
      T s = 0;
      for (int64_t i = 0; i < B; ++i) s += dout[i * OC + o] * inp[i * C + c];
      dw[o * C + c] = s;
    }
  }
  if (dinp)
    for (int64_t i = 0; i < B; ++i)
      for (int64_t c = 0; c < C; ++c) {
        T s = 0;
        for (int64_t o = 0; o < OC; ++o) s += dout[i * OC + o] * w[o * C + c];
        dinp[i * C + c] = s;
      }
}

/// out (n) = φ(pre (n)) with parameter p (act_param), by act_forward (activation.hpp).
template <class T>
void activation_forward_ref(Activation a, T* out, const T* pre, int64_t n, T p) {
  for (int64_t i = 0; i < n; ++i) out[i] = act_forward(a, pre[i], p);
}

/// dpre (n) = dout (n) · φ'(pre (n)), by act_backward (activation.hpp): from the
/// pre-activation, not the output, so that it checks the optimized paths' use of the output
/// (or of the stored φ′).
template <class T>
void activation_backward_ref(Activation a, T* dpre, const T* dout, const T* pre, int64_t n, T p) {
  for (int64_t i = 0; i < n; ++i) dpre[i] = act_backward(a, dout[i], pre[i], p);
}

/// The SGD-with-momentum update of PyTorch (dampening 0, no Nesterov, no weight decay):
/// v (n) ← mu·v + g (n);  p (n) ← p − lr·v.
template <class T>
void sgd_update_ref(T* p, T* v, const T* g, int64_t n, T lr, T mu) {
  for (int64_t i = 0; i < n; ++i) {
    v[i] = mu * v[i] + g[i];
    p[i] -= lr * v[i];
  }
}

/// Reference of linear_backward_sgd: the gradients of linear_backward_ref (dinp computed with
/// the weights before the update), then φ′ of the layer below, whose output is inp
/// (dinp ← dinp·φ′, computed from inp by act_backward_from_output; relu: 0 where inp ≤ 0,
/// linear: unchanged; for an activation whose φ′ is stored, dinp·deriv_below (B,C)), then
/// sgd_update_ref of w and b. Allocates the gradients.
template <class T>
void linear_backward_sgd_ref(T* dinp, T* w, T* b, T* vw, T* vb, const T* dout, const T* inp,
                             int64_t B, int64_t C, int64_t OC, T lr, T mu, Activation act_below,
                             const T* deriv_below = nullptr) {
  std::vector<T> dw(static_cast<size_t>(OC * C)), db(static_cast<size_t>(OC));
  linear_backward_ref(dinp, dw.data(), db.data(), dout, inp, w, B, C, OC);
  if (dinp)
    for (int64_t i = 0; i < B * C; ++i)
      dinp[i] = derivative_from(act_below) == DerivativeFrom::stored
                    ? dinp[i] * deriv_below[i]
                    : act_backward_from_output(act_below, dinp[i], inp[i]);
  sgd_update_ref(w, vw, dw.data(), OC * C, lr, mu);
  sgd_update_ref(b, vb, db.data(), OC, lr, mu);
}

// ---- optimized float kernels -------------------------------------------------------------

/// pre (B,OC) = inp (B,C) · wᵀ + b; out (B,OC) = φ(pre) with parameter `param` (act_param). One
/// sgemm, then bias and activation fused in a single pass over the output while it is still in
/// cache. pre may be out. φ is the scalar act_forward here (std::sin, std::exp for sine and
/// gaussian): this path serves evaluation chunks only.
void linear_act_forward(float* pre, float* out, const float* inp, const float* w, const float* b,
                        int64_t B, int64_t C, int64_t OC, Activation a, float param);

/// Backward through φ then the linear map. dout (B,OC) is overwritten with dpre = dout·φ'(pre),
/// φ′ computed from the layer's output out (B,OC) = φ(pre) (act_backward_from_output), which
/// is what the workspace keeps, or read from deriv (B,OC) for an activation whose φ′ is stored
/// (derivative_from; null otherwise). Writes dw (OC,C), db (OC) and, unless null, dinp (B,C).
void linear_act_backward(float* dinp, float* dw, float* db, float* dout, const float* out,
                         const float* deriv, const float* inp, const float* w, int64_t B, int64_t C,
                         int64_t OC, Activation a);

/// Plain linear layer (the output layer): out (B,OC) = inp (B,C) · wᵀ + b.
void linear_forward(float* out, const float* inp, const float* w, const float* b, int64_t B,
                    int64_t C, int64_t OC);

/// Backward of the plain linear layer; dw (OC,C), db (OC), dinp (B,C) or null.
void linear_backward(float* dinp, float* dw, float* db, const float* dout, const float* inp,
                     const float* w, int64_t B, int64_t C, int64_t OC);

/// The training step's backward of one linear layer, fused with its SGD update (see
/// linear_backward_sgd_ref for the exact semantics): dout (B,OC); inp_rows: B pointers to the
/// input rows (C floats each), so a batch can be used where it lies; w (OC,C) and vw (OC,C)
/// updated in place, b (OC) and vb (OC) likewise; dinp (B,C) or null. One pass over w and vw
/// computes the weight gradient tile by tile in registers, updates, and accumulates dinp from
/// the old weights; act_below is φ of the layer below (whose output is inp): dinp is multiplied
/// by its φ′, computed from inp, on the way out (relu: inp > 0; linear: nothing; tanh: 1 − inp²).
/// pack: scratch of backward_sgd_pack_floats(B, OC, threads) floats (kernels.hpp); threads:
/// how many may share the work (kernel_threads decides per layer). For an act_below whose φ′ is
/// stored (sine, gaussian), deriv_rows gives its B rows of C floats (required with dinp).
void linear_backward_sgd(float* dinp, float* w, float* b, float* vw, float* vb, const float* dout,
                         const float* const* inp_rows, float* pack, int64_t B, int64_t C,
                         int64_t OC, float lr, float mu, Activation act_below, int threads = 1,
                         const float* const* deriv_rows = nullptr);

}  // namespace initscope
