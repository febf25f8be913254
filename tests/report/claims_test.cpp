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
