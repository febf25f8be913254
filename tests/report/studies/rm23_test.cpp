// The RM23 study on hand-made runs whose verdicts are known: the rank correlations against
// hand-computed values, the persistence and harm claims passing, failing and skipping as their
// rules say, and the selection of coordinate-task runs only.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "../synthetic_db.hpp"
#include "report/page.hpp"
#include "report/studies/rm23.hpp"

namespace initscope::report {
namespace {

TEST(Rm23, RankCorrelationsAgainstHandValues) {
  EXPECT_NEAR(rm23::spearman({1, 2, 3, 4}, {1, 8, 27, 64}), 1.0, 1e-12);  // monotone
  EXPECT_LT(rm23::pearson({1, 2, 3, 4}, {1, 8, 27, 64}), 0.99);           // not linear
  EXPECT_NEAR(rm23::spearman({1, 2, 3, 4}, {4, 3, 2, 1}), -1.0, 1e-12);
  // Ties take average ranks: x ranks (1, 2.5, 2.5, 4) against (1, 2, 3, 4).
  EXPECT_NEAR(rm23::spearman({1, 2, 2, 3}, {1, 2, 3, 4}), 4.5 / std::sqrt(22.5), 1e-12);
  EXPECT_TRUE(std::isnan(rm23::spearman({1, 2}, {1, 2})));
  EXPECT_TRUE(std::isnan(rm23::pearson({1, 1, 1}, {1, 2, 3})));
}

RunRecord run(int64_t id, double omega0, uint64_t seed, double hf_init, double test_mse,
              double top_ratio) {
  RunRecord r;
  r.id = id;
  r.status = "completed";
  r.converged = true;
  r.stopped_by = "mse<=0.0001";
  r.seed = seed;
  r.config = {{"dataset", "signal1d"}, {"activation", "sine"},   {"init", "siren"},
              {"omega0", omega0},      {"encoding", "none"},     {"max_steps", -1},
              {"seed", seed},          {"stop", {"mse<=0.0001"}}};
  r.metrics = {{"fourier_hf_fraction_init", hf_init},
               {"train_mse", 1e-4},
               {"test_mse", test_mse},
               {"fourier_top_init", 1e-3},
               {"fourier_top", 1e-3 * top_ratio}};
  return r;
}

std::vector<Claim> claims_of(const std::vector<RunRecord>& runs) {
  testing::TempDir dir;
  Page page(dir.path / "x.db", dir.path, runs);
  const auto study = rm23::make_study();
  const auto selected = study->select(runs);
  return study->build(selected, StudyContext{}, page);
}

const Claim& find(const std::vector<Claim>& claims, const std::string& id) {
  for (const auto& c : claims)
    if (c.id == id) return c;
  throw std::runtime_error("no claim " + id);
}

TEST(Rm23, HarmAndPersistencePassWhenHighFrequenciesPersistAndHurt) {
  std::vector<RunRecord> runs;
  int64_t id = 1;
  for (const double w : {10.0, 30.0, 100.0})
    for (const uint64_t s : {1, 2})
      runs.push_back(run(id++, w, s, w / 200 + 0.01 * s, w / 100 + 0.001 * s, 1.2));
  const auto claims = claims_of(runs);
  EXPECT_EQ(find(claims, "rm23-e1-harm").verdict, Verdict::pass)
      << find(claims, "rm23-e1-harm").figure;
  EXPECT_EQ(find(claims, "rm23-e1-persistence").verdict, Verdict::pass);
  EXPECT_EQ(find(claims, "rm23-e2-harm").verdict, Verdict::skip);  // no image runs
  EXPECT_NE(find(claims, "rm23-e1-harm").rule.find("our rule"), std::string::npos);
}

TEST(Rm23, HarmFailsWhenTestErrorFallsAndPersistenceFailsWhenTheTopBandIsRemoved) {
  std::vector<RunRecord> runs;
  int64_t id = 1;
  for (const double w : {10.0, 30.0, 100.0})
    for (const uint64_t s : {1, 2})
      runs.push_back(run(id++, w, s, w / 200 + 0.01 * s, 1.0 / w, w == 100.0 ? 0.1 : 1.0));
  const auto claims = claims_of(runs);
  EXPECT_EQ(find(claims, "rm23-e1-harm").verdict, Verdict::fail);
  const Claim& p = find(claims, "rm23-e1-persistence");
  EXPECT_EQ(p.verdict, Verdict::fail);
  EXPECT_NE(p.figure.find("2 below 0.5"), std::string::npos) << p.figure;
}

TEST(Rm23, PersistenceIsInconclusiveWhenTheTopBandGrowsButIsNotRemoved) {
  std::vector<RunRecord> runs;
  int64_t id = 1;
  for (const double w : {10.0, 30.0, 100.0})
    for (const uint64_t s : {1, 2})
      runs.push_back(run(id++, w, s, 0.1, 0.1, w == 100.0 ? 5.0 : 1.0));
  const Claim c = find(claims_of(runs), "rm23-e1-persistence");
  EXPECT_EQ(c.verdict, Verdict::inconclusive) << c.figure;
  EXPECT_NE(c.figure.find("2 above 2"), std::string::npos) << c.figure;
}

TEST(Rm23, TooFewRunsSkipAndClassificationRunsAreNotSelected) {
  std::vector<RunRecord> runs{run(1, 10, 1, 0.1, 0.1, 1.0), run(2, 30, 1, 0.2, 0.2, 1.0)};
  RunRecord mnist = runs[0];
  mnist.id = 3;
  mnist.config["dataset"] = "mnist";
  runs.push_back(mnist);
  EXPECT_EQ(rm23::make_study()->select(runs).size(), 2u);
  const auto claims = claims_of(runs);
  EXPECT_EQ(find(claims, "rm23-e1-harm").verdict, Verdict::skip);
  EXPECT_EQ(find(claims, "rm23-e1-persistence").verdict, Verdict::skip);
}

TEST(Rm23, OrderingPassesWhenLowFrequenciesAreReachedFirst) {
  std::vector<RunRecord> runs;
  for (int64_t id = 1; id <= 3; ++id) {
    RunRecord r = run(id, 30, static_cast<uint64_t>(id), 0.1, 0.1, 1.0);
    r.config["signal_freqs"] = {3.0, 1.0, 2.0};  // listed out of order on purpose
    r.metrics["fourier_reach_f1"] = 300;         // f = 3
    r.metrics["fourier_reach_f2"] = 100;         // f = 1
    r.metrics["fourier_reach_f3"] = 200;         // f = 2
    runs.push_back(r);
  }
  EXPECT_EQ(find(claims_of(runs), "rm23-e1-ordering").verdict, Verdict::pass);
  runs[1].metrics["fourier_reach_f1"] = NAN;  // f = 3 never reached: last, still in order
  EXPECT_EQ(find(claims_of(runs), "rm23-e1-ordering").verdict, Verdict::pass);
  runs[2].metrics["fourier_reach_f2"] = 250;  // f = 1 after f = 2
  const Claim c = find(claims_of(runs), "rm23-e1-ordering");
  EXPECT_EQ(c.verdict, Verdict::fail);
  EXPECT_NE(c.figure.find("2 of 3 runs"), std::string::npos) << c.figure;
}

}  // namespace
}  // namespace initscope::report
