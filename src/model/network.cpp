// The optimized whole-network passes: a chain of fused BLAS layers over one workspace.
#include "model/network.hpp"

#include "common/error.hpp"

namespace initscope {

Workspace make_workspace(const Mlp& net, int64_t batch) {
  Workspace ws;
  ws.batch = batch;
  size_t total = 0;
  for (const auto& l : net.layers) {
    ws.offset.push_back(total);
    total += static_cast<size_t>(l.out);
  }
  ws.pre.assign(total * static_cast<size_t>(batch), 0.0f);
  ws.post.assign(total * static_cast<size_t>(batch), 0.0f);
  const size_t g = static_cast<size_t>(batch * std::max(net.max_width(), net.spec.input_dim));
  ws.grad_a.assign(g, 0.0f);
  ws.grad_b.assign(g, 0.0f);
  return ws;
}

const float* mlp_forward(const Mlp& net, const float* params, const float* x, int64_t B,
                         Workspace& ws) {
  IS_CHECK(B <= ws.batch);
  const int d = net.depth();
  const float* inp = x;
  for (int k = 0; k < d; ++k) {
    const auto& l = net.layers[static_cast<size_t>(k)];
    const float* w = params + l.w_offset;
    const float* b = params + l.b_offset;
    if (k == d - 1) {  // output layer: no activation; logits (B, outputs) in pre
      linear_forward(ws.pre_of(k), inp, w, b, B, l.in, l.out);
      return ws.pre_of(k);
    }
    linear_act_forward(ws.pre_of(k), ws.post_of(k), inp, w, b, B, l.in, l.out,
                       net.spec.activation);
    inp = ws.post_of(k);
  }
  return nullptr;
}

void mlp_backward(const Mlp& net, const float* params, float* grads, const float* x,
                  const float* dlogits, int64_t B, Workspace& ws) {
  IS_CHECK(B <= ws.batch);
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
    } else {
      linear_act_backward(dinp, dw, db, dcur, ws.pre_of(k), inp, params + l.w_offset, B, l.in,
                          l.out, net.spec.activation);
    }
    std::swap(dcur, dnext);
  }
}

}  // namespace initscope
