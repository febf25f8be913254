// Distance from initialization and the norm products on a network small enough to work out
// by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "measure/weights.hpp"

namespace initscope {
namespace {

TEST(Weights, HandComputedDistancesAndNorms) {
  // depth 2: W1 (2,2), b1 (2), W2 (1,2), b2 (1) → 9 parameters.
  const Mlp net = Mlp::make({.input_dim = 2, .width = 2, .depth = 2, .outputs = 1});
  ASSERT_EQ(net.num_params, 9u);
  //                  W1 (diag 3, 4)      b1       W2        b2
  std::vector<float> z = {3, 0, 0, 4, 0, 0, 1, 0, 0};
  std::vector<float> w = {3, 0, 0, 4, 1, 2, 1, 2, 2};
  const Metrics init = measure_init(net, z);
  EXPECT_NEAR(init.at("fro_z1"), 5.0, 1e-6);
  EXPECT_NEAR(init.at("spec_z1"), 4.0, 1e-4);
  EXPECT_NEAR(init.at("spec_z2"), 1.0, 1e-4);
  EXPECT_NEAR(init.at("prod_fro2_z"), 25.0 * 1.0, 1e-4);
  EXPECT_NEAR(init.at("spec_complexity_z"), 2.0 * 4.0 * 1.0, 1e-3);  // H^{d−1} = 2
  const Metrics m = measure_weights(net, w, z, init);
  EXPECT_NEAR(m.at("dist_w1"), 0.0, 1e-9);
  EXPECT_NEAR(m.at("dist_b1"), std::sqrt(5.0), 1e-6);
  EXPECT_NEAR(m.at("dist_w2"), 2.0, 1e-6);
  EXPECT_NEAR(m.at("dist_b2"), 2.0, 1e-6);
  EXPECT_NEAR(m.at("dist_init"), std::sqrt(5.0 + 4.0 + 4.0), 1e-6);
  EXPECT_NEAR(m.at("dist_init_w"), 2.0, 1e-6);
  EXPECT_NEAR(m.at("dist_init_b"), 3.0, 1e-6);
  EXPECT_NEAR(m.at("spec_w2"), std::sqrt(5.0), 1e-4);
  EXPECT_NEAR(m.at("spec_dw2"), 2.0, 1e-4);
  EXPECT_NEAR(m.at("prod_spec_w"), 4.0 * std::sqrt(5.0), 1e-3);
  const double r = std::sqrt(13.0);
  EXPECT_NEAR(m.at("prop62_bound"), (4.0 + r) * (1.0 + r), 1e-3);
  EXPECT_EQ(m.at("prop62_holds"), 1.0);
}

}  // namespace
}  // namespace initscope
