// The chunked gradient of a loss over chosen rows (objective/gradient.hpp) against its oracle,
// the naive twins in double over all rows at once (mlp_forward_ref, loss_forward_backward,
// mlp_backward_ref), for every activation and loss; its independence of the chunk size; and
// that a call allocates nothing.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <new>
#include <numeric>
#include <string>
#include <vector>

#include "common/rng.hpp"
#include "objective/gradient.hpp"

#include "../common/count_allocations.hpp"  // this binary's operator new, counted

using initscope::testing::g_allocations;

namespace initscope {
namespace {

struct Problem {
  Mlp net;
  std::vector<float> params, x;  // x (pool, dim)
  std::vector<int32_t> y;        // (pool)
  std::vector<int64_t> rows;     // the chosen rows, in a shuffled order
};

// 700 chosen rows of a pool of 900: chunks of 256, 256 and 188 by default.
Problem make_problem(Activation act, int64_t outputs) {
  Problem p;
  p.net =
      Mlp::make({.input_dim = 21, .width = 19, .depth = 4, .outputs = outputs, .activation = act});
  p.params.resize(p.net.num_params);
  init_params(p.net, p.params, InitScheme::xavier_normal, 1.0, 7);
  Rng r(8);
  for (auto& v : p.params) v += 0.05f * static_cast<float>(r.normal());  // nonzero biases
  const int64_t pool = 900;
  p.x.resize(static_cast<size_t>(pool * 21));
  for (auto& v : p.x) v = static_cast<float>(r.normal());
  p.y.resize(static_cast<size_t>(pool));
  for (auto& v : p.y)
    v = static_cast<int32_t>(r.below(outputs == 1 ? 2 : static_cast<uint64_t>(outputs)));
  std::vector<int64_t> all(static_cast<size_t>(pool));
  std::iota(all.begin(), all.end(), int64_t{0});
  r.shuffle(std::span<int64_t>(all));
  p.rows.assign(all.begin(), all.begin() + 700);
  return p;
}

struct Case {
  Activation act;
  Loss loss;
  int64_t outputs;
};

class Gradient : public ::testing::TestWithParam<Case> {};

TEST_P(Gradient, MatchesTheReferenceTwinsInDouble) {
  const Case c = GetParam();
  const Problem p = make_problem(c.act, c.outputs);
  const auto n = static_cast<int64_t>(p.rows.size());
  GradientWorkspace gw = make_gradient_workspace(p.net);
  std::vector<float> grad(p.net.num_params);
  const double loss =
      loss_gradient(p.net, p.params, c.loss, p.x.data(), p.y.data(), nullptr, p.rows, grad, gw);

  // The oracle: every chosen row at once, in double.
  const int64_t dim = p.net.spec.input_dim, K = c.outputs;
  std::vector<double> xd(static_cast<size_t>(n * dim)), pd(p.params.begin(), p.params.end());
  std::vector<int32_t> yd(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t row = p.rows[static_cast<size_t>(i)];
    for (int64_t j = 0; j < dim; ++j)
      xd[static_cast<size_t>(i * dim + j)] = p.x[static_cast<size_t>(row * dim + j)];
    yd[static_cast<size_t>(i)] = p.y[static_cast<size_t>(row)];
  }
  const auto logits = mlp_forward_ref(p.net, pd.data(), xd.data(), n);
  std::vector<double> dlogits(logits.size());
  const double loss_ref =
      loss_forward_backward(c.loss, dlogits.data(), logits.data(), yd.data(), n, K, 1.0 / n) / n;
  const auto gref = mlp_backward_ref(p.net, pd.data(), xd.data(), dlogits.data(), n);

  double diff2 = 0.0, ref2 = 0.0;
  for (size_t j = 0; j < gref.size(); ++j) {
    diff2 += (grad[j] - gref[j]) * (grad[j] - gref[j]);
    ref2 += gref[j] * gref[j];
  }
  const double rel = std::sqrt(diff2 / ref2);
  EXPECT_LT(rel, 1e-5) << "relative error of the gradient";
  EXPECT_NEAR(loss, loss_ref, 1e-6 * std::max(1.0, loss_ref));
  std::printf("%s %s K=%lld: gradient relative error %.2e, loss %.9f vs %.9f\n",
              to_string(c.act).c_str(), to_string(c.loss).c_str(), static_cast<long long>(K), rel,
              loss, loss_ref);
}

TEST_P(Gradient, IndependentOfTheChunkSizeUpToFloatRounding) {
  const Case c = GetParam();
  const Problem p = make_problem(c.act, c.outputs);
  std::vector<std::vector<float>> grads;
  std::vector<double> losses;
  for (const int64_t chunk : {int64_t{700}, int64_t{256}, int64_t{64}, int64_t{33}}) {
    GradientWorkspace gw = make_gradient_workspace(p.net, chunk);
    grads.emplace_back(p.net.num_params);
    losses.push_back(loss_gradient(p.net, p.params, c.loss, p.x.data(), p.y.data(), nullptr, p.rows,
                                   grads.back(), gw));
  }
  for (size_t k = 1; k < grads.size(); ++k) {
    double diff2 = 0.0, ref2 = 0.0;
    for (size_t j = 0; j < grads[0].size(); ++j) {
      diff2 += (grads[k][j] - grads[0][j]) * (grads[k][j] - grads[0][j]);
      ref2 += static_cast<double>(grads[0][j]) * grads[0][j];
    }
    EXPECT_LT(std::sqrt(diff2 / ref2), 2e-6) << "chunking " << k;
    EXPECT_NEAR(losses[k], losses[0], 1e-6 * std::max(1.0, losses[0]));
  }
}

INSTANTIATE_TEST_SUITE_P(All, Gradient,
                         ::testing::Values(Case{Activation::relu, Loss::ce, 10},
                                           Case{Activation::relu, Loss::mse, 10},
                                           Case{Activation::relu, Loss::logistic, 1},
                                           Case{Activation::linear, Loss::ce, 10},
                                           Case{Activation::linear, Loss::mse, 1},
                                           Case{Activation::linear, Loss::logistic, 1},
                                           Case{Activation::tanh, Loss::ce, 10},
                                           Case{Activation::tanh, Loss::mse, 10},
                                           Case{Activation::tanh, Loss::logistic, 1}));

TEST(Gradient, RowPointersGiveTheIndexResultAndNoCallAllocates) {
  const Problem p = make_problem(Activation::tanh, 10);
  const long at_start = g_allocations.load();
  GradientWorkspace gw = make_gradient_workspace(p.net);
  EXPECT_GT(g_allocations.load() - at_start, 0) << "the counter counts nothing";
  std::vector<const float*> rows;
  std::vector<int32_t> labels;
  for (const int64_t r : p.rows) {
    rows.push_back(p.x.data() + r * p.net.spec.input_dim);
    labels.push_back(p.y[static_cast<size_t>(r)]);
  }
  std::vector<float> g1(p.net.num_params), g2(p.net.num_params);
  const double l1 =
      loss_gradient(p.net, p.params, Loss::ce, p.x.data(), p.y.data(), nullptr, p.rows, g1, gw);
  const float* logits_before = gw.ws.logits.data();
  const long before = g_allocations.load();
  const double l2 = loss_gradient(p.net, p.params, Loss::ce, rows, labels, g2, gw);
  const double l3 =
      loss_gradient(p.net, p.params, Loss::ce, p.x.data(), p.y.data(), nullptr, p.rows, g1, gw);
  EXPECT_EQ(g_allocations.load() - before, 0) << "loss_gradient allocated";
  EXPECT_EQ(gw.ws.logits.data(), logits_before);
  EXPECT_EQ(l1, l2);
  EXPECT_EQ(l1, l3);
  EXPECT_EQ(g1, g2);
}

}  // namespace
}  // namespace initscope
