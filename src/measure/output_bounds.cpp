// max |f(x)| and ‖∂f(x)/∂W‖ over a set of inputs (see output_bounds.hpp).
#include "measure/output_bounds.hpp"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/error.hpp"
#include "model/activation.hpp"

namespace initscope {

namespace {

constexpr int64_t k_chunk = 256;

int blas_int(int64_t v) {
  return static_cast<int>(v);
}

}  // namespace

void accumulate_output_bounds(const Mlp& net, std::span<const float> params,
                              std::span<const float> x, int64_t n, OutputBounds& acc) {
  IS_CHECK(net.layers.back().out == 1, "Theorems C.1 and C.2 are about a network with one output");
  IS_CHECK(params.size() == net.num_params);
  const int d = net.depth();
  const int64_t in_dim = net.layers.front().in;
  IS_CHECK(x.size() == static_cast<size_t>(n * in_dim));
  const Activation act = net.spec.activation;
  // z[k]: layer k's pre-activation (rows, out_k); a[k]: its activation φ(z) (the input of layer
  // k + 1); delta: ∂f/∂z of the current layer, then of the one below.
  std::vector<std::vector<float>> z(static_cast<size_t>(d)), a(static_cast<size_t>(d));
  for (int k = 0; k < d; ++k) {
    z[static_cast<size_t>(k)].resize(static_cast<size_t>(k_chunk * net.layers[k].out));
    a[static_cast<size_t>(k)].resize(z[static_cast<size_t>(k)].size());
  }
  std::vector<float> delta(static_cast<size_t>(k_chunk * net.max_width()));
  std::vector<float> below(delta.size());
  std::vector<double> grad2(static_cast<size_t>(k_chunk));
  for (int64_t start = 0; start < n; start += k_chunk) {
    const int64_t B = std::min(k_chunk, n - start);
    const float* x0 = x.data() + start * in_dim;
    // Forward, keeping every layer's z and φ(z).
    for (int k = 0; k < d; ++k) {
      const LayerSlice& L = net.layers[static_cast<size_t>(k)];
      const float* inp = k == 0 ? x0 : a[static_cast<size_t>(k - 1)].data();
      float* zk = z[static_cast<size_t>(k)].data();
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, blas_int(B), blas_int(L.out),
                  blas_int(L.in), 1.0f, inp, blas_int(L.in), params.data() + L.w_offset,
                  blas_int(L.in), 0.0f, zk, blas_int(L.out));
      const float p = act_param(net.spec, k);
      float* ak = a[static_cast<size_t>(k)].data();
      for (int64_t i = 0; i < B; ++i)
        for (int64_t o = 0; o < L.out; ++o) {
          float& v = zk[i * L.out + o];
          v += params[L.b_offset + static_cast<size_t>(o)];
          ak[i * L.out + o] = k + 1 < d ? act_forward(act, v, p) : v;  // no φ on the output
        }
    }
    for (int64_t i = 0; i < B; ++i) {
      double x2 = 0.0;
      for (int64_t j = 0; j < in_dim; ++j) x2 += double(x0[i * in_dim + j]) * x0[i * in_dim + j];
      acc.x_norm_max = std::max(acc.x_norm_max, std::sqrt(x2));
      acc.out_abs_max =
          std::max(acc.out_abs_max,
                   std::fabs(double(z[static_cast<size_t>(d - 1)][static_cast<size_t>(i)])));
      grad2[static_cast<size_t>(i)] = 0.0;
    }
    // Backward from δ_d = ∂f/∂z_d = 1: ‖∂f/∂W_k‖² = ‖δ_k‖²·‖a_{k−1}‖² per example.
    std::fill(delta.begin(), delta.begin() + B, 1.0f);
    for (int k = d - 1; k >= 0; --k) {
      const LayerSlice& L = net.layers[static_cast<size_t>(k)];
      const float* inp = k == 0 ? x0 : a[static_cast<size_t>(k - 1)].data();
      for (int64_t i = 0; i < B; ++i) {
        double dd = 0.0, aa = 0.0;
        for (int64_t o = 0; o < L.out; ++o)
          dd += double(delta[i * L.out + o]) * delta[i * L.out + o];
        for (int64_t j = 0; j < L.in; ++j) aa += double(inp[i * L.in + j]) * inp[i * L.in + j];
        grad2[static_cast<size_t>(i)] += dd * aa;
      }
      if (k == 0) break;
      // δ_{k−1} = φ′(z_{k−1}) ⊙ (δ_k W_k): (B, out) × (out, in).
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blas_int(B), blas_int(L.in),
                  blas_int(L.out), 1.0f, delta.data(), blas_int(L.out), params.data() + L.w_offset,
                  blas_int(L.in), 0.0f, below.data(), blas_int(L.in));
      const float p = act_param(net.spec, k - 1);
      const float* zb = z[static_cast<size_t>(k - 1)].data();
      for (int64_t i = 0; i < B * L.in; ++i) below[i] *= act_derivative(act, zb[i], p);
      std::swap(delta, below);
    }
    for (int64_t i = 0; i < B; ++i) {
      const double g = std::sqrt(grad2[static_cast<size_t>(i)]);
      acc.grad_norm_max = std::max(acc.grad_norm_max, g);
      acc.grad_norm_sum += g;
    }
    acc.examples += B;
  }
}

void add_output_bound_metrics(const OutputBounds& acc, Metrics& out) {
  if (acc.examples == 0) return;
  out["out_abs_max"] = acc.out_abs_max;
  out["grad_w_norm_max"] = acc.grad_norm_max;
  out["grad_w_norm_mean"] = acc.grad_norm_sum / static_cast<double>(acc.examples);
  out["x_norm_max"] = acc.x_norm_max;
}

}  // namespace initscope
