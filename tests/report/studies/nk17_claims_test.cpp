// Tests for src/report/studies/nk17_claims.hpp: each NK17 claim's PASS, FAIL, INCONCLUSIVE and
// SKIP on runs whose answer is known (flat r, r growing 30% per doubling of H, exact power laws,
// noise sweeps, exponents that differ between widths) and the theory checks on exact Corollary
// A.2.1 norms.
#include "report/studies/nk17_claims.hpp"

#include <cmath>
#include <functional>
#include <vector>

#include <gtest/gtest.h>

#include "../synthetic_db.hpp"

namespace initscope::report::nk17 {
namespace {

using namespace initscope::report::testing;

// Runs held in memory; experiment() groups them once they are all added.
struct Runs {
  std::vector<RunRecord> records;

  void add(const RunSpec& s) {
    RunRecord r;
    r.id = static_cast<int64_t>(records.size() + 1);
    r.config = s.config;
    r.seed = s.config.value("seed", uint64_t{1});
    r.status = s.status;
    r.converged = s.converged;
    r.stopped_by = s.stopped_by;
    r.metrics = s.metrics;
    records.push_back(r);
  }
  std::vector<const RunRecord*> of(RunUse use) const {
    std::vector<const RunRecord*> out;
    for (const auto& r : records)
      if (classify(r) == use) out.push_back(&r);
    return out;
  }
  Experiment experiment() const {
    const auto e = group_runs(of(RunUse::trained), experiment_key);
    EXPECT_EQ(e.size(), 1u);
    return e.empty() ? Experiment{} : e[0];
  }
};

constexpr int64_t k_widths[] = {64, 128, 256, 512};
const ClaimContext k_ctx{500, 1};

TEST(ClaimFlatInWidth, FlatPassesSteepFailsNoisyIsInconclusive) {
  Runs flat;
  for (int64_t m : {1000, 4000})
    for (int64_t h : k_widths)
      for (uint64_t seed : {1, 2, 3})
        flat.add(trained_run(h, m, 0, seed, 10.0 * (1 + 0.01 * (seed - 2.0)), 0.05));
  const Claim c = check_r_flat_in_width("fig2c-r-flat-in-H", flat.experiment(), k_ctx);
  EXPECT_EQ(c.verdict, Verdict::pass) << claim_line(c);
  EXPECT_NE(c.figure.find("m=1000: a=0.000"), std::string::npos) << c.figure;
  EXPECT_EQ(claim_line(c).rfind("PASS fig2c-r-flat-in-H: ", 0), 0u);
  EXPECT_NE(c.rule.find("INCONCLUSIVE if it straddles"), std::string::npos) << c.rule;

  // 30% more per doubling: a = log2(1.3) = 0.379, far above 0.1 whatever the seeds.
  Runs steep;
  for (int i = 0; i < 4; ++i)
    for (uint64_t seed : {1, 2})
      steep.add(trained_run(k_widths[i], 1000, 0, seed,
                            10.0 * std::pow(1.3, i) * (1 + 0.01 * (seed - 1.5)), 0.05));
  const Claim s = check_r_flat_in_width("x", steep.experiment(), k_ctx);
  EXPECT_EQ(s.verdict, Verdict::fail) << claim_line(s);
  EXPECT_NE(s.figure.find("a=0.379"), std::string::npos) << s.figure;

  // a = 0.1 on the means, seeds spread ±40%: the interval straddles 0.1.
  Runs noisy;
  for (int i = 0; i < 4; ++i)
    for (uint64_t seed : {1, 2, 3})
      noisy.add(trained_run(
          k_widths[i], 1000, 0, seed,
          10.0 * std::pow(2.0, 0.1 * i) * (1 + 0.4 * (seed - 2.0) * (i % 2 ? 1 : -1)), 0.05));
  const Claim n = check_r_flat_in_width("x", noisy.experiment(), k_ctx);
  EXPECT_EQ(n.verdict, Verdict::inconclusive) << claim_line(n);
}

TEST(ClaimFlatInWidth, NoisyRunsDoNotCountAndTooFewWidthsAreInconclusive) {
  Runs runs;
  for (int i = 0; i < 4; ++i)
    for (uint64_t seed : {1, 2}) {
      runs.add(trained_run(k_widths[i], 1000, 0, seed, 10.0 / (1 + i) + 0.01 * seed, 0.05));
      runs.add(trained_run(k_widths[i], 1000, 0.5, seed, 10.0 * std::pow(2.0, i), 0.05));
    }
  EXPECT_EQ(check_r_flat_in_width("x", runs.experiment(), k_ctx).verdict, Verdict::pass);

  // Two widths cannot decide a trend: INCONCLUSIVE with the reason, never PASS.
  Runs two;
  for (uint64_t seed : {1, 2}) {
    two.add(trained_run(64, 1000, 0, seed, 10, 0.05));
    two.add(trained_run(128, 1000, 0, seed, 12, 0.05));
  }
  const Claim c = check_r_flat_in_width("fig1-r-flat-in-H", two.experiment(), k_ctx);
  EXPECT_EQ(c.verdict, Verdict::inconclusive);
  EXPECT_EQ(claim_line(c).rfind("INCONCLUSIVE fig1-r-flat-in-H: too thin to decide: needs ≥ 3 "
                                "widths",
                                0),
            0u)
      << claim_line(c);
}

// ---- coverage: what exclusions leave must be enough to decide ---------------------------

// A flat r at four widths and m = 1000, seeds 1 and 2; `drop(h, seed)` turns a run into an
// excluded one (`status`, or capped when it is "capped").
Experiment flat_with_exclusions(Runs& runs, const std::function<bool(int64_t, uint64_t)>& drop,
                                const std::string& status = k_status_diverged) {
  for (int64_t h : k_widths)
    for (uint64_t seed : {1, 2}) {
      auto r = trained_run(h, 1000, 0, seed, 10.0 + 0.01 * seed, 0.05);
      if (drop(h, seed)) {
        r.converged = false;
        if (status == "capped") {
          r.stopped_by = "max_epochs";
        } else {
          r.status = status;
          r.stopped_by = "";
        }
      }
      runs.add(r);
    }
  auto exps = group_runs(runs.of(RunUse::trained), experiment_key);
  attach_excluded(exps, runs.of(RunUse::excluded), experiment_key);
  EXPECT_EQ(exps.size(), 1u);
  return exps.empty() ? Experiment{} : exps[0];
}

TEST(ClaimCoverage, NothingExcludedPassesAndCountsItsRuns) {
  Runs runs;
  const Experiment e = flat_with_exclusions(runs, [](int64_t, uint64_t) { return false; });
  const Claim c = check_r_flat_in_width("fig1-r-flat-in-H", e, k_ctx);
  EXPECT_EQ(c.verdict, Verdict::pass) << claim_line(c);
  ASSERT_TRUE(c.coverage);
  EXPECT_EQ(c.coverage->used, 8);
  EXPECT_EQ(c.coverage->excluded, 0);
  EXPECT_NE(claim_line(c).find("| rule: 95% CI of a ≤ 0.1 | 8 runs used; 0 excluded"),
            std::string::npos)
      << claim_line(c);
}

TEST(ClaimCoverage, FewerThanThreeWidthsLeftIsInconclusive) {
  // The sweep asked for four widths; the caps took H = 256 and 512 entirely.
  Runs runs;
  const Experiment e = flat_with_exclusions(
      runs, [](int64_t h, uint64_t) { return h >= 256; }, "capped");
  const Claim c = check_r_flat_in_width("fig1-r-flat-in-H", e, k_ctx);
  EXPECT_EQ(c.verdict, Verdict::inconclusive) << claim_line(c);
  EXPECT_NE(c.figure.find("m=1000: INCONCLUSIVE (2 values of H left after exclusions (64, 128), "
                          "needs 3)"),
            std::string::npos)
      << c.figure;
  ASSERT_TRUE(c.coverage);
  EXPECT_EQ(c.coverage->used, 4);
  EXPECT_EQ(c.coverage->excluded, 4);
  EXPECT_EQ(c.coverage->why, "4 stopped by a cap");
}

TEST(ClaimCoverage, ACellWithOneSurvivingSeedIsInconclusive) {
  Runs runs;
  const Experiment e =
      flat_with_exclusions(runs, [](int64_t h, uint64_t seed) { return h == 128 && seed == 2; });
  const Claim c = check_r_flat_in_width("fig1-r-flat-in-H", e, k_ctx);
  EXPECT_EQ(c.verdict, Verdict::inconclusive) << claim_line(c);
  EXPECT_NE(c.figure.find("the cell m=1000, H=128 has 1 seed"), std::string::npos) << c.figure;
  EXPECT_EQ(c.coverage->excluded, 1);
  EXPECT_EQ(c.coverage->why, "1 diverged");
}

TEST(ClaimCoverage, HalfOfTheRunsExcludedIsInconclusive) {
  // Four widths, two seeds each survive, and as many runs of the same cells diverged (seeds 3
  // and 4): the survivors decide PASS, but half of the cells' runs are gone.
  Runs runs;
  for (int64_t h : k_widths)
    for (uint64_t seed : {1, 2, 3, 4}) {
      auto r = trained_run(h, 1000, 0, seed, 10.0 + 0.01 * seed, 0.05);
      if (seed >= 3) {
        r.status = k_status_diverged;
        r.converged = false;
        r.stopped_by = "";
      }
      runs.add(r);
    }
  auto exps = group_runs(runs.of(RunUse::trained), experiment_key);
  attach_excluded(exps, runs.of(RunUse::excluded), experiment_key);
  const Claim c = check_r_flat_in_width("x", exps.at(0), k_ctx);
  EXPECT_EQ(c.verdict, Verdict::inconclusive) << claim_line(c);
  EXPECT_NE(c.figure.find("would be PASS, but 8 of the cells' 16 runs were excluded"),
            std::string::npos)
      << c.figure;
}

TEST(ClaimCoverage, AnExperimentWhoseRunsWereAllExcludedIsInconclusiveNotSkipped) {
  Runs runs;
  const Experiment e = flat_with_exclusions(runs, [](int64_t, uint64_t) { return true; });
  EXPECT_TRUE(e.runs.empty());
  EXPECT_EQ(e.excluded.size(), 8u);
  const Claim c = check_r_flat_in_width("x", e, k_ctx);
  EXPECT_EQ(c.verdict, Verdict::inconclusive) << claim_line(c);
  EXPECT_NE(c.figure.find("0 values of H left"), std::string::npos) << c.figure;
}

TEST(ClaimExponent, ExactPowerLawPassesWithinItsInterval) {
  Runs runs;
  for (int64_t h : {64, 256})
    for (int64_t m : {500, 1000, 2000, 4000})
      for (uint64_t seed : {1, 2, 3})
        runs.add(trained_run(h, m, 0, seed,
                             2.0 * std::pow(double(m), 0.3) * (1 + 0.03 * (seed - 2.0)), 0.05));
  const auto fits = fit_lines(runs.experiment().runs, "dist_init", Axis::m, Axis::width,
                              clean_labels, k_min_ms, 2000, 1);
  ASSERT_EQ(fits.size(), 2u);
  for (const auto& f : fits) {
    EXPECT_NEAR(f.fit.k, 0.3, 1e-12);
    ASSERT_TRUE(f.ci);
    EXPECT_LE(f.ci->lo, 0.3);
    EXPECT_GE(f.ci->hi, 0.3);
  }
  const Claim c = check_r_growth_exponent("fig2d-r-growth-exponent", runs.experiment(), k_ctx);
  EXPECT_EQ(c.verdict, Verdict::pass) << claim_line(c);
  EXPECT_NE(c.figure.find("H=64: k=0.300"), std::string::npos) << c.figure;
}

TEST(ClaimExponent, SteepGrowthFailsAndThreeSizesAreInconclusive) {
  Runs steep;
  for (int64_t m : {500, 1000, 2000, 4000})
    for (uint64_t seed : {1, 2})
      steep.add(trained_run(64, m, 0, seed, std::pow(double(m), 0.7) * (1 + 0.01 * seed), 0.05));
  EXPECT_EQ(check_r_growth_exponent("x", steep.experiment(), k_ctx).verdict, Verdict::fail);

  // Three values of m are not enough: one outlying run must not swing a width's exponent.
  Runs three;
  for (int64_t m : {500, 1000, 2000})
    for (uint64_t seed : {1, 2})
      three.add(trained_run(64, m, 0, seed, std::pow(double(m), 0.3), 0.05));
  const Claim c = check_r_growth_exponent("x", three.experiment(), k_ctx);
  EXPECT_EQ(c.verdict, Verdict::inconclusive) << claim_line(c);
  EXPECT_NE(c.figure.find("needs ≥ 4 values of m"), std::string::npos) << c.figure;
}

TEST(ClaimNoise, RisingPassesFallingFailsCleanIsInconclusive) {
  Runs runs;
  for (int64_t h : {64, 256})
    for (double p : {0.0, 0.2, 0.5})
      for (uint64_t seed : {1, 2})
        runs.add(trained_run(h, 1000, p, seed, 10 * (1 + p) + seed * 0.1, 0.05));
  const Claim c = check_r_rises_with_noise("fig6-r-increases-with-noise", runs.experiment(), k_ctx);
  EXPECT_EQ(c.verdict, Verdict::pass) << claim_line(c);
  EXPECT_NE(c.figure.find("m=1000, H=64: s=10.000"), std::string::npos) << c.figure;

  Runs falling;
  for (double p : {0.0, 0.2, 0.5})
    for (uint64_t seed : {1, 2})
      falling.add(trained_run(64, 1000, p, seed, 10 * (1 - p) + 0.01 * seed, 0.05));
  EXPECT_EQ(check_r_rises_with_noise("x", falling.experiment(), k_ctx).verdict, Verdict::fail);

  // Runs without a noise sweep cannot decide it.
  Runs clean;
  clean.add(trained_run(64, 1000, 0.0, 1, 10, 0.05));
  clean.add(trained_run(128, 1000, 0.0, 1, 10, 0.05));
  EXPECT_EQ(check_r_rises_with_noise("x", clean.experiment(), k_ctx).verdict,
            Verdict::inconclusive);
}

TEST(ClaimNoise, EffectGrowsWithM) {
  // r = 10 + slope(m)·p with slope 5 at m = 1000 and 20 at m = 4000: Δ = 15.
  for (const bool grows : {true, false}) {
    Runs runs;
    for (int64_t m : {1000, 4000})
      for (double p : {0.0, 0.1, 0.3})
        for (uint64_t seed : {1, 2, 3}) {
          const double s = (m == 4000) == grows ? 20.0 : 5.0;
          runs.add(trained_run(64, m, p, seed, 10 + s * p + 0.05 * seed, 0.05));
        }
    const Claim c =
        check_noise_effect_grows_with_m("fig6-noise-effect-grows-with-m", runs.experiment(), k_ctx);
    EXPECT_EQ(c.verdict, grows ? Verdict::pass : Verdict::fail) << claim_line(c);
    EXPECT_NE(c.figure.find(grows ? "H=64, m 1000→4000: Δ=15.000" : "Δ=-15.000"), std::string::npos)
        << c.figure;
  }
  Runs one_m;
  for (double p : {0.0, 0.1}) one_m.add(trained_run(64, 1000, p, 1, 10 + p, 0.05));
  EXPECT_EQ(check_noise_effect_grows_with_m("x", one_m.experiment(), k_ctx).verdict,
            Verdict::inconclusive);
}

TEST(ClaimGenError, SlackOfOnePoint) {
  auto run_with = [](double small_gen, double large_gen) {
    Runs runs;
    for (uint64_t seed : {1, 2}) {
      runs.add(trained_run(64, 1000, 0, seed, 10, small_gen));
      runs.add(trained_run(256, 1000, 0, seed, 10, (small_gen + large_gen) / 2));
      runs.add(trained_run(1024, 1000, 0, seed, 10, large_gen));
    }
    return check_gen_error_flat_in_width("fig2a-gen-error-flat-in-H", runs.experiment(), k_ctx);
  };
  EXPECT_EQ(run_with(0.05, 0.04).verdict, Verdict::pass);
  EXPECT_EQ(run_with(0.05, 0.055).verdict, Verdict::pass);  // within +0.01
  const Claim c = run_with(0.05, 0.07);
  EXPECT_EQ(c.verdict, Verdict::fail);
  EXPECT_NE(c.figure.find("m=1000 (H 64→1024): Δ=0.020"), std::string::npos) << c.figure;

  Runs one;
  one.add(trained_run(64, 1000, 0, 1, 10, 0.05));
  EXPECT_EQ(check_gen_error_flat_in_width("x", one.experiment(), k_ctx).verdict,
            Verdict::inconclusive);
}

// r = c·m^k(H) with k 0.45 at H = 64 falling to 0.3 at H = 512.
Runs growth_runs(double k_small, double k_large, const char* labels = "given") {
  Runs runs;
  for (int64_t h : {64, 512})
    for (int64_t m : {256, 512, 1024, 2048})
      for (uint64_t seed : {1, 2, 3}) {
        auto r = trained_run(
            h, m, 0, seed,
            std::pow(double(m), h == 64 ? k_small : k_large) * (1 + 0.01 * (seed - 2.0)), 0.05);
        if (std::string(labels) != "given") {
          r.config["labels"] = labels;
          r.config["loss"] = "mse";
        }
        runs.add(r);
      }
  return runs;
}

TEST(ClaimGrowth, FasterForSmallWidthAndWithNoise) {
  const Claim c = check_growth_faster_for_small_width("fig5b-r-growth-faster-for-small-H",
                                                      growth_runs(0.45, 0.3).experiment(), k_ctx);
  EXPECT_EQ(c.verdict, Verdict::pass) << claim_line(c);
  EXPECT_NE(c.figure.find("k(H=64) 0.450 − k(H=512) 0.300: Δ=0.150"), std::string::npos)
      << c.figure;
  EXPECT_EQ(
      check_growth_faster_for_small_width("x", growth_runs(0.3, 0.45).experiment(), k_ctx).verdict,
      Verdict::fail);

  const Runs noisy = growth_runs(0.5, 0.45, "random-pm1");
  const Runs clean = growth_runs(0.3, 0.3);
  const Claim n = check_growth_faster_with_noise("fig5b-r-growth-faster-with-noise",
                                                 noisy.experiment(), clean.experiment(), k_ctx);
  EXPECT_EQ(n.verdict, Verdict::pass) << claim_line(n);
  EXPECT_NE(n.figure.find("H=512: k 0.450 − 0.300: Δ=0.150"), std::string::npos) << n.figure;
  EXPECT_EQ(
      check_growth_faster_with_noise("x", clean.experiment(), noisy.experiment(), k_ctx).verdict,
      Verdict::fail);
}

TEST(ClaimMetric, ExponentsInWidthAndInM) {
  // A Rademacher-like estimate: flat in H, ∝ m^−0.5 (passes), and one ∝ m^−0.2 (fails).
  for (const double b : {-0.5, -0.2}) {
    Runs runs;
    for (int64_t h : {64, 128, 256})
      for (int64_t m : {256, 1024, 4096})
        for (uint64_t seed : {1, 2}) {
          auto r = init_run(h, seed);
          r.config["m"] = m;
          r.metrics["m"] = static_cast<double>(m);
          r.metrics["rademacher"] = 3.0 * std::pow(double(m), b) * (1 + 0.01 * (seed - 1.5));
          runs.add(r);
        }
    std::vector<const RunRecord*> all;
    for (const auto& r : runs.records) all.push_back(&r);
    const Region flat{-0.1, 0.1}, sqrt_m{-0.6, -0.4};
    const Claim h = check_metric_exponent_in_width("thm5.1-rademacher-flat-in-H", "R̂", all,
                                                   "rademacher", flat, k_ctx);
    EXPECT_EQ(h.verdict, Verdict::pass) << claim_line(h);
    const Claim m = check_metric_exponent_in_m("thm5.1-rademacher-falls-as-1/sqrt(m)", "R̂", all,
                                               "rademacher", sqrt_m, k_ctx);
    EXPECT_EQ(m.verdict, b == -0.5 ? Verdict::pass : Verdict::fail) << claim_line(m);
    EXPECT_NE(m.rule.find("∝ m^b"), std::string::npos) << m.rule;
  }
  std::vector<const RunRecord*> none;
  EXPECT_EQ(check_metric_exponent_in_width("x", "y", none, "out_abs_max", Region{}, k_ctx).verdict,
            Verdict::skip);
}

std::vector<TheoryCheck> theory_of(const Runs& runs) {
  const auto init = runs.of(RunUse::init_only);
  const auto trained = runs.of(RunUse::trained);
  return theory_checks(theory_groups(init, trained), trained, k_ctx);
}

TEST(Theory, ExactCorollaryNormsPass) {
  Runs runs;
  for (int64_t h : {64, 256, 1024, 4096})
    for (uint64_t seed : {1, 2}) runs.add(init_run(h, seed));
  runs.add(trained_run(256, 1000, 0, 1, 10, 0.05));
  runs.add(trained_run(1024, 1000, 0, 1, 10, 0.05));
  const auto checks = theory_of(runs);
  int spec = 0, fro = 0, prod = 0;
  for (const auto& c : checks) {
    if (c.kind == TheoryCheck::Kind::spec) {
      ++spec;
      EXPECT_NEAR(*c.measured, 0.0, 1e-12);
    }
    if (c.kind == TheoryCheck::Kind::fro) {
      ++fro;
      EXPECT_NEAR(*c.measured, 0.5, 1e-12);
    }
    if (c.kind == TheoryCheck::Kind::prod_fro) {
      ++prod;
      EXPECT_NEAR(*c.measured, 3.0, 1e-12);
      EXPECT_NE(c.group.find("init-only"), std::string::npos) << c.group;
    }
  }
  EXPECT_EQ(spec, 3);  // hidden layers 2, 3, 4
  EXPECT_EQ(fro, 3);
  EXPECT_EQ(prod, 1);
  const Claim c = check_theory(checks);
  EXPECT_EQ(c.verdict, Verdict::pass) << claim_line(c);
  EXPECT_NE(c.figure.find("7/7 checks pass"), std::string::npos) << c.figure;
  // Proposition 6.2 is a consistency check apart, not part of the reproduced claim.
  EXPECT_EQ(c.figure.find("runs hold"), std::string::npos) << c.figure;
  const Claim p = check_prop62(checks);
  EXPECT_TRUE(p.consistency);
  EXPECT_EQ(p.verdict, Verdict::pass) << claim_line(p);
  EXPECT_EQ(claim_line(p).rfind("PASS (consistency check) prop6.2-consistency: 2/2 runs hold", 0),
            0u)
      << claim_line(p);
}

TEST(Theory, OneSeedPerWidthIsInconclusive) {
  // Exact norms, but one seed per width: no interval over seeds, so the rule cannot decide.
  Runs runs;
  for (int64_t h : {64, 256, 1024, 4096}) runs.add(init_run(h, 1));
  const Claim c = check_theory(theory_of(runs));
  EXPECT_EQ(c.verdict, Verdict::inconclusive) << claim_line(c);
  EXPECT_NE(c.figure.find("one seed"), std::string::npos) << c.figure;
}

TEST(Theory, XavierEdgeLayersPushTheProductAboveDMinus2) {
  // ‖Z_1‖_F² = 1568H/(784 + H) still grows over H ≤ 4096: the exact exponent of the product is
  // 3.614 over these widths. Proposition 6.1 is a lower bound, so that passes, and the note
  // says where the excess over d − 2 comes from.
  Runs runs;
  for (int64_t h : {64, 256, 1024, 4096})
    for (uint64_t seed : {1, 2}) runs.add(init_run(h, seed, /*xavier_edges=*/true));
  const auto checks = theory_of(runs);
  bool seen = false;
  for (const auto& c : checks)
    if (c.kind == TheoryCheck::Kind::prod_fro) {
      seen = true;
      EXPECT_NEAR(*c.measured, 3.614, 1e-3);
      EXPECT_EQ(*c.verdict, Verdict::pass);
      EXPECT_NE(c.note.find("input and output layers add"), std::string::npos) << c.note;
    }
  EXPECT_TRUE(seen);
  EXPECT_EQ(check_theory(checks).verdict, Verdict::pass);
}

TEST(Theory, ProductGrowingSlowerThanDMinus2Fails) {
  // If every layer's Frobenius norm were flat in H, the product would not grow: the lower bound
  // of Proposition 6.1 fails.
  Runs runs;
  for (int64_t h : {64, 256, 1024, 4096})
    for (uint64_t seed : {1, 2}) {
      auto r = init_run(h, seed);
      r.metrics["prod_fro2_z"] = 1000.0 * std::pow(static_cast<double>(h), 2.0);
      runs.add(r);
    }
  const auto checks = theory_of(runs);
  for (const auto& c : checks)
    if (c.kind == TheoryCheck::Kind::prod_fro) {
      EXPECT_EQ(*c.verdict, Verdict::fail);
    }
  EXPECT_EQ(check_theory(checks).verdict, Verdict::fail);
}

TEST(Theory, FallsBackToTrainedRunsAndSkipsWithTooFewWidths) {
  Runs runs;
  for (int64_t h : {64, 256, 1024})
    for (uint64_t seed : {1, 2}) runs.add(trained_run(h, 1000, 0, seed, 10, 0.05));
  auto checks = theory_of(runs);
  ASSERT_FALSE(checks.empty());
  EXPECT_NE(checks.front().group.find("initialization of trained runs"), std::string::npos)
      << checks.front().group;
  EXPECT_EQ(check_theory(checks).verdict, Verdict::pass);

  Runs two;
  for (int64_t h : {64, 256}) two.add(init_run(h, 1));
  const Claim c = check_theory(theory_of(two));
  EXPECT_EQ(c.verdict, Verdict::skip) << claim_line(c);
  EXPECT_NE(c.figure.find("needs ≥ 3 widths"), std::string::npos) << c.figure;
}

TEST(Theory, BrokenProposition62Fails) {
  Runs runs;
  auto bad = trained_run(256, 1000, 0, 1, 10, 0.05);
  bad.metrics["prop62_holds"] = 0;
  runs.add(bad);
  runs.add(trained_run(512, 1000, 0, 1, 10, 0.05));
  const Claim c = check_prop62(theory_of(runs));
  EXPECT_EQ(c.verdict, Verdict::fail) << claim_line(c);
  EXPECT_TRUE(c.consistency);
  EXPECT_NE(c.figure.find("1/2 runs hold"), std::string::npos) << c.figure;
}

}  // namespace
}  // namespace initscope::report::nk17
