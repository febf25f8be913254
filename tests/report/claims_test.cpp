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

}  // namespace
}  // namespace initscope::report
