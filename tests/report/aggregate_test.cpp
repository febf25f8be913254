// Tests for src/report/aggregate.hpp: statistics, the power-law fit on exact data, the
// bootstrap interval, which runs count, and grouping into experiments and sweep cells.
#include "report/aggregate.hpp"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

#include "synthetic_db.hpp"
#include "train/config.hpp"

namespace initscope::report {
namespace {

using namespace initscope::report::testing;

TEST(Stats, MeanAndSampleSd) {
  const std::vector<double> v = {2, 4, 4, 4, 5, 5, 7, 9};
  const Stats s = stats(v);
  EXPECT_EQ(s.n, 8);
  EXPECT_DOUBLE_EQ(s.mean, 5.0);
  EXPECT_NEAR(s.sd, std::sqrt(32.0 / 7.0), 1e-12);  // sum of squares 32, n − 1 = 7
  EXPECT_EQ(stats(std::vector<double>{3.0}).sd, 0.0);
  EXPECT_EQ(stats(std::vector<double>{}).n, 0);
}

TEST(Quantile, InterpolatesBetweenOrderStatistics) {
  const std::vector<double> v = {1, 2, 3, 4, 5};
  EXPECT_DOUBLE_EQ(quantile_sorted(v, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(quantile_sorted(v, 1.0), 5.0);
  EXPECT_DOUBLE_EQ(quantile_sorted(v, 0.5), 3.0);
  EXPECT_DOUBLE_EQ(quantile_sorted(v, 0.1), 1.4);  // h = 0.4
}

TEST(PowerFit, RecoversExponentExactly) {
  const std::vector<double> x = {500, 1000, 2000, 4000, 8000};
  std::vector<double> y;
  for (double m : x) y.push_back(3.0 * std::pow(m, 0.37));
  const auto f = fit_power_law(x, y);
  ASSERT_TRUE(f);
  EXPECT_NEAR(f->k, 0.37, 1e-12);
  EXPECT_NEAR(f->log_c, std::log(3.0), 1e-10);
  EXPECT_NEAR(f->r2, 1.0, 1e-12);
  EXPECT_EQ(f->points, 5);
}

TEST(PowerFit, NeedsTwoDistinctPositivePoints) {
  EXPECT_FALSE(fit_power_law(std::vector<double>{10}, std::vector<double>{1}));
  EXPECT_FALSE(fit_power_law(std::vector<double>{10, 10}, std::vector<double>{1, 2}));
  EXPECT_FALSE(fit_power_law(std::vector<double>{10, 20}, std::vector<double>{1, 0}));
  EXPECT_FALSE(fit_power_law(std::vector<double>{10, 20}, std::vector<double>{1, NAN}));
  EXPECT_TRUE(fit_power_law(std::vector<double>{10, 20}, std::vector<double>{1, 2}));
}

TEST(Bootstrap, IntervalContainsTheExponentAndIsReproducible) {
  // r = 2·m^0.3 times a seed effect of ±5% that averages out within each m.
  std::vector<Group> groups;
  for (double m : {500.0, 1000.0, 2000.0, 4000.0}) {
    Group g{m, {}};
    for (double e : {-0.05, -0.02, 0.0, 0.02, 0.05})
      g.ys.push_back(2.0 * std::pow(m, 0.3) * (1.0 + e));
    groups.push_back(g);
  }
  const auto ci = bootstrap_exponent(groups, 2000, 7);
  ASSERT_TRUE(ci);
  EXPECT_LT(ci->lo, 0.3);
  EXPECT_GT(ci->hi, 0.3);
  EXPECT_LT(ci->hi - ci->lo, 0.1);
  const auto again = bootstrap_exponent(groups, 2000, 7);
  EXPECT_EQ(ci->lo, again->lo);
  EXPECT_EQ(ci->hi, again->hi);
}

TEST(Bootstrap, IdenticalSeedsGiveAPointInterval) {
  std::vector<Group> groups;
  for (double m : {500.0, 1000.0, 2000.0})
    groups.push_back(Group{m, {std::pow(m, 0.25), std::pow(m, 0.25)}});
  const auto ci = bootstrap_exponent(groups, 200, 1);
  ASSERT_TRUE(ci);
  EXPECT_NEAR(ci->lo, 0.25, 1e-12);
  EXPECT_NEAR(ci->hi, 0.25, 1e-12);
}

TEST(Classify, UsesOnlyConvergedAndInitOnlyRuns) {
  RunRecord r;
  r.config = base_config(64, 100, 0, 1);
  r.status = k_status_completed;
  r.converged = true;
  EXPECT_EQ(classify(r), RunUse::trained);
  r.converged = false;
  r.stopped_by = "max_epochs";
  EXPECT_EQ(classify(r), RunUse::excluded);
  EXPECT_EQ(exclusion_reason(r), "stopped by cap max_epochs");
  r.config["max_steps"] = 0;
  EXPECT_EQ(classify(r), RunUse::init_only);
  r.status = k_status_failed;
  r.error = "boom";
  EXPECT_EQ(classify(r), RunUse::excluded);
  EXPECT_EQ(exclusion_reason(r), "failed: boom");
  r.config["max_steps"] = -1;
  r.status = k_status_diverged;
  r.converged = true;
  EXPECT_EQ(classify(r), RunUse::excluded);
}

TEST(Classify, IncludeCappedUsesCappedRunsButNeverCollapsedOrDiverged) {
  RunRecord r;
  r.config = base_config(64, 100, 0, 1);
  r.status = k_status_completed;
  r.converged = false;
  r.stopped_by = "max_epochs";
  EXPECT_TRUE(is_capped(r));
  EXPECT_EQ(classify(r), RunUse::excluded);
  EXPECT_EQ(classify(r, /*include_capped=*/true), RunUse::trained);
  EXPECT_EQ(exclusion_kind(r), "stopped by a cap");
  // A plateau criterion ends a collapsed run as if it met a criterion: never used.
  r.stopped_by = "plateau:20";
  r.converged = true;
  EXPECT_FALSE(is_capped(r));
  EXPECT_TRUE(is_collapsed(r));
  EXPECT_EQ(classify(r, true), RunUse::excluded);
  EXPECT_EQ(exclusion_kind(r), "collapsed");
  EXPECT_NE(exclusion_reason(r).find("collapsed"), std::string::npos);
  r.status = k_status_diverged;
  r.stopped_by = "diverged";
  EXPECT_EQ(classify(r, true), RunUse::excluded);
  EXPECT_EQ(exclusion_kind(r), "diverged");
}

TEST(ExclusionSummary, CountsByKind) {
  RunRecord capped, diverged, failed;
  capped.status = k_status_completed;
  capped.stopped_by = "max_epochs";
  diverged.status = k_status_diverged;
  failed.status = k_status_failed;
  EXPECT_EQ(exclusion_summary({&capped, &diverged, &capped, &failed}),
            "1 diverged; 1 failed; 2 stopped by a cap");
  EXPECT_EQ(exclusion_summary({}), "");
}

TEST(Repeats, SameConfigAndSeedCountOnceAsTheLatestCompleted) {
  std::vector<RunRecord> runs(6);
  for (size_t i = 0; i < runs.size(); ++i) {
    runs[i].id = static_cast<int64_t>(i + 1);
    runs[i].status = k_status_completed;
    runs[i].converged = true;
  }
  runs[0].config = base_config(64, 100, 0, 1);
  runs[1].config = base_config(64, 100, 0, 1);  // a repeat of run 1 (train --again)
  runs[2].config = base_config(64, 100, 0, 2);  // another seed: not a repeat
  runs[3].config = base_config(64, 100, 0, 1);  // a third repeat, but it failed
  runs[3].status = k_status_failed;
  runs[4].config = base_config(64, 100, 0, 1);  // threads and caps do not change the weights
  runs[4].config["threads"] = 4;
  runs[4].config["max_epochs"] = 5000;
  runs[4].status = k_status_interrupted;
  runs[5].config = base_config(64, 100, 0.2, 1);  // other noise: not a repeat
  for (auto& r : runs) r.seed = r.config["seed"].get<uint64_t>();
  std::vector<const RunRecord*> all;
  for (const auto& r : runs) all.push_back(&r);
  EXPECT_EQ(repeat_key(runs[0]), repeat_key(runs[4]));
  EXPECT_NE(repeat_key(runs[0]), repeat_key(runs[2]));
  EXPECT_NE(repeat_key(runs[0]), repeat_key(runs[5]));

  const Repeats rep = drop_repeats(all);
  ASSERT_EQ(rep.kept.size(), 3u);
  EXPECT_EQ(rep.kept[0]->id, 2);  // the latest completed of runs 1, 2, 4, 5
  EXPECT_EQ(rep.kept[1]->id, 3);
  EXPECT_EQ(rep.kept[2]->id, 6);
  ASSERT_EQ(rep.superseded.size(), 3u);
  for (const auto& [dropped, kept] : rep.superseded) EXPECT_EQ(kept->id, 2) << dropped->id;

  // If no repeat completed, the latest is kept (and listed as excluded, once).
  runs[0].status = runs[1].status = k_status_failed;
  const Repeats none = drop_repeats(all);
  ASSERT_EQ(none.kept.size(), 3u);
  EXPECT_EQ(none.kept[1]->id, 5);  // kept in input order: run 3, then run 5, then run 6
  for (const auto& [dropped, kept] : none.superseded) EXPECT_EQ(kept->id, 5) << dropped->id;
  // An init-only run of the same seed measures something else: never a repeat of a trained one.
  RunRecord init = runs[2];
  init.config["max_steps"] = 0;
  EXPECT_NE(repeat_key(init), repeat_key(runs[2]));
}

TEST(Grouping, SeedsAreReplicatesAndOtherKeysSplitExperiments) {
  std::vector<RunRecord> runs(5);
  runs[0].config = base_config(64, 100, 0, 1);
  runs[1].config = base_config(64, 100, 0, 2);     // replicate
  runs[2].config = base_config(128, 200, 0.5, 1);  // same experiment, other cell
  runs[3].config = base_config(64, 100, 0, 1);
  runs[3].config["loss"] = "mse";  // another experiment
  runs[4].config = base_config(64, 100, 0, 3);
  runs[4].config["threads"] = 8;  // execution only: same experiment
  runs[4].config["max_epochs"] = 5000;
  std::vector<const RunRecord*> ptrs;
  for (size_t i = 0; i < runs.size(); ++i) {
    runs[i].id = static_cast<int64_t>(i + 1);
    runs[i].seed = runs[i].config["seed"];
    runs[i].metrics["dist_init"] = static_cast<double>(i + 1);
    ptrs.push_back(&runs[i]);
  }
  const auto exps = group_runs(ptrs, experiment_key);
  ASSERT_EQ(exps.size(), 2u);
  EXPECT_EQ(exps[0].runs.size(), 4u);
  EXPECT_EQ(exps[1].runs.size(), 1u);
  EXPECT_NE(exps[0].label.find("loss=ce"), std::string::npos) << exps[0].label;
  EXPECT_NE(exps[1].label.find("loss=mse"), std::string::npos) << exps[1].label;
  EXPECT_EQ(exps[0].depth, 5);

  const auto cells = cell_values(exps[0].runs, "dist_init");
  ASSERT_EQ(cells.size(), 2u);
  EXPECT_EQ(cells.at(Coord{64, 100, 0.0}), (std::vector<double>{1, 2, 5}));
  EXPECT_EQ(cells.at(Coord{128, 200, 0.5}), (std::vector<double>{3}));

  // The m metric (the size actually used) wins over config m = 0 ("all").
  RunRecord all;
  all.config = base_config(64, 0, 0, 1);
  all.metrics["m"] = 60000;
  EXPECT_EQ(coord_of(all).m, 60000);
}

// Runs stored before an option existed lack its key; read through the option table they group
// with runs stored after it at its default, and the key of today's runs is spelled as before.
TEST(Grouping, RunsStoredBeforeAnOptionExistedShareTheCell) {
  nlohmann::json today = to_json(TrainConfig{});
  nlohmann::json older = today;
  older.erase("train_eval");  // added after the first databases were written
  older.erase("standardize");
  EXPECT_EQ(experiment_key(older), experiment_key(today));
  EXPECT_EQ(init_key(older), init_key(today));
  // Today's spelling: every result option of schema 2, axes and execution options dropped.
  nlohmann::json expected = today;
  for (const char* k : {"seed", "threads", "train_eval", "width", "m", "noise", "max_epochs",
                        "max_steps", "measure_every"})
    expected.erase(k);
  // Options added after schema 2 (optimizer, ...) appear only away from their default, so
  // adding them moved no key (nor the bootstrap seeds drawn from it).
  for (const auto& spec : run_options())
    if (!spec.keyed_at_default) expected.erase(spec.name);
  EXPECT_EQ(experiment_key(today), expected);
  EXPECT_EQ(experiment_key(today).size(), 15u);  // the 15 result options of schema 2
  EXPECT_EQ(init_key(today).dump(),
            R"({"classes":[],"dataset":"mnist","depth":5,"init":"xavier_normal",)"
            R"("init_from":"","init_gain":1.0})");
  // A value away from the default is a different experiment.
  older["lr"] = 0.1;
  EXPECT_NE(experiment_key(older), experiment_key(today));
  nlohmann::json adam = today;
  adam["optimizer"] = "adam";
  adam["momentum"] = 0.0;
  EXPECT_EQ(experiment_key(adam)["optimizer"], "adam");
}

TEST(Grouping, UniqueSeedPerWidthForInitializationNorms) {
  std::vector<RunRecord> runs(3);
  runs[0].config = base_config(64, 100, 0, 1);
  runs[1].config = base_config(64, 200, 0, 1);  // same seed and width: the same Z
  runs[2].config = base_config(64, 100, 0, 2);
  std::vector<const RunRecord*> ptrs;
  for (size_t i = 0; i < runs.size(); ++i) {
    runs[i].seed = runs[i].config["seed"];
    runs[i].metrics["fro_z2"] = 8.0 + static_cast<double>(i);
    ptrs.push_back(&runs[i]);
  }
  const auto v = width_values_unique_seed(ptrs, "fro_z2");
  EXPECT_EQ(v.at(64), (std::vector<double>{8.0, 10.0}));
}

TEST(Series, OneLinePerKeyWithMeansOverSeeds) {
  std::map<Coord, std::vector<double>> cells;
  cells[Coord{64, 100, 0}] = {1, 3};
  cells[Coord{128, 100, 0}] = {4};
  cells[Coord{64, 200, 0}] = {5};
  cells[Coord{64, 200, 0.5}] = {50};
  const auto s =
      make_series(cells, Axis::width, Axis::m, [](const Coord& c) { return c.noise == 0; });
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].key, 100);
  ASSERT_EQ(s[0].points.size(), 2u);
  EXPECT_EQ(s[0].points[0].x, 64);
  EXPECT_DOUBLE_EQ(s[0].points[0].y.mean, 2.0);
  EXPECT_EQ(s[0].points[0].y.n, 2);
  EXPECT_EQ(s[1].key, 200);
  EXPECT_EQ(s[1].points.size(), 1u);
}

}  // namespace
}  // namespace initscope::report
