// Regression tasks end to end in the trainer: a signal1d fit whose MSE falls and meets mse<=X,
// the fused engine against the reference for sgd, adam and gd on real-valued targets, the
// psnr>=X criterion on an image-like task, and pretraining's two phases.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "data/dataset.hpp"
#include "train/trainer.hpp"

namespace initscope {
namespace {

PreparedData signal_data(int64_t n = 64, uint64_t seed = 3) {
  SignalSpec s;
  s.freqs = {0.5, 1};  // low: a small tanh net fits them in a few hundred steps
  s.n = n;
  s.test_grid = 256;
  s.seed = seed;
  TrainTest tt = make_signal1d(s);
  PreparedData p;
  p.train = std::move(tt.train);
  p.test = std::move(tt.test);
  p.outputs = 1;
  return p;
}

TrainConfig signal_config() {
  TrainConfig c;
  c.dataset = "signal1d";
  c.loss = Loss::mse;
  c.width = 32;
  c.depth = 3;
  c.activation = Activation::tanh;
  c.lr = 0.05;
  c.momentum = 0.9;
  c.batch = 16;
  c.max_epochs = 1000;
  c.seed = 7;
  return c;
}

float max_rel_diff(std::span<const float> a, std::span<const float> b) {
  float d = 0.0f, m = 0.0f;
  for (size_t i = 0; i < a.size(); ++i) {
    d = std::max(d, std::fabs(a[i] - b[i]));
    m = std::max(m, std::fabs(b[i]));
  }
  return d / m;
}

TEST(Regression, Signal1dTrainsToItsMseCriterionAndReportsMse) {
  const PreparedData d = signal_data();
  TrainConfig c = signal_config();
  c.stop = {"mse<=0.01"};
  Trainer t(c, d);
  const RunOutcome out = t.run();
  EXPECT_TRUE(out.converged) << out.stopped_by;
  EXPECT_EQ(out.stopped_by, "mse<=0.01");
  EXPECT_LE(out.metrics.at("train_mse"), 0.01);
  EXPECT_EQ(out.metrics.at("train_mse"), out.metrics.at("train_loss"));
  EXPECT_TRUE(std::isfinite(out.metrics.at("test_mse")));
  EXPECT_EQ(out.metrics.count("train_error"), 0u);  // no classes, no error
  EXPECT_EQ(out.metrics.count("margin_min"), 0u);
  EXPECT_EQ(out.metrics.count("train_psnr"), 0u);  // a signal has no fixed peak
  for (const auto& p : out.trajectory) EXPECT_NE(p.name, "train_error");
}

TEST(Regression, EvaluationIsTheMeanSquaredError) {
  const PreparedData d = signal_data(20);
  TrainConfig c = signal_config();
  Trainer t(c, d, Engine::reference);
  const Evaluation ev = t.evaluate(d.train, false);
  // The network's outputs, one row at a time, against the targets.
  double sse = 0.0;
  for (int64_t i = 0; i < d.train.n; ++i) {
    const auto f = mlp_forward_ref(t.net(), t.params().data(), d.train.row(i), 1);
    sse += (f[0] - d.train.targets[static_cast<size_t>(i)]) *
           (f[0] - d.train.targets[static_cast<size_t>(i)]);
  }
  EXPECT_NEAR(ev.mse, sse / static_cast<double>(d.train.n), 1e-6 * ev.mse);
  EXPECT_TRUE(ev.regression);
  EXPECT_TRUE(std::isnan(ev.error));
}

// The same seeded steps on both engines, for each optimizer, on real-valued targets.
TEST(Regression, FusedEngineMatchesTheReferenceForEveryOptimizer) {
  const PreparedData d = signal_data(300);
  for (const Optimizer opt : {Optimizer::sgd, Optimizer::adam, Optimizer::gd}) {
    TrainConfig c = signal_config();
    c.optimizer = opt;
    if (opt == Optimizer::adam) c.lr = 1e-3;
    if (opt == Optimizer::adam) c.momentum = TrainConfig{}.momentum;
    Trainer ref(c, d, Engine::reference), fused(c, d, Engine::fused);
    std::vector<int64_t> rows(16);
    std::iota(rows.begin(), rows.end(), int64_t{5});
    for (int s = 0; s < 20; ++s) {
      const double a = opt == Optimizer::gd ? ref.gd_step() : ref.minibatch_step(rows);
      const double b = opt == Optimizer::gd ? fused.gd_step() : fused.minibatch_step(rows);
      EXPECT_NEAR(b, a, 1e-5 * std::max(1.0, a)) << to_string(opt) << " step " << s;
    }
    EXPECT_LT(max_rel_diff(fused.params(), ref.params()), 1e-5f) << to_string(opt);
  }
}

// An image-like task: targets in [−1, 1] with psnr_range 2. psnr>=X stops exactly when the
// training MSE reaches 4·10^(−X/10), and the metrics hold the PSNR of the MSE.
TEST(Regression, PsnrCriterionIsTheMseBoundItImplies) {
  GrayImage img;
  img.rows = img.cols = 16;
  for (int64_t r = 0; r < 16; ++r)
    for (int64_t col = 0; col < 16; ++col)
      img.pixels.push_back(static_cast<float>(0.5 + 0.4 * std::sin(0.4 * r) * std::cos(0.3 * col)));
  TrainTest tt = image_task(img, 2);
  PreparedData d;
  d.train = std::move(tt.train);
  d.test = std::move(tt.test);
  d.outputs = 1;
  TrainConfig c = signal_config();
  c.dataset = "image:test";
  c.stop = {"psnr>=25"};
  c.max_epochs = 2000;
  Trainer t(c, d);
  const RunOutcome out = t.run();
  ASSERT_TRUE(out.converged) << out.stopped_by;
  const double mse = out.metrics.at("train_mse");
  EXPECT_LE(mse, 4.0 * std::pow(10.0, -2.5));
  EXPECT_NEAR(out.metrics.at("train_psnr"), 10.0 * std::log10(4.0 / mse), 1e-9);
  EXPECT_GE(out.metrics.at("train_psnr"), 25.0);
  EXPECT_TRUE(std::isfinite(out.metrics.at("test_psnr")));
}

TEST(Regression, PretrainingStoresBothPhasesAndBothDistances) {
  const PreparedData d = signal_data();
  TrainConfig c = signal_config();
  c.stop = {"mse<=0.02"};
  c.pretrain = Pretrain::noise_targets;
  c.pretrain_stop = {"mse<=0.05"};
  c.max_epochs = 400;
  c.measure_every = 50;
  const PretrainedRun r = run_pretrained(c, d);
  const Metrics& m = r.out.metrics;
  ASSERT_EQ(r.out.status, RunStatus::completed) << r.out.error;
  EXPECT_GT(m.at("pretrain_steps"), 0.0);
  // dist_init from the random init, dist_pretrain from the pretrained weights, and the
  // triangle between them.
  double d_init = 0, d_pre = 0, moved = 0;
  for (size_t i = 0; i < r.init.size(); ++i) {
    d_init += std::pow(double(r.final_params[i]) - r.init[i], 2);
    d_pre += std::pow(double(r.final_params[i]) - r.pretrained[i], 2);
    moved += std::pow(double(r.pretrained[i]) - r.init[i], 2);
  }
  EXPECT_NEAR(m.at("dist_init"), std::sqrt(d_init), 1e-6 * std::sqrt(d_init));
  EXPECT_NEAR(m.at("dist_pretrain"), std::sqrt(d_pre), 1e-6 * std::sqrt(d_pre));
  EXPECT_NEAR(m.at("pretrain_dist_init"), std::sqrt(moved), 1e-6 * std::sqrt(moved));
  EXPECT_GT(std::sqrt(moved), 0.0);
  // The trajectory: phase 1's points first, prefixed, then phase 2's, steps increasing.
  bool seen_second = false;
  int64_t last_step = -1;
  int first_points = 0;
  for (const auto& p : r.out.trajectory) {
    const bool first = p.name.rfind("pretrain_", 0) == 0;
    if (first) {
      EXPECT_FALSE(seen_second) << p.name;
      ++first_points;
    } else {
      seen_second = true;
    }
    EXPECT_GE(p.step, last_step);
    last_step = p.step;
  }
  EXPECT_GT(first_points, 0);
  EXPECT_TRUE(seen_second);
  // Phase 1 trained on noise: the pretraining data are not the task's.
  const PreparedData pre = pretrain_data(c, d);
  EXPECT_EQ(pre.train.x, d.train.x);
  EXPECT_NE(pre.train.targets, d.train.targets);
  EXPECT_EQ(pre.test.targets, d.test.targets);
}

TEST(Regression, PretrainDataCorruptsWhatItsKindSays) {
  PreparedData d = signal_data(500);
  TrainConfig c = signal_config();
  c.pretrain = Pretrain::noise_inputs;
  const PreparedData p = pretrain_data(c, d);
  EXPECT_NE(p.train.x, d.train.x);
  EXPECT_NE(p.train.targets, d.train.targets);
  for (const float x : p.train.x) EXPECT_TRUE(x >= -1.0f && x <= 1.0f);
  // Noise targets keep the targets' mean and spread (within sampling error at n = 500).
  const auto sd = [](const std::vector<float>& v) {
    double m = 0, s = 0;
    for (float x : v) m += x;
    m /= static_cast<double>(v.size());
    for (float x : v) s += (x - m) * (x - m);
    return std::sqrt(s / static_cast<double>(v.size()));
  };
  EXPECT_NEAR(sd(p.train.targets), sd(d.train.targets), 0.1 * sd(d.train.targets));
  // Seeded: the same corruption twice.
  EXPECT_EQ(pretrain_data(c, d).train.targets, p.train.targets);
}

}  // namespace
}  // namespace initscope
