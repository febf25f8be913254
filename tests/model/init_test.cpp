// Initialization statistics and seeded reproducibility.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include <cstring>
#include "common/error.hpp"
#include "model/mlp.hpp"

namespace initscope {
namespace {

struct Stats {
  double mean = 0, std = 0, max_abs = 0;
};

Stats stats(const float* v, size_t n) {
  Stats s;
  double sum = 0, sq = 0;
  for (size_t i = 0; i < n; ++i) {
    sum += v[i];
    sq += static_cast<double>(v[i]) * v[i];
    s.max_abs = std::max(s.max_abs, std::fabs(static_cast<double>(v[i])));
  }
  s.mean = sum / static_cast<double>(n);
  s.std = std::sqrt(sq / static_cast<double>(n) - s.mean * s.mean);
  return s;
}

TEST(Init, LayoutFollowsPyTorch) {
  const Mlp net = Mlp::make({.input_dim = 784, .width = 64, .depth = 5, .outputs = 10});
  ASSERT_EQ(net.depth(), 5);
  EXPECT_EQ(net.layers[0].in, 784);
  EXPECT_EQ(net.layers[0].out, 64);
  EXPECT_EQ(net.layers[4].in, 64);
  EXPECT_EQ(net.layers[4].out, 10);
  EXPECT_EQ(net.layers[0].b_offset, 784u * 64u);
  EXPECT_EQ(net.num_params, 784u * 64 + 64 + 3 * (64 * 64 + 64) + 64 * 10 + 10);
}

class InitStats : public ::testing::TestWithParam<InitScheme> {};

TEST_P(InitStats, MatchesTheSchemesStandardDeviation) {
  const InitScheme scheme = GetParam();
  const Mlp net = Mlp::make({.input_dim = 300, .width = 500, .depth = 3, .outputs = 10});
  std::vector<float> p(net.num_params);
  const double gain = 1.5;
  init_params(net, p, scheme, gain, 42);
  for (const auto& l : net.layers) {
    const Stats s = stats(p.data() + l.w_offset, l.w_size());
    const double want = init_std(scheme, gain, l.in, l.out);
    const double n = static_cast<double>(l.w_size());
    EXPECT_NEAR(s.mean, 0.0, 5 * want / std::sqrt(n));
    EXPECT_NEAR(s.std, want, 0.03 * want) << "layer " << l.in << "x" << l.out;
    if (scheme == InitScheme::xavier_uniform) {
      EXPECT_LE(s.max_abs, want * std::sqrt(3.0));
    }
    for (int64_t i = 0; i < l.out; ++i) EXPECT_EQ(p[l.b_offset + static_cast<size_t>(i)], 0.0f);
  }
  // Xavier normal's formula, spelled out once.
  EXPECT_DOUBLE_EQ(init_std(InitScheme::xavier_normal, 1.0, 784, 256),
                   std::sqrt(2.0 / (784 + 256)));
}

INSTANTIATE_TEST_SUITE_P(All, InitStats,
                         ::testing::Values(InitScheme::xavier_normal, InitScheme::xavier_uniform,
                                           InitScheme::he_normal, InitScheme::lecun_normal));

TEST(Init, SameSeedSameBitsOtherSeedOtherBits) {
  const Mlp net = Mlp::make({.input_dim = 20, .width = 16, .depth = 3, .outputs = 4});
  std::vector<float> a(net.num_params), b(net.num_params), c(net.num_params);
  init_params(net, a, InitScheme::xavier_normal, 1.0, 7);
  init_params(net, b, InitScheme::xavier_normal, 1.0, 7);
  init_params(net, c, InitScheme::xavier_normal, 1.0, 8);
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float)));
  EXPECT_NE(0, std::memcmp(a.data(), c.data(), a.size() * sizeof(float)));
}

TEST(Init, RejectsBadSpecs) {
  EXPECT_THROW(Mlp::make({.input_dim = 4, .width = 0, .depth = 3, .outputs = 2}), Error);
  EXPECT_THROW(Mlp::make({.input_dim = 4, .width = 3, .depth = 0, .outputs = 2}), Error);
  EXPECT_THROW(parse_init("glorot"), Error);
  EXPECT_THROW(parse_activation("sinus"), Error);
}

}  // namespace
}  // namespace initscope
