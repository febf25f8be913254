// Optimized float kernels: OpenBLAS sgemm for the products with elementwise work fused after
// it, and the fused backward-with-update of the training step on our own kernels.
#include "model/layers.hpp"

#include <cblas.h>

#include <type_traits>

#include "common/error.hpp"

#include "model/kernels.hpp"

namespace initscope {

namespace {
int blas_int(int64_t v) {
  return static_cast<int>(v);
}
}  // namespace

void linear_forward(float* out, const float* inp, const float* w, const float* b, int64_t B,
                    int64_t C, int64_t OC) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, blas_int(B), blas_int(OC), blas_int(C), 1.0f,
              inp, blas_int(C), w, blas_int(C), 0.0f, out, blas_int(OC));
  for (int64_t i = 0; i < B; ++i) {
    float* row = out + i * OC;
    for (int64_t o = 0; o < OC; ++o) row[o] += b[o];
  }
}

void linear_act_forward(float* pre, float* out, const float* inp, const float* w, const float* b,
                        int64_t B, int64_t C, int64_t OC, Activation a, float param) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, blas_int(B), blas_int(OC), blas_int(C), 1.0f,
              inp, blas_int(C), w, blas_int(C), 0.0f, pre, blas_int(OC));
  // Bias and φ in one pass while the row is in cache. pre may be out: v is read before either
  // is written.
  with_activation(a, [&](auto act) {
    for (int64_t i = 0; i < B; ++i) {
      float* p = pre + i * OC;
      float* o = out + i * OC;
      for (int64_t j = 0; j < OC; ++j) {
        const float v = p[j] + b[j];
        p[j] = v;
        o[j] = act_forward(act.value, v, param);
      }
    }
  });
}

void linear_backward(float* dinp, float* dw, float* db, const float* dout, const float* inp,
                     const float* w, int64_t B, int64_t C, int64_t OC) {
  // dw (OC,C) = doutᵀ (OC,B) · inp (B,C)
  cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, blas_int(OC), blas_int(C), blas_int(B), 1.0f,
              dout, blas_int(OC), inp, blas_int(C), 0.0f, dw, blas_int(C));
  for (int64_t o = 0; o < OC; ++o) db[o] = 0.0f;
  for (int64_t i = 0; i < B; ++i)
    for (int64_t o = 0; o < OC; ++o) db[o] += dout[i * OC + o];
  // dinp (B,C) = dout (B,OC) · w (OC,C)
  if (dinp)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blas_int(B), blas_int(C), blas_int(OC),
                1.0f, dout, blas_int(OC), w, blas_int(C), 0.0f, dinp, blas_int(C));
}

void linear_act_backward(float* dinp, float* dw, float* db, float* dout, const float* out,
                         const float* deriv, const float* inp, const float* w, int64_t B, int64_t C,
                         int64_t OC, Activation a) {
  const int64_t n = B * OC;
  switch (derivative_from(a)) {
    case DerivativeFrom::output:
      with_activation(a, [&](auto act) {
        for (int64_t i = 0; i < n; ++i)
          dout[i] = act_backward_from_output(act.value, dout[i], out[i]);
      });
      break;
    case DerivativeFrom::stored:
      IS_CHECK(deriv != nullptr);
      for (int64_t i = 0; i < n; ++i) dout[i] *= deriv[i];
      break;
  }
  linear_backward(dinp, dw, db, dout, inp, w, B, C, OC);
}

void linear_backward_sgd(float* dinp, float* w, float* b, float* vw, float* vb, const float* dout,
                         const float* const* inp_rows, float* pack, int64_t B, int64_t C,
                         int64_t OC, float lr, float mu, Activation act_below, int threads,
                         const float* const* deriv_rows) {
  IS_CHECK(!dinp || derivative_from(act_below) == DerivativeFrom::output || deriv_rows);
  // Bias: db (OC) = Σ_rows dout, row by row so the loads are contiguous, in `pack` before the
  // kernel needs it; then its update. O(B·OC), next to the O(B·OC·C) of the weights.
  float* db = pack;
  for (int64_t o = 0; o < OC; ++o) db[o] = 0.0f;
  for (int64_t i = 0; i < B; ++i)
    for (int64_t o = 0; o < OC; ++o) db[o] += dout[i * OC + o];
  for (int64_t o = 0; o < OC; ++o) {
    vb[o] = mu * vb[o] + db[o];
    b[o] -= lr * vb[o];
  }
  BackwardSgdArgs a;
  a.dout = dout;
  a.inp_rows = inp_rows;
  a.w = w;
  a.vw = vw;
  a.dinp = dinp;
  a.pack = pack;
  a.B = B;
  a.C = C;
  a.OC = OC;
  a.lr = lr;
  a.mu = mu;
  a.act_below = act_below;
  a.deriv_rows = deriv_rows;
  a.threads = threads;
  backward_sgd_kernel(a);
}

}  // namespace initscope
