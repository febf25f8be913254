// The chunked gradient of a loss over chosen rows (gradient.hpp).
#include "objective/gradient.hpp"

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "common/error.hpp"

namespace initscope {

GradientWorkspace make_gradient_workspace(const Mlp& net, int64_t chunk, int threads) {
  IS_CHECK(chunk >= 1);
  GradientWorkspace gw;
  gw.chunk = chunk;
  gw.ws = make_workspace(net, chunk, /*backward=*/true, threads);
  gw.x.assign(static_cast<size_t>(chunk * net.spec.input_dim), 0.0f);
  gw.y.assign(static_cast<size_t>(chunk), 0);
  gw.t.assign(static_cast<size_t>(chunk * net.spec.outputs), 0.0f);
  gw.dlogits.assign(static_cast<size_t>(chunk * net.spec.outputs), 0.0f);
  gw.chunk_grad.assign(net.num_params, 0.0f);
  gw.sum.assign(net.num_params, 0.0);
  return gw;
}

namespace {

// row(i) and label(i) give row i of n: label(i) is a class (int32_t) or, for regression, the
// row's targets (const float*, K of them); the rest is loss_gradient's contract.
template <class Row, class Label>
double chunked_gradient(const Mlp& net, std::span<const float> params, Loss loss, int64_t n,
                        Row row, Label label, std::span<float> grad, GradientWorkspace& gw,
                        RowObserver* observer) {
  IS_CHECK(n >= 1, "the mean over no rows is undefined");
  IS_CHECK(params.size() == net.num_params && grad.size() == net.num_params);
  IS_CHECK(gw.sum.size() == net.num_params && gw.chunk >= 1);
  const int64_t dim = net.spec.input_dim, K = net.spec.outputs;
  std::fill(gw.sum.begin(), gw.sum.end(), 0.0);
  double loss_sum = 0.0;
  for (int64_t i0 = 0; i0 < n; i0 += gw.chunk) {
    const int64_t B = std::min(gw.chunk, n - i0);
    // mlp_backward reads the first layer's input as one (B, dim) matrix: gather the rows.
    for (int64_t i = 0; i < B; ++i) {
      std::memcpy(gw.x.data() + i * dim, row(i0 + i), static_cast<size_t>(dim) * sizeof(float));
      if constexpr (std::is_same_v<decltype(label(i0)), int32_t>)
        gw.y[static_cast<size_t>(i)] = label(i0 + i);
      else
        std::copy_n(label(i0 + i), K, gw.t.data() + i * K);
    }
    const float* logits = mlp_forward(net, params.data(), gw.x.data(), B, gw.ws);
    if (observer) observer->chunk(i0, logits, B);
    // Scale 1: the chunk's gradient is the sum over its rows; the mean is taken once below.
    if constexpr (std::is_same_v<decltype(label(i0)), int32_t>)
      loss_sum += loss_forward_backward(loss, gw.dlogits.data(), logits, gw.y.data(), B, K, 1.0f);
    else
      loss_sum += regression_forward_backward(gw.dlogits.data(), logits, gw.t.data(), B, K, 1.0f);
    mlp_backward(net, params.data(), gw.chunk_grad.data(), gw.x.data(), gw.dlogits.data(), B,
                 gw.ws);
    for (size_t j = 0; j < gw.sum.size(); ++j) gw.sum[j] += static_cast<double>(gw.chunk_grad[j]);
  }
  const double inv_n = 1.0 / static_cast<double>(n);
  for (size_t j = 0; j < gw.sum.size(); ++j) grad[j] = static_cast<float>(gw.sum[j] * inv_n);
  return loss_sum * inv_n;
}

}  // namespace

double loss_gradient(const Mlp& net, std::span<const float> params, Loss loss,
                     std::span<const float* const> rows, std::span<const int32_t> labels,
                     std::span<float> grad, GradientWorkspace& gw, RowObserver* observer) {
  IS_CHECK(rows.size() == labels.size());
  return chunked_gradient(
      net, params, loss, static_cast<int64_t>(rows.size()),
      [&](int64_t i) { return rows[static_cast<size_t>(i)]; },
      [&](int64_t i) { return labels[static_cast<size_t>(i)]; }, grad, gw, observer);
}

double loss_gradient(const Mlp& net, std::span<const float> params, Loss loss, const float* x,
                     const int32_t* y, const float* targets, std::span<const int64_t> indices,
                     std::span<float> grad, GradientWorkspace& gw, RowObserver* observer) {
  const int64_t dim = net.spec.input_dim;
  if (targets) {
    IS_CHECK(loss == Loss::mse, "regression is trained with the mean squared error");
    const int64_t K = net.spec.outputs;
    return chunked_gradient(
        net, params, loss, static_cast<int64_t>(indices.size()),
        [&](int64_t i) { return x + indices[static_cast<size_t>(i)] * dim; },
        [&](int64_t i) { return targets + indices[static_cast<size_t>(i)] * K; }, grad, gw,
        observer);
  }
  return chunked_gradient(
      net, params, loss, static_cast<int64_t>(indices.size()),
      [&](int64_t i) { return x + indices[static_cast<size_t>(i)] * dim; },
      [&](int64_t i) { return y[indices[static_cast<size_t>(i)]]; }, grad, gw, observer);
}

}  // namespace initscope
