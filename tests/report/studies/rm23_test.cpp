// The RM23 study on hand-made runs whose verdicts are known: the rank correlations against
// hand-computed values, the persistence and harm claims passing, failing and skipping as their
// rules say, and the selection of coordinate-task runs only.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
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

std::vector<Claim> claims_of(const std::vector<RunRecord>& runs, const StudyContext& ctx = {}) {
  testing::TempDir dir;
  Page page(dir.path / "x.db", dir.path, runs);
  const auto study = rm23::make_study();
  const auto selected = study->select(runs);
  return study->build(selected, ctx, page);
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

// E3: classifiers with line spectra. Kinds in the note's order, each with 3 seeds; the start's
// spectra put more energy above the Xavier runs' mean frequency (2.0) the later the kind.
RunRecord e3_run(int64_t id, int kind, uint64_t seed, double test_error) {
  RunRecord r;
  r.id = id;
  r.status = "completed";
  r.converged = true;
  r.stopped_by = "train_error<=0";
  r.seed = seed;
  r.config = {{"dataset", "mnist"},     {"line_segments", 200},      {"init_gain", 1.0},
              {"init_gain_first", 0.0}, {"pretrain", "none"},        {"seed", seed},
              {"max_steps", -1},        {"stop", {"train_error<=0"}}};
  if (kind == 1) r.config["init_gain_first"] = 4.0;
  if (kind == 2) r.config["pretrain"] = "random-labels";
  if (kind == 3) r.config["pretrain"] = "noise-inputs";
  r.metrics = {{"fourier_centroid_init", 2.0},
               {"fourier_centroid", 2.0},
               {"test_error", test_error},
               {"train_error", 0.0}};
  return r;
}

StudyContext e3_context() {
  StudyContext ctx;
  ctx.resamples = 200;
  ctx.artifacts = [](int64_t id) {
    // Run id 10·kind + seed: energy above ξ = 2 grows with the kind (and a little with seed).
    const double above =
        1.0 + 3.0 * static_cast<double>(id / 10) + 0.1 * static_cast<double>(id % 10);
    std::map<std::string, nlohmann::json> a;
    a["line_freq"] = {0.0, 1.0, 2.0, 3.0, 4.0};
    a["line_init"] = {5.0, 4.0, 4.0, above, above};
    a["line_final"] = {5.0, 4.0, 4.0, 1.0, 1.0};
    return a;
  };
  return ctx;
}

TEST(Rm23, E3HarmAndPretrainPassWhenMoreInitialHighFrequencyMeansMoreTestError) {
  std::vector<RunRecord> runs;
  for (int kind = 0; kind < 4; ++kind)
    for (uint64_t s = 1; s <= 3; ++s)
      runs.push_back(e3_run(10 * kind + static_cast<int64_t>(s), kind, s,
                            0.02 + 0.03 * kind + 0.001 * static_cast<double>(s)));
  EXPECT_EQ(rm23::make_study()->select(runs).size(), runs.size());
  const auto claims = claims_of(runs, e3_context());
  const Claim& harm = find(claims, "rm23-e3-harm");
  EXPECT_EQ(harm.verdict, Verdict::pass) << harm.figure;
  EXPECT_NE(harm.figure.find("τ = 1.00"), std::string::npos) << harm.figure;
  EXPECT_NE(harm.figure.find("cut-off 2"), std::string::npos) << harm.figure;
  EXPECT_EQ(find(claims, "rm23-e3-pretrain-harm").verdict, Verdict::pass)
      << find(claims, "rm23-e3-pretrain-harm").figure;
  // Test error falling as the initial high frequencies grow: both fail.
  for (auto& r : runs) r.metrics["test_error"] = 0.2 - r.metrics["test_error"];
  const auto reversed = claims_of(runs, e3_context());
  EXPECT_EQ(find(reversed, "rm23-e3-harm").verdict, Verdict::fail);
  EXPECT_EQ(find(reversed, "rm23-e3-pretrain-harm").verdict, Verdict::fail);
  // Without the database's artifacts the harm claim cannot read the spectra.
  EXPECT_EQ(find(claims_of(runs), "rm23-e3-harm").verdict, Verdict::skip);
}

RunRecord e4_run(int64_t id, const std::string& act, uint64_t seed, double step_ratio,
                 double slope) {
  RunRecord r;
  r.id = id;
  r.status = "completed";
  r.converged = true;
  r.stopped_by = "mse<=0.0001";
  r.seed = seed;
  r.config = {{"dataset", "signal1d"}, {"activation", act},      {"mechanism", true},
              {"encoding", "none"},    {"seed", seed},           {"omega0", 30.0},
              {"max_steps", -1},       {"stop", {"mse<=0.0001"}}};
  r.metrics = {{"mech_step_ratio_max", step_ratio},
               {"mech_g_slope", slope},
               {"test_mse", 0.1},
               {"fourier_hf_fraction_init", 0.1}};
  return r;
}

TEST(Rm23, E4ClaimsFollowTheMechanismsMeasures) {
  StudyContext ctx;
  ctx.artifacts = [](int64_t id) {
    std::map<std::string, nlohmann::json> a;
    std::vector<double> f, g;
    for (int k = 0; k <= 64; ++k) {
      f.push_back(k / 2.0);
      g.push_back(id == 99 && k > 20 ? 1.0 + k : 100.0 / (1.0 + k * k));  // run 99 rises
    }
    a["mech_freq"] = f;
    a["mech_g_final"] = g;
    return a;
  };
  std::vector<RunRecord> runs;
  for (uint64_t s = 1; s <= 3; ++s)
    runs.push_back(e4_run(static_cast<int64_t>(s), "sine", s, 0.3, -2.0));
  auto claims = claims_of(runs, ctx);
  EXPECT_EQ(find(claims, "rm23-e4-decay").verdict, Verdict::pass)
      << find(claims, "rm23-e4-decay").figure;
  EXPECT_EQ(find(claims, "rm23-e4-bound").verdict, Verdict::pass);
  EXPECT_EQ(find(claims, "rm23-e4-slope").verdict, Verdict::pass);
  // E4 runs stay out of E1's claims.
  EXPECT_EQ(find(claims, "rm23-e1-harm").verdict, Verdict::skip);
  runs[0].metrics["mech_step_ratio_max"] = 1.1;  // a step beyond the bound
  runs[1].metrics["mech_g_slope"] = -0.5;
  runs[2].metrics["mech_g_slope"] = -0.5;  // median slope −0.5
  claims = claims_of(runs, ctx);
  EXPECT_EQ(find(claims, "rm23-e4-bound").verdict, Verdict::fail);
  EXPECT_EQ(find(claims, "rm23-e4-slope").verdict, Verdict::fail);
  // Two of three seeds rising at the top: the median rises, no ξ₀.
  runs[0].id = 99;
  runs[1].id = 99;
  claims = claims_of(runs, ctx);
  EXPECT_EQ(find(claims, "rm23-e4-decay").verdict, Verdict::fail)
      << find(claims, "rm23-e4-decay").figure;
}

}  // namespace
}  // namespace initscope::report
