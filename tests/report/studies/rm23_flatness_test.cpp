// RM23's Fourier-against-flatness claim on hand-made runs whose verdict is known (PASS, FAIL,
// not enough runs), the rule on hand-made τs, and the rescaling check's invariance: the same
// function and Fourier measures to the bit, a different Hessian.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "../synthetic_db.hpp"
#include "report/page.hpp"
#include "report/studies/rm23_flatness.hpp"

namespace initscope::report {
namespace {

using rm23::MeasureTau;

TEST(Rm23Flatness, RuleOnHandMadeTaus) {
  const MeasureTau f{"fourier_hf_fraction", true, 1, 10, 0.8, 0.6, 0.95};
  const MeasureTau s{"hessian_trace", false, 1, 10, 0.1, -0.2, 0.4};
  const MeasureTau s_high{"hessian_trace", false, 1, 10, 0.7, 0.5, 0.9};
  EXPECT_EQ(rm23::fourier_vs_flatness_verdict({f, s}), Verdict::pass);
  EXPECT_EQ(rm23::fourier_vs_flatness_verdict({f, s_high}), Verdict::inconclusive);
  EXPECT_EQ(
      rm23::fourier_vs_flatness_verdict({s, {"fourier_centroid", true, 1, 10, -0.5, -0.7, -0.3}}),
      Verdict::fail);
  EXPECT_EQ(rm23::fourier_vs_flatness_verdict({f}), Verdict::skip);
}

RunRecord run(int64_t id, double gap, double hf, double lambda, double sigma) {
  RunRecord r;
  r.id = id;
  r.status = "completed";
  r.converged = true;
  r.stopped_by = "mse<=0.0001";
  r.seed = static_cast<uint64_t>(id);
  r.config = {{"dataset", "signal1d"},
              {"activation", "relu"},
              {"max_steps", -1},
              {"seed", id},
              {"stop", {"mse<=0.0001"}}};
  r.metrics = {{"gen_mse", gap},
               {"fourier_hf_fraction", hf},
               {"hessian_lambda_max", lambda},
               {"pacbayes_sigma", sigma}};
  return r;
}

Claim claim_of(const std::vector<RunRecord>& runs) {
  testing::TempDir dir;
  Page page(dir.path / "x.db", dir.path, runs);
  std::vector<const RunRecord*> ptrs;
  for (const auto& r : runs) ptrs.push_back(&r);
  return rm23::flatness_section(ptrs, StudyContext{}, page);
}

TEST(Rm23Flatness, FourierRankingPerfectlyAndFlatnessNotPasses) {
  std::vector<RunRecord> runs;
  // The gap rises with the HF fraction; λ_max and σ zig-zag around it.
  for (int i = 0; i < 12; ++i)
    runs.push_back(run(i + 1, 0.01 * i, 0.1 * i, i % 2 ? 5.0 - i : 5.0 + i, (i % 3) + 1.0));
  const Claim c = claim_of(runs);
  EXPECT_EQ(c.id, "rm23-fourier-vs-flatness");
  EXPECT_EQ(c.verdict, Verdict::pass) << c.figure;
  EXPECT_NE(c.figure.find("fourier_hf_fraction τ = 1.000"), std::string::npos) << c.figure;
}

TEST(Rm23Flatness, FlatnessRankingPerfectlyFailsAndSigmaIsNegated) {
  std::vector<RunRecord> runs;
  // σ falls as the gap rises (flatter, smaller gap: the flatness view's prediction).
  for (int i = 0; i < 12; ++i)
    runs.push_back(
        run(i + 1, 0.01 * i, i % 2 ? 0.5 - 0.01 * i : 0.3 + 0.02 * i, 1.0, 2.0 - 0.1 * i));
  const Claim c = claim_of(runs);
  EXPECT_EQ(c.verdict, Verdict::fail) << c.figure;
  EXPECT_NE(c.figure.find("best flatness pacbayes_sigma τ = 1.000"), std::string::npos) << c.figure;
}

TEST(Rm23Flatness, TooFewRunsSaySo) {
  std::vector<RunRecord> runs;
  for (int i = 0; i < 3; ++i) runs.push_back(run(i + 1, 0.01 * i, 0.1 * i, 1.0 + i, 1.0));
  const Claim c = claim_of(runs);
  EXPECT_EQ(c.verdict, Verdict::skip);
  EXPECT_NE(c.figure.find("not enough runs"), std::string::npos) << c.figure;
}

TEST(Rm23Flatness, RescalingKeepsTheFunctionAndMovesTheHessian) {
  const rm23::RescalingCheck check = rm23::rescaling_check();
  ASSERT_EQ(check.rows.size(), 4u);
  const Metrics& base = check.rows[0].metrics;
  for (const auto& row : check.rows) {
    for (const char* same : {"train_mse", "test_mse", "fourier_hf_fraction", "fourier_centroid"})
      EXPECT_EQ(row.metrics.at(same), base.at(same)) << same << " at alpha " << row.alpha;
  }
  // The Hessian is not invariant: at α = 64 the first layer's curvature shrinks by α² and the
  // second's grows by α², so λ_max moves by far more than rounding.
  const double l1 = base.at("hessian_lambda_max"),
               l64 = check.rows[3].metrics.at("hessian_lambda_max");
  EXPECT_GT(std::abs(l64 - l1), 0.1 * std::abs(l1)) << l1 << " vs " << l64;
  EXPECT_NE(check.rows[3].metrics.at("hessian_trace"), base.at("hessian_trace"));
}

}  // namespace
}  // namespace initscope::report
