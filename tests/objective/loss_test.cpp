// The losses (objective/loss.hpp) at small examples worked out by hand, and their gradients
// against central differences in double. The whole-network checks through each loss are in
// tests/model/network_test.cpp and tests/objective/gradient_test.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "common/rng.hpp"
#include "objective/loss.hpp"

namespace initscope {
namespace {

TEST(Loss, HandComputedValues) {
  // Cross-entropy of logits (0, 0) is log 2; squared loss of one-hot on zeros is 1/K.
  const double f2[2] = {0.0, 0.0};
  EXPECT_NEAR(example_loss(Loss::ce, f2, 1, 2), std::log(2.0), 1e-12);
  const double f4[4] = {0, 0, 0, 0};
  EXPECT_NEAR(example_loss(Loss::mse, f4, 2, 4), 0.25, 1e-12);
  const double f1[1] = {0.5};
  EXPECT_NEAR(example_loss(Loss::mse, f1, 0, 1), 2.25, 1e-12);  // (0.5 − (−1))²
  EXPECT_NEAR(example_loss(Loss::logistic, f1, 1, 1), std::log1p(std::exp(-0.5)), 1e-12);
  const double big[1] = {-800.0};  // stable: log(1 + e^800) = 800
  EXPECT_NEAR(example_loss(Loss::logistic, big, 1, 1), 800.0, 1e-9);
  const double m3[3] = {1.0, 4.0, 2.5};
  EXPECT_DOUBLE_EQ(example_margin(m3, 1, 3), 1.5);
  EXPECT_DOUBLE_EQ(example_margin(m3, 0, 3), -3.0);
  EXPECT_FALSE(example_error(m3, 1, 3));
  EXPECT_TRUE(example_error(m3, 2, 3));
}

// Loss and gradient of each loss at one example, the numbers computed by hand (and checked
// with Python's math module): softmax(1, 2, 3) = e^{1,2,3}/(e + e² + e³).
TEST(Loss, HandComputedGradients) {
  double g[3];
  // ce, logits (1, 2, 3), label 0: log(e + e² + e³) − 1; gradient softmax − one-hot.
  const double f3[3] = {1.0, 2.0, 3.0};
  EXPECT_NEAR(example_loss(Loss::ce, f3, 0, 3), 2.40760596444438, 1e-13);
  example_loss_gradient(Loss::ce, g, f3, 0, 3, 1.0);
  EXPECT_NEAR(g[0], 0.09003057317038046 - 1.0, 1e-15);
  EXPECT_NEAR(g[1], 0.24472847105479767, 1e-15);
  EXPECT_NEAR(g[2], 0.6652409557748219, 1e-15);
  // ce, logits (0, 0), label 1, scale 1/2: (0.5, −0.5)/2.
  const double f2[2] = {0.0, 0.0};
  example_loss_gradient(Loss::ce, g, f2, 1, 2, 0.5);
  EXPECT_DOUBLE_EQ(g[0], 0.25);
  EXPECT_DOUBLE_EQ(g[1], -0.25);
  // mse, K = 3, logits (1, 2, 3), label 2: ((1)² + (2)² + (2)²)/3 = 3; gradient 2/3·(1, 2, 2).
  EXPECT_DOUBLE_EQ(example_loss(Loss::mse, f3, 2, 3), 3.0);
  example_loss_gradient(Loss::mse, g, f3, 2, 3, 1.0);
  EXPECT_DOUBLE_EQ(g[0], 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(g[1], 4.0 / 3.0);
  EXPECT_DOUBLE_EQ(g[2], 4.0 / 3.0);
  // mse, K = 1, f = 0.5, label 0 (t = −1): (1.5)² = 2.25; gradient 2·1.5 = 3.
  const double f1[1] = {0.5};
  example_loss_gradient(Loss::mse, g, f1, 0, 1, 1.0);
  EXPECT_DOUBLE_EQ(g[0], 3.0);
  // logistic, f = 0.5: label 1 (t = +1): log(1 + e^−0.5), gradient −σ(−0.5);
  // label 0 (t = −1): log(1 + e^0.5), gradient +σ(0.5).
  EXPECT_NEAR(example_loss(Loss::logistic, f1, 1, 1), 0.4740769841801067, 1e-15);
  example_loss_gradient(Loss::logistic, g, f1, 1, 1, 1.0);
  EXPECT_NEAR(g[0], -0.3775406687981454, 1e-15);
  EXPECT_NEAR(example_loss(Loss::logistic, f1, 0, 1), 0.9740769841801067, 1e-15);
  example_loss_gradient(Loss::logistic, g, f1, 0, 1, 1.0);
  EXPECT_NEAR(g[0], 0.6224593312018546, 1e-15);
}

TEST(Loss, BatchSumsLossesAndScalesGradients) {
  const double logits[4] = {0.5, -0.25, 2.0, 0.0};
  const int32_t y[4] = {1, 0, 0, 1};
  double dl[4], each[4];
  const double total = loss_forward_backward(Loss::logistic, dl, logits, y, 4, 1, 0.25, each);
  double sum = 0.0;
  for (int i = 0; i < 4; ++i) {
    EXPECT_DOUBLE_EQ(each[i], example_loss(Loss::logistic, logits + i, y[i], 1));
    double g;
    example_loss_gradient(Loss::logistic, &g, logits + i, y[i], 1, 0.25);
    EXPECT_DOUBLE_EQ(dl[i], g);
    sum += each[i];
  }
  EXPECT_DOUBLE_EQ(total, sum);
}

struct LossCase {
  Loss loss;
  int64_t K;
};

class LossGrad : public ::testing::TestWithParam<LossCase> {};

TEST_P(LossGrad, GradientMatchesFiniteDifferences) {
  const auto [loss, K] = GetParam();
  Rng r(3);
  for (int trial = 0; trial < 5; ++trial) {
    std::vector<double> f(static_cast<size_t>(K)), g(static_cast<size_t>(K));
    for (auto& v : f) v = 2.0 * r.normal();
    const auto y = static_cast<int32_t>(r.below(K == 1 ? 2 : static_cast<uint64_t>(K)));
    example_loss_gradient(loss, g.data(), f.data(), y, K, 1.0);
    for (size_t j = 0; j < f.size(); ++j) {
      const double keep = f[j], eps = 1e-6;
      f[j] = keep + eps;
      const double up = example_loss(loss, f.data(), y, K);
      f[j] = keep - eps;
      const double down = example_loss(loss, f.data(), y, K);
      f[j] = keep;
      EXPECT_NEAR(g[j], (up - down) / (2 * eps), 1e-8) << to_string(loss) << " j " << j;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(All, LossGrad,
                         ::testing::Values(LossCase{Loss::ce, 2}, LossCase{Loss::ce, 10},
                                           LossCase{Loss::mse, 1}, LossCase{Loss::mse, 10},
                                           LossCase{Loss::logistic, 1}));

// chance_loss against the mean loss of its constant output on labels drawn with those
// frequencies, and that output is the best constant: no nudge of any coordinate lowers it.
TEST(Loss, ChanceLossIsTheBestConstantOutputsLoss) {
  struct Case {
    Loss loss;
    std::vector<int32_t> labels;
    int64_t K;  // outputs
  };
  const std::vector<Case> cases = {
      {Loss::ce, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 10},  // balanced: ln 10
      {Loss::ce, {0, 0, 0, 1, 2, 2}, 3},
      {Loss::mse, {0, 0, 0, 1, 2, 2}, 3},
      {Loss::mse, {0, 1, 1, 1}, 1},
      {Loss::logistic, {0, 1, 1, 1}, 1}};
  for (const Case& c : cases) {
    const int64_t classes = std::max<int64_t>(c.K, 2);
    std::vector<double> freq(static_cast<size_t>(classes), 0.0);
    for (const int32_t y : c.labels) freq[static_cast<size_t>(y)] += 1.0 / c.labels.size();
    std::vector<double> f(static_cast<size_t>(c.K));
    for (int64_t j = 0; j < c.K; ++j) {
      const auto k = static_cast<size_t>(j);
      switch (c.loss) {
        case Loss::ce:
          f[k] = std::log(freq[k]);
          break;
        case Loss::mse:
          f[k] = c.K == 1 ? 2.0 * freq[1] - 1.0 : freq[k];
          break;
        case Loss::logistic:
          f[k] = std::log(freq[1] / freq[0]);
          break;
      }
    }
    const auto mean_loss = [&](const std::vector<double>& out) {
      double s = 0.0;
      for (const int32_t y : c.labels) s += example_loss(c.loss, out.data(), y, c.K);
      return s / static_cast<double>(c.labels.size());
    };
    const double chance = chance_loss(c.loss, freq, c.K);
    EXPECT_NEAR(mean_loss(f), chance, 1e-12) << to_string(c.loss) << " K=" << c.K;
    for (size_t k = 0; k < f.size(); ++k)
      for (const double d : {-1e-3, 1e-3}) {
        auto g = f;
        g[k] += d;
        EXPECT_GT(mean_loss(g), chance) << to_string(c.loss) << " output " << k;
      }
  }
  EXPECT_NEAR(chance_loss(Loss::ce, std::vector<double>(10, 0.1), 10), std::log(10.0), 1e-12);
}

TEST(Loss, NamesRoundTrip) {
  for (const Loss l : {Loss::ce, Loss::mse, Loss::logistic}) EXPECT_EQ(parse_loss(to_string(l)), l);
  EXPECT_THROW(parse_loss("hinge"), Error);
}

}  // namespace
}  // namespace initscope
