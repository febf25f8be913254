// Forward and backward of the MLP's pieces, as free functions over flat buffers.
// Every kernel has a naive reference twin (*_ref, templated so gradient checks can run in
// double); the optimized float versions call BLAS and fuse the elementwise work into one pass.
// Shapes: B = batch, C = input features, OC = output features; all buffers row-major.
#pragma once

#include <cmath>
#include <cstdint>

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
void linear_backward_ref(T* dinp, T* dw, T* db, const T* dout, const T* inp, const T* w,
                         int64_t B, int64_t C, int64_t OC) {
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

/// out (n) = φ(pre (n))
template <class T>
void activation_forward_ref(Activation a, T* out, const T* pre, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    out[i] = a == Activation::relu ? (pre[i] > T(0) ? pre[i] : T(0)) : pre[i];
}

/// dpre (n) = dout (n) · φ'(pre (n)); ReLU's derivative at 0 is taken as 0, as in PyTorch.
template <class T>
void activation_backward_ref(Activation a, T* dpre, const T* dout, const T* pre, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    dpre[i] = a == Activation::relu ? (pre[i] > T(0) ? dout[i] : T(0)) : dout[i];
}

// ---- optimized float kernels -------------------------------------------------------------

/// pre (B,OC) = inp (B,C) · wᵀ + b; out (B,OC) = φ(pre). One sgemm, then bias and activation
/// fused in a single pass over the output while it is still in cache.
void linear_act_forward(float* pre, float* out, const float* inp, const float* w, const float* b,
                        int64_t B, int64_t C, int64_t OC, Activation a);

/// Backward through φ then the linear map. dout (B,OC) is overwritten with dpre = dout·φ'(pre).
/// Writes dw (OC,C), db (OC) and, unless null, dinp (B,C).
void linear_act_backward(float* dinp, float* dw, float* db, float* dout, const float* pre,
                         const float* inp, const float* w, int64_t B, int64_t C, int64_t OC,
                         Activation a);

/// Plain linear layer (the output layer): out (B,OC) = inp (B,C) · wᵀ + b.
void linear_forward(float* out, const float* inp, const float* w, const float* b, int64_t B,
                    int64_t C, int64_t OC);

/// Backward of the plain linear layer; dw (OC,C), db (OC), dinp (B,C) or null.
void linear_backward(float* dinp, float* dw, float* db, const float* dout, const float* inp,
                     const float* w, int64_t B, int64_t C, int64_t OC);

}  // namespace initscope
