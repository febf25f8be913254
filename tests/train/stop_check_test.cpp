// The stopping check that stops evaluating once its decision is known: its bounds on each
// criterion, and whole runs with train_eval = early against full (the same run, bit for bit).
#include <gtest/gtest.h>

#include <cstring>
#include <numeric>

#include "toy.hpp"
#include "train/stop_check.hpp"

namespace initscope {
namespace {

StopCheck make(std::vector<std::string> texts, int64_t n, double initial_loss = 1.0) {
  std::vector<StopCriterion> cs;
  for (const auto& t : texts) cs.push_back(parse_stop(t));
  StopCheck c(cs, n);
  c.begin(initial_loss);
  return c;
}

TEST(StopCheck, MarginIsDecidedOnceTooManyMiss) {
  // margin:1:0.8 over 10 examples allows 2 misses.
  auto c = make({"margin:1:0.8"}, 10);
  c.add(0, 0.1, 0.5, false);
  c.add(1, 0.1, 0.5, false);
  EXPECT_FALSE(c.certainly_unmet());
  EXPECT_DOUBLE_EQ(c.value(0), 0.8);  // the best still reachable
  c.add(2, 0.1, 0.99, false);
  EXPECT_TRUE(c.certainly_unmet());
}

TEST(StopCheck, NanMarginIsAMiss) {
  auto c = make({"margin:1:0.5"}, 2);
  c.add(0, 0.1, NAN, false);
  c.add(1, 0.1, 2.0, false);
  EXPECT_TRUE(c.complete());
  EXPECT_TRUE(c.met(0));  // 1 of 2 ≥ 0.5
  auto d = make({"margin:1:0.6"}, 2);
  d.add(0, 0.1, NAN, false);
  EXPECT_TRUE(d.certainly_unmet());
}

TEST(StopCheck, LossIsDecidedWhenThePartialSumExceedsTheBound) {
  auto c = make({"loss<=0.5"}, 4);
  c.add(3, 1.0, 0.0, false);  // 1/4 so far: could still end at 0.25
  EXPECT_FALSE(c.certainly_unmet());
  c.add(0, 1.5, 0.0, false);  // 2.5/4 = 0.625 > 0.5 whatever comes
  EXPECT_TRUE(c.certainly_unmet());
}

TEST(StopCheck, ExactlyAtTheLossBoundIsNotDecided) {
  auto c = make({"loss<=0.5"}, 2);
  c.add(1, 1.0, 0.0, false);  // 0.5: met if the other example has loss 0
  EXPECT_FALSE(c.certainly_unmet());
  c.add(0, 0.0, 0.0, false);
  EXPECT_TRUE(c.met(0));
}

TEST(StopCheck, RelativeLossWaitsForTheInitialLoss) {
  auto c = make({"loss<=0.1*initial"}, 2, NAN);
  c.add(0, 100.0, 0.0, false);
  EXPECT_FALSE(c.certainly_unmet());
  auto d = make({"loss<=0.1*initial"}, 2, 2.0);
  d.add(0, 1.0, 0.0, false);  // 0.5 > 0.2
  EXPECT_TRUE(d.certainly_unmet());
}

TEST(StopCheck, TrainError) {
  auto c = make({"train_error<=0.25"}, 4);
  c.add(0, 0.0, 0.0, true);
  EXPECT_FALSE(c.certainly_unmet());
  c.add(1, 0.0, 0.0, true);
  EXPECT_TRUE(c.certainly_unmet());
}

TEST(StopCheck, DecidedOnlyWhenEveryCriterionIs) {
  auto c = make({"loss<=0.1", "margin:1:0.5"}, 5);
  c.add(0, 5.0, 2.0, false);  // the loss is decided (≥ 1), the margin is not
  c.add(1, 0.0, 0.0, false);
  c.add(2, 0.0, 0.0, false);
  EXPECT_FALSE(c.certainly_unmet());  // 3 of 5 could still have margin ≥ 1
  c.add(3, 0.0, 0.0, false);
  EXPECT_TRUE(c.certainly_unmet());
  EXPECT_FALSE(c.complete());
}

TEST(StopCheck, FewestToDecideCountsTheMissesStillNeeded) {
  // margin:1:0.8 over 10 examples allows 2 misses: 3 decide it.
  auto c = make({"margin:1:0.8"}, 10);
  EXPECT_EQ(c.fewest_to_decide(), 3);
  c.add(0, 0.1, 0.5, false);  // a miss
  c.add(1, 0.1, 2.0, false);  // a hit
  EXPECT_EQ(c.fewest_to_decide(), 2);
  c.add(2, 0.1, 0.5, false);
  c.add(3, 0.1, 0.5, false);
  EXPECT_TRUE(c.certainly_unmet());
  EXPECT_EQ(c.fewest_to_decide(), 0);
  // Every criterion must be decided: the larger need counts; a loss criterion makes it unknown.
  auto both = make({"margin:1:0.8", "train_error<=0.5"}, 10);
  EXPECT_EQ(both.fewest_to_decide(), 6);
  EXPECT_EQ(make({"margin:1:0.8", "loss<=0.1"}, 10).fewest_to_decide(), 0);
  // q = 0.99 over 4096 allows 40 misses.
  EXPECT_EQ(make({"margin:10:0.99"}, 4096).fewest_to_decide(), 41);
}

TEST(StopCheck, LossIsSummedInRowOrderWhateverTheArrivalOrder) {
  const int64_t n = 1000;
  std::vector<double> loss(n);
  Rng r(5);
  for (auto& l : loss) l = std::exp(8 * r.normal());  // wide range: order changes the rounding
  auto c = make({"loss<=1e-9"}, n);
  for (int64_t i = n - 1; i >= 0; --i) c.add(i, loss[static_cast<size_t>(i)], 0.0, false);
  ASSERT_TRUE(c.complete());
  const double in_order = std::accumulate(loss.begin(), loss.end(), 0.0) / double(n);
  EXPECT_EQ(c.loss(), in_order);
}

// A toy large enough for the check to stop after its first chunk (256 rows).
PreparedData big_toy() {
  PreparedData p;
  p.train = testing::blobs(3000, 8, 3, 1, 0.6);
  p.test = testing::blobs(300, 8, 3, 2, 0.6);
  p.outputs = 3;
  return p;
}

void expect_same_run(const std::string& stop) {
  auto c = testing::toy_config();
  c.stop = {stop};
  c.lr = 0.002;
  c.batch = 64;
  c.max_epochs = 100;
  const auto d = big_toy();
  auto cf = c;
  cf.train_eval = TrainEval::full;
  Trainer early(c, d), full(cf, d);
  const auto oe = early.run(), of = full.run();
  ASSERT_EQ(of.status, RunStatus::completed);
  EXPECT_TRUE(of.converged) << "the toy should reach " << stop;
  EXPECT_GT(of.metrics.at("epochs"), 2);
  EXPECT_EQ(oe.stopped_by, of.stopped_by);
  EXPECT_EQ(oe.metrics.at("epochs"), of.metrics.at("epochs"));
  EXPECT_TRUE(std::equal(early.params().begin(), early.params().end(), full.params().begin(),
                         full.params().end()))
      << "early and full checks must give the same run";
  EXPECT_EQ(of.metrics.at("check_rows_fraction"), 1.0);
  EXPECT_LT(oe.metrics.at("check_rows_fraction"), 0.6) << "the early check saved nothing";
  // The full check records the exact train loss every epoch, the early one where it was exact.
  const auto count = [](const RunOutcome& o, const char* name) {
    return std::count_if(o.trajectory.begin(), o.trajectory.end(),
                         [&](const TrajectoryPoint& p) { return p.name == name; });
  };
  const auto epochs = static_cast<long>(of.metrics.at("epochs"));
  EXPECT_EQ(count(of, "train_loss"), epochs + 1);
  EXPECT_LT(count(oe, "train_loss"), epochs + 1);
  EXPECT_GE(count(oe, "train_loss"), 2);  // epoch 0 and the last
  EXPECT_EQ(count(oe, "epoch_loss"), epochs);
}

TEST(EarlyCheck, MarginRunIsTheFullRun) {
  expect_same_run("margin:3:0.95");
}
TEST(EarlyCheck, LossRunIsTheFullRun) {
  expect_same_run("loss<=0.02");
}
TEST(EarlyCheck, RelativeLossRunIsTheFullRun) {
  expect_same_run("loss<=0.02*initial");
}
TEST(EarlyCheck, TrainErrorRunIsTheFullRun) {
  expect_same_run("train_error<=0.001");
}

}  // namespace
}  // namespace initscope
