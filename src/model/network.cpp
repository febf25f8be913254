// The optimized whole-network passes: a chain of layers over one workspace.
#include "model/network.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "common/error.hpp"
#include "model/kernels.hpp"

namespace initscope {

Workspace make_workspace(const Mlp& net, int64_t batch, bool backward, int threads) {
  if (!kernels_support(net.spec.activation))
    throw Error(fmt::format("--activation {}: the fused kernels ({}) do not implement it",
                            activation_name(net.spec.activation), to_string(kernel_isa())));
  Workspace ws;
  ws.batch = batch;
  ws.threads = threads;
  ws.backward = backward;
  size_t total = 0;
  for (const auto& l : net.layers) {
    ws.offset.push_back(total);
    total += static_cast<size_t>(l.out);
  }
  const int64_t widest = std::max(net.max_width(), net.spec.input_dim);
  ws.logits.assign(static_cast<size_t>(batch * net.spec.outputs), 0.0f);
  ws.panel_a.assign(static_cast<size_t>(panel_floats(batch, widest)), 0.0f);
  ws.panel_b.assign(static_cast<size_t>(panel_floats(batch, widest)), 0.0f);
  if (backward) {
    ws.post.assign(total * static_cast<size_t>(batch), 0.0f);
    switch (derivative_from(net.spec.activation)) {
      case DerivativeFrom::output:
        break;
      case DerivativeFrom::stored:  // sine, gaussian: φ′ kept by the forward pass
        ws.deriv.assign(total * static_cast<size_t>(batch), 0.0f);
        ws.panel_d.assign(static_cast<size_t>(panel_floats(batch, widest)), 0.0f);
        ws.deriv_rows.assign(static_cast<size_t>(batch), nullptr);
        break;
    }
    ws.grad_a.assign(static_cast<size_t>(batch * widest), 0.0f);
    ws.grad_b.assign(static_cast<size_t>(batch * widest), 0.0f);
    ws.pack.assign(static_cast<size_t>(backward_sgd_pack_floats(batch, widest, threads)), 0.0f);
  }
  ws.input_rows.assign(static_cast<size_t>(batch), nullptr);
  ws.layer_rows.assign(static_cast<size_t>(batch), nullptr);
  return ws;
}

namespace {

// Evaluation chunks of many rows go through OpenBLAS instead: its sgemm packs W once for all
// the rows, and at 1024 rows it measured 5–15% faster than the panel kernels at H ≥ 1024
// (bench/kernels_bench, BM_forward_openblas/H/1024 against BM_forward_ours/H/1024), while at
// the training batch of 64 rows the panel kernels are 20–40% faster than it.
constexpr int64_t k_blas_min_rows = 256;

// The same forward on OpenBLAS, row-major throughout: activations ping-pong between the two
// panel buffers, which hold B × widest floats.
const float* mlp_forward_blas(const Mlp& net, const float* params, const float* x, int64_t B,
                              Workspace& ws) {
  const int d = net.depth();
  const float* inp = x;
  float* out = ws.panel_a.data();
  float* spare = ws.panel_b.data();
  for (int k = 0; k < d; ++k) {
    const auto& l = net.layers[static_cast<size_t>(k)];
    const float* w = params + l.w_offset;
    const float* b = params + l.b_offset;
    if (k == d - 1) {  // logits (B, outputs)
      linear_forward(ws.logits.data(), inp, w, b, B, l.in, l.out);
      break;
    }
    // out (B, l.out) = φ(inp (B, l.in) · wᵀ + b), the pre-activation not kept
    linear_act_forward(out, out, inp, w, b, B, l.in, l.out, net.spec.activation,
                       act_param(net.spec, k));
    inp = out;
    std::swap(out, spare);
  }
  return ws.logits.data();
}

}  // namespace

const float* mlp_forward(const Mlp& net, const float* params, const float* x, int64_t B,
                         Workspace& ws) {
  IS_CHECK(B <= ws.batch);
  if (!ws.backward && B >= k_blas_min_rows) return mlp_forward_blas(net, params, x, B, ws);
  for (int64_t i = 0; i < B; ++i)
    ws.input_rows[static_cast<size_t>(i)] = x + i * net.spec.input_dim;
  return mlp_forward(net, params, ws.input_rows.data(), B, ws);
}

const float* mlp_forward(const Mlp& net, const float* params, const float* const* rows, int64_t B,
                         Workspace& ws) {
  IS_CHECK(B <= ws.batch);
  const int d = net.depth();
  float* in_panel = ws.panel_a.data();
  float* out_panel = ws.panel_b.data();
  for (int k = 0; k < d; ++k) {
    const auto& l = net.layers[static_cast<size_t>(k)];
    const bool last = k == d - 1;
    // out (B, l.out) = φ(inp (B, l.in) · W (l.out, l.in)ᵀ + b (l.out)); no φ on the logits.
    ForwardArgs f;
    f.inp_rows = k == 0 ? rows : nullptr;  // later layers read the panel the previous one left
    f.in_panel = in_panel;
    f.w = params + l.w_offset;
    f.b = params + l.b_offset;
    f.out_panel = out_panel;
    f.out = last ? ws.logits.data() : ws.backward ? ws.post_of(k) : nullptr;
    f.B = B;
    f.C = l.in;
    f.OC = l.out;
    f.act = last ? Activation::linear : net.spec.activation;
    f.act_param = act_param(net.spec, k);
    if (!last && ws.backward && !ws.deriv.empty()) {  // φ′ kept for the backward
      f.deriv_panel = ws.panel_d.data();
      f.deriv = ws.deriv_of(k);
    }
    f.threads = ws.threads;
    forward_kernel(f);
    std::swap(in_panel, out_panel);
  }
  return ws.logits.data();
}

void mlp_backward(const Mlp& net, const float* params, float* grads, const float* x,
                  const float* dlogits, int64_t B, Workspace& ws) {
  IS_CHECK(B <= ws.batch && ws.backward);
  const int d = net.depth();
  float* dcur = ws.grad_a.data();   // gradient w.r.t. the current layer's output
  float* dnext = ws.grad_b.data();  // gradient w.r.t. its input
  for (int k = d - 1; k >= 0; --k) {
    const auto& l = net.layers[static_cast<size_t>(k)];
    const float* inp = k == 0 ? x : ws.post_of(k - 1);
    float* dinp = k == 0 ? nullptr : dnext;
    float* dw = grads + l.w_offset;
    float* db = grads + l.b_offset;
    if (k == d - 1) {
      linear_backward(dinp, dw, db, dlogits, inp, params + l.w_offset, B, l.in, l.out);
    } else {  // φ′ from post = φ(pre): post > 0 exactly where pre > 0; tanh′ = 1 − post²;
              // or the φ′ the forward stored (sine, gaussian)
      linear_act_backward(dinp, dw, db, dcur, ws.post_of(k), ws.deriv_of(k), inp,
                          params + l.w_offset, B, l.in, l.out, net.spec.activation);
    }
    std::swap(dcur, dnext);
  }
}

void mlp_backward_sgd(const Mlp& net, float* params, float* momentum, const float* const* rows,
                      const float* dlogits, int64_t B, Workspace& ws, float lr, float mu) {
  IS_CHECK(B <= ws.batch && ws.backward);
  const int d = net.depth();
  const float* dout = dlogits;     // (B, out_k): gradient w.r.t. layer k's pre-activation
  float* dinp = ws.grad_a.data();  // (B, in_k): written by layer k, read by layer k − 1
  float* spare = ws.grad_b.data();
  for (int k = d - 1; k >= 0; --k) {
    const auto& l = net.layers[static_cast<size_t>(k)];
    // inp (B, l.in): what layer k saw in the forward pass, also what φ′ of layer k − 1 is
    // computed from.
    const float* const* inp = rows;
    const float* const* deriv = nullptr;  // φ′ of layer k − 1, if stored
    if (k > 0) {
      for (int64_t i = 0; i < B; ++i)
        ws.layer_rows[static_cast<size_t>(i)] = ws.post_of(k - 1) + i * l.in;
      inp = ws.layer_rows.data();
      if (!ws.deriv.empty()) {
        for (int64_t i = 0; i < B; ++i)
          ws.deriv_rows[static_cast<size_t>(i)] = ws.deriv_of(k - 1) + i * l.in;
        deriv = ws.deriv_rows.data();
      }
    }
    linear_backward_sgd(k == 0 ? nullptr : dinp, params + l.w_offset, params + l.b_offset,
                        momentum + l.w_offset, momentum + l.b_offset, dout, inp, ws.pack.data(), B,
                        l.in, l.out, lr, mu, net.spec.activation, ws.threads, deriv);
    dout = dinp;
    std::swap(dinp, spare);
  }
}

void mlp_backward_sgd(const Mlp& net, float* params, float* momentum, const float* x,
                      const float* dlogits, int64_t B, Workspace& ws, float lr, float mu) {
  IS_CHECK(B <= ws.batch);
  for (int64_t i = 0; i < B; ++i)
    ws.input_rows[static_cast<size_t>(i)] = x + i * net.spec.input_dim;
  mlp_backward_sgd(net, params, momentum, ws.input_rows.data(), dlogits, B, ws, lr, mu);
}

}  // namespace initscope
