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

// siren (measures-reference.md §6.4): first layer in [−1/n, 1/n] (ω₀W in [−30/n, 30/n]),
// later layers in [−√(6/n)/ω₀, √(6/n)/ω₀] with variance within 5% of 2/(n·ω₀²) for n ≥ 256,
// the last layer too; biases nn.Linear's U(±1/√n). torch_default: U(±1/√n) for both.
TEST(Init, SirenAndTorchDefaultBoundsAndBiases) {
  const Mlp net = Mlp::make({.input_dim = 2,
                             .width = 256,
                             .depth = 4,
                             .outputs = 1,
                             .activation = Activation::sine,
                             .omega0_hidden = 30.0});
  std::vector<float> p(net.num_params);
  init_params(net, p, InitScheme::siren, 1.0, 42);
  for (size_t k = 0; k < net.layers.size(); ++k) {
    const auto& l = net.layers[k];
    const double n = static_cast<double>(l.in);
    const double bound = k == 0 ? 1.0 / n : std::sqrt(6.0 / n) / 30.0;
    const Stats w = stats(p.data() + l.w_offset, l.w_size());
    EXPECT_LE(w.max_abs, bound) << "layer " << k;
    EXPECT_GT(w.max_abs, 0.95 * bound) << "layer " << k;
    if (k > 0 && k + 1 < net.layers.size()) {
      EXPECT_NEAR(w.std * w.std, 2.0 / (n * 900.0), 0.05 * 2.0 / (n * 900.0)) << "layer " << k;
    }
    const Stats b = stats(p.data() + l.b_offset, static_cast<size_t>(l.out));
    EXPECT_LE(b.max_abs, 1.0 / std::sqrt(n)) << "layer " << k;
    if (l.out > 100) {
      EXPECT_GT(b.max_abs, 0.9 / std::sqrt(n)) << "layer " << k;
    }
  }
  // A first-layer gain scales only the first layer's weights.
  std::vector<float> q(net.num_params);
  init_params(net, q, InitScheme::siren, 1.0, 42, /*gain_first=*/2.0);
  for (size_t i = 0; i < net.num_params; ++i) {
    const bool first_w = i < net.layers[0].w_size();
    EXPECT_EQ(q[i], first_w ? 2.0f * p[i] : p[i]) << i;
  }

  const Mlp tnet = Mlp::make({.input_dim = 300, .width = 500, .depth = 3, .outputs = 10});
  std::vector<float> t(tnet.num_params);
  init_params(tnet, t, InitScheme::torch_default, 1.0, 42);
  for (const auto& l : tnet.layers) {
    const double a = 1.0 / std::sqrt(static_cast<double>(l.in));
    const Stats w = stats(t.data() + l.w_offset, l.w_size());
    EXPECT_LE(w.max_abs, a);
    EXPECT_NEAR(w.std, init_std(InitScheme::torch_default, 1.0, l.in, l.out), 0.03 * a);
    EXPECT_NEAR(w.std, a / std::sqrt(3.0), 0.03 * a);
    const Stats b = stats(t.data() + l.b_offset, static_cast<size_t>(l.out));
    EXPECT_LE(b.max_abs, a);
    EXPECT_GT(b.max_abs, 0.5 * a);
  }
}

// --init-gain-first leaves the draws alone and scales the first layer: the old schemes'
// streams are unchanged by the new argument.
TEST(Init, GainFirstScalesOnlyTheFirstLayer) {
  const Mlp net = Mlp::make({.input_dim = 20, .width = 16, .depth = 3, .outputs = 4});
  std::vector<float> a(net.num_params), b(net.num_params);
  init_params(net, a, InitScheme::xavier_normal, 1.5, 7);
  init_params(net, b, InitScheme::xavier_normal, 1.5, 7, /*gain_first=*/3.0);
  for (size_t i = 0; i < net.num_params; ++i) {
    const bool first_w = i < net.layers[0].w_size();
    EXPECT_FLOAT_EQ(b[i], first_w ? 2.0f * a[i] : a[i]) << i;
  }
}

}  // namespace
}  // namespace initscope
