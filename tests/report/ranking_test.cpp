// Kendall's τ (a and b), its bootstrap interval and the granulated Ψ on hand-computed examples
// (measures-reference.md §4.4).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "common/error.hpp"
#include "common/rng.hpp"
#include "report/ranking.hpp"

namespace initscope::report {
namespace {

TEST(KendallTau, ExtremesAndConstants) {
  const std::vector<double> g{0.1, 0.4, 0.2, 0.9, 0.5};
  std::vector<double> neg;
  for (double x : g) neg.push_back(-x);
  const std::vector<double> flat(g.size(), 3.0);
  for (TauKind k : {TauKind::a, TauKind::b}) {
    EXPECT_DOUBLE_EQ(kendall_tau(g, g, k), 1.0);
    EXPECT_DOUBLE_EQ(kendall_tau(neg, g, k), -1.0);
  }
  EXPECT_DOUBLE_EQ(kendall_tau(flat, g, TauKind::a), 0.0);
  EXPECT_TRUE(std::isnan(kendall_tau(flat, g, TauKind::b)));
}

// μ = (1, 2, 2, 3), g = (1, 3, 2, 2): concordant minus discordant = 2 over 6 pairs, one tied in
// μ and one in g: τ-a = 1/3, τ-b = 2/√(5·5) = 0.4 (scipy.stats.kendalltau's value).
TEST(KendallTau, TiesByHand) {
  const std::vector<double> mu{1, 2, 2, 3}, g{1, 3, 2, 2};
  EXPECT_DOUBLE_EQ(kendall_tau(mu, g, TauKind::a), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(kendall_tau(mu, g, TauKind::b), 0.4);
}

TEST(KendallTau, AgreesWithBruteForceOverOrderedPairs) {
  Rng r(3);
  std::vector<double> mu, g;
  for (int i = 0; i < 60; ++i) {
    g.push_back(std::floor(r.uniform() * 8));  // ties in both
    mu.push_back(std::floor((g.back() + 3 * r.uniform()) * 2));
  }
  double s = 0;
  const size_t n = mu.size();
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j)
      if (i != j) s += ((mu[i] > mu[j]) - (mu[i] < mu[j])) * ((g[i] > g[j]) - (g[i] < g[j]));
  EXPECT_NEAR(kendall_tau(mu, g, TauKind::a), s / (n * (n - 1.0)), 1e-15);
}

TEST(KendallTau, BootstrapIntervalNeverPairsCopies) {
  const std::vector<double> g{1, 2, 3, 4, 5, 6, 7, 8};
  // A perfect ranking stays perfect in every resample: copies are never paired (as ties).
  const TauInterval perfect = kendall_tau_interval(g, g, TauKind::a, 200, 1);
  EXPECT_DOUBLE_EQ(perfect.lo, 1.0);
  EXPECT_DOUBLE_EQ(perfect.hi, 1.0);
  Rng r(5);
  std::vector<double> mu, gg;
  for (int i = 0; i < 80; ++i) {
    gg.push_back(r.uniform());
    mu.push_back(gg.back() + 0.3 * r.normal());
  }
  const TauInterval t = kendall_tau_interval(mu, gg, TauKind::b, 500, 9);
  EXPECT_LT(t.lo, t.tau);
  EXPECT_GT(t.hi, t.tau);
  EXPECT_GT(t.lo, 0.0);
  const TauInterval again = kendall_tau_interval(mu, gg, TauKind::b, 500, 9);
  EXPECT_EQ(again.lo, t.lo);
  EXPECT_EQ(again.hi, t.hi);
}

// A 2 × 3 grid (factor A: a0, a1; factor B: b0, b1, b2), by hand:
//   g:  a0 → 1, 2, 3;  a1 → 4, 6, 5        μ:  a0 → 1, 3, 2;  a1 → 2, 4, 6
// Cells of A (B fixed) agree in all three: ψ_A = 1. Cells of B (A fixed): each τ = (1 + 1 − 1)/3
// = 1/3, so ψ_B = 1/3 and Ψ = 2/3. Any increasing transform of μ leaves it unchanged.
TEST(GranulatedTau, TwoByThreeGridByHand) {
  const std::vector<double> g{1, 2, 3, 4, 6, 5}, mu{1, 3, 2, 2, 4, 6};
  const std::vector<std::vector<std::string>> factors{{"a0", "a0", "a0", "a1", "a1", "a1"},
                                                      {"b0", "b1", "b2", "b0", "b1", "b2"}};
  const Granulated r = granulated_tau(mu, g, factors, TauKind::a);
  EXPECT_DOUBLE_EQ(r.per_factor[0], 1.0);
  EXPECT_DOUBLE_EQ(r.per_factor[1], 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(r.psi, 2.0 / 3.0);
  EXPECT_EQ(r.cells[0], 3);
  EXPECT_EQ(r.cells[1], 2);
  std::vector<double> up;
  for (double x : mu) up.push_back(3 * std::exp(x) + 1);
  EXPECT_DOUBLE_EQ(granulated_tau(up, g, factors, TauKind::a).psi, r.psi);
}

// Keys are tuples: ("1", "11") and ("11", "1") are different cells, where concatenated strings
// would collide and pair runs that differ in two factors.
TEST(GranulatedTau, KeysAreTuplesNotConcatenations) {
  const std::vector<double> g{1, 2}, mu{1, 2};
  const std::vector<std::vector<std::string>> factors{{"1", "11"}, {"11", "1"}, {"x", "y"}};
  const Granulated r = granulated_tau(mu, g, factors, TauKind::a);
  EXPECT_EQ(r.cells[2], 0);
  EXPECT_TRUE(std::isnan(r.per_factor[2]));
  EXPECT_TRUE(std::isnan(r.psi));
}

// Over stored runs: only completed runs that met their criterion count, runs without the
// measure are left out of its row, and unknown names are errors naming the flag.
TEST(RankMeasures, SelectsRunsAndNamesUnknownFlags) {
  std::vector<RunRecord> runs;
  for (int i = 0; i < 6; ++i) {
    RunRecord r;
    r.status = i == 5 ? "failed" : "completed";
    r.converged = i != 4;
    r.seed = static_cast<uint64_t>(i % 2);
    r.config = {{"width", 64 << (i / 2)}};
    r.metrics = {{"gen_error", 0.1 * i}, {"dist_init", 1.0 + i}};
    if (i != 0) r.metrics["hessian_trace"] = 10.0 - i;
    runs.push_back(r);
  }
  RankOptions o;
  o.measures = {"dist_init", "hessian_trace"};
  o.by = {"width", "seed"};
  o.resamples = 50;
  const auto rows = rank_measures(runs, o);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].runs, 4);  // runs 0–3: run 4 did not converge, run 5 failed
  EXPECT_DOUBLE_EQ(rows[0].tau.tau, 1.0);
  EXPECT_EQ(rows[1].runs, 3);
  EXPECT_DOUBLE_EQ(rows[1].tau.tau, -1.0);
  EXPECT_EQ(rows[0].psi.per_factor.size(), 2u);
  o.measures = {"nope"};
  try {
    rank_measures(runs, o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--measures nope"), std::string::npos);
  }
  o.measures = {"dist_init"};
  o.by = {"colour"};
  try {
    rank_measures(runs, o);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--by colour"), std::string::npos);
  }
}

}  // namespace
}  // namespace initscope::report
