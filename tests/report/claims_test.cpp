// Tests for src/report/claims.hpp: claim lines, how per-experiment verdicts combine, and the
// capped lists in claim figures.
#include "report/claims.hpp"

#include <gtest/gtest.h>

namespace initscope::report {
namespace {

TEST(ClaimLine, VerdictIdAndFigure) {
  EXPECT_EQ(claim_line(Claim{"some-claim", Verdict::fail, "k = 3", "rule"}),
            "FAIL some-claim: k = 3");
  EXPECT_EQ(claim_line(Claim{"x", Verdict::skip, "no data", ""}), "SKIP x: no data");
}

TEST(ClaimLine, RuleAndRunsBesideTheVerdict) {
  Claim c{"fig1-r-growth-exponent", Verdict::inconclusive, "H=64: k=0.3 [0.1, 0.4] INCONCLUSIVE",
          "long rule", "95% CI of k in [0.2, 0.5]"};
  c.coverage = Coverage{42, 3, "2 stopped by a cap; 1 diverged"};
  EXPECT_EQ(claim_line(c),
            "INCONCLUSIVE fig1-r-growth-exponent: H=64: k=0.3 [0.1, 0.4] INCONCLUSIVE | rule: 95% "
            "CI of k in [0.2, 0.5] | 42 runs used; 3 excluded (2 stopped by a cap; 1 diverged)");
  c.coverage = Coverage{1, 0, "", 1};
  EXPECT_EQ(coverage_text(*c.coverage), "1 run used (1 stopped by a cap, included); 0 excluded");
  // A consistency check says so before its id, and is not counted with the claims.
  Claim p{"prop6.2-consistency", Verdict::pass, "3/3 runs hold", "r"};
  p.consistency = true;
  EXPECT_EQ(claim_line(p), "PASS (consistency check) prop6.2-consistency: 3/3 runs hold");
  const VerdictCounts n = count_verdicts({c, p, Claim{"x", Verdict::pass, "", ""}});
  EXPECT_EQ(n.pass, 1);
  EXPECT_EQ(n.inconclusive, 1);
  EXPECT_EQ(n.consistency, 1);
  EXPECT_EQ(n.fail + n.skip, 0);
}

TEST(Combine, AddsTheRunsOfEveryExperiment) {
  Claim a{"x", Verdict::pass, "fine", "", "95% CI of a ≤ 0.1"};
  a.coverage = Coverage{10, 1, "1 diverged"};
  Claim b{"x", Verdict::pass, "fine", "", "95% CI of a ≤ 0.1"};
  b.coverage = Coverage{5, 0, ""};
  const Claim c = combine("x", "r", {{"A", a}, {"B", b}});
  ASSERT_TRUE(c.coverage);
  EXPECT_EQ(c.coverage->used, 15);
  EXPECT_EQ(c.coverage->excluded, 1);
  EXPECT_EQ(c.coverage->why, "[A] 1 diverged");
  EXPECT_EQ(c.criterion, "95% CI of a ≤ 0.1");
}

TEST(FirstItems, CapsTheListAndSaysHowManyMore) {
  EXPECT_EQ(first_items({"a", "b"}), "a; b");
  EXPECT_EQ(first_items({"a", "b", "c", "d"}, 2), "a; b; and 2 more");
  EXPECT_EQ(first_items({}), "");
}

TEST(Combine, AnyFailFailsAndSkipsAreNotPasses) {
  const Claim pass{"x", Verdict::pass, "fine", ""};
  const Claim fail{"x", Verdict::fail, "bad", ""};
  const Claim skip{"x", Verdict::skip, "no data", ""};
  EXPECT_EQ(combine("x", "r", {{"a", pass}, {"b", fail}}).verdict, Verdict::fail);
  EXPECT_EQ(combine("x", "r", {{"a", pass}, {"b", skip}}).verdict, Verdict::pass);
  EXPECT_EQ(combine("x", "r", {{"a", skip}, {"b", skip}}).verdict, Verdict::skip);
  EXPECT_EQ(combine("x", "r", {}).verdict, Verdict::skip);
  const Claim one = combine("x", "the rule", {{"a", fail}});
  EXPECT_EQ(one.figure, "bad");
  EXPECT_EQ(one.rule, "the rule");
  const Claim two = combine("x", "r", {{"a", pass}, {"b", fail}});
  EXPECT_NE(two.figure.find("[b] FAIL bad"), std::string::npos) << two.figure;
}

TEST(CiVerdict, InsideOutsideOrStraddling) {
  const Region at_most{.hi = 0.1};
  EXPECT_EQ(ci_verdict(-0.2, 0.05, at_most), Verdict::pass);
  EXPECT_EQ(ci_verdict(0.11, 0.3, at_most), Verdict::fail);
  EXPECT_EQ(ci_verdict(0.05, 0.2, at_most), Verdict::inconclusive);
  EXPECT_EQ(ci_verdict(0.1, 0.1, at_most), Verdict::pass);  // closed end
  const Region positive{.lo = 0.0, .strict = true};
  EXPECT_EQ(ci_verdict(0.0, 1.0, positive), Verdict::inconclusive);  // open end
  EXPECT_EQ(ci_verdict(-1.0, 0.0, positive), Verdict::fail);
  EXPECT_EQ(ci_verdict(0.01, 1.0, positive), Verdict::pass);
  const Region band{0.2, 0.5};
  EXPECT_EQ(ci_verdict(0.25, 0.4, band), Verdict::pass);
  EXPECT_EQ(ci_verdict(0.1, 0.3, band), Verdict::inconclusive);
  EXPECT_EQ(ci_verdict(0.1, 0.6, band), Verdict::inconclusive);
  EXPECT_EQ(ci_verdict(0.55, 0.6, band), Verdict::fail);
  EXPECT_EQ(region_text(at_most), "≤ 0.1");
  EXPECT_EQ(region_text(positive), "> 0");
  EXPECT_EQ(region_text(band), "in [0.2, 0.5]");
  EXPECT_EQ(verdict_name(Verdict::inconclusive), std::string("INCONCLUSIVE"));
}

TEST(Combine, InconclusiveBeatsPassButNotFail) {
  const Claim pass{"x", Verdict::pass, "fine", ""};
  const Claim open{"x", Verdict::inconclusive, "maybe", ""};
  const Claim fail{"x", Verdict::fail, "bad", ""};
  EXPECT_EQ(combine("x", "r", {{"a", pass}, {"b", open}}).verdict, Verdict::inconclusive);
  EXPECT_EQ(combine("x", "r", {{"a", open}, {"b", fail}}).verdict, Verdict::fail);
  EXPECT_EQ(combine_verdicts({Verdict::pass, Verdict::skip}), Verdict::pass);
  EXPECT_EQ(combine_verdicts({}), Verdict::skip);
}

}  // namespace
}  // namespace initscope::report
