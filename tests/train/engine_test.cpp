// The fused training engine against the naive reference engine over 200 seeded SGD steps:
// the same per-step losses and the same final weights, within float tolerance, on every kernel
// path this CPU can run. Sizes are deliberately not multiples of any vector width.
// The problem is chosen to be well conditioned: with lr 0.05 on noisier data, SGD amplifies
// rounding differences exponentially (two correct float implementations part ways after
// ~100 steps), which would test the dynamics, not the engine.
#include <gtest/gtest.h>

#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <numeric>
#include <string>
#include <vector>

#include "model/cpu.hpp"
#include "model/kernels.hpp"
#include "toy.hpp"

#include "../common/count_allocations.hpp"  // this binary's operator new, counted

using initscope::testing::g_allocations;

namespace initscope {
namespace {

struct Steps {
  std::vector<double> losses;
  std::vector<float> params;
};

// 200 steps of batch 64 over a fixed, seeded sequence of shuffled epochs.
Steps train_200(const TrainConfig& c, const PreparedData& d, Engine engine) {
  Trainer t(c, d, engine);
  std::vector<int64_t> order(static_cast<size_t>(d.train.n));
  std::iota(order.begin(), order.end(), int64_t{0});
  Rng rng(99);
  Steps out;
  size_t pos = order.size();
  for (int s = 0; s < 200; ++s) {
    if (pos + 64 > order.size()) {
      rng.shuffle(std::span<int64_t>(order));
      pos = 0;
    }
    out.losses.push_back(t.sgd_step(std::span<const int64_t>(order).subspan(pos, 64)));
    pos += 64;
  }
  out.params.assign(t.params().begin(), t.params().end());
  return out;
}

class EngineAgreement : public ::testing::TestWithParam<KernelIsa> {
 protected:
  void SetUp() override {
    if (!set_kernel_isa(GetParam())) GTEST_SKIP() << "CPU cannot run " << to_string(GetParam());
    openblas_set_num_threads(1);
  }
  void TearDown() override { set_kernel_isa(best_kernel_isa()); }
};

// 200 steps of a 5-layer network of this activation on the fused engine against the reference
// engine: the losses step by step within 1e-5 relative, and the final weights within 1e-5 of
// the largest. Returns the largest weight difference over the largest weight.
double expect_engines_agree(Activation activation) {
  PreparedData d;
  d.train = testing::blobs(1000, 100, 10, 5, 2.0);
  d.test = testing::blobs(100, 100, 10, 6, 2.0);
  d.outputs = 10;
  TrainConfig c = testing::toy_config();
  c.activation = activation;
  c.width = 70;
  c.depth = 5;
  c.batch = 64;
  c.lr = 0.02;
  c.momentum = 0.9;
  c.seed = 11;
  const Steps ref = train_200(c, d, Engine::reference);
  const Steps fused = train_200(c, d, Engine::fused);
  EXPECT_EQ(ref.losses.size(), fused.losses.size());
  for (size_t s = 0; s < std::min(ref.losses.size(), fused.losses.size()); ++s)
    EXPECT_NEAR(fused.losses[s], ref.losses[s], 1e-5 * std::max(1.0, ref.losses[s]))
        << "step " << s;
  EXPECT_LT(ref.losses.back(), 0.01 * ref.losses.front());  // it did learn
  float max_diff = 0.0f, max_abs = 0.0f;
  for (size_t i = 0; i < ref.params.size(); ++i) {
    max_diff = std::max(max_diff, std::fabs(fused.params[i] - ref.params[i]));
    max_abs = std::max(max_abs, std::fabs(ref.params[i]));
  }
  EXPECT_LT(max_diff, 1e-5f * max_abs) << "largest weight " << max_abs;
  return static_cast<double>(max_diff / max_abs);
}

TEST_P(EngineAgreement, TwoHundredStepsMatchTheReference) {
  // Measured: 1.8e-7 on AVX-512, AVX2 and generic alike (a few float ulps of the largest weight).
  expect_engines_agree(Activation::relu);
}

// The same for a tanh network: the fused forward's SIMD tanh and the backward's 1 − post²
// against std::tanh and 1 − tanh(pre)² in the reference engine.
TEST_P(EngineAgreement, TanhTwoHundredStepsMatchTheReference) {
  const double worst = expect_engines_agree(Activation::tanh);
  std::printf("tanh, %s: largest weight difference %.2e of the largest weight\n",
              to_string(GetParam()), worst);
}

// Adam: the fused engine's forward, plain backward and adam_update against the naive twins
// and adam_update_ref, 200 steps.
TEST_P(EngineAgreement, AdamTwoHundredStepsMatchTheReference) {
  PreparedData d;
  d.train = testing::blobs(1000, 100, 10, 5, 2.0);
  d.test = testing::blobs(100, 100, 10, 6, 2.0);
  d.outputs = 10;
  TrainConfig c = testing::toy_config();
  c.optimizer = Optimizer::adam;
  c.width = 70;
  c.depth = 5;
  c.batch = 64;
  c.lr = 1e-3;
  c.seed = 11;
  const auto train = [&](Engine e) {
    Trainer t(c, d, e);
    Rng rng(99);
    std::vector<int64_t> order(static_cast<size_t>(d.train.n));
    std::iota(order.begin(), order.end(), int64_t{0});
    Steps out;
    size_t pos = order.size();
    for (int s = 0; s < 200; ++s) {
      if (pos + 64 > order.size()) {
        rng.shuffle(std::span<int64_t>(order));
        pos = 0;
      }
      out.losses.push_back(t.adam_step(std::span<const int64_t>(order).subspan(pos, 64)));
      pos += 64;
    }
    out.params.assign(t.params().begin(), t.params().end());
    return out;
  };
  const Steps ref = train(Engine::reference), fused = train(Engine::fused);
  for (size_t s = 0; s < ref.losses.size(); ++s)
    EXPECT_NEAR(fused.losses[s], ref.losses[s], 1e-5 * std::max(1.0, ref.losses[s]))
        << "step " << s;
  EXPECT_LT(ref.losses.back(), 0.01 * ref.losses.front());  // it did learn
  float max_diff = 0.0f, max_abs = 0.0f;
  for (size_t i = 0; i < ref.params.size(); ++i) {
    max_diff = std::max(max_diff, std::fabs(fused.params[i] - ref.params[i]));
    max_abs = std::max(max_abs, std::fabs(ref.params[i]));
  }
  EXPECT_LT(max_diff, 1e-5f * max_abs) << "largest weight " << max_abs;
  std::printf("adam, %s: largest weight difference %.2e of the largest weight\n",
              to_string(GetParam()), static_cast<double>(max_diff / max_abs));
}

// Full-batch gd: loss_gradient in chunks against the naive twins over all rows at once (in
// double), with momentum: 50 steps of a tanh network, and 10 of a ReLU one. Over 50 ReLU steps
// the engines part ways on this problem by chance (measured at lr 0.05, μ 0.9: the AVX engines
// 1e-2 from the reference and the generic one 5e-7; at lr 0.01 the other way round), though
// each gradient is within 2e-7 of its double oracle on every ISA (objective_test): a ReLU kink
// that rounding puts on one side in one engine and on the other in the other, amplified by
// full-batch steps; that tests the dynamics, not the engine.
TEST_P(EngineAgreement, GdStepsMatchTheReference) {
  PreparedData d;
  d.train = testing::blobs(700, 100, 10, 5, 2.0);  // chunks of 256, 256 and 188
  d.test = testing::blobs(100, 100, 10, 6, 2.0);
  d.outputs = 10;
  for (const Activation act : {Activation::tanh, Activation::relu}) {
    TrainConfig c = testing::toy_config();
    c.optimizer = Optimizer::gd;
    c.batch = TrainConfig{}.batch;
    c.activation = act;
    c.width = 70;
    c.depth = 5;
    c.lr = 0.05;
    c.momentum = 0.9;
    c.seed = 11;
    const int steps = act == Activation::tanh ? 50 : 10;
    Trainer ref(c, d, Engine::reference), fused(c, d, Engine::fused);
    std::vector<double> lr_, lf;
    for (int s = 0; s < steps; ++s) {
      lr_.push_back(ref.gd_step());
      lf.push_back(fused.gd_step());
      EXPECT_NEAR(lf.back(), lr_.back(), 1e-5 * std::max(1.0, lr_.back()))
          << to_string(act) << " step " << s;
    }
    if (act == Activation::tanh) {
      EXPECT_LT(lr_.back(), 0.5 * lr_.front());  // it did learn
    }
    float max_diff = 0.0f, max_abs = 0.0f;
    for (size_t i = 0; i < ref.params().size(); ++i) {
      max_diff = std::max(max_diff, std::fabs(fused.params()[i] - ref.params()[i]));
      max_abs = std::max(max_abs, std::fabs(ref.params()[i]));
    }
    EXPECT_LT(max_diff, 1e-5f * max_abs) << to_string(act) << ", largest weight " << max_abs;
    std::printf("gd %s, %d steps, %s: largest weight difference %.2e of the largest weight\n",
                to_string(act).c_str(), steps, to_string(GetParam()),
                static_cast<double>(max_diff / max_abs));
  }
}

std::string isa_name(const ::testing::TestParamInfo<KernelIsa>& p) {
  return to_string(p.param);
}

INSTANTIATE_TEST_SUITE_P(Isa, EngineAgreement,
                         ::testing::Values(KernelIsa::generic, KernelIsa::avx2, KernelIsa::avx512),
                         isa_name);

TEST(FusedStep, AllocatesNothing) {
  PreparedData d;
  d.train = testing::blobs(500, 100, 10, 5, 2.0);
  d.test = testing::blobs(50, 100, 10, 6, 2.0);
  d.outputs = 10;
  TrainConfig c = testing::toy_config();
  c.width = 70;
  c.batch = 64;
  std::vector<int64_t> rows(64);
  std::iota(rows.begin(), rows.end(), int64_t{100});
  for (const Engine e : {Engine::fused, Engine::reference}) {
    Trainer t(c, d, e);
    t.sgd_step(rows);
    const long before = g_allocations.load();
    for (int i = 0; i < 5; ++i) t.sgd_step(rows);
    if (e == Engine::fused)
      EXPECT_EQ(g_allocations.load() - before, 0) << "the fused step allocated";
    else
      EXPECT_GT(g_allocations.load() - before, 0) << "the counter counts nothing";
  }
}

// Adam's and gd's steps allocate nothing either.
TEST(FusedStep, AdamAndGdAllocateNothing) {
  PreparedData d;
  d.train = testing::blobs(500, 100, 10, 5, 2.0);
  d.test = testing::blobs(50, 100, 10, 6, 2.0);
  d.outputs = 10;
  TrainConfig c = testing::toy_config();
  c.width = 70;
  c.batch = 64;
  std::vector<int64_t> rows(64);
  std::iota(rows.begin(), rows.end(), int64_t{100});
  c.optimizer = Optimizer::adam;
  Trainer adam(c, d);
  adam.adam_step(rows);
  long before = g_allocations.load();
  for (int i = 0; i < 5; ++i) adam.adam_step(rows);
  EXPECT_EQ(g_allocations.load() - before, 0) << "the Adam step allocated";
  c.optimizer = Optimizer::gd;
  Trainer gd(c, d);
  gd.gd_step();
  before = g_allocations.load();
  for (int i = 0; i < 3; ++i) gd.gd_step();
  EXPECT_EQ(g_allocations.load() - before, 0) << "the gd step allocated";
}

// A whole run (stopping criterion checked on the whole training set each epoch) gives the same
// trajectory with both engines.
TEST(EngineAgreement, WholeRunTrajectoryMatches) {
  auto c = testing::toy_config();
  c.max_epochs = 8;
  c.stop = {"margin:3:0.9"};
  const auto d = testing::toy_data();
  Trainer a(c, d, Engine::fused), b(c, d, Engine::reference);
  const auto oa = a.run(), ob = b.run();
  EXPECT_EQ(oa.stopped_by, ob.stopped_by);
  ASSERT_EQ(oa.trajectory.size(), ob.trajectory.size());
  for (size_t i = 0; i < oa.trajectory.size(); ++i)
    EXPECT_NEAR(oa.trajectory[i].value, ob.trajectory[i].value,
                1e-4 * std::max(1.0, std::fabs(ob.trajectory[i].value)))
        << oa.trajectory[i].name << " at epoch " << oa.trajectory[i].epoch;
}

// The same for whole Adam and gd runs.
TEST(EngineAgreement, WholeAdamAndGdRunTrajectoriesMatch) {
  for (const Optimizer o : {Optimizer::adam, Optimizer::gd}) {
    auto c = testing::toy_config();
    c.optimizer = o;
    c.lr = o == Optimizer::adam ? 0.01 : 0.2;
    c.batch = o == Optimizer::adam ? 16 : TrainConfig{}.batch;
    c.max_epochs = o == Optimizer::adam ? 8 : 30;
    c.stop = {"margin:3:0.9"};
    const auto d = testing::toy_data();
    Trainer a(c, d, Engine::fused), b(c, d, Engine::reference);
    const auto oa = a.run(), ob = b.run();
    EXPECT_EQ(oa.stopped_by, ob.stopped_by) << to_string(o);
    ASSERT_EQ(oa.trajectory.size(), ob.trajectory.size()) << to_string(o);
    for (size_t i = 0; i < oa.trajectory.size(); ++i)
      EXPECT_NEAR(oa.trajectory[i].value, ob.trajectory[i].value,
                  1e-4 * std::max(1.0, std::fabs(ob.trajectory[i].value)))
          << to_string(o) << " " << oa.trajectory[i].name << " at epoch " << oa.trajectory[i].epoch;
  }
}

// Two threads per run give the one-thread run bit for bit (kernels.cpp cuts the work at tile
// boundaries), so `threads` is rightly left out of the config hash.
TEST(EngineThreads, TwoThreadsGiveTheSameRunBitForBit) {
  const int64_t old = set_parallel_min_weights(0);  // split even the toy's small layers
  auto c = testing::toy_config();
  c.max_epochs = 4;
  c.stop = {"margin:3:0.9"};
  const auto d = testing::toy_data();
  auto c2 = c;
  c2.threads = 2;
  Trainer a(c, d), b(c2, d);
  const auto oa = a.run(), ob = b.run();
  set_parallel_min_weights(old);
  EXPECT_EQ(oa.stopped_by, ob.stopped_by);
  ASSERT_EQ(oa.trajectory.size(), ob.trajectory.size());
  for (size_t i = 0; i < oa.trajectory.size(); ++i)
    EXPECT_EQ(oa.trajectory[i].value, ob.trajectory[i].value)
        << oa.trajectory[i].name << " at epoch " << oa.trajectory[i].epoch;
  EXPECT_TRUE(
      std::equal(a.params().begin(), a.params().end(), b.params().begin(), b.params().end()));
}

}  // namespace
}  // namespace initscope
