// Full-batch gradient descent over the gradient path (gd.hpp).
#include "optim/gd.hpp"

#include "optim/optimizer.hpp"

namespace initscope {

GdState make_gd_state(const Mlp& net, int64_t chunk, int threads) {
  GdState s;
  s.gw = make_gradient_workspace(net, chunk, threads);
  s.grad.assign(net.num_params, 0.0f);
  return s;
}

double gd_step(const Mlp& net, std::span<float> params, std::span<float> momentum, Loss loss,
               const float* x, const int32_t* y, const float* targets,
               std::span<const int64_t> indices, float lr, float mu, GdState& state,
               RowObserver* observer) {
  const double mean_loss =
      loss_gradient(net, params, loss, x, y, targets, indices, state.grad, state.gw, observer);
  sgd_update(params, momentum, state.grad, lr, mu);
  return mean_loss;
}

}  // namespace initscope
